#include "server/snapshot_admin.h"
#include "common/log.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/error_details.h"
#include "storage/database.h"
#include "storage/snapshot_store.h"

namespace streamrec::server {
namespace {

absl::Status NoDataDir() {
  return absl::FailedPreconditionError("the server runs without --data_dir");
}

absl::Status NotReady() { return RecoveringError(); }

}  // namespace

SnapshotAdmin::SnapshotAdmin(Persistence* persistence, core::Updater* updater,
                             const std::atomic<bool>* ready, int max_streams)
    : persistence_(persistence),
      updater_(updater),
      ready_(ready),
      max_streams_(max_streams),
      import_target_(storage::ImportTarget::Of(updater->model())) {}

absl::Status SnapshotAdmin::Check() const {
  if (!persistence_) return NoDataDir();
  if (!ready_->load()) return NotReady();
  return absl::OkStatus();
}

absl::Status SnapshotAdmin::ListSnapshots(v1::ListSnapshotsResponse& response) const {
  if (!persistence_) return NoDataDir();
  for (const storage::SnapshotInfo& s : persistence_->store().List()) {
    v1::SnapshotInfo* out = response.add_snapshots();
    out->set_model_version(s.meta.version);
    out->set_time_unix_ms(s.meta.time_unix_ms);
    out->set_last_seq(s.meta.last_seq);
    out->set_bytes(s.bytes);
    out->set_events_applied(s.meta.events_applied);
  }
  return absl::OkStatus();
}

void SnapshotAdmin::SaveSnapshot(VersionDone done) {
  if (absl::Status s = Check(); !s.ok()) return done(s);
  core::Updater* u = updater_;
  // Answered once the snapshot is written (or its write failed), not when captured.
  u->Post([u, done = std::move(done)] { u->PersistNow(done); });
}

absl::StatusOr<uint64_t> SnapshotAdmin::SwapIn(const storage::Manifest& source) {
  core::Updater& u = *updater_;
  storage::SnapshotStore& store = persistence_->store();
  // Retention in a pending write could delete the chunks the swapped state is based on:
  // let the writes finish first (an administrative pause of training).
  persistence_->executor().WaitIdle();
  // All or nothing, durably before visibly: verify every chunk (the model untouched),
  // write the snapshot of the swapped state, then load it in place and publish exactly
  // that snapshot's version. A failure before the load changes nothing, so the error the
  // caller gets is the whole truth; no version is ever served that a restart could lose.
  if (absl::Status s = store.Verify(source, u.model()); !s.ok()) return s;
  const core::Checkpoint next = u.NextCheckpoint();
  const storage::SnapshotMeta meta = Persistence::MetaOf(next);
  absl::StatusOr<uint64_t> written = store.WriteSwap(
      source, meta, next.metrics, persistence_->options().testing_before_manifest);
  if (!written.ok()) {
    persistence_->NeedSweep();
    return written.status();
  }
  if (absl::StatusOr<storage::RestoredState> r = store.LoadSwapped(source, u.model()); !r.ok()) {
    // Verified a moment ago, so the disk is failing under us, and the model is half
    // loaded: stop rather than serve or train it. The snapshot just written holds the
    // swapped state, so a restart resumes exactly there.
    log::Error("FATAL: loading the swapped state failed after it verified; stopping (a "
               "restart resumes from the snapshot)",
               {{"error", std::string(r.status().message())}, {"version", next.version}});
    std::abort();
  }
  u.AdoptPersistedState(next);
  return next.version;
}

void SnapshotAdmin::Rollback(uint64_t version, VersionDone done) {
  if (absl::Status s = Check(); !s.ok()) return done(s);
  updater_->Post([this, version, done = std::move(done)] {
    absl::StatusOr<storage::Manifest> source = persistence_->store().Find(version);
    if (!source.ok()) return done(source.status());
    done(SwapIn(*source));  // recorded with the current log position: a restart keeps it
  });
}

absl::Status SnapshotAdmin::BeginStream() {
  if (absl::Status s = Check(); !s.ok()) return s;
  if (streams_.fetch_add(1) >= max_streams_) {
    streams_.fetch_sub(1);
    return WithReason(absl::ResourceExhaustedError(absl::StrCat(
                          max_streams_, " snapshot export/import streams are already open "
                          "(--max_admin_streams); retry when one has finished")),
                      kReasonStreamLimit, absl::Seconds(1));
  }
  return absl::OkStatus();
}

void SnapshotAdmin::StartExport(std::optional<uint64_t> version,
                                std::function<void(absl::StatusOr<Cursor>)> done) {
  if (!persistence_) return done(NoDataDir());
  Persistence* p = persistence_;
  auto open = [p](uint64_t v) -> absl::StatusOr<Cursor> {
    // The read snapshot first: a manifest still listed afterwards has its chunks in it.
    std::shared_ptr<storage::ReadSnapshot> snapshot = p->db().TakeSnapshot();
    absl::StatusOr<storage::Manifest> m = p->store().Find(v);
    if (!m.ok()) return m.status();
    return std::make_shared<storage::ExportCursor>(&p->db(), *std::move(m), std::move(snapshot));
  };
  if (version) return done(open(*version));
  if (!ready_->load()) return done(NotReady());
  core::Updater* u = updater_;
  u->Post([u, open, done = std::move(done)] {
    u->PersistNow([open, done](absl::StatusOr<uint64_t> v) {
      if (!v.ok()) return done(v.status());
      done(open(*v));
    });
  });
}

void SnapshotAdmin::ExportNext(Cursor cursor, size_t max_bytes,
                               std::function<void(absl::StatusOr<std::string>)> done) {
  // One piece per task: snapshot writes interleave with a long export.
  persistence_->executor().Post([cursor = std::move(cursor), max_bytes, done = std::move(done)] {
    done(cursor->Next(max_bytes));
  });
}

absl::StatusOr<SnapshotAdmin::Session> SnapshotAdmin::BeginImport() {
  if (absl::Status s = Check(); !s.ok()) return s;
  return std::make_shared<storage::ImportSession>(&persistence_->store(), import_target_);
}

void SnapshotAdmin::ImportFeed(Session session, std::string piece,
                               std::function<void(absl::Status)> done) {
  persistence_->executor().Post([this, session = std::move(session), piece = std::move(piece),
                                 done = std::move(done)] {
    absl::Status s = session->Feed(piece);
    if (!s.ok()) {
      session->Abandon();
      persistence_->NeedSweep();  // what it staged is unreferenced
    }
    done(s);
  });
}

void SnapshotAdmin::ImportFinish(Session session, VersionDone done) {
  persistence_->executor().Post([this, session = std::move(session),
                                 done = std::move(done)]() mutable {
    absl::StatusOr<storage::Manifest> staged = session->Finish();
    if (!staged.ok()) {
      session->Abandon();
      persistence_->NeedSweep();
      return done(staged.status());
    }
    updater_->Post([this, session, staged = *std::move(staged), done = std::move(done)] {
      // The staged chunks become the swap snapshot's: only a manifest is written.
      absl::StatusOr<uint64_t> v = SwapIn(staged);
      if (!v.ok()) {
        session->Abandon();
        persistence_->NeedSweep();
      }
      done(v);
    });
  });
}

void SnapshotAdmin::ImportCancel(Session session) {
  persistence_->executor().Post([this, session = std::move(session)] {
    session->Abandon();
    persistence_->NeedSweep();
  });
}

}  // namespace streamrec::server
