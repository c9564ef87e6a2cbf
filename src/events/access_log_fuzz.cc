// libFuzzer target: access-log recognition (access_log.h) on any text, as a Common Log Format
// body and as the status-code attribute of a log record. Invariants: no crash, and whatever is
// recognised has a status in 100..599 and fields cut from the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "events/access_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto check = [&](const std::optional<tyto::events::AccessLogEntry>& e) {
    if (!e) return;
    if (e->status < 100 || e->status > 599) std::abort();
    if (e->client.size() > size || e->path.size() > size || e->method.size() > size) std::abort();
  };
  check(tyto::events::ParseCommonLogFormat(text));
  tyto::events::LogRecord r;
  r.body = std::string(text);
  check(tyto::events::ParseAccessLog(r));
  // The same bytes as attribute values: status code first, then the rest.
  const size_t cut = size / 2;
  r.attributes = {{"http.response.status_code", std::string(text.substr(0, cut))},
                  {"http.route", std::string(text.substr(cut))},
                  {"client.address", std::string(text.substr(cut))}};
  check(tyto::events::ParseAccessLog(r));
  return 0;
}
