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

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "model/model.h"
#include "model/progressive_metrics.h"
#include "server/core/event_queue.h"
#include "server/core/mutex.h"
#include "server/core/snapshot_slot.h"

namespace streamrec::core {

struct UpdaterOptions {
  int publish_interval_ms = 20;
  uint64_t publish_every_events = 10000;
  double max_publish_share = 0.2;
};

struct UpdaterStats {
  uint64_t events_applied = 0;
  uint64_t updates_skipped_nonfinite = 0;
  uint64_t publications = 0;
  uint64_t model_version = 0;
  uint64_t nonzero_parameters = 0;
  uint64_t last_publish_chunks = 0;
  double publish_micros_mean = 0;
  model::MetricsSummary progressive;
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

  UpdaterStats Stats() const;
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
  model::ProgressiveMetrics metrics_;
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
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_UPDATER_H_
