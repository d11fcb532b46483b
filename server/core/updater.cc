#include "server/core/updater.h"
#include "common/log.h"
#include "model/frozen_table.h"
#include "common/thread_name.h"

#include <algorithm>
#include <cstdio>
#include <future>
#include <span>

namespace streamrec::core {

using SteadyClock = std::chrono::steady_clock;

namespace {

PublishPolicy MakePolicy(const UpdaterOptions& o) {
  PublishPolicy p;
  p.min_interval = std::chrono::milliseconds(o.publish_interval_ms);
  p.every_events = o.publish_every_events;
  p.max_share = o.max_publish_share;
  return p;
}

}  // namespace

Updater::Updater(std::unique_ptr<model::Model> model, EventQueue* queue, BatchInbox* inbox,
                 SnapshotSlot* slot, UpdaterOptions options, PersistFn persist)
    : config_(model->config()),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : RealClock()),
      policy_(MakePolicy(options)),
      queue_(queue),
      inbox_(inbox),
      slot_(slot),
      persist_(std::move(persist)),
      model_(std::move(model)),
      adaptive_interval_(policy_.min_interval),
      metrics_(options.metrics_window) {
  // Predictions are only read at batch boundaries (the metrics take a batch's points
  // when it is applied), so a mini-batch model may score a batch at once.
  deferred_ = model_->DeferPredictions(true);
  slot_->Exchange(model_->Publish(version_, 0, nullptr));
  jump_id_ = clock_->OnJump([inbox] { inbox->Wake(); });  // a deadline may have passed
}

Updater::~Updater() {
  Stop();
  clock_->RemoveOnJump(jump_id_);
}

void Updater::Restore(const Checkpoint& c, bool persisted) {
  version_ = c.version;
  applied_ = c.events_applied;
  skipped_ = c.updates_skipped;
  last_seq_ = c.last_seq;
  boundary_seq_ = c.last_seq;
  boundary_applied_ = c.events_applied;
  pending_points_.clear();
  model_->DiscardPending();
  if (persisted) {  // as snapshot c.version
    last_ticket_ = std::make_shared<PersistTicket>(c.version);
    last_ticket_->Complete(absl::OkStatus());
    checkpoint_last_seq_ = c.last_seq;
    MutexLock lock(&stats_mu_);
    stats_.persisted_version = c.version;
  } else {
    last_ticket_.reset();
    changed_since_persist_ = true;
  }
  retired_.push_back(slot_->Exchange(model_->Publish(version_, boundary_applied_, nullptr)));
  {
    MutexLock lock(&stats_mu_);
    metrics_.ImportState(c.metrics);
    stats_.nonzero_parameters = model_->nonzero_parameters();  // of what is served now
  }
  UpdateCounters();
}

void Updater::Replay(const EventBatch& batch) {
  TrainBatch(batch);
  replayed_ += batch.flush ? 1 : batch.examples.size();
  unpublished_.clear();  // replayed events were acknowledged before the restart
}

void Updater::Start() {
  if (thread_.joinable()) return;
  // Before a crash, at most one version was published per event trained after the
  // restored snapshot, and every such event is in the log: skipping that many versions
  // keeps model_version monotonic across the crash. (Swaps of the model, which publish
  // without an event, write their snapshot before they publish.)
  if (replayed_ > 0) {
    version_ += replayed_ - 1;
    Publish(true);
    replayed_ = 0;
  }
  stop_.store(false);
  last_arrival_ = clock_->Now();
  flush_requested_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Updater::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  inbox_->Wake();
  thread_.join();
}

void Updater::Post(std::function<void()> command) {
  {
    MutexLock lock(&commands_mu_);
    commands_.push_back(std::move(command));
    has_commands_.store(true);
  }
  inbox_->Wake();
}

UpdaterStats Updater::Counters() const {
  MutexLock lock(&stats_mu_);
  return stats_;
}

UpdaterStats Updater::Stats() const {
  UpdaterStats stats;
  std::unique_ptr<model::StreamMetrics> metrics;
  std::unique_ptr<LatencyRing> latencies;
  {
    MutexLock lock(&stats_mu_);
    stats = stats_;
    metrics = std::make_unique<model::StreamMetrics>(metrics_);
    latencies = std::make_unique<LatencyRing>(latencies_);
  }
  // The expensive parts (window AUC, percentiles) run on copies, outside the lock.
  stats.overall = metrics->Overall();
  stats.window = metrics->Window();
  stats.ack_to_publish_p50_ms = latencies->Percentile(0.5);
  stats.ack_to_publish_p99_ms = latencies->Percentile(0.99);
  return stats;
}

