// KeyValueStore: cluster::KeyValue (src/cluster/kv.h) over a JetStream key-value bucket, what
// several Tyto servers share (rule-group leases, the notification log, silences, incidents).
//
// Keys: the contract's keys are any non-empty byte strings; NATS allows only [-_=./A-Za-z0-9]
// and no leading or trailing '.'. Each byte outside [-_/A-Za-z0-9] is written as '=' and two
// upper-case hex digits ("rules/cpu high" -> "rules/cpu=20high"), so distinct keys stay
// distinct, and a key starts with a prefix exactly when its encoding starts with the prefix's
// encoding. docs/format/nats.md.
//
// Revisions are the bucket stream's sequence numbers. Update and Create are JetStream's
// expected-last-subject-sequence checks, decided by the NATS server: two servers racing for one
// revision get exactly one winner; the loser gets kAlreadyExists.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/kv.h"
#include "nats/connection.h"

struct __kvStore;

namespace tyto::nats {

// The bucket key for a contract key (see above); EncodeKey(DecodeKey(k)) == k for every key
// EncodeKey returns.
std::string EncodeKey(std::string_view key);
// kInvalidArgument for text EncodeKey never returns (a bucket written by another program).
Result<std::string> DecodeKey(std::string_view encoded);

// Thread-safe.
class KeyValueStore final : public cluster::KeyValue {
 public:
  // Binds to config.kv_bucket, creating it when missing (history 1, file storage, the stream's
  // replicas). `conn` must outlive the store. kUnavailable when NATS cannot be reached.
  static Result<std::unique_ptr<KeyValueStore>> Open(Connection* conn);
  ~KeyValueStore() override;
  KeyValueStore(const KeyValueStore&) = delete;
  KeyValueStore& operator=(const KeyValueStore&) = delete;

  // Every method: kInvalidArgument for an empty key; kUnavailable naming the server when NATS
  // does not answer within request_timeout (a write may then have happened or not: read again).
  Result<std::optional<cluster::Entry>> Get(std::string_view key) override;
  Result<uint64_t> Create(std::string_view key, std::string_view value) override;
  // kAlreadyExists for an absent key and for revision 0 (no key is ever at revision 0).
  Result<uint64_t> Update(std::string_view key, std::string_view value, uint64_t revision) override;
  Result<uint64_t> Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  // Reads the whole bucket (one ordered watch of its latest values) and keeps the keys that
  // start with `prefix`: cost grows with the bucket, not with the answer.
  Result<std::vector<cluster::Entry>> List(std::string_view prefix) override;
  Status Health() override;

 private:
  KeyValueStore(Connection* conn, __kvStore* kv);
  Status Count(std::string_view op, const Status& s);

  Connection* const conn_;
  __kvStore* const kv_;
};

}  // namespace tyto::nats
