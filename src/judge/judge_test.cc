// The llm_judge evaluator against a fake OpenAI-compatible endpoint (http::Server on 127.0.0.1,
// port 0): what it sends, how it reads replies, retries, timeouts, turns and cost.
#include "judge/judge.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include "evaluate/registry.h"
#include "http/server.h"
#include "testing/temp_dir.h"

namespace tyto::judge {
namespace {

using namespace std::chrono_literals;

std::string CompletionBody(std::string_view content, int prompt_tokens = 812, int completion_tokens = 37) {
  rapidjson::Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  rapidjson::Value message(rapidjson::kObjectType);
  message.AddMember("role", "assistant", a);
  message.AddMember("content", rapidjson::Value(content.data(), static_cast<rapidjson::SizeType>(content.size()), a),
                    a);
  rapidjson::Value choice(rapidjson::kObjectType);
  choice.AddMember("index", 0, a);
  choice.AddMember("message", message, a);
  choice.AddMember("finish_reason", "stop", a);
  rapidjson::Value choices(rapidjson::kArrayType);
  choices.PushBack(choice, a);
  doc.AddMember("object", "chat.completion", a);
  doc.AddMember("choices", choices, a);
  rapidjson::Value usage(rapidjson::kObjectType);
  usage.AddMember("prompt_tokens", prompt_tokens, a);
  usage.AddMember("completion_tokens", completion_tokens, a);
  doc.AddMember("usage", usage, a);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  return buf.GetString();
}

const std::string kGoodAnswer = R"({"score": 4, "explanation": "Accurate, with one minor omission."})";

// A fake chat-completions endpoint: answers each POST with the next scripted reply (then the
// default one), records what it received, and counts requests in flight at once.
class FakeEndpoint {
 public:
  struct Reply {
    int status = 200;
    std::string body;
    http::Headers headers;
  };

  explicit FakeEndpoint(int threads = 4) {
    server_ = std::make_unique<http::Server>([this](http::Request& r) { return Handle(r); }, &registry_, threads);
    if (!server_->Listen({"127.0.0.1", 0}).ok()) std::abort();  // no loopback: nothing to test
    server_->Start();
  }
  ~FakeEndpoint() {
    Release();
    server_->Shutdown(1s);
  }

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/v1/chat/completions"; }

  void Push(Reply r) {
    std::lock_guard<std::mutex> l(mu_);
    script_.push_back(std::move(r));
  }
  void SetDefault(Reply r) {
    std::lock_guard<std::mutex> l(mu_);
    default_ = std::move(r);
  }
  // Requests wait in the handler until `hold` says they may go (checked whenever a request
  // arrives or leaves, and at least every 10 ms), or Release(), or 10 s have passed.
  void SetHold(std::function<bool(int in_flight, int arrived, std::chrono::milliseconds held)> hold) {
    std::lock_guard<std::mutex> l(mu_);
    hold_ = std::move(hold);
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu_);
    released_ = true;
    changed_.notify_all();
  }
  // Waits (bounded) until `n` requests have arrived.
  bool WaitForArrivals(int n) {
    std::unique_lock<std::mutex> l(mu_);
    return changed_.wait_for(l, 10s, [&] { return arrived_ >= n; });
  }

  std::vector<http::Request> requests() const {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  int max_in_flight() const {
    std::lock_guard<std::mutex> l(mu_);
    return max_in_flight_;
  }

 private:
  http::Response Handle(http::Request& r) {
    std::unique_lock<std::mutex> l(mu_);
    requests_.push_back(r);
    ++arrived_;
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    changed_.notify_all();
    if (hold_) {
      const auto start = std::chrono::steady_clock::now();
      const auto held = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      };
      while (!released_ && held() < 10s && hold_(in_flight_, arrived_, held())) changed_.wait_for(l, 10ms);
    }
    Reply reply = default_;
    if (!script_.empty()) {
      reply = std::move(script_.front());
      script_.pop_front();
    }
    --in_flight_;
    changed_.notify_all();
    http::Response res = http::Response::Json(reply.status, reply.body);
    res.headers = reply.headers;
    return res;
  }

