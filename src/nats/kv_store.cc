#include "nats/kv_store.h"

#include <nats/nats.h>

#include <algorithm>

#include "common/log.h"
#include "nats/nats_status.h"

namespace tyto::nats {
namespace {

const log::Logger kLog("nats");

// JetStream's limit on a message's subject is generous; this bounds what a caller can send.
constexpr size_t kMaxKeyBytes = 1024;
constexpr char kHex[] = "0123456789ABCDEF";

bool IsPlainKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '/';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct EntryHolder {
  kvEntry* e = nullptr;
  ~EntryHolder() {
    if (e != nullptr) kvEntry_Destroy(e);
  }
};

struct WatcherHolder {
  kvWatcher* w = nullptr;
  ~WatcherHolder() {
    if (w != nullptr) kvWatcher_Destroy(w);
  }
};

std::string ValueOf(kvEntry* e) {
  const void* data = kvEntry_Value(e);
  const int len = kvEntry_ValueLen(e);
  if (data == nullptr || len <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(len));
}

Status CheckKey(std::string_view key) {
  if (key.empty()) return InvalidArgument("nats kv: the key must not be empty");
  if (key.size() > kMaxKeyBytes) {
    return InvalidArgument("nats kv: key of " + std::to_string(key.size()) + " bytes is over " +
                           std::to_string(kMaxKeyBytes));
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeKey(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (IsPlainKeyChar(c)) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '=';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

Result<std::string> DecodeKey(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (IsPlainKeyChar(c)) {
      out += c;
      continue;
    }
    int hi = -1, lo = -1;
    if (c == '=' && i + 2 < encoded.size()) {
      hi = HexValue(encoded[i + 1]);
      lo = HexValue(encoded[i + 2]);
    }
    if (hi < 0 || lo < 0) {
      return InvalidArgument("nats kv: key '" + std::string(encoded.substr(0, 256)) +
                             "' was not written by Tyto (byte " + std::to_string(i) + ")");
    }
    const char decoded = static_cast<char>((hi << 4) | lo);
    if (IsPlainKeyChar(decoded)) {  // EncodeKey never escapes these: not one of ours
      return InvalidArgument("nats kv: key '" + std::string(encoded.substr(0, 256)) + "' was not written by Tyto");
    }
    out += decoded;
    i += 2;
  }
  return out;
}

Result<std::unique_ptr<KeyValueStore>> KeyValueStore::Open(Connection* conn) {
  const NatsConfig& c = conn->config();
  kvStore* kv = nullptr;
  natsStatus s = js_KeyValue(&kv, conn->jetstream(), c.kv_bucket.c_str());
  if (s == NATS_NOT_FOUND) {
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = c.kv_bucket.c_str();
    kc.Description = "Tyto servers' shared state";
    kc.History = 1;
    kc.StorageType = js_FileStorage;
    kc.Replicas = c.replicas;
    s = js_CreateKeyValue(&kv, conn->jetstream(), &kc);
    if (s == NATS_OK) kLog.Info("created the key-value bucket", {{"bucket", c.kv_bucket}, {"server", conn->server()}});
  }
  if (s != NATS_OK) {
    if (kv != nullptr) kvStore_Destroy(kv);
    Status st = FromNats(s, "nats kv: bucket " + c.kv_bucket + " on " + conn->server());
    if (st.code() == StatusCode::kNotFound) st = Unavailable(st.message());
    return st;
  }
  return std::unique_ptr<KeyValueStore>(new KeyValueStore(conn, kv));
}

KeyValueStore::KeyValueStore(Connection* conn, kvStore* kv) : conn_(conn), kv_(kv) {}

KeyValueStore::~KeyValueStore() { kvStore_Destroy(kv_); }

Status KeyValueStore::Count(std::string_view op, const Status& s) {
  std::string_view result = s.ok() ? "ok" : s.code() == StatusCode::kAlreadyExists ? "conflict" : "error";
  conn_->metrics()->kv_operations.WithLabels({op, result}).Inc();
  return s;
}

Result<std::optional<cluster::Entry>> KeyValueStore::Get(std::string_view key) {
  TYTO_RETURN_IF_ERROR(Count("get", CheckKey(key)));
  const std::string k = EncodeKey(key);
  EntryHolder e;
  natsStatus s = kvStore_Get(&e.e, kv_, k.c_str());
  if (s == NATS_NOT_FOUND) {
    (void)Count("get", Status::Ok());
    return std::optional<cluster::Entry>();
  }
  if (s != NATS_OK) {
    Status st = FromNats(s, "nats kv get " + k + " in " + conn_->config().kv_bucket + " on " + conn_->server());
    if (st.code() != StatusCode::kInvalidArgument) st = Unavailable(st.message());
    return Count("get", st);
  }
  (void)Count("get", Status::Ok());
  cluster::Entry entry;
  entry.key = std::string(key);
  entry.value = ValueOf(e.e);
  entry.revision = kvEntry_Revision(e.e);
  return std::optional<cluster::Entry>(std::move(entry));
}

Result<uint64_t> KeyValueStore::Create(std::string_view key, std::string_view value) {
  TYTO_RETURN_IF_ERROR(Count("create", CheckKey(key)));
  const std::string k = EncodeKey(key);
  uint64_t rev = 0;
  natsStatus s = kvStore_Create(&rev, kv_, k.c_str(), value.empty() ? "" : value.data(), static_cast<int>(value.size()));
  if (s != NATS_OK) {
    Status st = FromNats(s, "nats kv create " + k + " in " + conn_->config().kv_bucket + " on " + conn_->server());
    if (st.code() == StatusCode::kAlreadyExists) st = {StatusCode::kAlreadyExists, "nats kv create " + k + ": the key exists"};
    return Count("create", st);
  }
  (void)Count("create", Status::Ok());
  return rev;
}

Result<uint64_t> KeyValueStore::Update(std::string_view key, std::string_view value, uint64_t revision) {
  TYTO_RETURN_IF_ERROR(Count("update", CheckKey(key)));
  if (revision == 0) {  // no key is at revision 0 (and libnats reads 0 as "no check")
    return Count("update", {StatusCode::kAlreadyExists, "nats kv update " + EncodeKey(key) + ": no key is at revision 0"});
  }
  const std::string k = EncodeKey(key);
  uint64_t rev = 0;
  natsStatus s = kvStore_Update(&rev, kv_, k.c_str(), value.empty() ? "" : value.data(),
                                static_cast<int>(value.size()), revision);
  if (s != NATS_OK) {
    Status st = FromNats(s, "nats kv update " + k + " in " + conn_->config().kv_bucket + " on " + conn_->server());
    if (st.code() == StatusCode::kAlreadyExists) {
      st = {StatusCode::kAlreadyExists,
            "nats kv update " + k + ": the key is no longer at revision " + std::to_string(revision)};
    }
    return Count("update", st);
  }
  (void)Count("update", Status::Ok());
  return rev;
}

Result<uint64_t> KeyValueStore::Put(std::string_view key, std::string_view value) {
  TYTO_RETURN_IF_ERROR(Count("put", CheckKey(key)));
  const std::string k = EncodeKey(key);
  uint64_t rev = 0;
  natsStatus s = kvStore_Put(&rev, kv_, k.c_str(), value.empty() ? "" : value.data(), static_cast<int>(value.size()));
  if (s != NATS_OK) {
    return Count("put", FromNats(s, "nats kv put " + k + " in " + conn_->config().kv_bucket + " on " + conn_->server()));
  }
  (void)Count("put", Status::Ok());
  return rev;
}

Status KeyValueStore::Delete(std::string_view key) {
  TYTO_RETURN_IF_ERROR(Count("delete", CheckKey(key)));
  const std::string k = EncodeKey(key);
  natsStatus s = kvStore_Delete(kv_, k.c_str());
  return Count("delete",
               FromNats(s, "nats kv delete " + k + " in " + conn_->config().kv_bucket + " on " + conn_->server()));
}

Result<std::vector<cluster::Entry>> KeyValueStore::List(std::string_view prefix) {
  const std::string where = "nats kv list in " + conn_->config().kv_bucket + " on " + conn_->server();
  kvWatchOptions wo;
  kvWatchOptions_Init(&wo);
  wo.IgnoreDeletes = true;
  wo.Timeout = conn_->config().request_timeout.count();
  WatcherHolder w;
  TYTO_RETURN_IF_ERROR(Count("list", FromNats(kvStore_WatchAll(&w.w, kv_, &wo), where)));
  std::vector<cluster::Entry> out;
  while (true) {
    EntryHolder e;
    natsStatus s = kvWatcher_Next(&e.e, w.w, conn_->config().request_timeout.count());
    if (s != NATS_OK) {
      Status st = FromNats(s, where);
      if (st.code() != StatusCode::kInvalidArgument) st = Unavailable(st.message());
      return Count("list", st);
    }
    if (e.e == nullptr) break;  // every key's latest value has been seen
    if (kvEntry_Operation(e.e) != kvOp_Put) continue;
    auto key = DecodeKey(kvEntry_Key(e.e));
    if (!key.ok()) {
      kLog.Warn("skipping a key-value entry Tyto did not write", {{"error", key.status()}});
      continue;
    }
    if (key->substr(0, prefix.size()) != prefix) continue;
    cluster::Entry entry;
    entry.key = std::move(key).value();
    entry.value = ValueOf(e.e);
    entry.revision = kvEntry_Revision(e.e);
    out.push_back(std::move(entry));
  }
  std::sort(out.begin(), out.end(), [](const cluster::Entry& a, const cluster::Entry& b) {
    return a.key != b.key ? a.key < b.key : a.revision > b.revision;
  });
  // A key written again while the watch ran shows up twice: keep its newest.
  out.erase(std::unique(out.begin(), out.end(),
                        [](const cluster::Entry& a, const cluster::Entry& b) { return a.key == b.key; }),
            out.end());
  (void)Count("list", Status::Ok());
  return out;
}

Status KeyValueStore::Health() {
  if (!conn_->connected()) return Unavailable("nats " + conn_->server() + ": not connected (reconnecting)");
  kvStatus* st = nullptr;
  natsStatus s = kvStore_Status(&st, kv_);
  if (st != nullptr) kvStatus_Destroy(st);
  if (s != NATS_OK) {
    Status e = FromNats(s, "nats kv bucket " + conn_->config().kv_bucket + " on " + conn_->server());
    return Unavailable(e.message());
  }
  return Status::Ok();
}

}  // namespace tyto::nats
