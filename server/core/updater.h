// Updater: the one thread that trains. It takes sequenced batches from the BatchInbox in
// log order, scores each event before learning from it (progressive validation), trains
// the Model, publishes immutable snapshots into the SnapshotSlot that Predict reads, and
// persists checkpoints through a PersistFn.
//
// Publication: by the PublishPolicy (server/core/publish_policy.h): every
// `publish_interval_ms`, or as soon as `publish_every_events` events were applied,
// whichever comes first, only if a weight changed, with an interval that adapts to the
// cost of the last publication. Versions increase by one per publication. Intervals are
// read from the injected Clock (tests use a fake one).
//
// Persistence: every `persist_interval_ms` (when something was trained since the last
// checkpoint), on Stop, and on demand (a posted command calling PersistNow). A
// checkpoint is always of a published version, so a version number names one state.
// The PersistFn only captures; its owner writes later and completes the checkpoint's
// PersistTicket. A checkpoint counts as persisted only once written: a failed write
// marks the state changed again, so the next periodic or final checkpoint retries (and
// Stop waits for the outcome of every write before deciding whether a final one is
// needed).
//
// Mini-batch models (a DNN: Model::pending_events() > 0 between batch boundaries):
// checkpoints are of the last batch boundary. The checkpoint's last_seq and
// events_applied stop at the last event whose update is in the tables, the progressive
// metrics it carries cover the same events (the points of pending events join the
// metrics when their batch is applied), and publications carry the same count. A restart
// then replays the pending events from the log into a new batch that ends where the live
// one would have: the same events give the same parameters bit for bit. Stats count every
// event trained (scored), pending or not. A wholesale load (rollback, import) drops the
// pending events (DiscardPending): the loaded state stands at the current last_seq.
//
// Flushing a partial batch (issue 9: boundaries never depend on timing or request
// grouping, only on the log). When the model has pending events and no events have reached
// the updater for `flush_partial_batch_ms` (read on the injected Clock), the updater asks
// the log writer for a flush marker (FlushPath::request). The marker is sequenced and
// logged like an event, after every event logged before it (those pending ones included),
// and comes back through the inbox in log order (EventBatch::flush); there the updater
// calls Model::FlushPending, which applies the pending events, and the events that
// arrived meanwhile, as one partial batch. The marker is the batch boundary: the
// checkpoint's last_seq becomes the marker's sequence number, events_applied counts the
// events up to it, and it publishes as a batch does. One request is in flight at a time;
// a marker whose append failed is asked for again after another idle period. A clean
// Stop with pending events appends a last marker (FlushPath::append_now, the writer
// stopped) and flushes before its final publication and checkpoint, so a clean stop
// leaves nothing pending: nothing acknowledged is lost with --durability=none, and a
// restart replays nothing and serves the same model_version. Replay (recovery, and
// streamrec-verify offline) meets the same markers at the same sequence numbers and cuts
// the same batches, so live, replayed and verified parameters stay bit-identical.
// flush_partial_batch_ms = 0 disables both (batches are then only ever full; a clean stop
// with pending events checkpoints the boundary before them and the restart replays them
// from the log, publishing under a new version as after a crash). Per-event models never
// have pending events, so they never ask for a marker.
//
// Reclamation: a replaced snapshot is kept in a retire list and freed here once no
// reader holds it, so readers never pay for freeing.
//
// Threads: constructor, Restore, Replay, Start, Stop from one owner thread (Restore and
// Replay before Start); Stats, Counters, Post from any thread.
// Methods marked "updater thread" may be called only inside a posted command. The
// Model is touched only by the updater thread (or the owner before Start).
#ifndef STREAMREC_SERVER_CORE_UPDATER_H_
#define STREAMREC_SERVER_CORE_UPDATER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "model/model.h"
#include "model/stream_metrics.h"
#include "server/core/batch_inbox.h"
#include "server/core/clock.h"
#include "server/core/event_queue.h"
#include "server/core/histogram.h"
#include "server/core/latency_ring.h"
#include "server/core/mutex.h"
#include "server/core/persist_ticket.h"
#include "server/core/publish_policy.h"
#include "server/core/snapshot_slot.h"