  instrumentation::Registry registry_;
  std::unique_ptr<http::Server> server_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Reply> script_;
  Reply default_{200, CompletionBody(kGoodAnswer), {}};
  std::function<bool(int, int, std::chrono::milliseconds)> hold_;
  bool released_ = false;
  std::vector<http::Request> requests_;
  int arrived_ = 0;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
};

evaluate::Sample MakeSample() {
  evaluate::Sample s;
  s.request_id = "req-1";
  s.model = "llama-3.1-8b";
  s.prompt = "What is the boiling point of water at sea level?";
  s.response = "100 degrees Celsius (212 F).";
  return s;
}

class JudgeTest : public ::testing::Test {
 protected:
  evaluate::Options Options() const {
    return {{"url", endpoint_.Url()}, {"model", "judge-model"}, {"retry_backoff", "1ms"}, {"timeout", "10s"}};
  }
  // A judge whose waits between retries are recorded, not slept.
  std::unique_ptr<Judge> Make(evaluate::Options options) {
    auto j = Judge::Create(options, Env::Default(), [this](std::chrono::milliseconds d) {
      std::lock_guard<std::mutex> l(waits_mu_);
      waits_.push_back(d);
    });
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? std::move(j).value() : nullptr;
  }
  std::vector<std::chrono::milliseconds> waits() {
    std::lock_guard<std::mutex> l(waits_mu_);
    return waits_;
  }

  FakeEndpoint endpoint_;
  testing::TempDir dir_;
  std::mutex waits_mu_;
  std::vector<std::chrono::milliseconds> waits_;
};

TEST_F(JudgeTest, DescriptorNamesARemoteEvaluatorWithTheOptionTable) {
  const evaluate::Descriptor& d = JudgeDescriptor();
  EXPECT_EQ(d.name, "llm_judge");
  EXPECT_TRUE(d.remote);
  EXPECT_FALSE(d.description.empty());
  EXPECT_EQ(d.options.size(), OptionTable().size());
  auto j = Make(Options());
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(&j->descriptor(), &d);
}

TEST_F(JudgeTest, RegisteredAsLlmJudgeAndBuiltThroughTheRegistry) {
  evaluate::Registry registry;
  RegisterJudge(&registry);
  const evaluate::Descriptor* d = registry.Find("llm_judge");
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->remote);

  auto built = registry.Create("llm_judge", {{"url", endpoint_.Url()}, {"model", "m"}});
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  auto score = (*built)->Evaluate(MakeSample());
  ASSERT_TRUE(score.ok()) << score.status().ToString();
  EXPECT_EQ(score->value, 0.75);
  // How the quality monitor reaches the counters of the evaluator it built.
  const auto* judge = dynamic_cast<const Judge*>(built->get());
  ASSERT_NE(judge, nullptr);
  EXPECT_EQ(judge->stats().scored, 1u);

