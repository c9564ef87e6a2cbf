#include "remote/remote_storage.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <utility>

#include "common/build_info.h"
#include "http/client.h"
#include "http/encoding.h"
#include "http/gzip.h"
#include "http/url.h"
#include "instrumentation/metrics.h"
#include "remote/response.h"
#include "remote/selector.h"
#include "scrape/config.h"

namespace tyto::remote {
namespace {

// Waiting longer than the request's own deadline means the client lost the callback.
constexpr std::chrono::seconds kCallbackGrace{10};

Status Rewrap(StatusCode code, const std::string& where, const std::string& what) {
  return Status(code, "remote store " + where + ": " + what);
}

class RefusingAppender final : public Appender {
 public:
  Result<SeriesRef> Append(SeriesRef, const Labels&, int64_t, double) override {
    return FailedPrecondition("remote mode has no remote_write destination to write samples to");
  }
  Status Commit() override { return Status::Ok(); }
  void Rollback() override {}
};

class VectorIterator final : public SeriesIterator {
 public:
  VectorIterator(std::shared_ptr<const std::vector<RemoteSeries>> data, size_t series)
      : data_(std::move(data)), samples_(&(*data_)[series].samples) {}
  bool Next() override { return ++pos_ < samples_->size(); }
  bool Seek(int64_t t) override {
    if (pos_ == kBefore) pos_ = 0;
    if (pos_ >= samples_->size()) return false;
    if ((*samples_)[pos_].t >= t) return true;
    pos_ = static_cast<size_t>(std::lower_bound(samples_->begin() + static_cast<std::ptrdiff_t>(pos_), samples_->end(), t,
                                                [](const Sample& s, int64_t x) { return s.t < x; }) -
                               samples_->begin());
    return pos_ < samples_->size();
  }
  Sample At() const override { return (*samples_)[pos_]; }
  Status status() const override { return Status::Ok(); }

 private:
  static constexpr size_t kBefore = static_cast<size_t>(-1);  // ++ makes it 0
  std::shared_ptr<const std::vector<RemoteSeries>> data_;
  const std::vector<Sample>* samples_;
  size_t pos_ = kBefore;
};

class VectorSeriesSet final : public SeriesSet {
 public:
  explicit VectorSeriesSet(Status error) : data_(std::make_shared<std::vector<RemoteSeries>>()), error_(std::move(error)) {}
  explicit VectorSeriesSet(std::shared_ptr<const std::vector<RemoteSeries>> data) : data_(std::move(data)) {}
  bool Next() override {
    if (!error_.ok()) return false;
    if (pos_ == kBefore) {
      pos_ = 0;
    } else if (pos_ < data_->size()) {
      ++pos_;
    }
    return pos_ < data_->size();
  }
  const Labels& labels() const override { return (*data_)[pos_].labels; }
  std::unique_ptr<SeriesIterator> Iterator() const override { return std::make_unique<VectorIterator>(data_, pos_); }
  Status status() const override { return error_; }

 private:
  static constexpr size_t kBefore = static_cast<size_t>(-1);
  std::shared_ptr<const std::vector<RemoteSeries>> data_;
  size_t pos_ = kBefore;
  Status error_;
};

class RemoteQuerier final : public Querier {
 public:
  RemoteQuerier(RemoteStorage* storage, int64_t mint, int64_t maxt) : storage_(storage), mint_(mint), maxt_(maxt) {}

  std::unique_ptr<SeriesSet> Select(const std::vector<Matcher>& matchers) override {
    if (mint_ > maxt_) return std::make_unique<VectorSeriesSet>(std::make_shared<std::vector<RemoteSeries>>());
    Result<std::string> body = storage_->Call("query", "POST", "query",
                                              {{"query", RangeQueryText(matchers, mint_, maxt_)},
                                               {"time", FormatSeconds(maxt_)}});
    if (!body.ok()) return std::make_unique<VectorSeriesSet>(body.status());
    auto series = std::make_shared<std::vector<RemoteSeries>>();
    if (Status s = DecodeMatrix(std::move(body).value(), mint_, maxt_, series.get()); !s.ok()) {
      return std::make_unique<VectorSeriesSet>(Status(s.code(), "remote store " + storage_->query_url() +
                                                                    "/api/v1/query: " + s.message()));
    }
    return std::make_unique<VectorSeriesSet>(std::move(series));
  }

  Result<std::vector<std::string>> LabelNames(const std::vector<Matcher>& matchers) override {
    return Strings("labels", "POST", "labels", matchers);
  }

  Result<std::vector<std::string>> LabelValues(const std::string& name, const std::vector<Matcher>& matchers) override {
    return Strings("label_values", "GET", "label/" + LabelNamePathSegment(name) + "/values", matchers);
  }