namespace streamrec::core {

struct UpdaterOptions {
  int publish_interval_ms = 20;
  uint64_t publish_every_events = 10000;
  double max_publish_share = 0.2;
  // Events in the sliding window of the recent progressive metrics.
  size_t metrics_window = 10000;
  // Checkpoint period; 0 persists only on Stop and on demand.
  int64_t persist_interval_ms = 10000;
  // Idle time after which a mini-batch model's pending events are flushed as a partial
  // batch (through a flush marker in the log), and whether a clean stop flushes them;
  // 0 disables both.
  int64_t flush_partial_batch_ms = 1000;
  // The time intervals are measured on; null: RealClock().
  Clock* clock = nullptr;
};

// FlushPath: how the updater gets flush markers logged (the pipeline's LogWriter).
// `request` (from the updater thread) asks for a marker after everything logged so far,
// which then arrives through the inbox; its callback hears the append's outcome (writer
// thread). `append_now` logs a marker at once and returns its sequence number; called at
// the end of Stop, once the writer has stopped.
struct FlushPath {
  std::function<void(std::function<void(const absl::Status&)> done)> request;
  std::function<absl::StatusOr<uint64_t>()> append_now;
};

// Checkpoint: the trainer's counters persisted with (or restored from) a snapshot.
struct Checkpoint {
  uint64_t version = 0;
  uint64_t last_seq = 0;
  uint64_t events_applied = 0;
  uint64_t updates_skipped = 0;
  model::StreamMetrics::State metrics;
};

// PersistFn captures the model's changed state and the checkpoint on the updater thread,
// and arranges for it to be written; `ticket` is completed with the write's outcome
// (from any thread). A non-OK return means nothing was captured (the ticket is then
// completed by the updater).
using PersistFn = std::function<absl::Status(model::Model& model, const Checkpoint& checkpoint,
                                             std::shared_ptr<PersistTicket> ticket)>;

struct UpdaterStats {
  uint64_t events_applied = 0;
  uint64_t updates_skipped_nonfinite = 0;
  uint64_t publications = 0;
  uint64_t model_version = 0;
  uint64_t nonzero_parameters = 0;
  uint64_t last_publish_chunks = 0;
  double publish_micros_mean = 0;
  uint64_t last_seq = 0;
  // Checkpoints handed to the PersistFn (captured; written asynchronously by its owner),
  // those written, failures (capture or write), and the newest written version.
  uint64_t persists = 0;
  uint64_t persists_written = 0;
  uint64_t persist_failures = 0;
  uint64_t persisted_version = 0;
  double last_persist_ms = 0;
  // Partial batches applied at a flush marker (live and replayed).
  uint64_t flushes = 0;
  // Progressive validation since start, and over the last metrics_window events.
  model::MetricValues overall;
  model::MetricValues window;
  // Time from a batch's acceptance to the publication of a snapshot that includes it,
  // over the last 4096 batches (milliseconds).
  double ack_to_publish_p50_ms = 0;
  double ack_to_publish_p99_ms = 0;
};

// UpdaterHistograms: distributions of the updater's work, for /metrics
// (server/metrics/), in real time (seconds): each live batch trained (flush markers
// included; replay at start is not), each publication and the chunk bytes it copied,
// each checkpoint's capture (the write is the storage thread's), and observe-to-serve
// freshness: from an event's admission into the queue to the publication of a snapshot
// trained on it, once per event. Lock-free: the updater thread records, any thread reads.
struct UpdaterHistograms {
  Histogram batch_seconds{LatencyBuckets()};
  Histogram publish_seconds{LatencyBuckets()};
  Histogram persist_capture_seconds{LatencyBuckets()};
  Histogram freshness_seconds{LatencyBuckets()};
  std::atomic<uint64_t> publish_bytes{0};
};

class Updater {
 public:
  // Publishes version 0 (the untrained model) into `slot` before returning. `persist`
  // may be empty (nothing is persisted).
  Updater(std::unique_ptr<model::Model> model, EventQueue* queue, BatchInbox* inbox,
          SnapshotSlot* slot, UpdaterOptions options, PersistFn persist = nullptr);
  ~Updater();  // Stops if running.