  auto typo = registry.Create("llm_judge", {{"url", endpoint_.Url()}, {"model", "m"}, {"retires", "3"}});
  EXPECT_EQ(typo.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(typo.status().message().find("did you mean retries?"), std::string::npos) << typo.status().ToString();
  auto missing = registry.Create("llm_judge", {{"url", endpoint_.Url()}});
  EXPECT_EQ(missing.status().message(), "evaluator llm_judge: option model: required");
  auto range = registry.Create("llm_judge", {{"url", endpoint_.Url()}, {"model", "m"}, {"retries", "11"}});
  EXPECT_EQ(range.status().message(), "evaluator llm_judge: option retries: want a whole number from 0 to 10, got 11");
}

TEST_F(JudgeTest, ScoresAndSendsTheRubricPromptResponseAndKey) {
  std::ofstream(dir_.Path("key")) << "sk-test-123\n";
  evaluate::Options o = Options();
  o["api_key_file"] = dir_.Path("key");
  o["rubric"] = "correctness";
  o["max_tokens"] = "100";
  endpoint_.Push({200, CompletionBody("```json\n" + kGoodAnswer + "\n```"), {}});
  auto judge = Make(o);
  ASSERT_NE(judge, nullptr);

  auto score = judge->Evaluate(MakeSample());
  ASSERT_TRUE(score.ok()) << score.status().ToString();
  EXPECT_EQ(score->value, 0.75);
  EXPECT_EQ(score->label, "score_4");
  EXPECT_EQ(score->explanation, "Accurate, with one minor omission.");
  EXPECT_EQ(score->input_tokens, 812);
  EXPECT_EQ(score->output_tokens, 37);
  EXPECT_EQ(score->cost, 0);  // no prices configured

  const auto requests = endpoint_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const http::Request& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/v1/chat/completions");
  EXPECT_EQ(r.Header("Authorization").value_or(""), "Bearer sk-test-123");
  EXPECT_EQ(r.Header("Content-Type").value_or(""), "application/json");
  rapidjson::Document doc;
  doc.Parse(r.body.data(), r.body.size());
  ASSERT_FALSE(doc.HasParseError()) << r.body;
  const rapidjson::Value& body = doc;
  EXPECT_STREQ(body["model"].GetString(), "judge-model");
  EXPECT_EQ(body["temperature"].GetInt(), 0);
  EXPECT_EQ(body["max_tokens"].GetInt(), 100);
  ASSERT_EQ(body["messages"].Size(), 2u);
  EXPECT_STREQ(body["messages"][0]["role"].GetString(), "system");
  const std::string system = body["messages"][0]["content"].GetString();
  EXPECT_NE(system.find("correctness"), std::string::npos) << system;
  EXPECT_NE(system.find(R"("score")"), std::string::npos) << system;
  EXPECT_STREQ(body["messages"][1]["role"].GetString(), "user");
  const std::string user = body["messages"][1]["content"].GetString();
  EXPECT_NE(user.find("<prompt>\nWhat is the boiling point of water at sea level?\n</prompt>"), std::string::npos)
      << user;
  EXPECT_NE(user.find("<response>\n100 degrees Celsius (212 F).\n</response>"), std::string::npos) << user;

  const JudgeStats st = judge->stats();
  EXPECT_EQ(st.evaluations, 1u);
  EXPECT_EQ(st.scored, 1u);
  EXPECT_EQ(st.requests, 1u);
  EXPECT_EQ(st.retries, 0u);
  EXPECT_EQ(st.input_tokens, 812u);
  EXPECT_EQ(st.output_tokens, 37u);
}

TEST_F(JudgeTest, NoKeyNoAuthorizationHeader) {
  auto judge = Make(Options());
  ASSERT_NE(judge, nullptr);
  ASSERT_TRUE(judge->Evaluate(MakeSample()).ok());
  ASSERT_EQ(endpoint_.requests().size(), 1u);
  EXPECT_FALSE(endpoint_.requests()[0].Header("Authorization").has_value());
}

TEST_F(JudgeTest, ScoreMappingAndProseReplies) {
  auto judge = Make(Options());
  ASSERT_NE(judge, nullptr);
  const std::pair<std::string, double> cases[] = {
      {R"({"score": 1, "explanation": "Wrong."})", 0.0},
      {"Here is my verdict:\n```json\n{\"score\": 2, \"explanation\": \"Thin.\"}\n```\nThanks.", 0.25},
      {R"({"score": 3, "explanation": "Partly."})", 0.5},
      {"Score: 5\nExcellent answer.", 1.0},
  };
  for (const auto& [content, want] : cases) {
    endpoint_.Push({200, CompletionBody(content), {}});
    auto score = judge->Evaluate(MakeSample());
    ASSERT_TRUE(score.ok()) << score.status().ToString() << " for " << content;
    EXPECT_EQ(score->value, want) << content;
  }
  EXPECT_EQ(judge->stats().scored, 4u);
}

TEST_F(JudgeTest, MalformedRepliesAreBadReplyErrorsNotRetried) {
  auto judge = Make(Options());
  ASSERT_NE(judge, nullptr);
  const std::pair<std::string, std::string> cases[] = {
      {"<html>oops</html>", "reply is not JSON"},
      {R"({"object":"chat.completion","choices":[]})", "reply has no choices"},
      {CompletionBody(R"({"score": 9, "explanation": "Great."})"), "score 9 is outside 1 to 5"},
      {CompletionBody("I liked it."), "has no score"},
  };
  for (const auto& [body, want] : cases) {
    endpoint_.Push({200, body, {}});
    auto score = judge->Evaluate(MakeSample());
    ASSERT_FALSE(score.ok()) << body;
    EXPECT_EQ(score.status().code(), StatusCode::kInvalidArgument) << score.status().ToString();
    EXPECT_NE(score.status().message().find(want), std::string::npos) << score.status().ToString();
    EXPECT_NE(score.status().message().find(endpoint_.Url()), std::string::npos) << score.status().ToString();
  }
  const JudgeStats st = judge->stats();
  EXPECT_EQ(st.requests, 4u);
  EXPECT_EQ(st.retries, 0u);
  EXPECT_EQ(st.failed(Failure::kBadReply), 4u);
  EXPECT_EQ(st.scored, 0u);
  // The two replies that were chat completions still cost their tokens.
  EXPECT_EQ(st.input_tokens, 2 * 812u);
}

TEST_F(JudgeTest, ServerErrorThenSuccessIsRetried) {
  endpoint_.Push({500, R"({"error":{"message":"engine restarting"}})", {}});
  auto judge = Make(Options());
  ASSERT_NE(judge, nullptr);
  auto score = judge->Evaluate(MakeSample());
  ASSERT_TRUE(score.ok()) << score.status().ToString();
  EXPECT_EQ(score->value, 0.75);
  const JudgeStats st = judge->stats();
  EXPECT_EQ(st.requests, 2u);
  EXPECT_EQ(st.retries, 1u);
  EXPECT_EQ(st.scored, 1u);
  ASSERT_EQ(waits().size(), 1u);
  EXPECT_LE(waits()[0], 1ms);  // retry_backoff 1ms, jittered down to half
  EXPECT_EQ(endpoint_.requests().size(), 2u);
  EXPECT_EQ(endpoint_.requests()[0].body, endpoint_.requests()[1].body);
}

TEST_F(JudgeTest, BackoffDoublesBetweenRetriesUntilTheLastFailure) {
  endpoint_.SetDefault({503, "overloaded", {}});
  evaluate::Options o = Options();
  o["retries"] = "3";
  o["retry_backoff"] = "100ms";
  o["max_retry_wait"] = "250ms";
  auto judge = Make(o);
  ASSERT_NE(judge, nullptr);
  auto score = judge->Evaluate(MakeSample());
  ASSERT_FALSE(score.ok());
  EXPECT_EQ(score.status().code(), StatusCode::kUnavailable) << score.status().ToString();
  EXPECT_NE(score.status().message().find("HTTP 503: \"overloaded\""), std::string::npos) << score.status().ToString();
  const auto w = waits();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_GE(w[0], 50ms);
  EXPECT_LE(w[0], 100ms);
  EXPECT_GE(w[1], 100ms);
  EXPECT_LE(w[1], 200ms);
  EXPECT_GE(w[2], 125ms);  // 400ms capped at 250ms
  EXPECT_LE(w[2], 250ms);
  const JudgeStats st = judge->stats();
  EXPECT_EQ(st.requests, 4u);
  EXPECT_EQ(st.retries, 3u);
  EXPECT_EQ(st.failed(Failure::kServerError), 1u);
}

TEST_F(JudgeTest, TooManyRequestsIsRetriedThenResourceExhausted) {
  endpoint_.Push({429, "slow down", {{"Retry-After", "1"}}});
  auto judge = Make(Options());
  ASSERT_NE(judge, nullptr);
  auto score = judge->Evaluate(MakeSample());
  ASSERT_TRUE(score.ok()) << score.status().ToString();
  EXPECT_EQ(judge->stats().retries, 1u);

  endpoint_.SetDefault({429, "slow down", {{"Retry-After", "1"}}});
  auto limited = judge->Evaluate(MakeSample());
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.status().code(), StatusCode::kResourceExhausted) << limited.status().ToString();
  const JudgeStats st = judge->stats();
  EXPECT_EQ(st.requests, 2u + 3u);  // retries: 2
  EXPECT_EQ(st.failed(Failure::kRateLimited), 1u);
}

