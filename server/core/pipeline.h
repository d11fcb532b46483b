// Pipeline: the event path of a server, gRPC-free:
//   handlers -> EventQueue -> LogWriter (sequence, log, acknowledge) -> BatchInbox
//            -> Updater (train, publish, persist) -> SnapshotSlot -> Predict
// It owns the stages and starts and stops them in order: Stop drains the queue through
// the writer first, then lets the updater train, flush a partial batch (its final flush
// marker is logged through the stopped writer), publish and persist what was accepted.
// The updater asks the writer for flush markers while running (server/core/updater.h).
// Threads: Start/Stop from the owner; accessors are thread-safe as their classes are.
#ifndef STREAMREC_SERVER_CORE_PIPELINE_H_
#define STREAMREC_SERVER_CORE_PIPELINE_H_

#include <memory>
#include <string>
#include <vector>

#include "server/core/batch_inbox.h"
#include "server/core/event_queue.h"
#include "server/core/log_writer.h"
#include "server/core/snapshot_slot.h"
#include "server/core/updater.h"

namespace streamrec::core {

struct PipelineOptions {
  size_t queue_capacity = 100000;
  size_t queue_max_bytes = SIZE_MAX;
  UpdaterOptions updater;
  LogWriterOptions writer;
};

class Pipeline {
 public:
  // `append` and `persist` may be empty (no log, no snapshots).
  Pipeline(std::unique_ptr<model::Model> model, const PipelineOptions& options, AppendFn append,
           PersistFn persist)
      : options_(options),
        append_(std::move(append)),
        queue_(options.queue_capacity, options.queue_max_bytes),
        updater_(std::move(model), &queue_, &inbox_, &slot_, options.updater, std::move(persist)) {}
  ~Pipeline() { Stop(); }

  // Start begins sequencing at next_seq (after recovery) with a seeded dedup window.
  void Start(uint64_t next_seq, const std::vector<std::string>& recent_event_ids = {}) {
    writer_ = std::make_unique<LogWriter>(&queue_, &inbox_, append_, options_.writer, next_seq);
    writer_->SeedDedup(recent_event_ids);
    LogWriter* writer = writer_.get();
    updater_.SetFlushPath(
        {[writer](std::function<void(const absl::Status&)> done) {
           writer->RequestFlush(std::move(done));
         },
         [writer] { return writer->AppendFlush(); }});
    updater_.Start();
    writer_->Start();
  }
  void Stop() {
    if (writer_) writer_->Stop();
    updater_.Stop();
  }

  EventQueue& queue() { return queue_; }
  SnapshotSlot& slot() { return slot_; }
  Updater& updater() { return updater_; }
  const Updater& updater() const { return updater_; }
  // writer() is null before Start.
  const LogWriter* writer() const { return writer_.get(); }

 private:
  const PipelineOptions options_;
  const AppendFn append_;
  EventQueue queue_;
  BatchInbox inbox_;
  SnapshotSlot slot_;
  Updater updater_;
  std::unique_ptr<LogWriter> writer_;
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_PIPELINE_H_
