#include "nats/consumer.h"

#include <nats/nats.h>

#include <algorithm>
#include <cstdlib>

#include "common/log.h"
#include "nats/nats_status.h"

namespace tyto::nats {
namespace {

const log::Logger kLog("nats");

using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

int64_t Nanos(milliseconds d) { return static_cast<int64_t>(d.count()) * 1000000; }

// "<prefix>.<tenant>.<kind>" -> tenant and kind; false when the subject has another shape.
bool ParseSubject(std::string_view subject, std::string_view prefix, std::string_view* tenant,
                  std::string_view* kind) {
  if (subject.size() <= prefix.size() + 1 || subject.substr(0, prefix.size()) != prefix ||
      subject[prefix.size()] != '.') {
    return false;
  }
  std::string_view rest = subject.substr(prefix.size() + 1);
  size_t dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  *tenant = rest.substr(0, dot);
  *kind = rest.substr(dot + 1);
  return !kind->empty() && kind->find('.') == std::string_view::npos;
}

std::string_view HeaderValue(natsMsg* msg, const char* name) {
  const char* v = nullptr;
  if (natsMsgHeader_Get(msg, name, &v) != NATS_OK || v == nullptr) return {};
  return v;
}

}  // namespace

struct Consumer::Worker {
  int index = 0;
  natsSubscription* sub = nullptr;
  // The messages of the last fetch not yet answered (the one at the sink and those waiting
  // behind it), guarded by the consumer's mu_: each gets the progress notes, so none is given to
  // another server while it waits here. last_progress: when JetStream last heard of them (the
  // fetch, then each note).
  std::vector<natsMsg*> held;
  SteadyTime last_progress;
};

Result<std::unique_ptr<Consumer>> Consumer::Create(Connection* conn, Sink sink, ConsumerOptions options) {
  if (!sink) return InvalidArgument("nats consumer: no sink");
  if (options.workers == 0) options.workers = conn->config().consumer_workers;
  if (options.workers < 1 || options.workers > 64) {
    return InvalidArgument("nats consumer: workers " + std::to_string(options.workers) + ": want 1 to 64");
  }
  if (options.fetch_batch < 1 || options.fetch_batch > 1024) {
    return InvalidArgument("nats consumer: fetch_batch: want 1 to 1024");
  }
  if (options.fetch_wait.count() < 1 || options.retry_wait.count() < 1 || options.min_redelivery_delay.count() < 0 ||
      options.max_redelivery_delay < options.min_redelivery_delay) {
    return InvalidArgument("nats consumer: fetch_wait and retry_wait must be positive, and min <= max redelivery delay");
  }
  return std::unique_ptr<Consumer>(new Consumer(conn, std::move(sink), options));
}

Consumer::Consumer(Connection* conn, Sink sink, ConsumerOptions options)
    : conn_(conn), sink_(std::move(sink)), options_(options) {}

Consumer::~Consumer() { Stop(); }

void Consumer::Start() {
  MutexLock lock(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  for (int i = 0; i < options_.workers; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) {
    Worker* wp = w.get();
    threads_.emplace_back([this, wp] { Run(wp); });
  }
  keepalive_ = std::thread([this] { KeepAlive(); });
}

void Consumer::Stop() {
  stopping_ = true;
  {
    MutexLock lock(&mu_);
    cv_.notify_all();
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  if (keepalive_.joinable()) keepalive_.join();
  for (auto& w : workers_) {
    if (w->sub != nullptr) {
      // Destroy, not Unsubscribe: the durable consumer stays for the next start (libnats 3.4
      // deletes only on Unsubscribe or Drain, and only consumers it created itself).
      natsSubscription_Destroy(w->sub);
      w->sub = nullptr;
    }
  }
}

ConsumerStats Consumer::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

void Consumer::Pause(milliseconds d) {
  MutexLock lock(&mu_);
  if (!stopping_) cv_.wait_for(mu_.native(), d);
}

Status Consumer::EnsureConsumer() {
  TYTO_RETURN_IF_ERROR(conn_->EnsureStream());
  const NatsConfig& c = conn_->config();
  const std::string filter = c.subject_prefix + ".>";
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = c.durable.c_str();
  cc.Description = "Tyto servers";
  cc.DeliverPolicy = js_DeliverAll;
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = Nanos(c.ack_wait);
  cc.MaxDeliver = -1;
  cc.FilterSubject = filter.c_str();
  cc.MaxAckPending = c.max_ack_pending;

  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&ci, conn_->jetstream(), c.stream.c_str(), c.durable.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr) {
    jerr = static_cast<jsErrCode>(0);
    s = js_AddConsumer(&ci, conn_->jetstream(), c.stream.c_str(), &cc, nullptr, &jerr);
    if (ci != nullptr) jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK) {
      return FromNats(s, "nats: creating consumer " + c.durable + " on stream " + c.stream + " at " + conn_->server(),
                      jerr);
    }
    kLog.Info("created the durable consumer", {{"stream", c.stream}, {"durable", c.durable}});
    return Status::Ok();
  }
  if (s != NATS_OK) {
    return FromNats(s, "nats: reading consumer " + c.durable + " on stream " + c.stream + " at " + conn_->server(),
                    jerr);
  }
  const jsConsumerConfig* have = ci->Config;
  const bool differs = have == nullptr || have->AckWait != cc.AckWait || have->MaxAckPending != cc.MaxAckPending;
  const bool incompatible = have != nullptr && (have->AckPolicy != js_AckExplicit || have->FilterSubject == nullptr ||
                                                filter != have->FilterSubject);
  jsConsumerInfo_Destroy(ci);
  if (incompatible) {
    return FailedPrecondition("nats: consumer " + c.durable + " on stream " + c.stream +
                              " exists with another filter subject or acknowledgement policy than Tyto needs (" +
                              filter + ", explicit); delete it or choose another nats.durable");
  }
  if (!differs) return Status::Ok();
  ci = nullptr;
  jerr = static_cast<jsErrCode>(0);
  s = js_UpdateConsumer(&ci, conn_->jetstream(), c.stream.c_str(), &cc, nullptr, &jerr);
  if (ci != nullptr) jsConsumerInfo_Destroy(ci);
  if (s != NATS_OK) {
    // The old limits still deliver every message; say so and go on.
    kLog.Warn("could not update the durable consumer's ack_wait or max_ack_pending",
              {{"durable", c.durable}, {"error", FromNats(s, "update", jerr)}});
  }
  return Status::Ok();
}

void Consumer::Run(Worker* w) {
  const NatsConfig& c = conn_->config();
  const std::string filter = c.subject_prefix + ".>";
  uint64_t failures = 0;
  while (!stopping_) {
    if (w->sub == nullptr) {
      Status s = EnsureConsumer();
      if (s.ok()) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = c.request_timeout.count();
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = c.stream.c_str();
        so.Consumer = c.durable.c_str();
        jsErrCode jerr = static_cast<jsErrCode>(0);
        s = FromNats(js_PullSubscribe(&w->sub, conn_->jetstream(), filter.c_str(), c.durable.c_str(), &jo, &so, &jerr),
                     "nats: subscribing to consumer " + c.durable, jerr);
        if (!s.ok()) w->sub = nullptr;
      }
      if (!s.ok()) {
        if (failures++ % 30 == 0) {
          kLog.Error("cannot consume from NATS yet; retrying", {{"error", s}, {"worker", w->index}});
        }
        Pause(options_.retry_wait);
        continue;
      }
      if (failures > 0) kLog.Info("consuming from NATS again", {{"worker", w->index}});
      failures = 0;
    }

    natsMsgList list = {nullptr, 0};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = natsSubscription_Fetch(&list, w->sub, options_.fetch_batch, options_.fetch_wait.count(), &jerr);
    if (s == NATS_TIMEOUT) continue;  // nothing to do
    if (s != NATS_OK) {
      Status st = FromNats(s, "nats: fetching from consumer " + c.durable, jerr);
      natsMsgList_Destroy(&list);
      if (failures++ % 30 == 0) kLog.Warn("fetching from NATS failed; retrying", {{"error", st}, {"worker", w->index}});
      if (s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr || jerr == JSStreamNotFoundErr ||
          s == NATS_INVALID_SUBSCRIPTION || s == NATS_CONNECTION_CLOSED) {
        natsSubscription_Destroy(w->sub);  // subscribe again (and re-create what went missing)
        w->sub = nullptr;
      }
      Pause(options_.retry_wait);
      continue;
    }
    failures = 0;
    {
      MutexLock lock(&mu_);
      w->held.assign(list.Msgs, list.Msgs + list.Count);
      w->last_progress = std::chrono::steady_clock::now();
    }
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* msg = list.Msgs[i];
      list.Msgs[i] = nullptr;  // ours now
      if (stopping_) {
        Release(w, msg);
        (void)natsMsg_Nak(msg, nullptr);  // delivered again at once, to whoever is still running
        natsMsg_Destroy(msg);
        continue;
      }
      Handle(w, msg);
      natsMsg_Destroy(msg);
    }
    natsMsgList_Destroy(&list);
  }
}