// The wait is the server's Retry-After (7 s), not the backoff.
TEST_F(JudgeTest, TooManyRequestsHonoursRetryAfter) {
  endpoint_.Push({429, "slow down", {{"Retry-After", "7"}}});
  auto judge = Make(Options());
  ASSERT_NE(judge, nullptr);
  ASSERT_TRUE(judge->Evaluate(MakeSample()).ok());
  ASSERT_EQ(waits().size(), 1u);
  EXPECT_EQ(waits()[0], 7s);
}

TEST_F(JudgeTest, ClientErrorsAreNotRetried) {
  endpoint_.SetDefault({400, R"({"error":{"message":"This model's maximum context length is 4096 tokens"}})", {}});
  auto judge = Make(Options());
  ASSERT_NE(judge, nullptr);
  auto score = judge->Evaluate(MakeSample());
  ASSERT_FALSE(score.ok());
  EXPECT_EQ(score.status().code(), StatusCode::kInvalidArgument) << score.status().ToString();
  EXPECT_NE(score.status().message().find("HTTP 400"), std::string::npos) << score.status().ToString();
  EXPECT_NE(score.status().message().find("maximum context length"), std::string::npos);
  EXPECT_EQ(endpoint_.requests().size(), 1u);

  endpoint_.SetDefault({401, "no key", {}});
  auto unauthenticated = judge->Evaluate(MakeSample());
  EXPECT_EQ(unauthenticated.status().code(), StatusCode::kUnauthenticated) << unauthenticated.status().ToString();
  endpoint_.SetDefault({404, "no such model", {}});
  EXPECT_EQ(judge->Evaluate(MakeSample()).status().code(), StatusCode::kNotFound);
  endpoint_.SetDefault({302, "", {{"Location", "/elsewhere"}}});
  EXPECT_EQ(judge->Evaluate(MakeSample()).status().code(), StatusCode::kFailedPrecondition);

  const JudgeStats st = judge->stats();
  EXPECT_EQ(st.requests, 4u);
  EXPECT_EQ(st.retries, 0u);
  EXPECT_EQ(st.failed(Failure::kRejected), 4u);
  EXPECT_TRUE(waits().empty());
}

// A listening socket nobody accepts from: connections complete (the kernel's backlog) but no
// answer ever comes.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd_, 16) != 0) {
      std::abort();  // no loopback: nothing to test
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST_F(JudgeTest, TimeoutIsDeadlineExceededAndNotRetried) {
  SilentListener silent;
  evaluate::Options o = Options();
  o["url"] = "http://127.0.0.1:" + std::to_string(silent.port()) + "/v1/chat/completions";
  o["timeout"] = "200ms";
  auto judge = Make(o);
  ASSERT_NE(judge, nullptr);
  auto score = judge->Evaluate(MakeSample());
  ASSERT_FALSE(score.ok());
  EXPECT_EQ(score.status().code(), StatusCode::kDeadlineExceeded) << score.status().ToString();
  const JudgeStats st = judge->stats();
  EXPECT_EQ(st.requests, 1u);
  EXPECT_EQ(st.failed(Failure::kTimeout), 1u);
}

TEST_F(JudgeTest, RefusedConnectionsAreRetriedThenUnavailable) {
  uint16_t port = 0;
  {
    SilentListener closed;  // bound, then closed: nobody listens on the port
    port = closed.port();
  }
  evaluate::Options o = Options();
  o["url"] = "http://127.0.0.1:" + std::to_string(port) + "/v1/chat/completions";
  o["retries"] = "1";
  auto judge = Make(o);
  ASSERT_NE(judge, nullptr);
  auto score = judge->Evaluate(MakeSample());
  ASSERT_FALSE(score.ok());
  EXPECT_EQ(score.status().code(), StatusCode::kUnavailable) << score.status().ToString();
  const JudgeStats st = judge->stats();
  EXPECT_EQ(st.requests, 2u);
  EXPECT_EQ(st.retries, 1u);
  EXPECT_EQ(st.failed(Failure::kConnection), 1u);
}

TEST(JudgeConcurrencyTest, AtMostConcurrencyRequestsInFlight) {
  constexpr int kCallers = 10;
  FakeEndpoint endpoint(kCallers + 2);
  // Each request stays until a second one is in flight and 50 ms have passed (room for a third
  // to arrive if the limit did not hold), or it is the last, or a third is already in.
  endpoint.SetHold([](int in_flight, int arrived, std::chrono::milliseconds held) {
    if (in_flight > 2 || arrived == kCallers) return false;
    return in_flight < 2 || held < 50ms;
  });
  auto judge = Judge::Create({{"url", endpoint.Url()}, {"model", "m"}, {"concurrency", "2"}});
  ASSERT_TRUE(judge.ok()) << judge.status().ToString();
  std::atomic<int> scored{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&] {
      if ((*judge)->Evaluate(MakeSample()).ok()) ++scored;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(scored.load(), kCallers);
  EXPECT_EQ(endpoint.max_in_flight(), 2);
  EXPECT_EQ(endpoint.requests().size(), static_cast<size_t>(kCallers));
}

TEST(JudgeConcurrencyTest, NoTurnWithinQueueTimeoutIsResourceExhausted) {
  FakeEndpoint endpoint;
  endpoint.SetHold([](int, int, std::chrono::milliseconds) { return true; });  // until Release()
  auto judge =
      Judge::Create({{"url", endpoint.Url()}, {"model", "m"}, {"concurrency", "1"}, {"queue_timeout", "50ms"}});
  ASSERT_TRUE(judge.ok()) << judge.status().ToString();
  Result<evaluate::Score> first = Internal("not run");
  std::thread holder([&] { first = (*judge)->Evaluate(MakeSample()); });
  ASSERT_TRUE(endpoint.WaitForArrivals(1));
  auto second = (*judge)->Evaluate(MakeSample());
  EXPECT_EQ(second.status().code(), StatusCode::kResourceExhausted) << second.status().ToString();
  EXPECT_NE(second.status().message().find("queue_timeout"), std::string::npos);
  endpoint.Release();
  holder.join();
  EXPECT_TRUE(first.ok()) << first.status().ToString();
  const JudgeStats st = (*judge)->stats();
  EXPECT_EQ(st.evaluations, 2u);
  EXPECT_EQ(st.scored, 1u);
  EXPECT_EQ(st.failed(Failure::kQueueTimeout), 1u);
  EXPECT_EQ(st.requests, 1u);
}

TEST_F(JudgeTest, CostFromUsageAndPrices) {
  evaluate::Options o = Options();
  o["input_price_per_1k"] = "0.5";
  o["output_price_per_1k"] = "1.5";
  auto judge = Make(o);
  ASSERT_NE(judge, nullptr);
  endpoint_.Push({200, CompletionBody(kGoodAnswer, 1000, 200), {}});
  endpoint_.Push({200, CompletionBody(kGoodAnswer, 3000, 100), {}});
  auto a = judge->Evaluate(MakeSample());
  auto b = judge->Evaluate(MakeSample());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_DOUBLE_EQ(a->cost, 0.5 + 0.3);
  EXPECT_DOUBLE_EQ(b->cost, 1.5 + 0.15);
  EXPECT_EQ(a->input_tokens, 1000);
  EXPECT_EQ(b->output_tokens, 100);
  const JudgeStats st = judge->stats();
  EXPECT_EQ(st.input_tokens, 4000u);
  EXPECT_EQ(st.output_tokens, 300u);
  EXPECT_DOUBLE_EQ(st.cost, 0.8 + 1.65);
}

TEST_F(JudgeTest, LongInputIsCutAndTheJudgeTold) {
  evaluate::Options o = Options();
  o["max_input_chars"] = "200";
  auto judge = Make(o);
  ASSERT_NE(judge, nullptr);
  evaluate::Sample s = MakeSample();
  s.response = std::string(5000, 'z');
  ASSERT_TRUE(judge->Evaluate(s).ok());
  ASSERT_EQ(endpoint_.requests().size(), 1u);
  rapidjson::Document doc;
  doc.Parse(endpoint_.requests()[0].body.c_str());
  ASSERT_FALSE(doc.HasParseError());
  const rapidjson::Value& body = doc;
  const std::string user = body["messages"][1]["content"].GetString();
  EXPECT_NE(user.find("The response was cut to its first 152 of 5000 bytes."), std::string::npos) << user;
  EXPECT_EQ(user.find(std::string(153, 'z')), std::string::npos);
}

TEST_F(JudgeTest, BadOptionsAreInvalidArgument) {
  auto missing = Judge::Create({{"model", "m"}});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  auto rubric = Judge::Create({{"url", endpoint_.Url()}, {"model", "m"}, {"rubric", "vibes"}});
  EXPECT_EQ(rubric.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rubric.status().message().find("rubric"), std::string::npos);
}

// https with the options' TLS settings, against a throwaway self-signed certificate.
TEST_F(JudgeTest, HttpsWithCaFileOrSkipVerify) {
  const std::string base = dir_.Path("judge");
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost"
      " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      base + ".key -out " + base + ".crt 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  instrumentation::Registry registry;
  http::Server tls([](http::Request&) { return http::Response::Json(200, CompletionBody(kGoodAnswer)); }, &registry, 2);
  http::ServerOptions so;
  so.tls_cert_file = base + ".crt";
  so.tls_key_file = base + ".key";
  ASSERT_TRUE(tls.SetOptions(so).ok());
  ASSERT_TRUE(tls.Listen({"127.0.0.1", 0}).ok());
  tls.Start();
  const std::string url = "https://127.0.0.1:" + std::to_string(tls.port()) + "/v1/chat/completions";

  auto trusted = Make({{"url", url}, {"model", "m"}, {"ca_file", base + ".crt"}, {"retries", "0"}});
  ASSERT_NE(trusted, nullptr);
  auto ok = trusted->Evaluate(MakeSample());
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();

  auto unverified = Make({{"url", url}, {"model", "m"}, {"insecure_skip_verify", "true"}, {"retries", "0"}});
  ASSERT_NE(unverified, nullptr);
  EXPECT_TRUE(unverified->Evaluate(MakeSample()).ok());

  auto untrusted = Make({{"url", url}, {"model", "m"}, {"retries", "0"}});
  ASSERT_NE(untrusted, nullptr);
  auto refused = untrusted->Evaluate(MakeSample());
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(untrusted->stats().failed(Failure::kConnection), 1u) << refused.status().ToString();
  tls.Shutdown(1s);
}

}  // namespace
}  // namespace tyto::judge
