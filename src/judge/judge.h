// The LLM-as-judge evaluator (`llm_judge`): scores a response by asking a language model, through
// any OpenAI-compatible chat-completions endpoint (a vLLM server in the user's own fleet, say),
// to rate it against a rubric from 1 to 5. docs/judge.md is the user's guide.
//
// One evaluation: wait for a turn (at most `concurrency` evaluations of one Judge run at once;
// after `queue_timeout` of waiting, kResourceExhausted), send the rubric and the sample's prompt
// and response (cut to max_input_chars), retry connection errors, 429 and 5xx with exponential
// backoff and jitter, then read the verdict from the reply (reply.h). The judge's 1-5 score
// becomes Score.value = (score - 1) / 4, Score.label "score_<n>", and the judge's own tokens and
// their price fill Score.input_tokens, output_tokens and cost.
//
// Errors, each counted in JudgeStats by the Failure that ended the evaluation:
//   kResourceExhausted  no turn within queue_timeout (queue_timeout); 429 after the last retry
//                       (rate_limited); a reply over 1 MiB (bad_reply)
//   kDeadlineExceeded   an attempt took longer than `timeout` (timeout; not retried)
//   kUnavailable        connection refused or broken after the last retry (connection); 5xx after
//                       the last retry (server_error)
//   kUnauthenticated, kPermissionDenied, kNotFound
//                       401, 403, 404 (rejected; never retried)
//   kInvalidArgument    another 4xx (rejected); a reply that is not a chat completion or holds no
//                       score from 1 to 5 (bad_reply, with a snippet of the text); unreadable TLS
//                       files (connection)
//   kFailedPrecondition a 1xx or 3xx status (rejected: redirects are not followed)
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "common/mutex.h"
#include "evaluate/evaluator.h"
#include "http/client.h"
#include "judge/options.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::evaluate {
class Registry;
}  // namespace tyto::evaluate

namespace tyto::judge {

// Registers `llm_judge` (JudgeDescriptor(), remote) with a factory that calls Judge::Create.
// Registering twice is a bug in the caller and stops the process.
void RegisterJudge(evaluate::Registry* registry);

// name llm_judge, remote, the option table of options.h.
const evaluate::Descriptor& JudgeDescriptor();

// Why an evaluation failed; the names are the `reason` label values of the quality monitor's
// counter.
enum class Failure {
  kQueueTimeout,  // "queue_timeout": no turn within queue_timeout
  kTimeout,       // "timeout": an attempt exceeded `timeout`
  kConnection,    // "connection": no connection (refused, reset, TLS) after the last retry
  kRateLimited,   // "rate_limited": 429 after the last retry
  kServerError,   // "server_error": 5xx after the last retry
  kRejected,      // "rejected": another status that is not 2xx (400, 401, 404, ...)
  kBadReply,      // "bad_reply": a 2xx reply without a usable verdict, or over 1 MiB
};
inline constexpr size_t kFailureKinds = 7;
std::string_view FailureName(Failure failure);

// Counters since the Judge was built; all only grow.
struct JudgeStats {
  uint64_t evaluations = 0;                        // Evaluate calls
  uint64_t scored = 0;                             // of those, returned a Score
  std::array<uint64_t, kFailureKinds> failures{};  // of those, returned an error, by Failure
  uint64_t requests = 0;                           // HTTP requests sent, retries included
  uint64_t retries = 0;                            // requests that were retries
  // Tokens the endpoint reported (usage) in every 2xx reply that was a chat completion, also
  // those whose verdict was unusable, and their price.
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;
  double cost = 0;

  uint64_t failed(Failure f) const { return failures[static_cast<size_t>(f)]; }
};

// Thread-safe: Evaluate may be called from many threads at once, and blocks its caller until the
// verdict or an error (at most about queue_timeout + (retries + 1) * timeout + retries *
// max_retry_wait). Destroy it only when no Evaluate call is running.
class Judge final : public evaluate::Evaluator {
 public:
  // Waits between retries; tests pass one that records and returns at once.
  using SleepFunction = std::function<void(std::chrono::milliseconds)>;

  // kInvalidArgument naming the option for bad options (options.h). `env` reads api_key_file;
  // an empty `sleep` sleeps the calling thread.
  static Result<std::unique_ptr<Judge>> Create(const evaluate::Options& options, Env* env = Env::Default(),
                                               SleepFunction sleep = {});
  ~Judge() override;

  const evaluate::Descriptor& descriptor() const override { return JudgeDescriptor(); }
  Result<evaluate::Score> Evaluate(const evaluate::Sample& s) override EXCLUDES(mu_);

  JudgeStats stats() const EXCLUDES(mu_);
  const JudgeOptions& options() const { return options_; }

 private:
  Judge(JudgeOptions options, SleepFunction sleep);

  // Waits for one of the `concurrency` turns; kResourceExhausted after queue_timeout.
  Status AcquireTurn() EXCLUDES(mu_);
  void ReleaseTurn() EXCLUDES(mu_);
  // One attempt: the request and its response (any status), or the client's error.
  Result<http::ClientResponse> Send(const std::string& body);
  Result<evaluate::Score> Attempts(const evaluate::Sample& s, Failure* failure) EXCLUDES(mu_);
  // The wait before retry `retry`: the server's Retry-After (seconds) when it sent one, else
  // the jittered backoff; capped at max_retry_wait.
  std::chrono::milliseconds NextWait(int retry, std::string_view retry_after = {}) EXCLUDES(mu_);
  void Record(const Result<evaluate::Score>& result, Failure failure) EXCLUDES(mu_);

  const JudgeOptions options_;
  const std::string system_message_;
  const std::string where_;  // the URL without its query, for messages
  const SleepFunction sleep_;
  http::Client client_;

  mutable Mutex mu_;
  std::condition_variable_any turn_freed_;
  int running_ GUARDED_BY(mu_) = 0;  // evaluations holding a turn
  // A run of failures is logged once, when it starts (at most once a minute), and its end once.
  bool failing_ GUARDED_BY(mu_) = false;
  bool failure_logged_ GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point last_failure_log_ GUARDED_BY(mu_);
  std::minstd_rand random_ GUARDED_BY(mu_);
  JudgeStats stats_ GUARDED_BY(mu_);
};

}  // namespace tyto::judge
