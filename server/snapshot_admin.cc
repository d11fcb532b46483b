// ServerCore's snapshot administration: list, save, rollback, export and import (see
// server_core.h). Model work runs on the updater thread (posted commands), storage work
// on the storage thread; no gRPC thread waits for either.
#include <cstdio>
#include <cstdlib>

#include "absl/time/clock.h"

#include "absl/strings/str_cat.h"
#include "server/server_core.h"
#include "storage/database.h"
#include "storage/snapshot_export.h"
#include "storage/snapshot_store.h"

namespace streamrec::server {
namespace {

absl::Status NoDataDir() {
  return absl::FailedPreconditionError("the server runs without --data_dir");
}

absl::Status NotReady() {
  return absl::UnavailableError("the server is recovering (replaying its event log); retry");
}

}  // namespace

absl::Status ServerCore::ListSnapshots(v1::ListSnapshotsResponse& response) const {
  if (!store_) return NoDataDir();
  for (const storage::SnapshotInfo& s : store_->List()) {
    v1::SnapshotInfo* out = response.add_snapshots();
    out->set_model_version(s.meta.version);
    out->set_time_unix_ms(s.meta.time_unix_ms);
    out->set_last_seq(s.meta.last_seq);
    out->set_bytes(s.bytes);
    out->set_events_applied(s.meta.events_applied);
  }
  return absl::OkStatus();
}

void ServerCore::SaveSnapshot(std::function<void(absl::StatusOr<uint64_t>)> done) {
  if (!store_) return done(NoDataDir());
  if (!ready_.load()) return done(NotReady());
  core::Updater* u = &pipeline_->updater();
  // Answered once the snapshot is written (or its write failed), not when captured.
  u->Post([u, done = std::move(done)] { u->PersistNow(done); });
}

absl::StatusOr<uint64_t> ServerCore::SwapIn(const storage::Manifest& source) {
  core::Updater& u = pipeline_->updater();
  // Retention in a pending write could delete the chunks the swapped state is based on:
  // let the writes finish first (an administrative pause of training).
  executor_->WaitIdle();
  // All or nothing, durably before visibly: verify every chunk (the model untouched),
  // write the snapshot of the swapped state, then load it in place and publish exactly
  // that snapshot's version. A failure before the load changes nothing, so the error the
  // caller gets is the whole truth; no version is ever served that a restart could lose.
  if (absl::Status s = store_->Verify(source, u.model()); !s.ok()) return s;
  const core::Checkpoint next = u.NextCheckpoint();
  storage::SnapshotMeta meta;
  meta.version = next.version;
  meta.time_unix_ms = absl::ToUnixMillis(absl::Now());
  meta.last_seq = next.last_seq;
  meta.events_applied = next.events_applied;
  meta.updates_skipped = next.updates_skipped;
  absl::StatusOr<uint64_t> written =
      store_->WriteSwap(source, meta, next.metrics, options_.storage.testing_before_manifest);
  if (!written.ok()) {
    sweep_needed_.store(true);
    return written.status();
  }
  if (absl::StatusOr<storage::RestoredState> r = store_->LoadSwapped(source, u.model()); !r.ok()) {
    // Verified a moment ago, so the disk is failing under us, and the model is half
    // loaded: stop rather than serve or train it. The snapshot just written holds the
    // swapped state, so a restart resumes exactly there.
    std::fprintf(stderr, "streamrec-server: FATAL: loading the swapped state failed after it "
                 "verified (%s); stopping (a restart resumes from snapshot %lu)\n",
                 std::string(r.status().message()).c_str(),
                 static_cast<unsigned long>(next.version));
    std::abort();
  }
  u.AdoptPersistedState(next);
  return next.version;
}

void ServerCore::Rollback(uint64_t version, std::function<void(absl::StatusOr<uint64_t>)> done) {
  if (!store_) return done(NoDataDir());
  if (!ready_.load()) return done(NotReady());
  core::Updater* u = &pipeline_->updater();
  u->Post([this, version, done = std::move(done)] {
    absl::StatusOr<storage::Manifest> source = store_->Find(version);
    if (!source.ok()) return done(source.status());
    done(SwapIn(*source));  // recorded with the current log position: a restart keeps it
  });
}

absl::Status ServerCore::BeginAdminStream() {
  if (!store_) return NoDataDir();
  if (!ready_.load()) return NotReady();
  if (admin_streams_.fetch_add(1) >= options_.max_admin_streams) {
    admin_streams_.fetch_sub(1);
    return absl::ResourceExhaustedError(absl::StrCat(
        options_.max_admin_streams, " snapshot export/import streams are already open "
        "(--max_admin_streams); retry when one has finished"));
  }
  return absl::OkStatus();
}

void ServerCore::EndAdminStream() { admin_streams_.fetch_sub(1); }

void ServerCore::StartExport(std::optional<uint64_t> version,
                             std::function<void(absl::StatusOr<Cursor>)> done) {
  if (!store_) return done(NoDataDir());
  auto open = [this](uint64_t v) -> absl::StatusOr<Cursor> {
    // The read snapshot first: a manifest still listed afterwards has its chunks in it.
    std::shared_ptr<storage::ReadSnapshot> snapshot = db_->TakeSnapshot();
    absl::StatusOr<storage::Manifest> m = store_->Find(v);
    if (!m.ok()) return m.status();
    return std::make_shared<storage::ExportCursor>(db_.get(), *std::move(m), std::move(snapshot));
  };
  if (version) return done(open(*version));
  if (!ready_.load()) return done(NotReady());
  core::Updater* u = &pipeline_->updater();
  u->Post([u, open, done = std::move(done)] {
    u->PersistNow([open, done](absl::StatusOr<uint64_t> v) {
      if (!v.ok()) return done(v.status());
      done(open(*v));
    });
  });
}

void ServerCore::ExportNext(Cursor cursor, size_t max_bytes,
                            std::function<void(absl::StatusOr<std::string>)> done) {
  // One piece per task: snapshot writes interleave with a long export.
  executor_->Post([cursor = std::move(cursor), max_bytes, done = std::move(done)] {
    done(cursor->Next(max_bytes));
  });
}

absl::StatusOr<ServerCore::Session> ServerCore::BeginImport() {
  if (!store_) return NoDataDir();
  if (!ready_.load()) return NotReady();
  return std::make_shared<storage::ImportSession>(store_.get(), *import_target_);
}

void ServerCore::ImportFeed(Session session, std::string piece, DoneFn done) {
  executor_->Post([this, session = std::move(session), piece = std::move(piece),
                   done = std::move(done)] {
    absl::Status s = session->Feed(piece);
    if (!s.ok()) {
      session->Abandon();
      sweep_needed_.store(true);  // what it staged is unreferenced
    }
    done(s);
  });
}

void ServerCore::ImportFinish(Session session,
                              std::function<void(absl::StatusOr<uint64_t>)> done) {
  executor_->Post([this, session = std::move(session), done = std::move(done)]() mutable {
    absl::StatusOr<storage::Manifest> staged = session->Finish();
    if (!staged.ok()) {
      session->Abandon();
      sweep_needed_.store(true);
      return done(staged.status());
    }
    core::Updater* u = &pipeline_->updater();
    u->Post([this, session, staged = *std::move(staged), done = std::move(done)] {
      // The staged chunks become the swap snapshot's: only a manifest is written.
      absl::StatusOr<uint64_t> v = SwapIn(staged);
      if (!v.ok()) {
        session->Abandon();
        sweep_needed_.store(true);
      }
      done(v);
    });
  });
}

void ServerCore::ImportCancel(Session session) {
  executor_->Post([this, session = std::move(session)] {
    session->Abandon();
    sweep_needed_.store(true);
  });
}

}  // namespace streamrec::server
