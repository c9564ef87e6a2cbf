#include "scrape/scrape_loop.h"

#include <algorithm>

#include "http/gzip.h"
#include "scrape/text_parser.h"

namespace tyto::scrape {
namespace {

// Without a body_size_limit, a gzip body may still not expand past this.
constexpr uint64_t kDefaultMaxBody = uint64_t{1} << 30;

std::string HttpError(int status) { return "server returned HTTP status " + std::to_string(status); }

}  // namespace

ScrapeLoop::ScrapeLoop(Storage* storage, Target target, std::shared_ptr<const ScrapeConfig> job,
                       std::shared_ptr<const relabel::Relabeler> metric_relabel, Sinks sinks)
    : storage_(storage),
      sinks_(sinks),
      target_(std::move(target)),
      job_(std::move(job)),
      metric_relabel_(std::move(metric_relabel)) {}

void ScrapeLoop::Reconfigure(std::shared_ptr<const ScrapeConfig> job,
                             std::shared_ptr<const relabel::Relabeler> metric_relabel) {
  const ScrapeConfig& a = *job_;
  const ScrapeConfig& b = *job;
  const bool same_labels = a.metric_relabel_configs == b.metric_relabel_configs && a.honor_labels == b.honor_labels &&
                           a.label_limit == b.label_limit && a.label_name_length_limit == b.label_name_length_limit &&
                           a.label_value_length_limit == b.label_value_length_limit;
  if (!same_labels) cache_.clear();
  job_ = std::move(job);
  metric_relabel_ = std::move(metric_relabel);
}

Result<Labels> ScrapeLoop::Finalize(const Labels& scraped) const {
  LabelsBuilder lb(scraped);
  for (const Label& t : target_.labels) {
    const std::string_view existing = lb.Get(t.name);
    if (job_->honor_labels) {
      if (existing.empty()) lb.Set(t.name, t.value);
      continue;
    }
    if (!existing.empty()) {
      // The scraped label moves aside to exported_<name> (exported_exported_<name> if taken).
      std::string moved = "exported_" + t.name;
      while (!lb.Get(moved).empty()) moved = "exported_" + moved;
      lb.Set(moved, std::string(existing));
    }
    lb.Set(t.name, t.value);
  }
  if (!metric_relabel_->Process(&lb) || lb.empty()) return Labels();
  const Labels out = lb.Build();
  if (job_->label_limit > 0 && out.size() > job_->label_limit) {
    return ResourceExhausted("label_limit exceeded (" + std::to_string(out.size()) + " labels, limit " +
                             std::to_string(job_->label_limit) + ") by " + out.ToString());
  }
  for (const Label& l : out) {
    if (job_->label_name_length_limit > 0 && l.name.size() > job_->label_name_length_limit) {
      return ResourceExhausted("label_name_length_limit exceeded by label '" + l.name + "' of " + out.ToString());
    }
    if (job_->label_value_length_limit > 0 && l.value.size() > job_->label_value_length_limit) {
      return ResourceExhausted("label_value_length_limit exceeded by label '" + l.name + "' of " + out.ToString());
    }
  }
  return out;
}

Status ScrapeLoop::AppendBody(Appender* app, int64_t start_ms, const Fetched& fetched, Outcome* out) {
  TYTO_RETURN_IF_ERROR(fetched.status);
  if (fetched.http_status != 200) return Status(StatusCode::kUnavailable, HttpError(fetched.http_status));
  const uint64_t max_body = job_->body_size_limit > 0 ? job_->body_size_limit : kDefaultMaxBody;
  std::string inflated;
  std::string_view body = fetched.body;
  if (fetched.content_encoding == "gzip") {
    auto r = http::GzipDecompress(fetched.body, max_body);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kResourceExhausted) {
        return ResourceExhausted("body_size_limit exceeded (" + std::to_string(max_body) + " bytes)");
      }
      return InvalidArgument("gzip body: " + r.status().message());
    }
    inflated = std::move(r).value();
    body = inflated;
  } else if (!fetched.content_encoding.empty() && fetched.content_encoding != "identity") {
    return InvalidArgument("unsupported Content-Encoding '" + fetched.content_encoding + "'");
  }
  if (body.size() > max_body) return ResourceExhausted("body_size_limit exceeded (" + std::to_string(max_body) + " bytes)");

  TextParser parser(body, FormatFromContentType(fetched.content_type));
  const uint64_t now = ++scrape_number_;
  for (;;) {
    auto entry = parser.Next();
    if (!entry.ok()) return entry.status();
    if (*entry == Entry::kEOF) break;
    if (sinks_.metadata != nullptr) {
      if (*entry == Entry::kType) out->metadata[std::string(parser.family())].type = MetricTypeName(parser.type());
      if (*entry == Entry::kHelp) out->metadata[std::string(parser.family())].help = parser.help();
      if (*entry == Entry::kUnit) out->metadata[std::string(parser.family())].unit = parser.unit();
    }
    if (*entry != Entry::kSeries) continue;
    ++out->scraped;
    auto it = cache_.find(parser.series());
    const bool inserted = it == cache_.end();
    if (inserted) {
      auto labels = Finalize(parser.labels());
      if (!labels.ok()) return labels.status();
      it = cache_.emplace(std::string(parser.series()), CachedSeries{std::move(labels).value()}).first;
    }
    CachedSeries& c = it->second;
    if (c.last_seen == now) continue;  // the same series twice in one body: Prometheus keeps the first
    const bool added = inserted || !c.committed;
    c.last_seen = now;
    c.pending = false;
    if (c.labels.empty()) continue;  // dropped by metric_relabel_configs
    ++out->post_relabel;
    if (job_->sample_limit > 0 && out->post_relabel > job_->sample_limit) {
      return ResourceExhausted("sample_limit exceeded (limit " + std::to_string(job_->sample_limit) + ")");
    }
    const bool timestamped = job_->honor_timestamps && parser.timestamp_ms();
    const int64_t t = timestamped ? *parser.timestamp_ms() : start_ms;
    auto ref = app->Append(c.ref, c.labels, t, parser.value());
    // Refused one by one (out of order, duplicate, a series limit): skipped, as Prometheus does.
    if (!ref.ok()) continue;
    c.ref = *ref;
    c.pending = true;
    c.pending_timestamped = timestamped;
    if (added) ++out->added;
    if (sinks_.exemplars != nullptr && parser.exemplar()) {
      const Exemplar& e = *parser.exemplar();
      out->exemplars.push_back({c.labels, {e.labels, e.value, e.timestamp_ms.value_or(t)}});
    }
  }
  EndSeriesNotSeen(app, start_ms, now);
  return Status::Ok();
}

