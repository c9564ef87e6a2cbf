// libFuzzer target: any bytes as a rule file must give a RuleFile or an error, never a crash or a
// hang; every alert template that parses must also execute within its bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rules/rule_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tyto::Result<tyto::rules::RuleFile> file = tyto::rules::ParseRuleFile(text, "fuzz.yml");
  if (!file.ok()) return 0;
  tyto::rules::TemplateData template_data;
  template_data.labels = {{"instance", "a:1"}, {"job", "j"}};
  template_data.value = 1.5;
  for (const tyto::rules::RuleGroup& group : file->groups) {
    for (const tyto::rules::Rule& rule : group.rules) {
      for (const tyto::rules::Template& t : rule.annotation_templates) (void)t.Execute(template_data);
      for (const tyto::rules::Template& t : rule.label_templates) (void)t.Execute(template_data);
    }
  }
  return 0;
}