void Updater::RunCommands() {
  if (!has_commands_.load()) return;
  std::vector<std::function<void()>> commands;
  {
    MutexLock lock(&commands_mu_);
    commands.swap(commands_);
    has_commands_.store(false);
  }
  for (auto& c : commands) c();
}

void Updater::Run() {
  SetThreadName("sr-updater");
  const auto persist_interval = std::chrono::milliseconds(options_.persist_interval_ms);
  auto next_publish = clock_->Now() + adaptive_interval_;
  const bool periodic_persist = persist_ && options_.persist_interval_ms > 0;
  auto next_persist = clock_->Now() + persist_interval;
  for (;;) {
    const bool stopping = stop_.load();
    RunCommands();
    std::unique_ptr<EventBatch> batch = inbox_->Pop();
    const bool trained = batch != nullptr;
    if (trained) {
      if (!batch->flush) last_arrival_ = clock_->Now();
      const auto train_start = SteadyClock::now();
      TrainBatch(*batch);
      histograms_.batch_seconds.Observe(
          std::chrono::duration<double>(SteadyClock::now() - train_start).count());
      const bool marker = batch->flush;  // holds no queue places
      const size_t admitted = batch->admitted;
      const size_t bytes = batch->bytes_reserved ? batch->bytes : 0;
      batch.reset();  // free on this thread before making room
      if (!marker) queue_->Release(admitted, bytes);
    } else if (stopping) {
      break;
    }
    const auto now = clock_->Now();
    if (!stopping) MaybeRequestFlush(now);
    if (policy_.Due(applied_since_publish_, now, next_publish)) {
      Publish(false);
      next_publish = clock_->Now() + adaptive_interval_;
    }
    if (periodic_persist && now >= next_persist) {
      if (!Persisted()) PersistNow([](absl::StatusOr<uint64_t>) {});  // failures are logged
      next_persist = clock_->Now() + persist_interval;
    }
    FreeUnreferenced();
    if (!trained) {
      auto deadline = applied_since_publish_ > 0 ? next_publish
                                                 : clock_->Now() + std::chrono::seconds(1);
      if (periodic_persist) deadline = std::min(deadline, next_persist);
      if (FlushArmed()) {
        deadline = std::min(deadline, last_arrival_ + std::chrono::milliseconds(
                                                          options_.flush_partial_batch_ms));
      }
      // Wait that long in real time; a clock that jumps wakes the inbox (OnJump).
      inbox_->WaitUntil(SteadyClock::now() + (deadline - clock_->Now()));
    }
  }
  RunCommands();
  FlushAtStop();
  if (applied_since_publish_ > 0) Publish(false);
  if (persist_) {
    // Wait for the outcome of the last write first: if it failed, the state it held is
    // not on disk and the final checkpoint must write it.
    if (last_ticket_) last_ticket_->Wait().IgnoreError();  // Persisted() reads the outcome
    if (!Persisted()) {
      final_persist_status_ = PersistAndWait().status();
      if (!final_persist_status_.ok()) {
        log::Error("persisting the final snapshot failed",
                   {{"error", std::string(final_persist_status_.message())}});
      }
    }
  }
  FreeUnreferenced();
}

bool Updater::FlushArmed() const {
  return options_.flush_partial_batch_ms > 0 && flush_path_.request && !flush_requested_ &&
         model_->pending_events() > 0;
}

void Updater::MaybeRequestFlush(Clock::TimePoint now) {
  if (flush_failed_.exchange(false)) {
    // The marker was not logged (the disk refused the write): ask again after another
    // idle period.
    flush_requested_ = false;
    last_arrival_ = now;
  }
  if (!FlushArmed() ||
      now - last_arrival_ < std::chrono::milliseconds(options_.flush_partial_batch_ms)) {
    return;
  }
  flush_requested_ = true;
  flush_path_.request([this](const absl::Status& s) {
    if (s.ok()) return;
    flush_failed_.store(true);
    inbox_->Wake();
  });
}

void Updater::FlushAtStop() {
  if (options_.flush_partial_batch_ms <= 0 || !flush_path_.append_now ||
      model_->pending_events() == 0) {
    return;
  }
  absl::StatusOr<uint64_t> seq = flush_path_.append_now();
  if (!seq.ok()) {
    log::Warning("logging the flush marker of the stop failed: the pending events stay "
                 "unapplied (a logged event is replayed at the next start)",
                 {{"pending_events", model_->pending_events()},
                  {"error", std::string(seq.status().message())}});
    return;
  }
  EventBatch marker;
  marker.flush = true;
  marker.first_seq = *seq;
  marker.accepted_at = SteadyClock::now();
  TrainBatch(marker);
}

