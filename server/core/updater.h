// Updater: the one thread that trains. It drains the EventQueue in order, scores each
// event before learning from it (progressive validation), trains the Model, and
// publishes immutable snapshots into the SnapshotSlot that Predict reads.
//
// Publication: every `publish_interval_ms`, or as soon as `publish_every_events`
// events were applied, whichever comes first, and only if a weight changed. Versions
// increase by one per publication. Copying costs in proportion to the chunks changed
// (model/frozen_table.h); when updates spread over the whole table that can approach
// the model size, so the interval adapts: after a publication that took d, the next one
// waits at least d / max_publish_share, which keeps publication below that share of the
// updater's time whatever the update pattern.
//
// Reclamation: a replaced snapshot is kept in a retire list and freed here once no
// reader holds it, so readers never pay for freeing.
//
// Threads: the constructor, Start, Stop from one owner thread; Stats and
// SetPausedForTesting from any thread. The Model is touched only by the updater thread.
#ifndef STREAMREC_SERVER_CORE_UPDATER_H_
#define STREAMREC_SERVER_CORE_UPDATER_H_

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "model/model.h"
#include "model/stream_metrics.h"
#include "server/core/event_queue.h"
#include "server/core/mutex.h"
#include "server/core/snapshot_slot.h"

namespace streamrec::core {

struct UpdaterOptions {
  int publish_interval_ms = 20;
  uint64_t publish_every_events = 10000;
  double max_publish_share = 0.2;
  // Events in the sliding window of the recent progressive metrics.
  size_t metrics_window = 10000;
};

struct UpdaterStats {
  uint64_t events_applied = 0;
  uint64_t updates_skipped_nonfinite = 0;
  uint64_t publications = 0;
  uint64_t model_version = 0;
  uint64_t nonzero_parameters = 0;
  uint64_t last_publish_chunks = 0;
  double publish_micros_mean = 0;
  // Progressive validation since start, and over the last metrics_window events.
  model::MetricValues overall;
  model::MetricValues window;
  // Time from a batch's acceptance to the publication of a snapshot that includes it,
  // over the last 4096 batches (milliseconds).
  double ack_to_publish_p50_ms = 0;
  double ack_to_publish_p99_ms = 0;
};

class Updater {
 public:
  // Publishes version 0 (the untrained model) into `slot` before returning.
  Updater(std::unique_ptr<model::Model> model, EventQueue* queue, SnapshotSlot* slot,
          UpdaterOptions options);
  ~Updater();  // Stops if running.

  void Start();
  // Stop trains everything already queued, publishes, and joins the thread.
  void Stop();

  // Stats returns counters and metrics (computing the window's exact AUC: O(window
  // log window)); Counters returns the counters only, cheaply.
  UpdaterStats Stats() const;
  UpdaterStats Counters() const;
  const model::ModelConfig& config() const { return config_; }

  // SetPausedForTesting stops (true) or resumes (false) draining the queue, so tests
  // can fill it deterministically.
  void SetPausedForTesting(bool paused);

 private:
  void Run();
  void TrainBatch(const EventBatch& batch);
  void Publish();
  void FreeUnreferenced();

  // Constant after construction.
  const model::ModelConfig config_;
  const UpdaterOptions options_;
  EventQueue* const queue_;
  SnapshotSlot* const slot_;

  // Updater thread only.
  std::unique_ptr<model::Model> model_;
  // Predictions of the batch being trained, added to metrics_ once per batch.
  std::vector<std::array<float, 3>> batch_points_;
  // Acceptance times of the batches trained since the last publication.
  std::vector<std::pair<std::chrono::steady_clock::time_point, size_t>> unpublished_;
  std::vector<std::shared_ptr<const model::Snapshot>> retired_;
  uint64_t version_ = 0;
  uint64_t applied_ = 0;
  uint64_t applied_since_publish_ = 0;
  uint64_t skipped_ = 0;
  uint64_t publications_ = 0;
  double publish_micros_total_ = 0;
  std::chrono::steady_clock::duration adaptive_interval_{};

  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};
  std::thread thread_;

  mutable Mutex stats_mu_;
  UpdaterStats stats_ ABSL_GUARDED_BY(stats_mu_);
  model::StreamMetrics metrics_ ABSL_GUARDED_BY(stats_mu_);
  // Ring of (ack-to-publish latency in ms, events) over recent batches.
  std::vector<std::pair<double, size_t>> latencies_ ABSL_GUARDED_BY(stats_mu_);
  size_t latency_next_ ABSL_GUARDED_BY(stats_mu_) = 0;
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_UPDATER_H_
