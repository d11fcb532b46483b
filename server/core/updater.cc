#include "server/core/updater.h"

#include <algorithm>

namespace streamrec::core {

using Clock = std::chrono::steady_clock;

Updater::Updater(std::unique_ptr<model::Model> model, EventQueue* queue, SnapshotSlot* slot,
                 UpdaterOptions options)
    : config_(model->config()),
      options_(options),
      queue_(queue),
      slot_(slot),
      model_(std::move(model)),
      adaptive_interval_(std::chrono::milliseconds(options.publish_interval_ms)),
      metrics_(options.metrics_window) {
  slot_->Exchange(model_->Publish(version_, 0, nullptr));
}

Updater::~Updater() { Stop(); }

void Updater::Start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] { Run(); });
}

void Updater::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  paused_.store(false);
  queue_->Wake();
  thread_.join();
}

void Updater::SetPausedForTesting(bool paused) {
  paused_.store(paused);
  queue_->Wake();
}

UpdaterStats Updater::Counters() const {
  MutexLock lock(&stats_mu_);
  return stats_;
}

UpdaterStats Updater::Stats() const {
  UpdaterStats stats;
  std::unique_ptr<model::StreamMetrics> metrics;
  std::vector<std::pair<double, size_t>> latencies;
  {
    MutexLock lock(&stats_mu_);
    stats = stats_;
    metrics = std::make_unique<model::StreamMetrics>(metrics_);
    latencies = latencies_;
  }
  // The expensive parts (window AUC, percentiles) run on copies, outside the lock.
  stats.overall = metrics->Overall();
  stats.window = metrics->Window();
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    size_t total = 0;
    for (const auto& l : latencies) total += l.second;
    auto percentile = [&](double q) {
      size_t seen = 0;
      for (const auto& l : latencies) {
        seen += l.second;
        if (seen >= q * total) return l.first;
      }
      return latencies.back().first;
    };
    stats.ack_to_publish_p50_ms = percentile(0.5);
    stats.ack_to_publish_p99_ms = percentile(0.99);
  }
  return stats;
}

void Updater::Run() {
  auto next_publish = Clock::now() + adaptive_interval_;
  for (;;) {
    const bool stopping = stop_.load();
    std::unique_ptr<EventBatch> batch;
    if (!paused_.load()) batch = queue_->TryPop();
    const bool trained = batch != nullptr;
    if (trained) {
      TrainBatch(*batch);
      const size_t n = batch->examples.size();
      batch.reset();  // free on this thread before making room
      queue_->Release(n);
    } else if (stopping) {
      break;
    }
    const auto now = Clock::now();
    if (applied_since_publish_ > 0 &&
        (now >= next_publish || applied_since_publish_ >= options_.publish_every_events)) {
      Publish();
      next_publish = Clock::now() + adaptive_interval_;
    }
    FreeUnreferenced();
    if (paused_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // test-only state
    } else if (!trained) {
      queue_->WaitForWork(applied_since_publish_ > 0 ? next_publish
                                                     : Clock::now() + std::chrono::seconds(1));
    }
  }
  if (applied_since_publish_ > 0) Publish();
  FreeUnreferenced();
}

void Updater::TrainBatch(const EventBatch& batch) {
  batch_points_.clear();
  for (const model::Example& example : batch.examples) {
    const model::TrainResult r = model_->Train(example);
    batch_points_.push_back(
        {static_cast<float>(r.prediction), example.label, example.weight});
    skipped_ += r.skipped_nonfinite;
  }
  applied_ += batch.examples.size();
  applied_since_publish_ += batch.examples.size();
  unpublished_.emplace_back(batch.accepted_at, batch.examples.size());
  MutexLock lock(&stats_mu_);
  for (const auto& [p, y, w] : batch_points_) metrics_.Add(p, y, w);
  stats_.events_applied = applied_;
  stats_.updates_skipped_nonfinite = skipped_;
}

void Updater::Publish() {
  applied_since_publish_ = 0;
  if (!model_->HasChanges()) {  // e.g. only weight-0 events since the last one
    unpublished_.clear();
    return;
  }
  const auto start = Clock::now();
  model::PublishCost cost;
  retired_.push_back(slot_->Exchange(model_->Publish(++version_, applied_, &cost)));
  const auto published_at = Clock::now();
  const auto took = published_at - start;
  ++publications_;
  publish_micros_total_ +=
      std::chrono::duration<double, std::micro>(took).count();
  // Adaptive interval: keep publication under max_publish_share of this thread's time.
  adaptive_interval_ = std::max<Clock::duration>(
      std::chrono::milliseconds(options_.publish_interval_ms),
      std::chrono::duration_cast<Clock::duration>(took / options_.max_publish_share));
  MutexLock lock(&stats_mu_);
  constexpr size_t kLatencySamples = 4096;
  for (const auto& [accepted_at, events] : unpublished_) {
    const double ms =
        std::chrono::duration<double, std::milli>(published_at - accepted_at).count();
    if (latencies_.size() < kLatencySamples) {
      latencies_.emplace_back(ms, events);
    } else {
      latencies_[latency_next_] = {ms, events};
      latency_next_ = (latency_next_ + 1) % kLatencySamples;
    }
  }
  unpublished_.clear();
  stats_.publications = publications_;
  stats_.model_version = version_;
  stats_.nonzero_parameters = model_->nonzero_parameters();
  stats_.last_publish_chunks = cost.chunks_copied;
  stats_.publish_micros_mean = publish_micros_total_ / publications_;
}

void Updater::FreeUnreferenced() {
  // use_count() == 1 is exact here: a retired snapshot is no longer in the slot, so no
  // reader can gain a new reference to it.
  std::erase_if(retired_, [](const auto& s) { return s.use_count() == 1; });
}

}  // namespace streamrec::core