void Updater::TakeBatchPredictions() {
  if (!deferred_) return;
  // The batch just applied: the events since the last boundary, whose points wait in
  // pending_points_ with a placeholder prediction.
  const std::span<const double> p = model_->BatchPredictions();
  const size_t n = std::min(p.size(), pending_points_.size());
  const size_t first = pending_points_.size() - n;
  for (size_t e = 0; e < n; ++e) {
    pending_points_[first + e][0] = static_cast<float>(p[p.size() - n + e]);
  }
}

void Updater::TrainFlush(uint64_t seq) {
  if (model_->pending_events() > 0) ++flushes_;  // else a no-op: a batch filled meanwhile
  skipped_ += !model_->FlushPending();
  TakeBatchPredictions();
  flush_requested_ = false;
  // Everything up to the marker is in the tables now: a batch boundary at its number.
  last_seq_ = seq;
  boundary_seq_ = seq;
  boundary_applied_ = applied_;
  changed_since_persist_ = true;
  ++applied_since_publish_;  // the flushed batch publishes like a full one
  {
    MutexLock lock(&stats_mu_);
    for (const auto& [p, y, w] : pending_points_) metrics_.Add(p, y, w);
    stats_.flushes = flushes_;
  }
  pending_points_.clear();
  UpdateCounters();
}

void Updater::TrainBatch(const EventBatch& batch) {
  if (batch.flush) return TrainFlush(batch.first_seq);
  batch_points_.clear();
  for (size_t i = 0; i < batch.examples.size(); ++i) {
    const model::Example& example = batch.examples[i];
    const model::TrainResult r = model_->Train(example);
    pending_points_.push_back({static_cast<float>(r.prediction), example.label, example.weight});
    skipped_ += r.skipped_nonfinite;
    if (model_->pending_events() == 0) {  // a batch boundary (every event, for most models)
      TakeBatchPredictions();
      boundary_seq_ = batch.first_seq + i;
      boundary_applied_ = applied_ + i + 1;
      batch_points_.insert(batch_points_.end(), pending_points_.begin(), pending_points_.end());
      pending_points_.clear();
      changed_since_persist_ = true;
    }
  }
  applied_ += batch.examples.size();
  applied_since_publish_ += batch.examples.size();
  if (!batch.examples.empty()) last_seq_ = batch.first_seq + batch.examples.size() - 1;
  unpublished_.emplace_back(batch.accepted_at, batch.examples.size());
  {
    MutexLock lock(&stats_mu_);
    for (const auto& [p, y, w] : batch_points_) metrics_.Add(p, y, w);
  }
  UpdateCounters();
}

void Updater::UpdateCounters() {
  MutexLock lock(&stats_mu_);
  stats_.events_applied = applied_;
  stats_.updates_skipped_nonfinite = skipped_;
  stats_.last_seq = last_seq_;
  stats_.model_version = version_;
}

void Updater::Publish(bool force) {
  applied_since_publish_ = 0;
  if (!force && !model_->HasChanges()) {  // e.g. only weight-0 events since the last one
    unpublished_.clear();
    return;
  }
  // Publication cost and ack-to-publish latency are measured in real time (the
  // acknowledgement times are), whatever clock paces the intervals.
  const auto start = SteadyClock::now();
  model::PublishCost cost;
  retired_.push_back(slot_->Exchange(model_->Publish(++version_, boundary_applied_, &cost)));
  const auto published_at = SteadyClock::now();
  const auto took = published_at - start;
  ++publications_;
  publish_micros_total_ += std::chrono::duration<double, std::micro>(took).count();
  adaptive_interval_ = policy_.NextInterval(took);
  histograms_.publish_seconds.Observe(std::chrono::duration<double>(took).count());
  histograms_.publish_bytes.fetch_add(cost.chunks_copied * model::kChunkFloats * sizeof(float),
                                      std::memory_order_relaxed);
  for (const auto& [accepted_at, events] : unpublished_) {
    histograms_.freshness_seconds.Observe(
        std::chrono::duration<double>(published_at - accepted_at).count(), events);
  }
  MutexLock lock(&stats_mu_);
  for (const auto& [accepted_at, events] : unpublished_) {
    latencies_.Add(std::chrono::duration<double, std::milli>(published_at - accepted_at).count(),
                   events);
  }
  unpublished_.clear();
  stats_.publications = publications_;
  stats_.model_version = version_;
  stats_.nonzero_parameters = model_->nonzero_parameters();
  stats_.last_publish_chunks = cost.chunks_copied;
  stats_.publish_micros_mean = publish_micros_total_ / publications_;
}

bool Updater::Persisted() {
  if (last_ticket_ == nullptr) return false;
  if (last_ticket_->Failed()) changed_since_persist_ = true;  // its state is not on disk
  return !changed_since_persist_;
}

