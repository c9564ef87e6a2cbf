#include "alertmanager/forward.h"

#include <algorithm>
#include <charconv>
#include <future>

#include "http/encoding.h"
#include "alertmanager/go_json.h"
#include "common/build_info.h"
#include "common/log.h"
#include "common/units.h"
#include "http/client.h"
#include "http/url.h"
#include "instrumentation/metrics.h"

namespace tyto::alertmanager {

namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

const log::Logger& Log() {
  static const log::Logger logger("alertmanager");
  return logger;
}

// Answers to POST /api/v2/alerts are empty or short.
constexpr uint64_t kMaxResponseBytes = 64 * 1024;

struct Outcome {
  Status status;
  bool retry = false;
  milliseconds retry_after{0};  // from a Retry-After in seconds, 0 when none
};

Outcome Classify(const Result<http::ClientResponse>& r, const std::string& url) {
  if (!r.ok()) {
    const StatusCode code = r.status().code();
    return {r.status(), code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded};
  }
  if (r->status >= 200 && r->status <= 299) return {Status::Ok()};
  std::string body = r->body.substr(0, 200);
  for (char& c : body) c = (c >= 0x20 && c < 0x7f) ? c : ' ';
  const bool retry = r->status == 429 || r->status >= 500;
  Outcome o{Status(retry ? StatusCode::kUnavailable : StatusCode::kFailedPrecondition,
                   url + " answered HTTP " + std::to_string(r->status) + (body.empty() ? "" : ": " + body)),
            retry};
  int64_t seconds = 0;
  const std::string& ra = r->retry_after;
  auto [p, ec] = std::from_chars(ra.data(), ra.data() + ra.size(), seconds);
  if (!ra.empty() && ec == std::errc() && p == ra.data() + ra.size() && seconds > 0) {
    o.retry_after = milliseconds(std::min<int64_t>(seconds, 3600) * 1000);
  }
  return o;
}

}  // namespace

struct AlertmanagerForwarder::Target {
  std::string url;
  http::Url parsed;
  instrumentation::Counter* sent = nullptr;
  instrumentation::Counter* errors = nullptr;
};

Result<std::unique_ptr<AlertmanagerForwarder>> AlertmanagerForwarder::Create(ForwarderOptions o,
                                                                             instrumentation::Registry* registry) {
  if (o.scheme != "http" && o.scheme != "https") {
    return InvalidArgument("alertmanager forwarding: scheme must be http or https, got \"" + o.scheme + "\"");
  }
  if (o.targets.empty()) return InvalidArgument("alertmanager forwarding: no targets");
  if (!o.bearer_token.empty() && (!o.basic_auth_username.empty() || !o.basic_auth_password.empty())) {
    return InvalidArgument("alertmanager forwarding: at most one of basic auth and bearer token may be configured");
  }
  if (!o.path_prefix.empty() && o.path_prefix.front() != '/') o.path_prefix = "/" + o.path_prefix;
  while (!o.path_prefix.empty() && o.path_prefix.back() == '/') o.path_prefix.pop_back();
  if (o.path_prefix.find_first_of("?# ") != std::string::npos) {
    return InvalidArgument("alertmanager forwarding: bad path_prefix \"" + o.path_prefix + "\"");
  }
  if (o.queue_capacity == 0) o.queue_capacity = 1;
  if (o.max_batch == 0) o.max_batch = 1;
  if (o.max_retries < 0) o.max_retries = 0;
  for (const std::string& t : o.targets) {
    std::string host;
    uint16_t port = 0;
    TYTO_RETURN_IF_ERROR(http::SplitAddress(t, o.scheme == "https", &host, &port).WithContext("alertmanager forwarding"));
  }
  std::unique_ptr<AlertmanagerForwarder> f(new AlertmanagerForwarder(std::move(o), registry));
  return f;
}

