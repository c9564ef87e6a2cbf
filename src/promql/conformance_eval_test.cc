// Runs Prometheus's own PromQL test scripts (../shared/conformance/promql/*.test, read at test
// time, never copied into the repository) against the engine over a real head, and reports how
// many `eval` statements give Prometheus's answer, per file. Evals of native histograms are
// skipped (Tyto has none yet). The test fails when fewer evals pass than the floor recorded
// below, so the count can only go up.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "common/units.h"
#include "promql/engine.h"
#include "promql/parser.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"
#include "tyto/selector.h"

namespace tyto::promql {
namespace {

std::string Trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// "5m" or "100" (seconds) to milliseconds.
std::optional<int64_t> Time(const std::string& s) {
  if (auto d = ParseDuration(s); d.ok()) return d->count();
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return static_cast<int64_t>(std::llround(v * 1000));
}

// Expands a series' values: "1 2 _ stale 0+10x3 5x2 -1-1x2 _x3".
std::optional<std::vector<std::optional<double>>> Values(const std::string& text) {
  std::vector<std::optional<double>> out;
  std::istringstream in(text);
  std::string tok;
  auto number = [](const std::string& s, double* v) {
    if (s == "stale") {
      *v = StaleMarker();
      return true;
    }
    if (s == "Inf" || s == "+Inf" || s == "inf") {
      *v = INFINITY;
      return true;
    }
    if (s == "-Inf" || s == "-inf") {
      *v = -INFINITY;
      return true;
    }
    if (s == "NaN" || s == "nan") {
      *v = NAN;
      return true;
    }
    char* end = nullptr;
    *v = std::strtod(s.c_str(), &end);
    return !s.empty() && end == s.c_str() + s.size();
  };
  static const std::regex kSeq(R"(^([-+]?[^-+x]+)([-+])([^x]+)x(\d+)$)");
  static const std::regex kRepeat(R"(^([^x]+)x(\d+)$)");
  while (in >> tok) {
    if (tok.find("{{") != std::string::npos) return std::nullopt;  // native histograms
    std::smatch m;
    double a = 0, b = 0;
    if (std::regex_match(tok, m, kSeq) && number(m[1], &a) && number(m[3], &b)) {
      const int n = std::stoi(m[4]);
      if (m[2] == "-") b = -b;
      for (int i = 0; i <= n; ++i) out.push_back(a + b * i);
    } else if (std::regex_match(tok, m, kRepeat)) {
      const int n = std::stoi(m[2]);
      std::optional<double> v;
      if (m[1] != "_") {
        if (!number(m[1], &a)) return std::nullopt;
        v = a;
      }
      for (int i = 0; i <= n; ++i) out.push_back(v);
      if (m[1] == "_") out.pop_back();  // _xN is N blanks
    } else if (tok == "_") {
      out.push_back(std::nullopt);
    } else if (number(tok, &a)) {
      out.push_back(a);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// "metric{a="b"} rest" -> labels and rest.
std::optional<std::pair<Labels, std::string>> SeriesAndRest(const std::string& line) {
  size_t end = 0;
  const size_t brace = line.find('{');
  const size_t space = line.find_first_of(" \t");
  if (brace != std::string::npos && (space == std::string::npos || brace < space)) {
    // Find the closing brace outside quotes.
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
    end = space == std::string::npos ? line.size() : space;
  }
  const std::string selector = line.substr(0, end);
  if (selector == "{}") return std::make_pair(Labels(), Trim(line.substr(end)));
  auto matchers = ParseSeriesSelector(selector);
  if (!matchers.ok()) return std::nullopt;
  std::vector<Label> pairs;
  for (const Matcher& m : *matchers) pairs.push_back({m.name(), m.value()});
  auto labels = Labels::FromPairs(std::move(pairs));
  if (!labels.ok()) return std::nullopt;
  return std::make_pair(*labels, Trim(line.substr(end)));
}

bool Close(double want, double got) {
  if (std::isnan(want)) return std::isnan(got);
  if (want == got) return true;
  return std::fabs(want - got) <= 1e-6 * std::max(std::fabs(want), std::fabs(got)) || std::fabs(want - got) < 1e-12;
}

struct FileResult {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  std::vector<std::string> failures;  // the first few
};

class ScriptRunner {
 public:
  explicit ScriptRunner(const std::string& path) : path_(path) {}

  FileResult Run() {
    std::ifstream in(path_);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    Reset();
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string line = Trim(lines[i]);
      if (line.empty() || line[0] == '#') continue;
      if (line == "clear") {
        Reset();
      } else if (line.rfind("load", 0) == 0) {
        i = Load(lines, i);
      } else if (line.rfind("eval", 0) == 0) {
        i = Eval(lines, i);
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
    poisoned_ = false;
    unread_.clear();
    native_.clear();
  }

  bool Indented(const std::string& l) const { return !l.empty() && (l[0] == ' ' || l[0] == '\t'); }

  size_t Load(const std::vector<std::string>& lines, size_t i) {
    std::istringstream hdr(Trim(lines[i]));
    std::string word, interval;
    hdr >> word >> interval;
    const auto step = Time(interval);
    // A series given twice in one load: the later values win, as in Prometheus's test loader.
    std::map<Labels, std::map<int64_t, double>> loaded;
    size_t j = i + 1;
    for (; j < lines.size() && Indented(lines[j]); ++j) {
      const std::string l = Trim(lines[j]);
      if (l.empty()) break;
      auto sr = SeriesAndRest(l);
      auto values = sr ? Values(sr->second) : std::nullopt;
      if (word == "load_with_nhcb" && sr && values) {
        // The classic buckets load as they are; the native histograms made of them do not exist
        // here, so evals that name the histogram itself are skipped.
        std::string base(sr->first.MetricName());
        for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
          if (base.size() > suffix.size() && base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0) {
            base.resize(base.size() - suffix.size());
          }
        }
        native_.insert(base);
      } else if (!step || word != "load" || !values) {
        // Histograms or a form not read here: evals that name this metric are skipped.
        if (sr && !sr->first.MetricName().empty()) {
          unread_.insert(std::string(sr->first.MetricName()));
        } else {
          poisoned_ = true;
        }
        continue;
      }
      for (size_t k = 0; k < values->size(); ++k) {
        if ((*values)[k]) loaded[sr->first][static_cast<int64_t>(k) * *step] = *(*values)[k];
      }
    }
    auto app = head_->NewAppender();
    for (const auto& [labels, points] : loaded) {
      for (const auto& [t, v] : points) (void)app->Append(0, labels, t, v);
    }
    (void)app->Commit();
    return j - 1;
  }

  size_t Eval(const std::vector<std::string>& lines, size_t i) {
    const std::string line = Trim(lines[i]);
    size_t j = i + 1;
    std::vector<std::string> expected;
    bool expect_fail = line.rfind("eval_fail", 0) == 0;
    bool ordered = line.rfind("eval_ordered", 0) == 0;
    bool skip = poisoned_ || line.find("{{") != std::string::npos;
    for (const std::string& name : unread_) {
      if (line.find(name) != std::string::npos) skip = true;
    }
    for (const std::string& name : native_) {
      // The histogram's own name, not followed by _bucket/_sum/_count.
      for (size_t at = line.find(name); at != std::string::npos; at = line.find(name, at + 1)) {
        const size_t after = at + name.size();
        if (after >= line.size() || line[after] != '_') skip = true;
      }
    }
    for (; j < lines.size() && Indented(lines[j]); ++j) {
      const std::string l = Trim(lines[j]);
      if (l.empty()) break;
      if (l.rfind("expect", 0) == 0) {
        if (l.rfind("expect fail", 0) == 0) expect_fail = true;
        if (l.rfind("expect ordered", 0) == 0) ordered = true;
        if (l.rfind("expect string", 0) == 0 || l.rfind("expect range vector", 0) == 0) skip = true;
        continue;
      }
      if (l[0] == '#') continue;  // a comment among the expectations
      if (l.find("{{") != std::string::npos) skip = true;
      expected.push_back(l);
    }
    if (skip) {
      ++result_.skipped;
      return j - 1;
    }
    static const std::regex kInstant(R"(^eval(?:_fail|_ordered|_warn|_info)?\s+instant\s+at\s+(\S+)\s+(.+)$)");
    static const std::regex kRange(R"(^eval(?:_fail|_ordered|_warn|_info)?\s+range\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.+)$)");
    std::smatch m;
    std::string error;
    Engine engine(head_.get());
    if (std::regex_match(line, m, kInstant)) {
      const auto t = Time(m[1]);
      auto r = t ? engine.Instant(m[2].str(), *t) : Result<QueryResult>(InvalidArgument("bad time"));
      error = Check(r, expected, expect_fail, ordered, std::nullopt, m[2].str());
    } else if (std::regex_match(line, m, kRange)) {
      const auto a = Time(m[1]), b = Time(m[2]), s = Time(m[3]);
      auto r = a && b && s ? engine.Range(m[4].str(), *a, *b, *s) : Result<QueryResult>(InvalidArgument("bad range"));
      error = Check(r, expected, expect_fail, ordered, std::make_optional(std::make_tuple(*a, *b, *s)), m[4].str());
    } else {
      ++result_.skipped;
      return j - 1;
    }
    if (error.empty()) {
      ++result_.passed;
    } else {
      ++result_.failed;
      // TYTO_CONFORMANCE_VERBOSE=1 lists every failure, not only the first few per file.
      if (result_.failures.size() < 5 || std::getenv("TYTO_CONFORMANCE_VERBOSE") != nullptr) {
        result_.failures.push_back(line + "\n      " + error);
      }
    }
    return j - 1;
  }

  std::string Check(const Result<QueryResult>& r, const std::vector<std::string>& expected, bool expect_fail,
                    bool ordered, std::optional<std::tuple<int64_t, int64_t, int64_t>> range, const std::string&) {
    if (expect_fail) return r.ok() ? "expected an error" : "";
    if (!r.ok()) return "error: " + r.status().message();
    if (range) {
      const auto [a, b, step] = *range;
      std::map<Labels, std::vector<std::optional<double>>> want;
      for (const std::string& e : expected) {
        auto sr = SeriesAndRest(e);
        std::optional<std::vector<std::optional<double>>> v;
        if (sr) v = Values(sr->second);
        if (!v) {
          // A scalar result's line has no labels.
          v = Values(e);
          if (!v) return "unreadable expectation: " + e;
          want[Labels()] = *v;
          continue;
        }
        want[sr->first] = *v;
      }
      std::map<Labels, std::vector<std::optional<double>>> got;
      for (const Series& s : r->matrix) {
        auto& vals = got[s.metric];
        vals.assign(static_cast<size_t>((b - a) / step) + 1, std::nullopt);
        for (const Point& p : s.points) vals[static_cast<size_t>((p.t - a) / step)] = p.v;
      }
      if (want.size() != got.size()) return "want " + std::to_string(want.size()) + " series, got " + std::to_string(got.size());
      for (auto& [labels, vals] : want) {
        auto it = got.find(labels);
        if (it == got.end()) return "missing series " + labels.ToString();
        auto& g = it->second;
        while (vals.size() < g.size()) vals.push_back(std::nullopt);
        for (size_t k = 0; k < g.size(); ++k) {
          if (vals[k].has_value() != g[k].has_value() || (vals[k] && !Close(*vals[k], *g[k]))) {
            return labels.ToString() + " differs at step " + std::to_string(k);
          }
        }
      }
      return "";
    }
    if (r->type == ValueType::kScalar) {
      if (expected.size() != 1) return "scalar result, expected lines: " + std::to_string(expected.size());
      auto v = Values(expected[0]);
      if (!v || v->size() != 1 || !(*v)[0]) return "unreadable scalar expectation";
      return Close(*(*v)[0], r->scalar) ? "" : "scalar " + std::to_string(r->scalar);
    }
    if (r->type == ValueType::kString) return "string results are not checked";
    std::vector<std::pair<Labels, double>> want;
    for (const std::string& e : expected) {
      auto sr = SeriesAndRest(e);
      if (!sr) return "unreadable expectation: " + e;
      auto v = Values(sr->second);
      if (!v || v->size() != 1 || !(*v)[0]) return "unreadable value: " + e;
      want.push_back({sr->first, *(*v)[0]});
    }
    std::vector<std::pair<Labels, double>> got;
    if (r->type == ValueType::kMatrix) return "range vector results are not checked";
    for (const Element& el : r->vector) got.push_back({el.metric, el.v});
    if (want.size() != got.size()) return "want " + std::to_string(want.size()) + " elements, got " + std::to_string(got.size());
    if (!ordered) {
      std::sort(want.begin(), want.end(), [](auto& x, auto& y) { return x.first < y.first; });
      std::sort(got.begin(), got.end(), [](auto& x, auto& y) { return x.first < y.first; });
    }
    for (size_t k = 0; k < want.size(); ++k) {
      if (!(want[k].first == got[k].first)) return "want " + want[k].first.ToString() + ", got " + got[k].first.ToString();
      if (!Close(want[k].second, got[k].second)) {
        return want[k].first.ToString() + ": want " + std::to_string(want[k].second) + ", got " + std::to_string(got[k].second);
      }
    }
    return "";
  }

  std::string path_;
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<tsdb::Head> head_;
  bool poisoned_ = false;
  std::set<std::string> unread_;  // metrics whose samples were not loaded
  std::set<std::string> native_;  // histograms load_with_nhcb would also have made native
  FileResult result_;
};

// Evals that pass today; raise it when the engine gets better, never lower it.
constexpr int kPassFloor = 1117;

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
  int passed = 0, failed = 0, skipped = 0;
  for (const auto& f : files) {
    FileResult r = ScriptRunner(f.string()).Run();
    std::printf("%-28s passed %4d  failed %4d  skipped %4d\n", f.filename().c_str(), r.passed, r.failed, r.skipped);
    for (const std::string& why : r.failures) std::printf("    %s\n", why.c_str());
    passed += r.passed;
    failed += r.failed;
    skipped += r.skipped;
  }
  std::printf("total: passed %d, failed %d, skipped (native histograms and unread forms) %d\n", passed, failed, skipped);
  EXPECT_GE(passed, kPassFloor);
}

}  // namespace
}  // namespace tyto::promql
