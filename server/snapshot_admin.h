// SnapshotAdmin: the operator's snapshot operations: list, save, rollback, export and
// import. Model work runs on the updater thread (posted commands), storage work on the
// storage thread, piece by piece for exports and imports; no caller thread waits for
// either. Rollback and import swap the whole model all or nothing, durably before
// visibly (SwapIn below). FailedPrecondition without a data dir, Unavailable before
// recovery; at most `max_streams` exports and imports at once.
//
// Thread-safe: every method from any thread; callbacks run on the updater or storage
// thread.
#ifndef STREAMREC_SERVER_SNAPSHOT_ADMIN_H_
#define STREAMREC_SERVER_SNAPSHOT_ADMIN_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/core/updater.h"
#include "server/persistence.h"
#include "storage/snapshot_export.h"
#include "streamrec/v1/admin.pb.h"

namespace streamrec::server {

class SnapshotAdmin {
 public:
  using VersionDone = std::function<void(absl::StatusOr<uint64_t>)>;
  using Cursor = std::shared_ptr<storage::ExportCursor>;
  using Session = std::shared_ptr<storage::ImportSession>;

  // `persistence` may be null (no data dir: every operation is FailedPrecondition).
  // Construct on the owner thread before the updater starts (it reads the model's
  // table shapes).
  SnapshotAdmin(Persistence* persistence, core::Updater* updater,
                const std::atomic<bool>* ready, int max_streams);

  absl::Status ListSnapshots(v1::ListSnapshotsResponse& response) const;
  // SaveSnapshot answers once the snapshot is written (or its write failed).
  void SaveSnapshot(VersionDone done);
  // Rollback serves retained snapshot `version` under a new version.
  void Rollback(uint64_t version, VersionDone done);

  // Export and import streams: BeginStream/EndStream bracket each (ResourceExhausted
  // beyond max_streams).
  absl::Status BeginStream();
  void EndStream() { streams_.fetch_sub(1); }
  // StartExport gives a cursor over snapshot `version` (none: save now and export that);
  // ExportNext reads its next piece on the storage thread (empty: done).
  void StartExport(std::optional<uint64_t> version,
                   std::function<void(absl::StatusOr<Cursor>)> done);
  void ExportNext(Cursor cursor, size_t max_bytes,
                  std::function<void(absl::StatusOr<std::string>)> done);
  // BeginImport opens a session; ImportFeed writes a piece on the storage thread;
  // ImportFinish verifies the file and swaps it in; ImportCancel abandons a session
  // whose client went away.
  absl::StatusOr<Session> BeginImport();
  void ImportFeed(Session session, std::string piece, std::function<void(absl::Status)> done);
  void ImportFinish(Session session, VersionDone done);
  void ImportCancel(Session session);

 private:
  absl::Status Check() const;
  // SwapIn makes `source` (a retained snapshot, a staged import) the model's state, on
  // the updater thread: every chunk verified (the model untouched), the snapshot of the
  // swapped state written, then loaded in place and published under exactly that
  // snapshot's version. On error nothing changed; no version is ever served that a
  // crash could take back.
  absl::StatusOr<uint64_t> SwapIn(const storage::Manifest& source);

  Persistence* const persistence_;
  core::Updater* const updater_;
  const std::atomic<bool>* const ready_;
  const int max_streams_;
  const storage::ImportTarget import_target_;
  std::atomic<int> streams_{0};
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_SNAPSHOT_ADMIN_H_
