// Runs Prometheus's own PromQL test scripts (../shared/conformance/promql/*.test, read at test
// time, never copied into the repository) against the engine over a real head, as Prometheus's
// promqltest runner does: every `load` is appended, every `eval` evaluated and compared with its
// expected result, failure (and its message), warnings and infos; an instant query is evaluated
// again with `@ <time>` on every selector and subquery at five other evaluation times, and each
// of those as a range query around its time, all of which must give the same answer.
//
// Skipped, and counted by reason: evals that touch native histograms (a selector matching a
// series loaded with {{...}} values or made by load_with_nhcb, or a histogram among the expected
// values: Tyto stores none yet) and evals that select series with start timestamps (`@st` lines:
// the storage keeps none). The test fails when fewer evals pass than the floor recorded below,
// so the count can only go up.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "common/units.h"
#include "promql/engine.h"
#include "promql/functions.h"
#include "promql/lex.h"
#include "promql/parser.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"
#include "tyto/selector.h"

namespace tyto::promql {
namespace {

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// "5m", "1h30m", "0" or "100" (seconds) to milliseconds.
std::optional<int64_t> Time(const std::string& s) {
  if (auto d = ParseDuration(s); d.ok()) return d->count();
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) return std::nullopt;
  return static_cast<int64_t>(std::llround(v * 1000));
}

// Prometheus's almost.Equal with promqltest's epsilon: relative error below 1e-6, NaN equal to
// NaN, a staleness marker equal only to a staleness marker.
bool AlmostEqual(double a, double b) {
  constexpr double kEpsilon = 1e-6;
  constexpr double kMinNormal = std::numeric_limits<double>::min();
  if (IsStaleMarker(a) || IsStaleMarker(b)) return IsStaleMarker(a) && IsStaleMarker(b);
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  const double abs_sum = std::fabs(a) + std::fabs(b);
  const double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < kEpsilon * kMinNormal;
  return diff / std::min(abs_sum, std::numeric_limits<double>::max()) < kEpsilon;
}

std::string FormatValue(double v) {
  if (IsStaleMarker(v)) return "stale";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

// A number as Go's strconv reads it (Inf, NaN in any case, with a sign), or "stale".
bool ParseNumber(std::string_view s, double* v) {
  if (s == "stale") {
    *v = StaleMarker();
    return true;
  }
  const std::string str(s);
  if (str.empty() || IsSpace(str[0])) return false;
  char* end = nullptr;
  *v = std::strtod(str.c_str(), &end);
  return end == str.c_str() + str.size();
}

// One point of a series description: a float (a staleness marker is one), nothing (`_`), or a
// native histogram ({{...}}, which Tyto does not store).
struct SeqValue {
  std::optional<double> v;
  bool histogram = false;
};

// The values of a series description, as Prometheus's ParseSeriesDesc expands them: `1 2 _`,
// `a+bxN` and `a-bxN` (N+1 values, adding b each time), `axN` (a, N+1 times), `_xN` (N blanks),
// `stale`, and histograms `{{...}}`, `{{...}}xN`, `{{...}}+{{...}}xN`. Null when unreadable.
std::optional<std::vector<SeqValue>> ParseValues(std::string_view text) {
  std::vector<SeqValue> out;
  auto repeat_count = [](std::string_view digits, uint64_t* n) {
    if (digits.empty()) return false;
    *n = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      *n = *n * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  };
  size_t i = 0;
  while (true) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i >= text.size()) break;
    if (text.substr(i, 2) == "{{") {
      size_t close = text.find("}}", i);
      if (close == std::string_view::npos) return std::nullopt;
      i = close + 2;
      if (i + 2 < text.size() && (text[i] == '+' || text[i] == '-') && text.substr(i + 1, 2) == "{{") {
        close = text.find("}}", i + 1);
        if (close == std::string_view::npos) return std::nullopt;
        i = close + 2;
      }
      uint64_t n = 0;
      if (i < text.size() && text[i] == 'x') {
        size_t j = i + 1;
        while (j < text.size() && !IsSpace(text[j])) ++j;
        if (!repeat_count(text.substr(i + 1, j - i - 1), &n)) return std::nullopt;
        i = j;
      }
      for (uint64_t k = 0; k <= n; ++k) out.push_back({std::nullopt, true});
      continue;
    }
    size_t j = i;
    while (j < text.size() && !IsSpace(text[j])) ++j;
    std::string_view tok = text.substr(i, j - i);
    i = j;
    uint64_t n = 0;
    bool repeated = false;
    if (const size_t x = tok.rfind('x'); x != std::string_view::npos && repeat_count(tok.substr(x + 1), &n)) {
      repeated = true;
      tok = tok.substr(0, x);
    }
    if (tok == "_") {
      for (uint64_t k = 0; k < (repeated ? n : 1); ++k) out.push_back({});
      continue;
    }
    // a, or a+b / a-b where the sign is not an exponent's.
    size_t split = std::string_view::npos;
    for (size_t k = 1; k < tok.size(); ++k) {
      if ((tok[k] == '+' || tok[k] == '-') && tok[k - 1] != 'e' && tok[k - 1] != 'E') {
        split = k;
        break;
      }
    }
    double a = 0;
    if (split == std::string_view::npos) {
      if (!ParseNumber(tok, &a)) return std::nullopt;
      for (uint64_t k = 0; k <= (repeated ? n : 0); ++k) out.push_back({a});
      continue;
    }
    double b = 0;
    if (!repeated || !ParseNumber(tok.substr(0, split), &a) || !ParseNumber(tok.substr(split), &b)) return std::nullopt;
    for (uint64_t k = 0; k <= n; ++k) {
      out.push_back({a});
      a += b;
    }
  }
  return out;
}