void ScrapeLoop::EndSeriesNotSeen(Appender* app, int64_t t, uint64_t now) {
  for (auto it = cache_.begin(); it != cache_.end();) {
    CachedSeries& c = it->second;
    if (c.last_seen == now && now != 0) {
      ++it;
      continue;
    }
    // Refused: it had ended. A series with its own timestamps gets none, as in Prometheus: its
    // times are the target's, and the scrape's time says nothing about when it ended.
    if (c.committed && !c.timestamped) (void)app->Append(c.ref, c.labels, t, StaleMarker());
    it = cache_.erase(it);
  }
}

void ScrapeLoop::AppendReport(Appender* app, int64_t t, bool up, double duration, const Outcome& o) {
  auto put = [&](std::string_view name, double v) {
    LabelsBuilder lb(target_.labels);
    lb.Set(kMetricNameLabel, name);
    (void)app->Append(0, lb.Build(), t, v);
  };
  put("up", up ? 1 : 0);
  put("scrape_duration_seconds", duration);
  put("scrape_samples_scraped", static_cast<double>(o.scraped));
  put("scrape_samples_post_metric_relabeling", static_cast<double>(o.post_relabel));
  put("scrape_series_added", static_cast<double>(o.added));
  reported_ = true;
}

void ScrapeLoop::Report(int64_t start_ms, std::chrono::duration<double> duration, const Fetched& fetched) {
  Outcome o;
  auto app = storage_->NewAppender();
  Status st = AppendBody(app.get(), start_ms, fetched, &o);
  if (st.ok()) {
    AppendReport(app.get(), start_ms, true, duration.count(), o);
    st = app->Commit();
  }
  if (st.ok()) {
    for (auto& [text, c] : cache_) {
      c.committed = c.pending;
      c.timestamped = c.pending_timestamped;
    }
    for (auto& [family, m] : o.metadata) {
      if (m.type.empty()) m.type = "unknown";
      sinks_.metadata->Update(family, m);
    }
    for (auto& [series, e] : o.exemplars) sinks_.exemplars->Add(series, std::move(e));
  } else {
    // Nothing of a failed scrape is kept: up 0, and the last successful scrape's series end.
    app->Rollback();
    const uint64_t scraped = o.scraped;
    o = Outcome{};
    o.scraped = st.code() == StatusCode::kResourceExhausted ? scraped : 0;
    EndSeriesNotSeen(app.get(), start_ms, 0);
    AppendReport(app.get(), start_ms, false, duration.count(), o);
    (void)app->Commit();  // the storage logs and counts its own failures
  }
  SetStatus(start_ms, duration.count(), st, o.post_relabel);
}

void ScrapeLoop::Stop(int64_t now_ms) {
  auto app = storage_->NewAppender();
  EndSeriesNotSeen(app.get(), now_ms, 0);
  if (reported_) {
    for (const char* name : {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                             "scrape_samples_post_metric_relabeling", "scrape_series_added"}) {
      LabelsBuilder lb(target_.labels);
      lb.Set(kMetricNameLabel, name);
      (void)app->Append(0, lb.Build(), now_ms, StaleMarker());
    }
  }
  (void)app->Commit();
}

void ScrapeLoop::SetStatus(int64_t start_ms, double duration, const Status& error, uint64_t samples) {
  MutexLock lock(&mu_);
  status_.health = error.ok() ? "up" : "down";
  status_.last_error = error.ok() ? "" : error.message();
  status_.last_scrape_ms = start_ms;
  status_.last_duration_seconds = duration;
  status_.last_samples = samples;
}

TargetStatus ScrapeLoop::status() const {
  MutexLock lock(&mu_);
  return status_;
}

}  // namespace tyto::scrape
