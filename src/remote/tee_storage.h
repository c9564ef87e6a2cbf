// TeeStorage: a Storage that keeps everything in a primary storage (the server's own tsdb) and
// also hands it to a secondary one (the remote_write fan-out, fanout.h), so that whatever the
// server ingests -- scrapes, remote write, OTLP, collectors, recording rules, derived series --
// reaches the remote destinations without any of those paths knowing.
//
// Contract:
//   - Queries read the primary only.
//   - Append goes to the primary; only samples it accepts are appended to the secondary (with
//     the same labels). The primary's answer (its ref or its error) is returned.
//   - Commit commits the primary first. If that fails, the secondary's samples are discarded and
//     the primary's error returned: the secondary never gets what the primary did not keep. If
//     it succeeds, the secondary is committed and its failure is not returned (the primary has
//     the data; the secondary counts and logs its own failures, as Fanout does).
//   - The secondary's Commit must not wait on the network (Fanout writes to local disk queues).
//
// Thread-safe as its two storages are. Both must outlive it and its appenders.
#pragma once

#include <memory>

#include "tyto/storage.h"

namespace tyto::remote {

class TeeStorage final : public Storage {
 public:
  TeeStorage(Storage* primary, Storage* secondary) : primary_(primary), secondary_(secondary) {}

  std::unique_ptr<Appender> NewAppender() override;
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t mint, int64_t maxt) override {
    return primary_->NewQuerier(mint, maxt);
  }

  Storage* primary() const { return primary_; }
  Storage* secondary() const { return secondary_; }

 private:
  Storage* primary_;
  Storage* secondary_;
};

}  // namespace tyto::remote
