// SharedSilences: silences created or expired on any server of the cluster are seen by all.
// Each silence is a JSON record at `silences.<id>` (ids are UUIDs, valid keys); every
// poll_interval each server reads them all and applies them to its dispatcher's silences (the
// later updated_at wins), and writes back any of its own the store lacks or holds older (a
// silence created while the store was unreachable). docs/cluster.md has the record.
//
//   SharedSilences shared(&kv, clock, {});
//   options.on_silence = [&shared](const Silence& s) { shared.Publish(s); };
//   Dispatcher dispatcher(config, factory, options);
//   shared.Start(&dispatcher);  ...  shared.Stop();  // before the dispatcher is destroyed
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <string>
#include <thread>

#include "alertmanager/dispatch.h"
#include "alertmanager/silence.h"
#include "cluster/kv.h"
#include "common/mutex.h"
#include "tyto/clock.h"

namespace tyto::cluster {

struct SharedSilencesOptions {
  std::chrono::milliseconds poll_interval{std::chrono::seconds(1)};
  // Records of silences expired this long are deleted (the dispatcher's silence retention).
  std::chrono::milliseconds retention{std::chrono::hours(120)};
};

std::string EncodeSilenceRecord(const alertmanager::Silence& s);
// kInvalidArgument naming what is wrong; the silence is not validated here.
Result<alertmanager::Silence> DecodeSilenceRecord(std::string_view value);

class SharedSilences {
 public:
  // `kv` and `clock` must outlive this object.
  SharedSilences(KeyValue* kv, Clock* clock, SharedSilencesOptions options = {});
  ~SharedSilences();  // Stop()
  SharedSilences(const SharedSilences&) = delete;
  SharedSilences& operator=(const SharedSilences&) = delete;

  static std::string Key(const std::string& silence_id);

  // Writes the silence unless the store holds it with a later updated_at (DispatcherOptions::
  // on_silence). An unreachable store is logged; the next Sync writes it.
  Status Publish(const alertmanager::Silence& silence);

  // One poll: applies the store's silences to `dispatcher`, writes back the dispatcher's that
  // the store lacks or holds older, deletes records expired longer than the retention.
  Status Sync(alertmanager::Dispatcher* dispatcher);

  // Calls Sync every poll_interval on a thread. `dispatcher` must outlive Stop().
  void Start(alertmanager::Dispatcher* dispatcher);
  void Stop();

 private:
  KeyValue* const kv_;
  Clock* const clock_;
  const SharedSilencesOptions options_;
  Mutex mu_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::condition_variable_any cv_;
  std::thread thread_;
};

}  // namespace tyto::cluster
