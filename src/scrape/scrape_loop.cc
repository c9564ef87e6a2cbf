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
                       std::shared_ptr<const relabel::Relabeler> metric_relabel)
    : storage_(storage), target_(std::move(target)), job_(std::move(job)), metric_relabel_(std::move(metric_relabel)) {}

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
  ++scrape_number_;
  std::vector<Labels> seen;
  for (;;) {
    auto entry = parser.Next();
    if (!entry.ok()) return entry.status();
    if (*entry == Entry::kEOF) break;
    if (*entry != Entry::kSeries) continue;
    ++out->scraped;
    auto [it, inserted] = cache_.try_emplace(std::string(parser.series()));
    CachedSeries& c = it->second;
    if (inserted) {
      auto labels = Finalize(parser.labels());
      if (!labels.ok()) return labels.status();
      c.labels = std::move(labels).value();
    }
    const bool new_this_scrape = inserted || c.last_seen + 1 != scrape_number_;
    if (c.last_seen == scrape_number_ && !c.labels.empty()) {
      continue;  // the same series twice in one body: Prometheus keeps the first
    }
    c.last_seen = scrape_number_;
    if (c.labels.empty()) continue;  // dropped by metric_relabel_configs
    ++out->post_relabel;
    if (job_->sample_limit > 0 && out->post_relabel > job_->sample_limit) {
      return ResourceExhausted("sample_limit exceeded (limit " + std::to_string(job_->sample_limit) + ")");
    }
    const int64_t t = job_->honor_timestamps && parser.timestamp_ms() ? *parser.timestamp_ms() : start_ms;
    auto ref = app->Append(c.ref, c.labels, t, parser.value());
    if (ref.ok()) {
      c.ref = *ref;
      if (new_this_scrape) ++out->added;
      seen.push_back(c.labels);
    }
    // Refused one by one (out of order, duplicate, a series limit): skipped, as Prometheus does.
  }
  // Series of the last scrape that this one lacks end now.
  std::sort(seen.begin(), seen.end());
  std::vector<Labels> gone;
  for (const Labels& l : last_series_) {
    if (!std::binary_search(seen.begin(), seen.end(), l)) gone.push_back(l);
  }
  AppendStale(app, start_ms, gone);
  last_series_ = std::move(seen);
  // Forget series not in this body, so the cache follows what the target exposes.
  std::erase_if(cache_, [this](const auto& kv) { return kv.second.last_seen != scrape_number_; });
  return Status::Ok();
}

void ScrapeLoop::AppendStale(Appender* app, int64_t t, const std::vector<Labels>& series) {
  for (const Labels& l : series) (void)app->Append(0, l, t, StaleMarker());  // refused: already ended
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
  if (!st.ok()) {
    // Nothing of a failed scrape is kept: up 0, and the last scrape's series end.
    app->Rollback();
    cache_.clear();
    const uint64_t scraped = o.scraped;
    o = Outcome{};
    o.scraped = st.code() == StatusCode::kResourceExhausted ? scraped : 0;
    AppendStale(app.get(), start_ms, last_series_);
    last_series_.clear();
    AppendReport(app.get(), start_ms, false, duration.count(), o);
    (void)app->Commit();  // the storage logs and counts its own failures
  }
  SetStatus(start_ms, duration.count(), st, o.post_relabel);
}

void ScrapeLoop::Stop(int64_t now_ms) {
  auto app = storage_->NewAppender();
  AppendStale(app.get(), now_ms, last_series_);
  if (reported_) {
    std::vector<Labels> synthetic;
    for (const char* name : {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                             "scrape_samples_post_metric_relabeling", "scrape_series_added"}) {
      LabelsBuilder lb(target_.labels);
      lb.Set(kMetricNameLabel, name);
      synthetic.push_back(lb.Build());
    }
    AppendStale(app.get(), now_ms, synthetic);
  }
  (void)app->Commit();
  last_series_.clear();
  cache_.clear();
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