AlertmanagerForwarder::AlertmanagerForwarder(ForwarderOptions options, instrumentation::Registry* registry)
    : options_(std::move(options)) {
  if (registry == nullptr) {
    own_registry_ = std::make_unique<instrumentation::Registry>();
    registry = own_registry_.get();
  }
  registry_ = registry;
  auto& sent = registry->AddCounter("tyto_notifications_sent_total",
                                    "Alerts whose sending to an external Alertmanager finished, failed or not.",
                                    {"alertmanager"});
  auto& errors = registry->AddCounter("tyto_notifications_errors_total",
                                      "Alerts an external Alertmanager did not accept (after retries).",
                                      {"alertmanager"});
  dropped_ = &registry->AddCounter("tyto_notifications_dropped_total",
                                   "Alerts dropped: the queue was full, no Alertmanager accepted them, or shutdown.")
                  .WithLabels({});
  queue_length_ = &registry->AddGauge("tyto_notifications_queue_length", "Alerts waiting to be forwarded.")
                       .WithLabels({});
  registry->AddGauge("tyto_notifications_queue_capacity", "Capacity of the forwarding queue.")
      .WithLabels({})
      .Set(static_cast<double>(options_.queue_capacity));
  registry->AddGauge("tyto_notifications_alertmanagers_discovered", "External Alertmanagers alerts are sent to.")
      .WithLabels({})
      .Set(static_cast<double>(options_.targets.size()));
  for (const std::string& t : options_.targets) {
    auto target = std::make_unique<Target>();
    std::string host;
    uint16_t port = 0;
    (void)http::SplitAddress(t, options_.scheme == "https", &host, &port);  // checked in Create
    target->parsed.https = options_.scheme == "https";
    target->parsed.host = host;
    target->parsed.port = port;
    target->parsed.path = options_.path_prefix + "/api/v2/alerts";
    const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    target->url = options_.scheme + "://" + shown + ":" + std::to_string(port) + target->parsed.path;
    target->sent = &sent.WithLabels({target->url});
    target->errors = &errors.WithLabels({target->url});
    urls_.push_back(target->url);
    targets_.push_back(std::move(target));
  }
  if (!options_.bearer_token.empty()) {
    authorization_ = "Bearer " + options_.bearer_token;
  } else if (!options_.basic_auth_username.empty() || !options_.basic_auth_password.empty()) {
    authorization_ = "Basic " + http::Base64(options_.basic_auth_username + ":" + options_.basic_auth_password);
  }
  client_ = std::make_unique<http::Client>(static_cast<int>(std::min<size_t>(targets_.size(), 4)));
  sender_ = std::thread([this] { Run(); });
}

AlertmanagerForwarder::~AlertmanagerForwarder() {
  Stop();
  client_.reset();  // before the targets its callbacks would name
}

void AlertmanagerForwarder::Put(const std::vector<Alert>& alerts) {
  if (alerts.empty()) return;
  size_t dropped = 0;
  bool stopped = false;
  {
    MutexLock l(&mu_);
    if (stopping_) {
      stopped = true;
      dropped = alerts.size();
    } else {
      for (const Alert& a : alerts) {
        if (queue_.size() >= options_.queue_capacity) {
          queue_.pop_front();
          ++dropped;
        }
        queue_.push_back(a);
      }
      queue_length_->Set(static_cast<double>(queue_.size()));
    }
  }
  if (dropped > 0) {
    dropped_->Inc(static_cast<double>(dropped));
    Log().Warn(stopped ? "alert forwarding stopped: alerts dropped" : "alert forwarding queue full: oldest alerts dropped",
               {{"dropped", dropped}});
  }
  cv_.notify_all();
}

void AlertmanagerForwarder::Stop() {
  {
    MutexLock l(&mu_);
    if (!stopping_) {
      stopping_ = true;
      drain_deadline_ = SteadyClock::now() + options_.drain_timeout;
    }
  }
  cv_.notify_all();
  if (sender_.joinable()) sender_.join();
  MutexLock l(&mu_);
  if (!queue_.empty()) {
    dropped_->Inc(static_cast<double>(queue_.size()));
    queue_.clear();
    queue_length_->Set(0);
  }
}

AlertmanagerForwarder::Stats AlertmanagerForwarder::stats() const {
  Stats s;
  for (const auto& t : targets_) {
    s.sent += static_cast<uint64_t>(t->sent->Value());
    s.errors += static_cast<uint64_t>(t->errors->Value());
  }
  s.dropped = static_cast<uint64_t>(dropped_->Value());
  MutexLock l(&mu_);
  s.queue_length = queue_.size();
  return s;
}

void AlertmanagerForwarder::Run() {
  while (true) {
    std::vector<Alert> batch;
    {
      MutexLock l(&mu_);
      while (queue_.empty() && !stopping_) cv_.wait(mu_.native());
      if (queue_.empty() || (stopping_ && SteadyClock::now() >= drain_deadline_)) return;
      const size_t n = std::min(options_.max_batch, queue_.size());
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
      queue_length_->Set(static_cast<double>(queue_.size()));
    }
    SendBatch(batch);
  }
}

