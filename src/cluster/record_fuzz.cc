// libFuzzer target: any bytes as a value read from the shared key-value store (lease,
// notification, silence, playbook-claim and incident-action records, docs/cluster.md) must decode or give an
// error, never crash or hang; what decodes must encode and decode again to the same record.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cluster/lease.h"
#include "cluster/playbook_claims.h"
#include "cluster/shared_incidents.h"
#include "cluster/shared_notification_log.h"
#include "cluster/shared_silences.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tyto::cluster;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto lease = DecodeLeaseRecord(text); lease.ok()) {
    auto again = DecodeLeaseRecord(EncodeLeaseRecord(*lease));
    Check(again.ok() && again->node == lease->node && again->expires_at_ms == lease->expires_at_ms);
  }
  if (auto n = DecodeNotificationRecord(text); n.ok()) {
    auto again = DecodeNotificationRecord(EncodeNotificationRecord(*n));
    Check(again.ok() && again->firing == n->firing && again->resolved == n->resolved &&
          again->previous_firing == n->previous_firing && again->state == n->state);
  }
  if (auto s = DecodeSilenceRecord(text); s.ok()) {
    auto again = DecodeSilenceRecord(EncodeSilenceRecord(*s));
    Check(again.ok() && again->id == s->id && again->matchers == s->matchers && again->ends_at == s->ends_at);
  }
  if (auto c = DecodePlaybookClaim(text); c.ok()) {
    auto again = DecodePlaybookClaim(EncodePlaybookClaim(*c));
    Check(again.ok() && again->node == c->node && again->expires_at_ms == c->expires_at_ms);
  }
  if (auto a = DecodeIncidentAction(text); a.ok()) {
    auto again = DecodeIncidentAction(EncodeIncidentAction(*a));
    Check(again.ok() && again->incident == a->incident && again->kind == a->kind && again->text == a->text);
  }
  return 0;
}
