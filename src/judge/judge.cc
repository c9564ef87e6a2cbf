#include "judge/judge.h"

#include <future>
#include <thread>
#include <utility>

#include "common/log.h"
#include "common/units.h"
#include "http/server.h"
#include "judge/prompt.h"
#include "judge/reply.h"
#include "judge/retry.h"
#include "scrape/text_lexing.h"

namespace tyto::judge {

namespace {

using std::chrono::milliseconds;

const log::Logger& Log() {
  static const log::Logger logger("judge");
  return logger;
}

// A judge's reply is a short JSON object; anything this large is not one.
constexpr uint64_t kMaxReplyBytes = 1 << 20;

std::string Where(const http::Url& u) {
  std::string out = u.https ? "https://" : "http://";
  out += u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  out += ":" + std::to_string(u.port) + u.path;
  return out;
}

// The Status for a final response that is not 2xx (after retries, for the retryable ones).
Status StatusForResponse(const http::ClientResponse& r, const std::string& where, Failure* failure) {
  const std::string what =
      where + " answered HTTP " + std::to_string(r.status) + ": \"" + scrape::Printable(r.body, 200) + "\"";
  if (r.status == 429) {
    *failure = Failure::kRateLimited;
    return ResourceExhausted(what);
  }
  if (r.status >= 500) {
    *failure = Failure::kServerError;
    return Unavailable(what);
  }
  *failure = Failure::kRejected;
  switch (r.status) {
    case 401:
      return {StatusCode::kUnauthenticated, what + " (check api_key_file)"};
    case 403:
      return {StatusCode::kPermissionDenied, what};
    case 404:
      return NotFound(what + " (check url and model)");
    default:
      break;
  }
  if (r.status >= 400) return InvalidArgument(what);
  return FailedPrecondition(what + " (redirects are not followed: set url to the final address)");
}

Failure FailureForClientError(const Status& st) {
  switch (st.code()) {
    case StatusCode::kDeadlineExceeded:
      return Failure::kTimeout;
    case StatusCode::kResourceExhausted:
      return Failure::kBadReply;  // over kMaxReplyBytes
    default:
      return Failure::kConnection;
  }
}

}  // namespace

std::string_view FailureName(Failure failure) {
  switch (failure) {
    case Failure::kQueueTimeout:
      return "queue_timeout";
    case Failure::kTimeout:
      return "timeout";
    case Failure::kConnection:
      return "connection";
    case Failure::kRateLimited:
      return "rate_limited";
    case Failure::kServerError:
      return "server_error";
    case Failure::kRejected:
      return "rejected";
    case Failure::kBadReply:
      return "bad_reply";
  }
  return "unknown";
}

Result<std::unique_ptr<Judge>> Judge::Create(const evaluate::Options& options, Env* env, SleepFunction sleep) {
  TYTO_ASSIGN_OR_RETURN(JudgeOptions o, ParseOptions(options, env));
  if (!o.api_key.empty() && !o.endpoint.https && !http::IsLoopbackHost(o.endpoint.host)) {
    Log().Warn("llm_judge sends its API key over plain http", {{"url", Where(o.endpoint)}});
  }
  if (!sleep) sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
  return std::unique_ptr<Judge>(new Judge(std::move(o), std::move(sleep)));
}

Judge::Judge(JudgeOptions options, SleepFunction sleep)
    : options_(std::move(options)),
      system_message_(SystemMessage(options_.rubric, options_.custom_rubric)),
      where_(Where(options_.endpoint)),
      sleep_(std::move(sleep)),
      client_(1),
      random_(std::random_device{}()) {}

Judge::~Judge() = default;

JudgeStats Judge::stats() const {
  MutexLock l(&mu_);
  return stats_;
}

Status Judge::AcquireTurn() {
  MutexLock l(&mu_);
  const auto deadline = std::chrono::steady_clock::now() + options_.queue_timeout;
  while (running_ >= options_.concurrency) {
    if (turn_freed_.wait_until(mu_.native(), deadline) == std::cv_status::timeout && running_ >= options_.concurrency) {
      return ResourceExhausted("llm_judge: all " + std::to_string(options_.concurrency) +
                               " turns (concurrency) stayed busy for queue_timeout " +
                               FormatDuration(options_.queue_timeout));
    }
  }
  ++running_;
  return Status::Ok();
}

void Judge::ReleaseTurn() {
  {
    MutexLock l(&mu_);
    --running_;
  }
  turn_freed_.notify_one();
}

Result<http::ClientResponse> Judge::Send(const std::string& body) {
  http::ClientRequest req;
  req.method = "POST";
  req.https = options_.endpoint.https;
  req.host = options_.endpoint.host;
  req.port = options_.endpoint.port;
  req.target = options_.endpoint.path;
  if (!options_.endpoint.query.empty()) req.target += "?" + options_.endpoint.query;
  req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  if (!options_.api_key.empty()) req.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
  req.body = body;
  req.timeout = options_.timeout;
  req.max_body_bytes = kMaxReplyBytes;
  req.tls = options_.tls;
  // Shared: the client owns the callback until it runs, whatever this thread does meanwhile.
  auto done = std::make_shared<std::promise<Result<http::ClientResponse>>>();
  auto answer = done->get_future();
  client_.Send(std::move(req), [done](Result<http::ClientResponse> r) { done->set_value(std::move(r)); });
  return answer.get();
}

milliseconds Judge::NextWait(int retry, std::string_view retry_after) {
  double unit = 0;
  {
    MutexLock l(&mu_);
    unit = std::uniform_real_distribution<double>(0, 1)(random_);
    ++stats_.retries;
  }
  return RetryWait(retry, options_.retry_backoff, options_.max_retry_wait,
                   retry_after.empty() ? std::nullopt : ParseRetryAfter(retry_after), unit);
}

Result<evaluate::Score> Judge::Attempts(const evaluate::Sample& s, Failure* failure) {
  const std::string body =
      RequestBody(options_.model, system_message_, UserMessage(s.prompt, s.response, options_.max_input_chars),
                  options_.max_tokens);
  for (int attempt = 0;; ++attempt) {
    {
      MutexLock l(&mu_);
      ++stats_.requests;
    }
    Result<http::ClientResponse> r = Send(body);
    const bool last = attempt >= options_.retries;
    if (!r.ok()) {
      *failure = FailureForClientError(r.status());
      if (*failure == Failure::kConnection && r.status().code() == StatusCode::kUnavailable && !last) {
        sleep_(NextWait(attempt + 1));
        continue;
      }
      return r.status().WithContext("llm_judge");
    }
    if (r->status < 200 || r->status > 299) {
      if (IsRetryableStatus(r->status) && !last) {
        sleep_(NextWait(attempt + 1, r->retry_after));
        continue;
      }
      return StatusForResponse(*r, where_, failure).WithContext("llm_judge");
    }
    *failure = Failure::kBadReply;
    auto completion = ParseCompletion(r->body);
    if (!completion.ok()) return completion.status().WithContext("llm_judge: " + where_);
    evaluate::Score score;
    score.input_tokens = completion->prompt_tokens;
    score.output_tokens = completion->completion_tokens;
    score.cost = static_cast<double>(score.input_tokens) / 1000 * options_.input_price_per_1k +
                 static_cast<double>(score.output_tokens) / 1000 * options_.output_price_per_1k;
    {
      MutexLock l(&mu_);
      stats_.input_tokens += static_cast<uint64_t>(score.input_tokens);
      stats_.output_tokens += static_cast<uint64_t>(score.output_tokens);
      stats_.cost += score.cost;
    }
    auto verdict = ParseVerdict(completion->content);
    if (!verdict.ok()) {
      std::string context = "llm_judge: " + where_;
      if (completion->finish_reason == "length") context += " (the reply hit max_tokens)";
      return verdict.status().WithContext(context);
    }
    score.value = NormalizedScore(verdict->score);
    score.label = ScoreLabel(verdict->score);
    score.explanation = std::move(verdict->explanation);
    return score;
  }
}

void Judge::Record(const Result<evaluate::Score>& result, Failure failure) {
  bool log_failure = false;
  bool log_recovery = false;
  {
    MutexLock l(&mu_);
    if (result.ok()) {
      ++stats_.scored;
      log_recovery = failing_ && failure_logged_;
      failing_ = false;
    } else {
      ++stats_.failures[static_cast<size_t>(failure)];
      if (!failing_) {
        const auto now = std::chrono::steady_clock::now();
        failure_logged_ = last_failure_log_ == std::chrono::steady_clock::time_point() ||
                          now - last_failure_log_ >= std::chrono::minutes(1);
        if (failure_logged_) last_failure_log_ = now;
        log_failure = failure_logged_;
      }
      failing_ = true;
    }
  }
  // Not one line per evaluation: the counters carry the rate.
  if (log_failure) {
    Log().Warn("llm_judge evaluations failing", {{"reason", FailureName(failure)}, {"error", result.status()}});
  } else if (log_recovery) {
    Log().Info("llm_judge evaluations succeeding again", {{"url", where_}});
  }
}

Result<evaluate::Score> Judge::Evaluate(const evaluate::Sample& s) {
  {
    MutexLock l(&mu_);
    ++stats_.evaluations;
  }
  if (Status turn = AcquireTurn(); !turn.ok()) {
    Record(turn, Failure::kQueueTimeout);
    return turn;
  }
  Failure failure = Failure::kBadReply;
  Result<evaluate::Score> result = Attempts(s, &failure);
  ReleaseTurn();
  Record(result, failure);
  return result;
}

}  // namespace tyto::judge