bool AlertmanagerForwarder::Backoff(milliseconds d) {
  const auto until = SteadyClock::now() + d;
  MutexLock l(&mu_);
  while (true) {
    const auto now = SteadyClock::now();
    if (stopping_ && now >= drain_deadline_) return false;
    if (now >= until) return true;
    cv_.wait_until(mu_.native(), stopping_ ? std::min(until, drain_deadline_) : until);
  }
}

void AlertmanagerForwarder::SendBatch(const std::vector<Alert>& batch) {
  const std::string body = Body(batch);
  const double count = static_cast<double>(batch.size());
  std::vector<size_t> pending(targets_.size());
  for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  size_t succeeded = 0;
  for (int attempt = 0; !pending.empty(); ++attempt) {
    std::vector<std::future<Result<http::ClientResponse>>> answers;
    for (size_t i : pending) {
      const Target& t = *targets_[i];
      http::ClientRequest req;
      req.method = "POST";
      req.https = t.parsed.https;
      req.host = t.parsed.host;
      req.port = t.parsed.port;
      req.target = t.parsed.path;
      req.headers = {{"Content-Type", "application/json"},
                     {"User-Agent", "Tyto/" + std::string(GetBuildInfo().version)}};
      if (!authorization_.empty()) req.headers.emplace_back("Authorization", authorization_);
      req.body = body;
      req.timeout = options_.timeout;
      req.max_body_bytes = kMaxResponseBytes;
      req.tls.ca_file = options_.tls_ca_file;
      req.tls.cert_file = options_.tls_cert_file;
      req.tls.key_file = options_.tls_key_file;
      req.tls.server_name = options_.tls_server_name;
      req.tls.insecure_skip_verify = options_.tls_insecure_skip_verify;
      auto done = std::make_shared<std::promise<Result<http::ClientResponse>>>();
      answers.push_back(done->get_future());
      client_->Send(std::move(req), [done](Result<http::ClientResponse> r) { done->set_value(std::move(r)); });
    }
    std::vector<size_t> again;
    milliseconds wait{0};
    const bool last = attempt >= options_.max_retries;
    for (size_t k = 0; k < pending.size(); ++k) {
      Target& t = *targets_[pending[k]];
      const Outcome o = Classify(answers[k].get(), t.url);
      if (o.status.ok()) {
        ++succeeded;
        t.sent->Inc(count);
        continue;
      }
      if (o.retry && !last) {
        again.push_back(pending[k]);
        wait = std::max(wait, o.retry_after);
        continue;
      }
      Log().Warn("error sending alerts to Alertmanager",
                 {{"alertmanager", t.url}, {"count", batch.size()}, {"err", o.status}});
      t.sent->Inc(count);
      t.errors->Inc(count);
    }
    pending = std::move(again);
    if (pending.empty()) break;
    if (wait.count() == 0) {
      const int shift = std::min(attempt, 20);
      wait = options_.retry_backoff * (int64_t{1} << shift);
    }
    if (!Backoff(std::min(wait, options_.max_retry_wait))) {
      for (size_t i : pending) {
        targets_[i]->sent->Inc(count);
        targets_[i]->errors->Inc(count);
      }
      break;
    }
  }
  if (succeeded == 0) dropped_->Inc(count);
}

std::string AlertmanagerForwarder::Body(const std::vector<Alert>& alerts) {
  std::string out = "[";
  for (size_t i = 0; i < alerts.size(); ++i) {
    const Alert& a = alerts[i];
    if (i > 0) out += ',';
    out += '{';
    AppendJsonKey(&out, "labels");
    AppendJsonObject(&out, a.labels);
    out += ',';
    AppendJsonKey(&out, "annotations");
    AppendJsonObject(&out, a.annotations);
    // Prometheus writes times with milliseconds (go-openapi's strfmt.DateTime); an unknown time
    // is left out, which Alertmanager reads as unset.
    if (a.starts_at_ms != 0) {
      out += ',';
      AppendJsonKey(&out, "startsAt");
      AppendJsonString(&out, FormatTimestamp(a.starts_at_ms));
    }
    if (a.ends_at_ms != 0) {
      out += ',';
      AppendJsonKey(&out, "endsAt");
      AppendJsonString(&out, FormatTimestamp(a.ends_at_ms));
    }
    out += ',';
    AppendJsonKey(&out, "generatorURL");
    AppendJsonString(&out, a.generator_url);
    out += '}';
  }
  out += ']';
  return out;
}

}  // namespace tyto::alertmanager