std::shared_ptr<PersistTicket> Updater::NewTicket(uint64_t version) {
  auto ticket = std::make_shared<PersistTicket>(version);
  // Counters follow the write's outcome (on the writer's thread; stats_mu_ is a leaf).
  ticket->Then([this](absl::StatusOr<uint64_t> v) {
    MutexLock lock(&stats_mu_);
    if (v.ok()) {
      ++stats_.persists_written;
      stats_.persisted_version = std::max(stats_.persisted_version, *v);
    } else {
      ++stats_.persist_failures;
      log::Warning("persisting a snapshot failed (the next one writes everything)",
                   {{"error", std::string(v.status().message())}});
    }
  });
  return ticket;
}

void Updater::PersistNow(PersistDone done) {
  if (!persist_) return done(absl::FailedPreconditionError("persistence is off"));
  if (Persisted()) return last_ticket_->Then(std::move(done));
  // A checkpoint names one published state: publish first when anything is pending, or
  // when only weight-0 events moved last_seq since the previous checkpoint of this
  // version.
  // (A restored state that is not on disk also gets a new version: its own may name a
  // lost snapshot.)
  if (applied_since_publish_ > 0 || model_->HasChanges() ||
      (last_ticket_ && last_ticket_->version() == version_ &&
       checkpoint_last_seq_ != boundary_seq_) ||
      (!last_ticket_ && version_ > 0)) {
    Publish(true);
  }
  Checkpoint c;
  c.version = version_;
  c.last_seq = boundary_seq_;
  c.events_applied = boundary_applied_;
  c.updates_skipped = skipped_;
  {
    MutexLock lock(&stats_mu_);
    c.metrics = metrics_.ExportState();
  }
  std::shared_ptr<PersistTicket> ticket = NewTicket(version_);
  const auto start = SteadyClock::now();
  absl::Status s = persist_(*model_, c, ticket);
  const auto capture_took = SteadyClock::now() - start;
  histograms_.persist_capture_seconds.Observe(std::chrono::duration<double>(capture_took).count());
  {
    MutexLock lock(&stats_mu_);
    stats_.last_persist_ms = std::chrono::duration<double, std::milli>(capture_took).count();
    if (s.ok()) ++stats_.persists;
  }
  if (!s.ok()) {
    ticket->Complete(s);
    return done(s);
  }
  last_ticket_ = ticket;
  checkpoint_last_seq_ = boundary_seq_;
  changed_since_persist_ = false;
  ticket->Then(std::move(done));
}

absl::StatusOr<uint64_t> Updater::PersistAndWait() {
  std::promise<absl::StatusOr<uint64_t>> result;
  PersistNow([&result](absl::StatusOr<uint64_t> v) { result.set_value(std::move(v)); });
  return result.get_future().get();
}

void Updater::AtBoundary() {
  model_->DiscardPending();
  boundary_seq_ = last_seq_;
  boundary_applied_ = applied_;
  pending_points_.clear();  // dropped with their events (NextCheckpoint's metrics lack them)
}

uint64_t Updater::AdoptLoadedState() {
  AtBoundary();
  changed_since_persist_ = true;
  Publish(true);
  UpdateCounters();
  return version_;
}

Checkpoint Updater::NextCheckpoint() {
  // Of the state about to be loaded, which stands at the current last_seq (pending events
  // are dropped by the load: AdoptPersistedState).
  Checkpoint c;
  c.version = version_ + 1;
  c.last_seq = last_seq_;
  c.events_applied = applied_;
  c.updates_skipped = skipped_;
  MutexLock lock(&stats_mu_);
  c.metrics = metrics_.ExportState();
  return c;
}

void Updater::AdoptPersistedState(const Checkpoint& written) {
  // The tables were overwritten wholesale: events a mini-batch model holds back belong to
  // the state before, which the swap (recorded at the current log position) replaces.
  AtBoundary();
  version_ = written.version - 1;
  Publish(true);  // exactly written.version
  last_ticket_ = std::make_shared<PersistTicket>(written.version);
  last_ticket_->Complete(absl::OkStatus());
  checkpoint_last_seq_ = written.last_seq;
  changed_since_persist_ = boundary_seq_ != written.last_seq;
  UpdateCounters();
  MutexLock lock(&stats_mu_);
  ++stats_.persists;
  ++stats_.persists_written;
  stats_.persisted_version = written.version;
}

uint64_t Updater::SwapModel(std::unique_ptr<model::Model> model) {
  model_ = std::move(model);
  deferred_ = model_->DeferPredictions(true);
  model_->ResetPublishBase();
  return AdoptLoadedState();
}

void Updater::FreeUnreferenced() {
  // use_count() == 1 is exact here: a retired snapshot is no longer in the slot, so no
  // reader can gain a new reference to it.
  std::erase_if(retired_, [](const auto& s) { return s.use_count() == 1; });
}

}  // namespace streamrec::core
