// libFuzzer target: any bytes as a template must parse or fail with an error; a parsed template
// must execute (with and without a query callback) to text or an error within its bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rules/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tyto::Result<tyto::rules::Template> t = tyto::rules::Template::Parse(text);
  if (!t.ok()) return 0;
  tyto::rules::TemplateData template_data;
  template_data.labels = {{"instance", "host:9100"}, {"job", "node"}, {"__name__", "up"}};
  template_data.external_labels = {{"cluster", "c1"}};
  template_data.value = 1234.5;
  (void)t->Execute(template_data);
  template_data.value = -0.001;
  template_data.query = [](std::string_view) -> tyto::Result<std::vector<tyto::rules::TemplateSample>> {
    return std::vector<tyto::rules::TemplateSample>{{{{"instance", "a"}}, 1}, {{{"instance", "b"}}, 0}};
  };
  (void)t->Execute(template_data);
  return 0;
}
