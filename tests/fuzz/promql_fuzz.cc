// libFuzzer target for the PromQL parser: any bytes must give a tree or an error (no crash, no
// hang, no stack overflow), and a tree's canonical text must parse back to the same text.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "promql/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view query(reinterpret_cast<const char*>(data), size);
  tyto::Result<tyto::promql::ExprPtr> e = tyto::promql::Parse(query);
  if (!e.ok()) {
    if (e.status().code() != tyto::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  std::string printed = (*e)->String();
  tyto::Result<tyto::promql::ExprPtr> again = tyto::promql::Parse(printed);
  if (!again.ok()) {
    std::fprintf(stderr, "canonical form does not parse: %s\n  %s\n", printed.c_str(), again.status().message().c_str());
    std::abort();
  }
  std::string reprinted = (*again)->String();
  if (reprinted != printed) {
    std::fprintf(stderr, "canonical form is not stable:\n  %s\n  %s\n", printed.c_str(), reprinted.c_str());
    std::abort();
  }
  return 0;
}
