#include <cstdio>
#include <cstdlib>

#include "evaluate/registry.h"
#include "judge/judge.h"

namespace tyto::judge {

void RegisterJudge(evaluate::Registry* registry) {
  Status s = registry->Register(JudgeDescriptor(),
                                [](const evaluate::Options& options) -> Result<std::unique_ptr<evaluate::Evaluator>> {
                                  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<Judge> judge, Judge::Create(options));
                                  return std::unique_ptr<evaluate::Evaluator>(std::move(judge));
                                });
  if (!s.ok()) {
    std::fprintf(stderr, "registering llm_judge: %s\n", s.ToString().c_str());
    std::abort();  // registered twice, or the descriptor is broken: a bug in the caller or here
  }
}

}  // namespace tyto::judge
