#include "server/recovery.h"
#include "common/log.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace streamrec::server {
namespace {

absl::Status RecoverSnapshot(Persistence& p, core::Updater& updater, VectorDims& dims,
                             uint64_t& last_seq) {
  storage::SnapshotStore& store = p.store();
  if (absl::Status s = store.Open(); !s.ok()) return s;
  absl::StatusOr<storage::VectorDimList> stored = p.meta().LoadVectorDims();
  if (!stored.ok()) return stored.status();
  for (const auto& [field, dim] : *stored) {
    if (absl::Status s = dims.Register({{field, dim}}); !s.ok()) return s;
  }
  absl::StatusOr<storage::RestoredState> restored = store.RestoreNewest(updater.model());
  if (restored.ok()) {
    core::Checkpoint c;
    c.version = restored->meta.version;
    c.last_seq = restored->meta.last_seq;
    c.events_applied = restored->meta.events_applied;
    c.updates_skipped = restored->meta.updates_skipped;
    c.metrics = restored->metrics;
    // Restored from an older snapshot than the newest seen (that one is unreadable, e.g.
    // written by a newer build): serve above every version the data dir has seen, and
    // write that version at the next persist, so no version is used twice.
    const uint64_t newest = store.NewestVersion();
    const bool above_unreadable = newest > c.version;
    if (above_unreadable) c.version = newest + 1;
    updater.Restore(c, /*persisted=*/!above_unreadable);
    last_seq = c.last_seq;
    log::Info("snapshot restored", {{"version", restored->meta.version}, {"last_seq", last_seq}});
    if (above_unreadable) {
      log::Warning("serving the restored snapshot above the unreadable one (kept, never "
                   "overwritten)",
                   {{"version", c.version}, {"unreadable_version", newest}});
    }
    return absl::OkStatus();
  }
  if (restored.status().code() != absl::StatusCode::kNotFound) return restored.status();
  if (const uint64_t newest = store.NewestVersion(); newest > 0) {
    // The operator accepted the loss of every snapshot: an empty model, under versions
    // above every one the data dir has seen, that includes (as lost) every event before
    // the log's first, so the next start finds no gap.
    core::Checkpoint c;
    c.version = newest;
    absl::StatusOr<uint64_t> first = p.log().FirstSeq();
    if (!first.ok()) return first.status();
    c.last_seq = *first > 0 ? *first - 1 : 0;
    updater.Restore(c, /*persisted=*/false);
    last_seq = c.last_seq;
  }
  // A new data dir: the untrained model is snapshot 0, so the log can always be replayed
  // from an empty model while snapshot 0 is retained.
  return updater.PersistAndWait().status();
}

absl::Status ReplayLog(Persistence& p, core::Updater& updater, const RecoveryOptions& options,
                       uint64_t& last_seq, std::vector<std::string>& recent_ids,
                       bool& gap_accepted) {
  storage::EventLog& log = p.log();
  absl::StatusOr<uint64_t> log_first = log.FirstSeq();
  if (!log_first.ok()) return log_first.status();
  absl::StatusOr<uint64_t> log_last = log.LastSeq();
  if (!log_last.ok()) return log_last.status();
  if (*log_first > last_seq + 1 && !p.options().accept_data_loss) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the event log of ", p.options().data_dir, " starts at sequence ", *log_first,
        " but the restored snapshot ends at ", last_seq, ": events ", last_seq + 1, "..",
        *log_first - 1, " are missing. Restore the data dir from a backup, or start with "
        "--accept_data_loss to continue without them"));
  }
  gap_accepted = *log_first > last_seq + 1;
  const uint64_t replay_from = std::max(last_seq + 1, *log_first);
  const uint64_t to_replay = *log_last >= replay_from ? *log_last - replay_from + 1 : 0;
  if (to_replay > 0) {
    log::Info("replaying the event log", {{"events", to_replay}, {"from_seq", replay_from}});
  }
  // Read from far enough back to also seed the de-duplication window.
  const uint64_t window = options.dedup_window;
  const uint64_t from = std::min(last_seq, *log_last > window ? *log_last - window : 0);
  core::EventBatch batch;
  uint64_t replayed = 0;
  bool cancelled = false;
  auto flush = [&] {
    if (batch.examples.empty()) return;
    updater.Replay(batch);
    replayed += batch.examples.size();
    if (replayed % 100000 < batch.examples.size()) {
      log::Info("replay progress", {{"replayed", replayed}, {"events", to_replay}});
    }
    batch.examples.clear();
    cancelled = options.cancel != nullptr && options.cancel->load();
  };
  absl::Status s = log.Replay(
      from,
      [&](uint64_t seq, model::Example& ex, std::string& id) {
        if (cancelled) return;
        if (window > 0 && seq + window > *log_last) recent_ids.push_back(id);
        if (seq <= last_seq) return;
        if (batch.examples.empty()) batch.first_seq = seq;
        batch.examples.push_back(std::move(ex));
        if (batch.examples.size() >= 4096) flush();
      },
      [&](uint64_t seq) {
        // A flush marker: the events before it, then the partial batch cut where the live
        // server cut it. In the de-duplication window it is an entry without an id.
        if (cancelled) return;
        if (window > 0 && seq + window > *log_last) recent_ids.emplace_back();
        if (seq <= last_seq) return;
        flush();
        if (cancelled) return;
        core::EventBatch marker;
        marker.flush = true;
        marker.first_seq = seq;
        updater.Replay(marker);
        ++replayed;  // the progress figures count log entries, markers included
      });
  if (!cancelled) flush();
  if (cancelled) {
    return absl::CancelledError(absl::StrCat("after replaying ", replayed, " of ", to_replay,
                                             " events (the log keeps them)"));
  }
  if (!s.ok()) return s;
  last_seq = std::max(last_seq, *log_last);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Recovered> Recover(Persistence& persistence, core::Updater& updater,
                                  VectorDims& dims, const RecoveryOptions& options) {
  uint64_t last_seq = 0;
  Recovered out;
  if (absl::Status s = RecoverSnapshot(persistence, updater, dims, last_seq); !s.ok()) return s;
  if (options.cancel != nullptr && options.cancel->load()) {
    return absl::CancelledError("before replaying the log");
  }
  bool gap_accepted = false;
  if (absl::Status s =
          ReplayLog(persistence, updater, options, last_seq, out.recent_ids, gap_accepted);
      !s.ok()) {
    return s;
  }
  if (gap_accepted) {
    // Record the operator's decision: a snapshot past the gap, so a start after a crash
    // finds no gap to refuse again.
    if (absl::StatusOr<uint64_t> v = updater.PersistAndWait(); !v.ok()) return v.status();
  }
  out.next_seq = last_seq + 1;
  persistence.log().StartAt(out.next_seq);
  return out;
}

}  // namespace streamrec::server