 private:
  Result<std::vector<std::string>> Strings(const char* endpoint, const char* method, const std::string& path,
                                           const std::vector<Matcher>& matchers) {
    std::vector<std::pair<std::string, std::string>> params;
    if (!matchers.empty()) params.emplace_back("match[]", SelectorText(matchers));
    params.emplace_back("start", FormatSeconds(mint_));
    params.emplace_back("end", FormatSeconds(maxt_));
    TYTO_ASSIGN_OR_RETURN(std::string body, storage_->Call(endpoint, method, path, params));
    std::vector<std::string> out;
    if (Status s = DecodeStringList(std::move(body), &out); !s.ok()) {
      return Status(s.code(), "remote store " + storage_->query_url() + "/api/v1/" + path + ": " + s.message());
    }
    return out;
  }

  RemoteStorage* storage_;
  int64_t mint_;
  int64_t maxt_;
};

}  // namespace

struct RemoteStorage::Impl {
  Env* env = nullptr;
  RemoteQueryConfig config;
  std::string url;  // query_url without trailing '/'
  http::Url parsed;
  Storage* writer = nullptr;
  std::unique_ptr<instrumentation::Registry> own_registry;
  instrumentation::Family<instrumentation::Counter>* requests = nullptr;
  instrumentation::Family<instrumentation::Histogram>* duration = nullptr;
  instrumentation::Counter* response_bytes = nullptr;
  std::unique_ptr<http::Client> client;  // last: destroyed first

