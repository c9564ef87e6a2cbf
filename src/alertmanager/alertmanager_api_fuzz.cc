// libFuzzer target: any bytes through the decoders of POST /api/v2/alerts and POST
// /api/v2/silences (api/alertmanager_handlers.h), and, for what decodes, the snapshot codecs
// (store.h) and back. Nothing may crash, hang or read out of bounds (the sanitizers watch); a
// rejected body is always InvalidArgument; a decoded silence survives a snapshot round trip and
// a snapshot of anything decodes without error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "alertmanager/store.h"
#include "api/alertmanager_handlers.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto alerts = tyto::api::DecodePostableAlerts(body, 1000);
  if (!alerts.ok()) {
    Check(alerts.status().code() == tyto::StatusCode::kInvalidArgument);
  } else {
    for (const auto& a : *alerts) {
      Check(!a.labels.empty());
      Check(a.starts_at_ms == 0 || a.ends_at_ms == 0 || a.starts_at_ms <= a.ends_at_ms);
    }
  }
  auto silence = tyto::api::DecodePostableSilence(body);
  if (!silence.ok()) {
    Check(silence.status().code() == tyto::StatusCode::kInvalidArgument);
  } else {
    auto back = tyto::alertmanager::DecodeSilences(tyto::alertmanager::EncodeSilences({*silence}));
    Check(back.ok() && back->size() == 1 && (*back)[0].matchers == silence->matchers &&
          (*back)[0].comment == silence->comment);
  }
  // The snapshot decoders take damaged files without crashing.
  (void)tyto::alertmanager::DecodeSilences(body);
  (void)tyto::alertmanager::DecodeNflog(body);
  return 0;
}