// A series line "metric{a="b"} values" (or "{a="b"} values", "{} values"): its labels, the rest
// of the line, and whether the selector carried "@st" (a start-timestamp line).
struct SeriesLine {
  Labels labels;
  std::string rest;
  bool start_timestamps = false;
};

std::optional<SeriesLine> ParseSeriesLine(std::string_view line) {
  size_t end = 0;
  const size_t brace = line.find('{');
  size_t space = 0;
  while (space < line.size() && !IsSpace(line[space])) ++space;
  if (brace != std::string_view::npos && brace < space) {
    bool quoted = false;
    for (size_t i = brace; i < line.size(); ++i) {
      if (line[i] == '\\') {
        ++i;
      } else if (line[i] == '"') {
        quoted = !quoted;
      } else if (line[i] == '}' && !quoted) {
        end = i + 1;
        break;
      }
    }
    if (end == 0) return std::nullopt;
  } else {
    end = space;
  }
  SeriesLine out;
  std::string selector(line.substr(0, end));
  size_t rest = end;
  if (line.substr(end, 3) == "@st") {
    out.start_timestamps = true;
    rest += 3;
  } else if (selector.size() >= 3 && selector.compare(selector.size() - 3, 3, "@st") == 0) {
    out.start_timestamps = true;
    selector.resize(selector.size() - 3);
  }
  out.rest = Trim(line.substr(rest));
  if (selector.empty() || selector == "{}") return out;
  auto matchers = ParseSeriesSelector(selector);
  if (!matchers.ok()) return std::nullopt;
  std::vector<Label> pairs;
  for (const Matcher& m : *matchers) pairs.push_back({m.name(), m.value()});
  auto labels = Labels::FromPairs(std::move(pairs));
  if (!labels.ok()) return std::nullopt;
  out.labels = *std::move(labels);
  return out;
}

// An expected message of `expect warn|info|fail [msg: ...|regex: ...]`: no text matches any.
struct Expectation {
  std::string text;
  bool is_regex = true;
  std::regex regex{".*"};
  bool Matches(const std::string& s) const { return is_regex ? std::regex_search(s, regex) : s == text; }
};

struct ExpectedSeries {
  Labels metric;
  std::vector<SeqValue> values;
  size_t position = 0;  // 1-based, for `expect ordered`
};

// One `eval` with everything promqltest reads from its block.
struct EvalCmd {
  std::string expr;
  std::string header;
  bool range = false;
  int64_t start = 0;  // range queries and `expect range vector`; instant queries: start == end
  int64_t end = 0;    // the evaluation time of an instant query
  int64_t step = 0;
  bool fail = false;
  bool warn = false;  // eval_warn: some warning
  bool info = false;  // eval_info: some info
  bool ordered = false;
  std::optional<std::string> fail_message;  // expected_fail_message
  std::optional<std::regex> fail_regex;     // expected_fail_regexp
  std::vector<Expectation> fails, warns, infos;
  bool no_warn = false;
  bool no_info = false;
  bool expect_scalar = false;
  double scalar = 0;
  std::vector<ExpectedSeries> series;
  std::string expected_string;
  bool exclude_from_range_query = false;  // `expect string`, `expect range vector`
  bool histogram_expected = false;        // a {{...}} among the expected values
  std::string error;                      // the block could not be read