  Result<std::string> AuthorizationHeader() const {
    const scrape::Authorization& a = config.authorization;
    if (!a.credentials.empty() || !a.credentials_file.empty()) {
      TYTO_ASSIGN_OR_RETURN(std::string token, scrape::ReadSecret(env, a.credentials, a.credentials_file,
                                                                  "remote_query authorization credentials_file"));
      return a.type + " " + token;
    }
    const scrape::BasicAuth& b = config.basic_auth;
    if (!b.username.empty()) {
      TYTO_ASSIGN_OR_RETURN(std::string password,
                            scrape::ReadSecret(env, b.password, b.password_file, "remote_query basic_auth password_file"));
      return "Basic " + http::Base64(b.username + ":" + password);
    }
    return std::string();
  }
};

Result<std::unique_ptr<RemoteStorage>> RemoteStorage::Create(Env* env, const RemoteQueryConfig& config, Storage* writer,
                                                             instrumentation::Registry* registry) {
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->config = config;
  impl->url = config.query_url;
  while (!impl->url.empty() && impl->url.back() == '/') impl->url.pop_back();
  TYTO_ASSIGN_OR_RETURN(impl->parsed, http::ParseUrl(impl->url));
  if (!impl->parsed.query.empty()) {
    return InvalidArgument("remote_query query_url " + config.query_url + ": a query string is not allowed");
  }
  while (!impl->parsed.path.empty() && impl->parsed.path.back() == '/') impl->parsed.path.pop_back();
  if (config.timeout.count() < 1) return InvalidArgument("remote_query timeout must be positive");
  if (config.max_response_size < 1) return InvalidArgument("remote_query max_response_size must be positive");
  impl->writer = writer;
  if (registry == nullptr) {
    impl->own_registry = std::make_unique<instrumentation::Registry>();
    registry = impl->own_registry.get();
  }
  impl->requests = &registry->AddCounter("tyto_remote_query_requests_total",
                                         "Requests to the remote store's query API, by endpoint (query, labels, "
                                         "label_values, health) and result (success, error).",
                                         {"endpoint", "result"});
  impl->duration = &registry->AddHistogram("tyto_remote_query_duration_seconds",
                                           "Time from sending a request to the remote store's query API to its decoded "
                                           "answer.",
                                           {"endpoint"}, instrumentation::DefaultLatencyBuckets());
  impl->response_bytes = &registry
                              ->AddCounter("tyto_remote_query_response_bytes_total",
                                           "Bytes of the remote store's answers (decompressed).")
                              .WithLabels({});
  impl->client = std::make_unique<http::Client>(2);
  return std::unique_ptr<RemoteStorage>(new RemoteStorage(std::move(impl)));
}

RemoteStorage::RemoteStorage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RemoteStorage::~RemoteStorage() = default;

const std::string& RemoteStorage::query_url() const { return impl_->url; }

std::unique_ptr<Appender> RemoteStorage::NewAppender() {
  if (impl_->writer == nullptr) return std::make_unique<RefusingAppender>();
  return impl_->writer->NewAppender();
}

Result<std::unique_ptr<Querier>> RemoteStorage::NewQuerier(int64_t mint, int64_t maxt) {
  return std::unique_ptr<Querier>(std::make_unique<RemoteQuerier>(this, mint, maxt));
}

Status RemoteStorage::Health() {
  Result<std::string> body = Call("health", "GET", "query", {{"query", "1"}});
  if (!body.ok()) return body.status();
  std::vector<RemoteSeries> unused;
  // The answer is a scalar; only the envelope is checked.
  const std::string error = ErrorMessage(*body);
  if (!error.empty()) return Unavailable("remote store " + impl_->url + "/api/v1/query: " + error);
  if (body->find("\"success\"") == std::string::npos) {
    return Unavailable("remote store " + impl_->url + "/api/v1/query: not a Prometheus query API answer");
  }
  return Status::Ok();
}

Result<std::string> RemoteStorage::Call(const char* endpoint, const char* method, const std::string& path,
                                        const std::vector<std::pair<std::string, std::string>>& params) {
  Impl& im = *impl_;
  const auto started = std::chrono::steady_clock::now();
  const std::string where = im.url + "/api/v1/" + path;
  auto finish = [&](Result<std::string> r) {
    im.requests->WithLabels({endpoint, r.ok() ? "success" : "error"}).Inc();
    im.duration->WithLabels({endpoint}).Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return r;
  };

  http::ClientRequest req;
  req.method = method;
  req.https = im.parsed.https;
  req.host = im.parsed.host;
  req.port = im.parsed.port;
  req.target = im.parsed.path + "/api/v1/" + path;
  const std::string form = http::EncodeQueryString(params);
  if (req.method == "GET") {
    if (!form.empty()) req.target += "?" + form;
  } else {
    req.body = form;
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  }
  req.headers.emplace_back("Accept", "application/json");
  req.headers.emplace_back("Accept-Encoding", "gzip");
  req.headers.emplace_back("User-Agent", "Tyto/" + std::string(GetBuildInfo().version));
  Result<std::string> auth = im.AuthorizationHeader();
  if (!auth.ok()) return finish(Rewrap(auth.status().code(), im.url, auth.status().message()));
  if (!auth->empty()) req.headers.emplace_back("Authorization", *auth);
  for (const auto& [k, v] : im.config.headers) req.headers.emplace_back(k, v);
  req.timeout = im.config.timeout;
  req.max_body_bytes = im.config.max_response_size;
  req.tls.ca_file = im.config.tls_config.ca_file;
  req.tls.cert_file = im.config.tls_config.cert_file;
  req.tls.key_file = im.config.tls_config.key_file;
  req.tls.server_name = im.config.tls_config.server_name;
  req.tls.insecure_skip_verify = im.config.tls_config.insecure_skip_verify;

  auto done = std::make_shared<std::promise<Result<http::ClientResponse>>>();
  std::future<Result<http::ClientResponse>> answer = done->get_future();
  im.client->Send(std::move(req), [done](Result<http::ClientResponse> r) { done->set_value(std::move(r)); });
  if (answer.wait_for(im.config.timeout + kCallbackGrace) != std::future_status::ready) {
    return finish(Rewrap(StatusCode::kDeadlineExceeded, where, "no answer within the timeout"));
  }
  Result<http::ClientResponse> r = answer.get();
  if (!r.ok()) {
    const Status& s = r.status();
    if (s.code() == StatusCode::kResourceExhausted) {
      return finish(Rewrap(s.code(), where,
                           "the answer is larger than remote_query max_response_size (" +
                               std::to_string(im.config.max_response_size) + " bytes)"));
    }
    return finish(Rewrap(s.code(), where, s.message()));
  }
  std::string body = std::move(r->body);
  if (r->content_encoding == "gzip") {
    Result<std::string> plain = http::GzipDecompress(body, im.config.max_response_size);
    if (!plain.ok()) {
      if (plain.status().code() == StatusCode::kResourceExhausted) {
        return finish(Rewrap(StatusCode::kResourceExhausted, where,
                             "the answer is larger than remote_query max_response_size (" +
                                 std::to_string(im.config.max_response_size) + " bytes)"));
      }
      return finish(Rewrap(StatusCode::kInvalidArgument, where, "bad gzip body: " + plain.status().message()));
    }
    body = std::move(plain).value();
  } else if (!r->content_encoding.empty() && r->content_encoding != "identity") {
    return finish(Rewrap(StatusCode::kInvalidArgument, where, "unsupported Content-Encoding " + r->content_encoding));
  }
  im.response_bytes->Inc(static_cast<double>(body.size()));
  const int code = r->status;
  if (code >= 200 && code < 300) return finish(std::move(body));

  std::string detail = ErrorMessage(body);
  if (detail.empty()) detail = body.substr(0, 512);
  const std::string what = "HTTP " + std::to_string(code) + (detail.empty() ? "" : ": " + detail);
  StatusCode sc = StatusCode::kInvalidArgument;
  if (code == 429) {
    sc = StatusCode::kResourceExhausted;
  } else if (code >= 500) {
    sc = code == 504 ? StatusCode::kDeadlineExceeded : StatusCode::kUnavailable;
  } else if (code == 401 || code == 403) {
    sc = StatusCode::kFailedPrecondition;
  } else if (code >= 300 && code < 400) {
    sc = StatusCode::kFailedPrecondition;
  }
  return finish(Rewrap(sc, where, what + (code >= 300 && code < 400 ? " (redirects are not followed)" : "")));
}

}  // namespace tyto::remote
