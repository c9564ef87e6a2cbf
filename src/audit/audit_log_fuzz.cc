// libFuzzer target: any bytes as an audit log, line by line through audit::LineVerifier (the
// reader `tyto audit verify` and ChainLog::Open use). It may not crash, hang or read out of
// bounds (the sanitizers watch), and its verdict must hold its promises: an intact log has one
// record per line, seqs 1..n; a broken one names a line within the input and a problem.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audit/chain.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tyto::audit;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  LineVerifier v;
  uint64_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) break;
    std::string_view line = text.substr(start, nl - start);
    ++line_no;
    Record r;
    (void)ParseRecord(line, &r);
    if (!v.Add(line, line_no)) break;
    start = nl + 1;
  }
  const bool torn = start < text.size() && text.find('\n', start) == std::string_view::npos;
  v.Finish(torn, line_no + 1);
  const Verdict& verdict = v.verdict();
  if (verdict.intact()) {
    Check(verdict.records == line_no);
    Check(verdict.last_seq == line_no);
  } else {
    Check(verdict.problem != Problem::kNone);
    Check(verdict.line >= 1 && verdict.line <= line_no + 1);
    Check(!verdict.detail.empty());
    Check(!verdict.ToString("fuzz").empty());
  }
  return 0;
}