  bool IsFail() const { return fail || !fails.empty(); }
};

struct FileResult {
  int passed = 0;
  int failed = 0;
  std::map<std::string, int> skipped;  // by reason
  std::vector<std::string> failures;
  int Skipped() const {
    int n = 0;
    for (const auto& [reason, count] : skipped) n += count;
    return n;
  }
};

constexpr std::string_view kSkipNative = "native histograms";
constexpr std::string_view kSkipStartTimestamps = "start timestamps (the storage keeps none)";

// Functions whose value depends on the evaluation time even when their arguments do not, or
// that read their argument's timestamps: promqltest does not re-run queries with them at other
// times with @ (Prometheus's AtModifierUnsafeFunctions, and start() and end(), whose value is the
// evaluation time of an instant query).
bool AtModifierUnsafe(std::string_view name) {
  static const std::set<std::string_view> kUnsafe = {"days_in_month", "day_of_month", "day_of_week", "day_of_year",
                                                     "hour",          "minute",       "month",       "year",
                                                     "predict_linear", "time",        "timestamp",   "start",
                                                     "end"};
  return kUnsafe.count(name) > 0;
}

// Gives every selector and subquery outside a subquery an `@ ts` unless it has a fixed one (as
// promqltest's atModifierTestCases); false when the query calls an @-unsafe function there.
bool AddAtModifiers(Expr& e, int64_t ts, bool inside_subquery) {
  bool safe = true;
  switch (e.kind()) {
    case NodeKind::kVectorSelector: {
      auto& vs = e.As<VectorSelector>();
      if (!inside_subquery && vs.at != AtModifier::kTimestamp) {
        vs.at = AtModifier::kTimestamp;
        vs.timestamp_ms = ts;
      }
      return true;
    }
    case NodeKind::kMatrixSelector:
      return AddAtModifiers(*e.As<MatrixSelector>().selector, ts, inside_subquery);
    case NodeKind::kSubquery: {
      auto& sq = e.As<SubqueryExpr>();
      if (!inside_subquery && sq.at != AtModifier::kTimestamp) {
        sq.at = AtModifier::kTimestamp;
        sq.timestamp_ms = ts;
      }
      return AddAtModifiers(*sq.expr, ts, /*inside_subquery=*/true);
    }
    case NodeKind::kCall: {
      auto& c = e.As<Call>();
      if (!inside_subquery && AtModifierUnsafe(c.func->name)) safe = false;
      for (ExprPtr& a : c.args) safe = AddAtModifiers(*a, ts, inside_subquery) && safe;
      return safe;
    }
    case NodeKind::kParen:
      return AddAtModifiers(*e.As<ParenExpr>().expr, ts, inside_subquery);
    case NodeKind::kUnary:
      return AddAtModifiers(*e.As<UnaryExpr>().expr, ts, inside_subquery);
    case NodeKind::kBinary: {
      auto& b = e.As<BinaryExpr>();
      safe = AddAtModifiers(*b.lhs, ts, inside_subquery);
      return AddAtModifiers(*b.rhs, ts, inside_subquery) && safe;
    }
    case NodeKind::kAggregate: {
      auto& a = e.As<AggregateExpr>();
      if (a.param) safe = AddAtModifiers(*a.param, ts, inside_subquery);
      return AddAtModifiers(*a.expr, ts, inside_subquery) && safe;
    }
    case NodeKind::kNumberLiteral:
    case NodeKind::kStringLiteral:
    case NodeKind::kDuration:
      return true;
  }
  return true;
}

bool Selects(const std::vector<Matcher>& matchers, const Labels& l) {
  for (const Matcher& m : matchers) {
    if (!m.Matches(l.Get(m.name()))) return false;
  }
  return true;
}

class ScriptRunner {
 public:
  explicit ScriptRunner(const std::string& path) : path_(path) {}

