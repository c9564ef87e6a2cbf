#include "nats/connection.h"

#include <nats/nats.h>

#include <string>
#include <vector>

#include "common/log.h"
#include "nats/nats_status.h"

namespace tyto::nats {
namespace {

const log::Logger kLog("nats");

std::string JoinUrls(const std::vector<std::string>& urls) {
  std::string out;
  for (const std::string& u : urls) out += (out.empty() ? "" : ",") + u;
  return out;
}

bool WantsTls(const NatsConfig& c) {
  if (!c.tls.ca_file.empty() || !c.tls.cert_file.empty() || c.tls.insecure_skip_verify) return true;
  for (const std::string& u : c.urls) {
    if (u.rfind("tls://", 0) == 0) return true;
  }
  return false;
}

// Owns a natsOptions for the duration of Connect.
struct OptionsHolder {
  natsOptions* o = nullptr;
  ~OptionsHolder() {
    if (o != nullptr) natsOptions_Destroy(o);
  }
};

int64_t Nanos(std::chrono::milliseconds d) { return static_cast<int64_t>(d.count()) * 1000000; }

}  // namespace

Connection::Connection(NatsConfig config, Metrics* metrics)
    : config_(std::move(config)),
      own_registry_(metrics == nullptr ? std::make_unique<instrumentation::Registry>() : nullptr),
      own_metrics_(metrics == nullptr ? std::make_unique<Metrics>(own_registry_.get()) : nullptr),
      metrics_(metrics != nullptr ? metrics : own_metrics_.get()) {}

Result<std::unique_ptr<Connection>> Connection::Connect(const NatsConfig& config, Env* env, Metrics* metrics,
                                                        ConnectOptions options) {
  TYTO_RETURN_IF_ERROR(Validate(config));
  TYTO_ASSIGN_OR_RETURN(std::string password, ReadPassword(env, config));
  TYTO_ASSIGN_OR_RETURN(std::string token, ReadToken(env, config));
  std::unique_ptr<Connection> conn(new Connection(config, metrics));

  OptionsHolder opts;
  TYTO_RETURN_IF_ERROR(FromNats(natsOptions_Create(&opts.o), "nats options"));
  std::vector<const char*> servers;
  for (const std::string& u : config.urls) servers.push_back(u.c_str());
  if (Status st = FromNats(natsOptions_SetServers(opts.o, servers.data(), static_cast<int>(servers.size())),
                           "nats.urls " + JoinUrls(config.urls));
      !st.ok()) {
    return InvalidArgument(st.message());
  }
  TYTO_RETURN_IF_ERROR(FromNats(natsOptions_SetName(opts.o, options.name.c_str()), "nats client name"));
  if (!config.user.empty()) {
    TYTO_RETURN_IF_ERROR(
        FromNats(natsOptions_SetUserInfo(opts.o, config.user.c_str(), password.c_str()), "nats.user"));
  }
  if (!token.empty()) TYTO_RETURN_IF_ERROR(FromNats(natsOptions_SetToken(opts.o, token.c_str()), "nats.token"));
  if (WantsTls(config)) {
    TYTO_RETURN_IF_ERROR(FromNats(natsOptions_SetSecure(opts.o, true), "nats.tls"));
    if (!config.tls.ca_file.empty()) {
      Status s = FromNats(natsOptions_LoadCATrustedCertificates(opts.o, config.tls.ca_file.c_str()), "nats.tls.ca_file");
      if (!s.ok()) return InvalidArgument(s.message());
    }
    if (!config.tls.cert_file.empty()) {
      Status s = FromNats(natsOptions_LoadCertificatesChain(opts.o, config.tls.cert_file.c_str(),
                                                            config.tls.key_file.c_str()),
                          "nats.tls.cert_file/key_file");
      if (!s.ok()) return InvalidArgument(s.message());
    }
    if (!config.tls.server_name.empty()) {
      TYTO_RETURN_IF_ERROR(
          FromNats(natsOptions_SetExpectedHostname(opts.o, config.tls.server_name.c_str()), "nats.tls.server_name"));
    }
    if (config.tls.insecure_skip_verify) {
      kLog.Warn("TLS certificate verification is off (nats.tls.insecure_skip_verify: true): the NATS server's "
                "identity is not checked", {{"urls", JoinUrls(config.urls)}});
      TYTO_RETURN_IF_ERROR(FromNats(natsOptions_SkipServerVerification(opts.o, true), "nats.tls"));
    }
  }
  TYTO_RETURN_IF_ERROR(FromNats(natsOptions_SetTimeout(opts.o, config.connect_timeout.count()), "nats.connect_timeout"));
  TYTO_RETURN_IF_ERROR(FromNats(natsOptions_SetAllowReconnect(opts.o, true), "nats reconnect"));
  TYTO_RETURN_IF_ERROR(FromNats(natsOptions_SetMaxReconnect(opts.o, -1), "nats reconnect"));
  TYTO_RETURN_IF_ERROR(FromNats(natsOptions_SetReconnectWait(opts.o, options.reconnect_wait.count()), "nats reconnect"));
  // Publishes made while disconnected fail at once (the callers retry them) rather than sit in
  // a buffer whose fate the caller cannot see.
  TYTO_RETURN_IF_ERROR(FromNats(natsOptions_SetReconnectBufSize(opts.o, 0), "nats reconnect"));
  TYTO_RETURN_IF_ERROR(FromNats(natsOptions_SetFailRequestsOnDisconnect(opts.o, true), "nats reconnect"));
  Connection* self = conn.get();
  TYTO_RETURN_IF_ERROR(FromNats(natsOptions_SetClosedCB(opts.o, &Connection::OnClosed, self), "nats callbacks"));
  TYTO_RETURN_IF_ERROR(
      FromNats(natsOptions_SetDisconnectedCB(opts.o, &Connection::OnDisconnected, self), "nats callbacks"));
  TYTO_RETURN_IF_ERROR(
      FromNats(natsOptions_SetReconnectedCB(opts.o, &Connection::OnReconnected, self), "nats callbacks"));
  if (options.connect_in_background) {
    TYTO_RETURN_IF_ERROR(FromNats(natsOptions_SetRetryOnFailedConnect(opts.o, true, &Connection::OnConnected, self),
                                  "nats connect"));
  }

  natsStatus s = natsConnection_Connect(&conn->nc_, opts.o);
  if (s == NATS_NOT_YET_CONNECTED) {
    kLog.Warn("NATS is not reachable yet; connecting in the background", {{"urls", JoinUrls(config.urls)}});
  } else if (s != NATS_OK) {
    conn->nc_ = nullptr;
    return FromNats(s, "nats connect to " + JoinUrls(config.urls));
  } else {
    conn->metrics_->connected.Set(1);
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = config.request_timeout.count();
  TYTO_RETURN_IF_ERROR(FromNats(natsConnection_JetStream(&conn->js_, conn->nc_, &jo), "nats jetstream context"));
  if (s == NATS_OK) kLog.Info("connected to NATS", {{"server", conn->server()}});
  return conn;
}

Connection::~Connection() {
  Close();
  if (nc_ != nullptr) {
    MutexLock lock(&callback_mu_);
    // Bounded: libnats runs the closed callback right after closing; should it not, leaking the
    // connection is better than freeing what a late callback uses.
    if (!callback_cv_.wait_for(callback_mu_.native(), std::chrono::seconds(30),
                               [this]() NO_THREAD_SAFETY_ANALYSIS { return closed_callback_ran_; })) {
      kLog.Error("libnats did not confirm closing the connection; leaving it allocated");
      return;
    }
  }
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) natsConnection_Destroy(nc_);
}

void Connection::Close() {
  if (closed_.exchange(true)) return;
  if (nc_ != nullptr) natsConnection_Close(nc_);
  metrics_->connected.Set(0);
}

void Connection::OnClosed(natsConnection* /*nc*/, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  MutexLock lock(&self->callback_mu_);
  self->closed_callback_ran_ = true;
  self->callback_cv_.notify_all();
}

void Connection::OnDisconnected(natsConnection* /*nc*/, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  self->metrics_->connected.Set(0);
  if (!self->closed_) kLog.Warn("lost the connection to NATS; reconnecting", {{"urls", JoinUrls(self->config_.urls)}});
}

void Connection::OnReconnected(natsConnection* nc, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  self->metrics_->connected.Set(1);
  self->metrics_->reconnects.Inc();
  char url[256] = {0};
  (void)natsConnection_GetConnectedUrl(nc, url, sizeof(url));
  kLog.Info("reconnected to NATS", {{"server", std::string_view(url)}});
}

void Connection::OnConnected(natsConnection* nc, void* closure) {
  auto* self = static_cast<Connection*>(closure);
  self->metrics_->connected.Set(1);
  char url[256] = {0};
  (void)natsConnection_GetConnectedUrl(nc, url, sizeof(url));
  kLog.Info("connected to NATS", {{"server", std::string_view(url)}});
}

bool Connection::connected() const {
  return nc_ != nullptr && !closed_ && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

std::string Connection::server() const {
  if (nc_ != nullptr) {
    char url[256] = {0};
    if (natsConnection_GetConnectedUrl(nc_, url, sizeof(url)) == NATS_OK && url[0] != '\0') return url;
  }
  return JoinUrls(config_.urls);
}

Status Connection::EnsureStream(bool update_limits) {
  if (closed_) return Unavailable("nats: connection closed");
  const std::string subjects = config_.subject_prefix + ".>";
  const char* subject_list[] = {subjects.c_str()};
  jsStreamConfig want;
  jsStreamConfig_Init(&want);
  want.Name = config_.stream.c_str();
  want.Description = "Tyto telemetry from agents to servers";
  want.Subjects = subject_list;
  want.SubjectsLen = 1;
  want.Retention = js_LimitsPolicy;
  want.MaxAge = Nanos(config_.max_age);
  want.MaxBytes = config_.max_bytes == 0 ? -1 : static_cast<int64_t>(config_.max_bytes);
  want.Storage = config_.storage == "memory" ? js_MemoryStorage : js_FileStorage;
  want.Replicas = config_.replicas;
  want.Duplicates = Nanos(config_.duplicate_window);
  want.Discard = js_DiscardOld;

  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js_, config_.stream.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    jerr = static_cast<jsErrCode>(0);
    s = js_AddStream(&si, js_, &want, nullptr, &jerr);
    if (si != nullptr) jsStreamInfo_Destroy(si);
    if (s != NATS_OK) return FromNats(s, "nats: creating stream " + config_.stream + " on " + server(), jerr);
    kLog.Info("created the JetStream stream", {{"stream", config_.stream}, {"subjects", subjects}, {"server", server()}});
    return Status::Ok();
  }
  if (s != NATS_OK) return FromNats(s, "nats: reading stream " + config_.stream + " on " + server(), jerr);

  const jsStreamConfig* have = si->Config;
  bool has_subject = false;
  for (int i = 0; have != nullptr && i < have->SubjectsLen; ++i) {
    if (have->Subjects[i] != nullptr && subjects == have->Subjects[i]) has_subject = true;
  }
  const bool storage_differs = have != nullptr && have->Storage != want.Storage;
  const bool differs = have == nullptr || !has_subject || have->MaxAge != want.MaxAge ||
                       have->MaxBytes != want.MaxBytes || have->Duplicates != want.Duplicates ||
                       have->Replicas != want.Replicas || have->SubjectsLen != 1;
  jsStreamInfo_Destroy(si);
  if (!update_limits) {
    if (!has_subject) {
      return FailedPrecondition("nats: stream " + config_.stream + " does not hold subjects " + subjects +
                                "; its owner (the servers' configuration) decides");
    }
    return Status::Ok();
  }
  if (storage_differs) {
    return FailedPrecondition("nats: stream " + config_.stream + " exists with another storage type than nats.storage " +
                              config_.storage + " (JetStream cannot change it; remove the stream or change the option)");
  }
  if (!differs) return Status::Ok();
  si = nullptr;
  jerr = static_cast<jsErrCode>(0);
  s = js_UpdateStream(&si, js_, &want, nullptr, &jerr);
  if (si != nullptr) jsStreamInfo_Destroy(si);
  if (s != NATS_OK) return FromNats(s, "nats: updating stream " + config_.stream + " on " + server(), jerr);
  kLog.Info("updated the JetStream stream's limits", {{"stream", config_.stream}, {"server", server()}});
  return Status::Ok();
}

Result<StreamState> Connection::GetStreamState() {
  if (closed_) return Unavailable("nats: connection closed");
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js_, config_.stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return FromNats(s, "nats: stream " + config_.stream + " on " + server(), jerr);
  StreamState st;
  st.messages = si->State.Msgs;
  st.bytes = si->State.Bytes;
  st.first_sequence = si->State.FirstSeq;
  st.last_sequence = si->State.LastSeq;
  st.consumers = si->State.Consumers;
  if (si->Config != nullptr) {
    st.max_age = std::chrono::milliseconds(si->Config->MaxAge / 1000000);
    st.duplicate_window = std::chrono::milliseconds(si->Config->Duplicates / 1000000);
  }
  jsStreamInfo_Destroy(si);
  return st;
}

Status Connection::Health() {
  if (closed_) return Unavailable("nats: connection closed");
  if (!connected()) return Unavailable("nats " + server() + ": not connected (reconnecting)");
  auto st = GetStreamState();
  if (!st.ok()) return Unavailable("nats " + server() + ": " + st.status().message());
  return Status::Ok();
}

}  // namespace tyto::nats