  // Restore adopts a checkpoint whose tables were loaded into model() already, and
  // publishes it under its version. Replay trains one batch read back from the log; Start
  // then publishes the result under version + events replayed, so versions stay
  // monotonic across a crash. Both before Start, on the owner thread.
  // `persisted` is false when the checkpoint's state is not on disk (a data dir whose
  // snapshots were lost): the next checkpoint then writes everything.
  void Restore(const Checkpoint& checkpoint, bool persisted = true);

  void Replay(const EventBatch& batch);

  // SetFlushPath: where flush markers are logged (before Start). Without it, or with
  // flush_partial_batch_ms 0, nothing is flushed except at the markers replayed or
  // handed over through the inbox.
  void SetFlushPath(FlushPath path) { flush_path_ = std::move(path); }

  void Start();
  // Stop trains everything in the inbox, publishes, persists, and joins the thread.
  void Stop();

  // Post runs `command` on the updater thread between batches (FIFO).
  void Post(std::function<void()> command);

  UpdaterStats Stats() const;
  UpdaterStats Counters() const;
  // histograms: thread-safe, lock-free (see UpdaterHistograms).
  const UpdaterHistograms& histograms() const { return histograms_; }
  const model::ModelConfig& config() const { return config_; }

  // Updater thread (or owner before Start):
  model::Model& model() { return *model_; }
  // PersistNow publishes pending changes and checkpoints them; `done` gets the version
  // once it is written (any thread), or the error. When nothing changed since the last
  // checkpoint, `done` follows that checkpoint's write.
  void PersistNow(PersistDone done);
  // PersistAndWait: PersistNow, blocking until written. Owner thread before Start.
  absl::StatusOr<uint64_t> PersistAndWait();
  // final_persist_status: the outcome of the checkpoint written by Stop (OK when none
  // was needed). After Stop.
  absl::Status final_persist_status() const { return final_persist_status_; }
  // AdoptLoadedState: model()'s tables were overwritten (rollback, import); publish them
  // under a new version (metrics and counters continue).
  uint64_t AdoptLoadedState();
  // NextCheckpoint: the checkpoint the next publication will name (version() + 1, the
  // current counters and metrics), for a swap that writes its snapshot before loading.
  Checkpoint NextCheckpoint();
  // AdoptPersistedState: like AdoptLoadedState, for a state whose snapshot, the
  // NextCheckpoint taken just before, is already written: published under exactly that
  // version and counted as persisted. The model's pending events (a mini-batch model's,
  // trained against the tables just overwritten) are discarded.
  void AdoptPersistedState(const Checkpoint& written);
  // SwapModel replaces the model (same config) with one whose tables were loaded, then
  // AdoptLoadedState. Returns the new version.
  uint64_t SwapModel(std::unique_ptr<model::Model> model);
  uint64_t last_seq() const { return last_seq_; }
  // version: the version currently published (the next publication is version() + 1).
  uint64_t version() const { return version_; }