  FileResult Run() {
    std::ifstream in(path_);
    // As promqltest's getLines: lines trimmed, comment lines empty (an empty line ends a block).
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) {
      l = Trim(l);
      if (!l.empty() && l[0] == '#') l.clear();
      lines.push_back(l);
    }
    Reset();
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& line = lines[i];
      if (line.empty()) continue;
      std::string word = line.substr(0, line.find_first_of(" \t"));
      std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::tolower(c); });
      if (word == "clear") {
        Reset();
      } else if (word.rfind("load", 0) == 0) {
        i = Load(lines, i);
      } else if (word.rfind("eval", 0) == 0) {
        EvalCmd cmd;
        i = ParseEval(lines, i, &cmd);
        Run(cmd);
      } else {
        Fail("line " + std::to_string(i + 1) + ": unknown command: " + line);
      }
    }
    return result_;
  }

 private:
  void Reset() {
    head_.reset();
    dir_ = std::make_unique<testing::TempDir>();
    tsdb::HeadOptions o;
    o.out_of_order_window = std::chrono::hours(24 * 365);
    o.max_label_count = 0;
    o.max_series = 0;
    auto h = tsdb::Head::Open(Env::Default(), dir_->Path("wal"), o, nullptr);
    head_ = std::move(h).value();
    native_.clear();
    start_timestamps_.clear();
    load_error_.clear();
  }

  void Fail(std::string why) {
    ++result_.failed;
    // TYTO_CONFORMANCE_VERBOSE=1 lists every failure, not only the first few per file.
    if (result_.failures.size() < 5 || std::getenv("TYTO_CONFORMANCE_VERBOSE") != nullptr) {
      result_.failures.push_back(std::move(why));
    }
  }

  // `load <interval>` or `load_with_nhcb <interval>` and its series lines. Float samples are
  // appended; series with histogram samples, the native histograms load_with_nhcb makes of
  // classic buckets, and series with start timestamps are remembered, so that the evals that
  // select them are skipped.
  size_t Load(const std::vector<std::string>& lines, size_t i) {
    std::istringstream hdr(lines[i]);
    std::string word, interval;
    hdr >> word >> interval;
    const auto step = Time(interval);
    const bool nhcb = word == "load_with_nhcb";
    if (!step || (word != "load" && !nhcb)) load_error_ = "line " + std::to_string(i + 1) + ": unreadable load";
    // A series given twice keeps its later definition, as in promqltest's loader.
    std::map<Labels, std::vector<SeqValue>> defs;
    bool default_start_timestamps = false;
    size_t j = i + 1;
    for (; j < lines.size() && !lines[j].empty(); ++j) {
      const std::string& l = lines[j];
      if (l.rfind("@st", 0) == 0) {
        default_start_timestamps = true;
        continue;
      }
      auto sl = ParseSeriesLine(l);
      if (sl && sl->start_timestamps) {
        start_timestamps_.push_back(sl->labels);
        continue;
      }
      auto values = sl ? ParseValues(sl->rest) : std::nullopt;
      if (!values) {
        load_error_ = "line " + std::to_string(j + 1) + ": unreadable series: " + l;
        continue;
      }
      defs[sl->labels] = *std::move(values);
    }
    auto app = head_->NewAppender();
    for (const auto& [labels, values] : defs) {
      if (default_start_timestamps) start_timestamps_.push_back(labels);
      bool histogram = false;
      for (size_t k = 0; k < values.size(); ++k) {
        if (values[k].histogram) histogram = true;
        if (values[k].v && step) (void)app->Append(0, labels, static_cast<int64_t>(k) * *step, *values[k].v);
      }
      if (histogram) native_.push_back(labels);
      if (nhcb) {
        // load_with_nhcb also stores each classic histogram as one native histogram: the
        // base name, the other labels, no le.
        std::string name(labels.MetricName());
        for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
          if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            name.resize(name.size() - suffix.size());
            LabelsBuilder b(labels);
            b.Set(kMetricNameLabel, name);
            b.Del("le");
            native_.push_back(b.Build());
            break;
          }
        }
      }
    }
    (void)app->Commit();
    return j - 1;
  }

  // An `eval` line and its block, as promqltest's parseEval reads them.
  size_t ParseEval(const std::vector<std::string>& lines, size_t i, EvalCmd* cmd) {
    static const std::regex kInstant(R"(^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$)");
    static const std::regex kRange(R"(^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$)");
    static const std::regex kExpect(R"(^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$)");
    static const std::regex kExpectRange(R"(^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$)");
    const std::string& line = lines[i];
    cmd->header = "line " + std::to_string(i + 1) + ": " + line;
    std::smatch m;
    std::string mod;
    if (std::regex_match(line, m, kInstant)) {
      mod = m[1];
      cmd->expr = m[3];
      const auto t = Time(m[2]);
      if (!t) cmd->error = "unreadable time";
      cmd->start = cmd->end = t.value_or(0);
    } else if (std::regex_match(line, m, kRange)) {
      mod = m[1];
      cmd->range = true;
      cmd->expr = m[5];
      const auto a = Time(m[2]), b = Time(m[3]), s = Time(m[4]);
      if (!a || !b || !s) cmd->error = "unreadable range";
      cmd->start = a.value_or(0);
      cmd->end = b.value_or(0);
      cmd->step = s.value_or(0);
    } else {
      cmd->error = "unreadable eval";
    }
    cmd->fail = mod == "fail";
    cmd->warn = mod == "warn";
    cmd->info = mod == "info";
    cmd->ordered = mod == "ordered";
    size_t position = 0;
    size_t j = i + 1;
    for (; j < lines.size() && !lines[j].empty(); ++j) {
      const std::string& l = lines[j];
      if (cmd->fail && l.rfind("expected_fail_message", 0) == 0) {
        cmd->fail_message = Trim(std::string_view(l).substr(std::strlen("expected_fail_message")));
        return j;  // the block ends here
      }
      if (cmd->fail && l.rfind("expected_fail_regexp", 0) == 0) {
        cmd->fail_regex = std::regex(Trim(std::string_view(l).substr(std::strlen("expected_fail_regexp"))));
        return j;
      }
      if (l.rfind("expect range vector", 0) == 0) {
        std::smatch r;
        const auto a = std::regex_match(l, r, kExpectRange) ? Time(r[1]) : std::nullopt;
        const auto b = a ? Time(r[2]) : std::nullopt;
        const auto s = b ? Time(r[3]) : std::nullopt;
        if (!s) cmd->error = "unreadable: " + l;
        cmd->start = a.value_or(0);
        cmd->end = b.value_or(0);
        cmd->step = s.value_or(0);
        cmd->exclude_from_range_query = true;
        continue;
      }
      if (l.rfind("expect string", 0) == 0) {
        // A Go-quoted string: "..." or `...`.
        const std::string q = Trim(std::string_view(l).substr(std::strlen("expect string")));
        if (q.size() >= 2 && (q[0] == '"' || q[0] == '`') && q.back() == q[0]) {
          cmd->expected_string = Unquote(q);
        } else {
          cmd->error = "unreadable: " + l;
        }
        cmd->exclude_from_range_query = true;
        continue;
      }
      if (l.substr(0, l.find(' ')) == "expect") {
        std::smatch e;
        if (!std::regex_match(l, e, kExpect)) {
          cmd->error = "unreadable: " + l;
          continue;
        }
        Expectation x;
        if (e[2] == "msg") {
          x.is_regex = false;
          x.text = Trim(e[3].str());
        } else if (e[2] == "regex") {
          x.text = Trim(e[3].str());
          x.regex = std::regex(x.text);
        }
        const std::string type = e[1];
        if (type == "ordered") cmd->ordered = true;
        if (type == "fail") cmd->fails.push_back(std::move(x));
        if (type == "warn") cmd->warns.push_back(std::move(x));
        if (type == "info") cmd->infos.push_back(std::move(x));
        if (type == "no_warn") cmd->no_warn = true;
        if (type == "no_info") cmd->no_info = true;
        continue;
      }
      ++position;
      if (double v = 0; l.find_first_of(" \t{") == std::string::npos && ParseNumber(l, &v)) {
        cmd->expect_scalar = true;
        cmd->scalar = v;
        return j;
      }
      auto sl = ParseSeriesLine(l);
      auto values = sl ? ParseValues(sl->rest) : std::nullopt;
      if (!values) {
        cmd->error = "unreadable expectation: " + l;
        continue;
      }
      for (const SeqValue& v : *values) {
        if (v.histogram) cmd->histogram_expected = true;
      }
      cmd->series.push_back({sl->labels, *std::move(values), position});
    }
    return j - 1;
  }

  // Why an eval must be skipped ("" when it runs): it selects series Tyto could not load as
  // Prometheus has them.
  std::string SkipReason(const EvalCmd& cmd, const Expr* expr) const {
    if (cmd.histogram_expected) return std::string(kSkipNative);
    if (expr == nullptr) return "";
    bool native = false, start_timestamps = false;
    auto check = [&](const std::vector<Matcher>& matchers) {
      for (const Labels& l : native_) native = native || Selects(matchers, l);
      for (const Labels& l : start_timestamps_) start_timestamps = start_timestamps || Selects(matchers, l);
    };
    std::function<void(const Expr&)> walk = [&](const Expr& e) {
      if (e.kind() == NodeKind::kVectorSelector) check(e.As<VectorSelector>().matchers);
      if (e.kind() == NodeKind::kCall && e.As<Call>().func->name == "info") {
        // info() reads target_info (or the info series its second argument names) as well.
        check({*Matcher::Make(MatchType::kEqual, std::string(kMetricNameLabel), "target_info")});
      }
      ForEachChild(e, walk);
    };
    walk(*expr);
    if (native) return std::string(kSkipNative);
    if (start_timestamps) return std::string(kSkipStartTimestamps);
    return "";
  }

  void Run(EvalCmd& cmd) {
    Result<ExprPtr> parsed = Parse(cmd.expr);
    const std::string skip = SkipReason(cmd, parsed.ok() ? parsed->get() : nullptr);
    if (!skip.empty()) {
      ++result_.skipped[skip];
      // TYTO_CONFORMANCE_VERBOSE=2 lists the skipped evals as well.
      const char* verbose = std::getenv("TYTO_CONFORMANCE_VERBOSE");
      if (verbose != nullptr && std::string_view(verbose) == "2") result_.failures.push_back("skipped (" + skip + "): " + cmd.header);
      return;
    }
    std::string error = cmd.error;
    if (error.empty() && !load_error_.empty()) error = "after " + load_error_;
    if (error.empty()) error = cmd.range ? RunRange(cmd) : RunInstant(cmd, parsed.ok() ? parsed->get() : nullptr);
    if (error.empty()) {
      ++result_.passed;
    } else {
      Fail(cmd.header + "\n      " + error);
    }
  }

  // As promqltest's engine: Prometheus's defaults, with delayed name removal.
  static EngineOptions Options() {
    EngineOptions o;
    o.delayed_name_removal = true;
    return o;
  }

  std::string RunRange(const EvalCmd& cmd) {
    Engine engine(head_.get(), Options());
    auto r = engine.Range(cmd.expr, cmd.start, cmd.end, cmd.step);
    if (!r.ok()) return cmd.IsFail() ? CheckFailure(cmd, r.status().message()) : "error: " + r.status().message();
    if (cmd.IsFail()) return "expected an error, got none";
    if (std::string e = CheckAnnotations(cmd, *r); !e.empty()) return e;
    return CompareResult(cmd, *r);
  }

  // The query as written at its time, then (as promqltest does) with `@ <time>` on its
  // selectors at five other evaluation times; each also as a range query around its time.
  std::string RunInstant(const EvalCmd& cmd, Expr* parsed) {
    std::vector<std::pair<std::string, int64_t>> queries = {{cmd.expr, cmd.end}};
    if (parsed != nullptr && AddAtModifiers(*parsed, cmd.end, /*inside_subquery=*/false)) {
      const std::string with_at = parsed->String();
      const int64_t ts = cmd.end;
      const std::vector<int64_t> times =
          ts != 0 ? std::vector<int64_t>{-10 * ts, 0, ts / 5, ts, 10 * ts} : std::vector<int64_t>{-1000, 0, 1000};
      for (int64_t t : times) queries.push_back({with_at, t});
    }
    for (const auto& [query, t] : queries) {
      if (std::string e = RunInstantQuery(cmd, query, t); !e.empty()) {
        return query == cmd.expr && t == cmd.end ? e : "[" + query + " at " + std::to_string(t) + "ms] " + e;
      }
    }
    return "";
  }

  std::string RunInstantQuery(const EvalCmd& cmd, const std::string& query, int64_t t) {
    Engine engine(head_.get(), Options());
    auto r = engine.Instant(query, t);
    if (!r.ok()) return cmd.IsFail() ? CheckFailure(cmd, r.status().message()) : "error: " + r.status().message();
    if (cmd.IsFail()) return "expected an error, got none";
    if (std::string e = CheckAnnotations(cmd, *r); !e.empty()) return e;
    if (std::string e = CompareResult(cmd, *r); !e.empty()) return e;
    static const std::regex kQueryContext(R"((start|end|range|step)\(\))");
    if (cmd.exclude_from_range_query || std::regex_search(query, kQueryContext)) return "";
    // The same query as a range query around t must give the same answer at t.
    auto range = engine.Range(query, t - 60'000, t + 60'000, 60'000);
    if (!range.ok()) return "range mode: error: " + range.status().message();
    if (cmd.ordered) return "";  // range results are ordered by labels
    QueryResult at;
    at.type = r->type == ValueType::kScalar ? ValueType::kScalar : ValueType::kVector;
    for (const Series& s : range->matrix) {
      for (const Point& p : s.points) {
        if (p.t == t) at.vector.push_back({s.metric, p.v});
      }
    }
    if (at.type == ValueType::kScalar) {
      if (at.vector.empty()) return "range mode: no value at the evaluation time";
      at.scalar = at.vector[0].v;
    }
    if (std::string e = CompareResult(cmd, at); !e.empty()) return "range mode: " + e;
    return "";
  }

  static std::string CheckFailure(const EvalCmd& cmd, const std::string& error) {
    if (cmd.fail_message && *cmd.fail_message != error) return "want error \"" + *cmd.fail_message + "\", got: " + error;
    if (cmd.fail_regex && !std::regex_search(error, *cmd.fail_regex)) return "error does not match: " + error;
    if (!cmd.fails.empty() && !cmd.fails[0].Matches(error)) return "want error \"" + cmd.fails[0].text + "\", got: " + error;
    return "";
  }

  static std::string Join(const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& s : v) out += (out.empty() ? "" : "; ") + s;
    return out;
  }

  // As promqltest's checkAnnotations: `eval_warn`/`eval_info` want at least one; each expected
  // message must be among the actual ones and each actual one expected; no_warn/no_info want none.
  static std::string CheckAnnotations(const EvalCmd& cmd, const QueryResult& r) {
    if (cmd.warn && r.warnings.empty()) return "expected warnings, got none";
    if (cmd.info && r.infos.empty()) return "expected infos, got none";
    auto validate = [](const std::vector<Expectation>& want, const std::vector<std::string>& got,
                       const std::string& kind) -> std::string {
      if (want.empty()) return "";
      if (got.empty()) return "expected " + kind + " annotations, got none";
      for (const Expectation& e : want) {
        if (std::none_of(got.begin(), got.end(), [&](const std::string& g) { return e.Matches(g); })) {
          return "expected " + kind + " \"" + e.text + "\", got: " + Join(got);
        }
      }
      for (const std::string& g : got) {
        if (std::none_of(want.begin(), want.end(), [&](const Expectation& e) { return e.Matches(g); })) {
          return "unexpected " + kind + ": " + g;
        }
      }
      return "";
    };
    if (std::string e = validate(cmd.warns, r.warnings, "warn"); !e.empty()) return e;
    if (std::string e = validate(cmd.infos, r.infos, "info"); !e.empty()) return e;
    if (cmd.no_warn && !r.warnings.empty()) return "unexpected warnings: " + Join(r.warnings);
    if (cmd.no_info && !r.infos.empty()) return "unexpected infos: " + Join(r.infos);
    return "";
  }

  // As promqltest's compareResult.
  static std::string CompareResult(const EvalCmd& cmd, const QueryResult& r) {
    std::map<Labels, const ExpectedSeries*> want;
    for (const ExpectedSeries& s : cmd.series) want[s.metric] = &s;
    std::set<Labels> seen;
    switch (r.type) {
      case ValueType::kMatrix: {
        if (cmd.ordered) return "expected an ordered result, got a matrix";
        if (cmd.expect_scalar) return "expected a scalar, got a matrix";
        for (size_t k = 1; k < r.matrix.size(); ++k) {
          if (r.matrix[k].metric < r.matrix[k - 1].metric) return "matrix not sorted by labels";
        }
        for (const Series& s : r.matrix) {
          auto it = want.find(s.metric);
          if (it == want.end()) return "unexpected series " + s.metric.ToString();
          seen.insert(s.metric);
          std::vector<Point> points;
          for (size_t k = 0; k < it->second->values.size(); ++k) {
            const int64_t ts = cmd.start + static_cast<int64_t>(k) * cmd.step;
            if (ts > cmd.end) return "more expected points than the range has for " + s.metric.ToString();
            if (it->second->values[k].v) points.push_back({ts, *it->second->values[k].v});
          }
          if (points.size() != s.points.size()) {
            return s.metric.ToString() + ": want " + std::to_string(points.size()) + " points, got " +
                   std::to_string(s.points.size());
          }
          for (size_t k = 0; k < points.size(); ++k) {
            if (points[k].t != s.points[k].t) {
              return s.metric.ToString() + ": point " + std::to_string(k) + " at " + std::to_string(s.points[k].t) +
                     "ms, want " + std::to_string(points[k].t) + "ms";
            }
            if (!AlmostEqual(points[k].v, s.points[k].v)) {
              return s.metric.ToString() + " at " + std::to_string(points[k].t) + "ms: want " +
                     FormatValue(points[k].v) + ", got " + FormatValue(s.points[k].v);
            }
          }
        }
        break;
      }
      case ValueType::kVector:
        if (cmd.expect_scalar) return "expected a scalar, got a vector";
        for (size_t k = 0; k < r.vector.size(); ++k) {
          const Element& el = r.vector[k];
          auto it = want.find(el.metric);
          if (it == want.end()) return "unexpected series " + el.metric.ToString() + " " + FormatValue(el.v);
          if (cmd.ordered && it->second->position != k + 1) {
            return el.metric.ToString() + " at position " + std::to_string(k + 1) + ", want " +
                   std::to_string(it->second->position);
          }
          const auto& values = it->second->values;
          if (values.empty() || !values[0].v || !AlmostEqual(*values[0].v, el.v)) {
            return el.metric.ToString() + ": want " + (values.empty() || !values[0].v ? "_" : FormatValue(*values[0].v)) +
                   ", got " + FormatValue(el.v);
          }
          seen.insert(el.metric);
        }
        break;
      case ValueType::kScalar:
        if (!cmd.expect_scalar) return "expected a vector or matrix, got scalar " + FormatValue(r.scalar);
        if (!AlmostEqual(cmd.scalar, r.scalar)) return "scalar: want " + FormatValue(cmd.scalar) + ", got " + FormatValue(r.scalar);
        return "";
      case ValueType::kString:
        if (cmd.expected_string != r.string) return "string: want \"" + cmd.expected_string + "\", got \"" + r.string + "\"";
        return "";
      case ValueType::kNone:
        return "no result";
    }
    for (const auto& [labels, s] : want) {
      if (!seen.count(labels)) return "missing series " + labels.ToString();
    }
    return "";
  }

  std::string path_;
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<tsdb::Head> head_;
  std::vector<Labels> native_;            // series with native histogram samples
  std::vector<Labels> start_timestamps_;  // series with start timestamps
  std::string load_error_;                // a load line this runner could not read
  FileResult result_;
};