void Consumer::Handle(Worker* w, natsMsg* msg) {
  const NatsConfig& c = conn_->config();
  Metrics* m = conn_->metrics();
  Message message;
  message.subject = natsMsg_GetSubject(msg) != nullptr ? natsMsg_GetSubject(msg) : "";
  message.payload = std::string_view(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK && meta != nullptr) {
    message.stream_sequence = meta->Sequence.Stream;
    message.deliveries = std::max<uint64_t>(1, meta->NumDelivered);
    message.stored_ms = meta->Timestamp > 0 ? meta->Timestamp / 1'000'000 : 0;  // nanoseconds in the metadata
    jsMsgMetaData_Destroy(meta);
  }
  const char** keys = nullptr;
  int nkeys = 0;
  if (natsMsgHeader_Keys(msg, &keys, &nkeys) == NATS_OK && keys != nullptr) {
    for (int i = 0; i < nkeys; ++i) message.headers.emplace_back(keys[i], HeaderValue(msg, keys[i]));
    free(static_cast<void*>(keys));
  }
  message.content_type = HeaderValue(msg, std::string(kContentTypeHeader).c_str());
  message.content_encoding = HeaderValue(msg, std::string(kContentEncodingHeader).c_str());
  message.id = HeaderValue(msg, std::string(kMsgIdHeader).c_str());
  {
    // Waited here longer than ack_wait without a progress note (this process was starved)?
    // Then JetStream may have given it to another server meanwhile: the store must look for an
    // earlier copy, as for a redelivery.
    MutexLock lock(&mu_);
    if (std::chrono::steady_clock::now() - w->last_progress >= c.ack_wait) {
      message.deliveries = std::max<uint64_t>(message.deliveries, 2);
    }
  }
  if (message.deliveries > 1) {
    m->redeliveries.Inc();
    MutexLock lock(&mu_);
    ++stats_.redelivered;
  }

  std::string_view tenant, kind_name;
  std::optional<Kind> kind;
  if (ParseSubject(message.subject, c.subject_prefix, &tenant, &kind_name)) kind = ParseKind(kind_name);
  Status result;
  if (!kind) {
    result = InvalidArgument("subject " + std::string(message.subject) + " is not " + c.subject_prefix +
                             ".<tenant>.<metrics|spans|logs|events>");
  } else {
    message.tenant = tenant;
    message.kind = *kind;
    const auto start = std::chrono::steady_clock::now();
    result = sink_(message);
    m->sink_duration.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  Release(w, msg);  // no more progress notes: it is answered next
  const std::string_view kind_label = kind ? KindName(*kind) : std::string_view("unknown");

  if (result.ok()) {
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = natsMsg_AckSync(msg, nullptr, &jerr);
    if (s == NATS_OK) {
      m->messages.WithLabels({kind_label, "acked"}).Inc();
      MutexLock lock(&mu_);
      ++stats_.acked;
      return;
    }
    m->messages.WithLabels({kind_label, "ack_failed"}).Inc();
    kLog.Warn("a stored message's acknowledgement did not reach NATS; it will be delivered again",
              {{"subject", message.subject},
               {"stream_sequence", message.stream_sequence},
               {"error", FromNats(s, "ack", jerr)}});
    MutexLock lock(&mu_);
    ++stats_.ack_failed;
    return;
  }
  if (result.code() == StatusCode::kInvalidArgument) {
    (void)natsMsg_Term(msg, nullptr);
    m->messages.WithLabels({kind_label, "invalid"}).Inc();
    kLog.Error("a NATS message can never be stored; dropping it",
               {{"subject", message.subject},
                {"stream_sequence", message.stream_sequence},
                {"id", message.id},
                {"bytes", message.payload.size()},
                {"error", result}});
    MutexLock lock(&mu_);
    ++stats_.invalid;
    return;
  }
  milliseconds delay = options_.min_redelivery_delay;
  for (uint64_t i = 1; i < message.deliveries && delay < options_.max_redelivery_delay; ++i) delay *= 2;
  delay = std::min(delay, options_.max_redelivery_delay);
  (void)natsMsg_NakWithDelay(msg, delay.count(), nullptr);
  m->messages.WithLabels({kind_label, "retried"}).Inc();
  kLog.Warn("storing a NATS message failed; it will be delivered again",
            {{"subject", message.subject},
             {"stream_sequence", message.stream_sequence},
             {"deliveries", message.deliveries},
             {"retry_in_ms", delay.count()},
             {"error", result}});
  MutexLock lock(&mu_);
  ++stats_.retried;
}

void Consumer::Release(Worker* w, natsMsg* msg) {
  MutexLock lock(&mu_);
  std::erase(w->held, msg);
}

void Consumer::KeepAlive() {
  const milliseconds every = std::max(milliseconds(100), conn_->config().ack_wait / 3);
  MutexLock lock(&mu_);
  while (!stopping_) {
    cv_.wait_for(mu_.native(), std::min(every, milliseconds(1000)));
    const SteadyTime now = std::chrono::steady_clock::now();
    for (auto& w : workers_) {
      if (w->held.empty() || now - w->last_progress < every) continue;
      for (natsMsg* msg : w->held) (void)natsMsg_InProgress(msg, nullptr);
      w->last_progress = now;
    }
  }
}

}  // namespace tyto::nats
