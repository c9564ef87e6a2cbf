// What the evaluate tests share: the builtin registry and a one-line way to score a sample.
// Test-only; never linked into the library.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "evaluate/registry.h"

namespace tyto::evaluate::evaluate_testing {

inline const Registry& Builtin() {
  static const Registry* r = [] {
    auto* reg = new Registry();
    RegisterBuiltins(reg);
    return reg;
  }();
  return *r;
}

// The builtin evaluator `name` with `options`; fails the test (and returns null) if it cannot be
// created.
inline std::unique_ptr<Evaluator> Make(std::string_view name, const Options& options = {}) {
  auto e = Builtin().Create(name, options);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

// The error creating `name` with `options` gives (empty when it succeeds).
inline std::string CreateError(std::string_view name, const Options& options) {
  auto e = Builtin().Create(name, options);
  return e.ok() ? std::string() : e.status().message();
}

inline Score Rate(Evaluator& e, std::string prompt, std::string response, std::vector<std::string> finish = {},
                 int64_t output_tokens = -1) {
  Sample s;
  s.prompt = std::move(prompt);
  s.response = std::move(response);
  s.finish_reasons = std::move(finish);
  s.output_tokens = output_tokens;
  auto r = e.Evaluate(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Score{};
}

}  // namespace tyto::evaluate::evaluate_testing
