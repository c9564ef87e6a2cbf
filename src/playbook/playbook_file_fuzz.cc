// libFuzzer target: any bytes through ParsePlaybookFile. It may not crash, hang or read out of
// bounds (the sanitizers watch); every error must be an InvalidArgument naming the file; and
// what it accepts must hold the parser's promises: a name, matchers, at most
// kMaxStepsPerPlaybook steps, commands as non-empty argument lists with a written-out program,
// and references that expand without trouble.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "playbook/expand.h"
#include "playbook/playbook_file.h"

namespace {

using namespace tyto::playbook;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = ParsePlaybookFile(text, "fuzz.yml");
  if (!r.ok()) {
    Check(r.status().code() == tyto::StatusCode::kInvalidArgument);
    Check(r.status().message().starts_with("fuzz.yml"));
    return 0;
  }
  ExpandContext ctx;
  ctx.labels = {{"alertname", "A"}, {"pod", "a b;$(x)"}};
  ctx.vars = {{"incident", "i"}, {"run", "r"}, {"playbook", "p"}, {"model", "m"}};
  for (const auto& p : *r) {
    Check(!p->name.empty());
    Check(!p->match.empty());
    Check(!p->steps.empty() && p->steps.size() <= kMaxStepsPerPlaybook);
    for (const Step& s : p->steps) {
      if (s.kind == StepKind::kCommand) {
        Check(!s.argv.empty() && !s.argv[0].empty());
        Check(s.argv[0].find('$') == std::string::npos);
      }
      for (const std::string& a : s.argv) (void)Expand(a, ctx);
      (void)Expand(s.url, ctx, Escape::kUrl);
      (void)Expand(s.body, ctx);
      (void)Expand(s.query, ctx, Escape::kPromQL);
      (void)Expand(s.webhook.url, ctx, Escape::kUrl);
    }
  }
  return 0;
}
