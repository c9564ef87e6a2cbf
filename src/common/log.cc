#include "common/log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <ctime>

#include "common/mutex.h"
#include "common/units.h"
#include "tyto/clock.h"

namespace tyto::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

Mutex g_sink_mu;
std::function<void(std::string_view)>* g_sink GUARDED_BY(g_sink_mu) = nullptr;

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

Result<Level> ParseLevel(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  return InvalidArgument("unknown log level '" + std::string(name) +
                         "' (expected one of debug, info, warn, error)");
}

void SetLevel(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }
Level GetLevel() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

std::string FormatLine(int64_t unix_millis, Level level, std::string_view component,
                       std::string_view msg, Fields fields) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  const std::string ts = FormatTimestamp(unix_millis);
  auto str = [&w](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  str("ts");
  str(ts);
  str("level");
  str(LevelName(level));
  str("component");
  str(component);
  str("msg");
  str(msg);
  for (const Field& f : fields) {
    str(f.key());
    switch (f.kind()) {
      case Field::Kind::kString: str(f.str()); break;
      case Field::Kind::kInt: w.Int64(f.integer()); break;
      case Field::Kind::kBool: w.Bool(f.integer() != 0); break;
      case Field::Kind::kDouble:
        if (std::isfinite(f.real())) {
          w.Double(f.real());
        } else {
          str(std::isnan(f.real()) ? "NaN" : (f.real() > 0 ? "+Inf" : "-Inf"));
        }
        break;
    }
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

void Logger::Log(Level level, std::string_view msg, Fields fields) const {
  if (!Enabled(level)) return;
  std::string line = FormatLine(Clock::Real()->NowMillis(), level, component_, msg, fields);
  {
    MutexLock lock(&g_sink_mu);
    if (g_sink != nullptr) {
      (*g_sink)(line);
      return;
    }
  }
  line += '\n';
  // One write(2) per line keeps lines whole when several threads log at once.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

void SetSinkForTesting(std::function<void(std::string_view line)> sink) {
  MutexLock lock(&g_sink_mu);
  delete g_sink;
  g_sink = sink ? new std::function<void(std::string_view)>(std::move(sink)) : nullptr;
}

}  // namespace tyto::log
