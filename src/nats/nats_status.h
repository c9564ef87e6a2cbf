// Turning libnats's results (natsStatus, and JetStream's API error codes) into Tyto's Status.
// Internal to src/nats; the codes are passed as ints so that this header needs no <nats/nats.h>.
//
//   server unreachable, connection lost or closed, timeouts, no responders,
//   a publish while reconnecting (no reconnect buffer)                      -> kUnavailable
//   JetStream 10071 "wrong last sequence" (a compare-and-set lost)          -> kAlreadyExists
//   not found                                                                -> kNotFound
//   authentication failed                                                    -> kUnauthenticated
//   not permitted                                                            -> kPermissionDenied
//   invalid argument or subject, payload over the server's max_payload      -> kInvalidArgument
//   other JetStream API errors (limits, storage)                             -> kUnavailable (retried)
//   anything else                                                            -> kInternal
#pragma once

#include <string_view>

#include "tyto/status.h"

namespace tyto::nats {

// JetStream's API error code for a failed expected-last-sequence check.
inline constexpr int kWrongLastSequence = 10071;

// OK for NATS_OK. Otherwise "<what>: <libnats's text>[: <the last error's detail>]", the detail
// read from libnats's per-thread last error, so call it right after the failed call.
Status FromNats(int nats_status, std::string_view what, int js_error = 0);

}  // namespace tyto::nats
