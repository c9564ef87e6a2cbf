// Fuzzes the SQL that outside text becomes: QuoteString must round-trip through
// UnquoteString (ClickHouse's reading of a literal) with nothing after the closing quote, and
// every search-box text either fails with kInvalidArgument or yields a condition whose string
// literals all round-trip (no input ends a literal early).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "clickhouse/sql.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string quoted = tyto::clickhouse::QuoteString(in);
  std::string_view rest;
  auto back = tyto::clickhouse::UnquoteString(quoted, &rest);
  if (!back.ok() || *back != in || !rest.empty()) std::abort();

  auto cond = tyto::clickhouse::SearchTextCondition("body", in);
  if (!cond.ok()) {
    if (cond.status().code() != tyto::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  // Outside literals the condition holds only the builder's own words and punctuation.
  std::string_view s = *cond;
  while (!s.empty()) {
    const size_t q = s.find('\'');
    for (char c : s.substr(0, q)) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '(' ||
                      c == ')' || c == ' ' || c == ',';
      if (!ok) std::abort();
    }
    if (q == std::string_view::npos) break;
    std::string_view after;
    if (!tyto::clickhouse::UnquoteString(s.substr(q), &after).ok()) std::abort();
    s = after;
  }
  return 0;
}
