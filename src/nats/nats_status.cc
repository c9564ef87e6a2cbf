#include "nats/nats_status.h"

#include <nats/nats.h>

#include <string>

namespace tyto::nats {

Status FromNats(int nats_status, std::string_view what, int js_error) {
  const auto s = static_cast<natsStatus>(nats_status);
  if (s == NATS_OK) return Status::Ok();
  std::string msg(what);
  msg += ": ";
  msg += natsStatus_GetText(s);
  natsStatus last_status = NATS_OK;
  const char* detail = nats_GetLastError(&last_status);
  if (detail != nullptr && detail[0] != '\0' && std::string_view(detail) != natsStatus_GetText(s)) {
    msg += ": ";
    msg += detail;
  }
  const bool wrong_last = js_error == kWrongLastSequence ||
                          (detail != nullptr && std::string_view(detail).find("wrong last sequence") !=
                                                    std::string_view::npos);
  if (js_error != 0) msg += " (JetStream error " + std::to_string(js_error) + ")";
  if (wrong_last) return {StatusCode::kAlreadyExists, msg};
  switch (s) {
    case NATS_TIMEOUT:
    case NATS_NO_SERVER:
    case NATS_IO_ERROR:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_RESPONDERS:
    case NATS_DRAINING:
    case NATS_SLOW_CONSUMER:
    case NATS_SSL_ERROR:
    case NATS_SECURE_CONNECTION_WANTED:
    case NATS_SECURE_CONNECTION_REQUIRED:
    case NATS_MISSED_HEARTBEAT:
    // What a publish gets while reconnecting: Connection allows no reconnect buffer.
    case NATS_INSUFFICIENT_BUFFER:
      return Unavailable(msg);
    case NATS_NOT_FOUND:
      return NotFound(msg);
    case NATS_CONNECTION_AUTH_FAILED:
      return {StatusCode::kUnauthenticated, msg};
    case NATS_NOT_PERMITTED:
      return {StatusCode::kPermissionDenied, msg};
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_MAX_PAYLOAD:
    case NATS_INVALID_TIMEOUT:
    case NATS_ADDRESS_MISSING:
      return InvalidArgument(msg);
    case NATS_ERR:
      // JetStream answered with an API error (limits, storage, leadership changes): retryable.
      return Unavailable(msg);
    default:
      return Internal(msg);
  }
}

}  // namespace tyto::nats