 private:
  void Run();
  void TrainBatch(const EventBatch& batch);
  // TrainFlush: the flush marker at `seq`: apply the pending events, a batch boundary.
  void TrainFlush(uint64_t seq);
  // FlushArmed: a marker will be asked for once the stream has been idle long enough
  // (pending events, none asked for yet, flushing on). MaybeRequestFlush asks when due.
  bool FlushArmed() const;
  void MaybeRequestFlush(Clock::TimePoint now);
  // FlushAtStop: the final marker of a clean stop.
  void FlushAtStop();
  void Publish(bool force);
  void RunCommands();
  void FreeUnreferenced();
  void UpdateCounters();
  // AtBoundary: the model's tables now hold everything trained (after a wholesale load).
  void AtBoundary();
  // Persisted: nothing changed since a checkpoint whose write has not failed.
  bool Persisted();
  // NewTicket: a ticket whose completion updates the persistence counters.
  std::shared_ptr<PersistTicket> NewTicket(uint64_t version);

  // Constant after construction.
  const model::ModelConfig config_;
  const UpdaterOptions options_;
  Clock* const clock_;
  int jump_id_ = 0;  // this updater's OnJump registration
  const PublishPolicy policy_;
  EventQueue* const queue_;
  BatchInbox* const inbox_;
  SnapshotSlot* const slot_;
  const PersistFn persist_;

  // Updater thread only.
  std::unique_ptr<model::Model> model_;
  std::vector<std::shared_ptr<const model::Snapshot>> retired_;
  uint64_t version_ = 0;
  uint64_t applied_ = 0;
  uint64_t applied_since_publish_ = 0;
  uint64_t skipped_ = 0;
  uint64_t last_seq_ = 0;
  // The last batch boundary (model/model.h, pending_events): last_seq and events_applied
  // of the last event whose update is in the tables; what a checkpoint records.
  uint64_t boundary_seq_ = 0;
  uint64_t boundary_applied_ = 0;
  // Points (prediction, label, weight) of events trained but not yet applied.
  std::vector<std::array<float, 3>> pending_points_;
  // The model defers its predictions to its batch boundaries (Model::DeferPredictions):
  // pending_points_ hold placeholders until TakeBatchPredictions fills them.
  bool deferred_ = false;
  void TakeBatchPredictions();
  uint64_t replayed_ = 0;  // log entries (events, markers) replayed before Start
  // Flushing: the path, the time the last events reached the updater, whether a marker
  // was asked for and has not arrived, partial batches flushed.
  FlushPath flush_path_;
  Clock::TimePoint last_arrival_{};
  bool flush_requested_ = false;
  uint64_t flushes_ = 0;
  bool changed_since_persist_ = false;
  // The last checkpoint handed to the PersistFn, and the last_seq (a boundary) it records.
  std::shared_ptr<PersistTicket> last_ticket_;
  uint64_t checkpoint_last_seq_ = 0;
  absl::Status final_persist_status_;
  uint64_t publications_ = 0;
  double publish_micros_total_ = 0;
  PublishPolicy::Duration adaptive_interval_{};
  // Predictions of the batch being trained, added to metrics_ once per batch.
  std::vector<std::array<float, 3>> batch_points_;
  // Acceptance times of the batches trained since the last publication.
  std::vector<std::pair<std::chrono::steady_clock::time_point, size_t>> unpublished_;

  std::atomic<bool> stop_{false};
  std::thread thread_;
  // Set by the writer when a requested marker could not be logged.
  std::atomic<bool> flush_failed_{false};

  Mutex commands_mu_;
  std::vector<std::function<void()>> commands_ ABSL_GUARDED_BY(commands_mu_);
  std::atomic<bool> has_commands_{false};

  // Thread-safe (atomics): recorded by the updater thread, read by any.
  UpdaterHistograms histograms_;

  mutable Mutex stats_mu_;
  UpdaterStats stats_ ABSL_GUARDED_BY(stats_mu_);
  model::StreamMetrics metrics_ ABSL_GUARDED_BY(stats_mu_);
  // Ack-to-publish latency (ms) of recent batches, weighted by their events.
  LatencyRing latencies_ ABSL_GUARDED_BY(stats_mu_){4096};
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_UPDATER_H_
