// libFuzzer target: any bytes through what the integrations write and read. Nothing may crash,
// hang or read out of bounds (the sanitizers watch), and:
//   - a string written as Go writes JSON (go_json.h), alone and inside a webhook message, parses
//     back, to the same bytes when they were valid UTF-8;
//   - DotStuff leaves no line that ends DATA early ("." alone) before its final ".";
//   - ParseAddressList returns only addresses with an '@' and no spaces;
//   - TruncateInRunes never grows a string past its bound.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "alertmanager/default_templates.h"
#include "alertmanager/go_json.h"
#include "alertmanager/integrations.h"
#include "alertmanager/smtp.h"

namespace {

using namespace tyto::alertmanager;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool ValidUtf8(std::string_view s) {
  rapidjson::Document d;
  std::string quoted = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;  // keep the check simple
    quoted += c;
  }
  quoted += '"';
  d.Parse<rapidjson::kParseValidateEncodingFlag>(quoted.data(), quoted.size());
  return !d.HasParseError();
}

void FuzzJson(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  rapidjson::Document d;
  d.Parse(out.data(), out.size());
  Check(!d.HasParseError() && d.IsString());
  if (ValidUtf8(s)) Check(std::string_view(d.GetString(), d.GetStringLength()) == s);

  Notification n;
  n.receiver = std::string(s);
  n.group_key = std::string(s);
  Alert a;
  a.labels = {{std::string(s), std::string(s)}};
  a.annotations = {{"summary", std::string(s)}};
  n.alerts = {a};
  const std::string message = WebhookMessage(n, 0);
  rapidjson::Document m;
  m.Parse(message.data(), message.size());
  Check(!m.HasParseError() && m.IsObject());
}

void FuzzSmtp(std::string_view s) {
  const std::string stuffed = DotStuff(s);
  Check(stuffed.size() >= 3 && stuffed.ends_with(".\r\n"));
  const std::string body = stuffed.substr(0, stuffed.size() - 3);
  Check(body.find("\r\n.\r\n") == std::string::npos && !body.starts_with(".\r\n"));
  auto list = ParseAddressList(s);
  if (list.ok()) {
    for (const std::string& address : *list) {
      Check(address.find('@') != std::string::npos);
      Check(address.find_first_of(" \t\r\n") == std::string::npos);
    }
  }
  for (size_t bound : {size_t{0}, size_t{3}, size_t{10}}) {
    const std::string cut = TruncateInRunes(s, bound);
    Check(cut.size() <= s.size() + 3);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    FuzzJson(input);
  } else {
    FuzzSmtp(input);
  }
  return 0;
}