// Evals that pass today; raise it when the engine gets better, never lower it.
constexpr int kPassFloor = 1272;

TEST(PromqlConformanceTest, PrometheusTestScripts) {
  // TYTO_CONFORMANCE_DIR runs another folder of scripts (to try out a case).
  const char* other = std::getenv("TYTO_CONFORMANCE_DIR");
  const std::filesystem::path dir = other != nullptr ? std::filesystem::path(other)
                                                     : std::filesystem::path(TYTO_SOURCE_DIR) / ".." / "shared" /
                                                           "conformance" / "promql";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " not found (../shared beside the checkout)";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".test") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  int passed = 0, failed = 0;
  std::map<std::string, int> skipped;
  auto reasons = [](const std::map<std::string, int>& by) {
    std::string out;
    for (const auto& [reason, n] : by) out += (out.empty() ? "" : ", ") + reason + " " + std::to_string(n);
    return out;
  };
  for (const auto& f : files) {
    FileResult r = ScriptRunner(f.string()).Run();
    std::printf("%-28s passed %4d  failed %4d  skipped %4d%s%s%s\n", f.filename().c_str(), r.passed, r.failed,
                r.Skipped(), r.skipped.empty() ? "" : " (", reasons(r.skipped).c_str(), r.skipped.empty() ? "" : ")");
    for (const std::string& why : r.failures) std::printf("    %s\n", why.c_str());
    passed += r.passed;
    failed += r.failed;
    for (const auto& [reason, n] : r.skipped) skipped[reason] += n;
  }
  int skipped_total = 0;
  for (const auto& [reason, n] : skipped) skipped_total += n;
  std::printf("total: passed %d, failed %d, skipped %d (%s)\n", passed, failed, skipped_total, reasons(skipped).c_str());
  EXPECT_GE(passed, kPassFloor);
}

}  // namespace
}  // namespace tyto::promql
