// Database: the RocksDB instance under --data_dir and its column families; the one place
// rocksdb::Status becomes absl::Status (FromRocks), and the owner of write health.
//
// Column families (README "On-disk layout"):
//   default (Family::kMeta)  "config" -> encoded ModelConfig; "dim/<field>" -> u32
//              vector dimension; "write_probe" -> "" (the write that proves a reopened
//              database takes writes again)
//   events     log:    BE(first seq of record) -> sealed record of consecutive events
//   chunks     params: table \0 BE32(chunk) BE64(version) -> sealed floats
//   snapshots  manifests: BE64(version) -> sealed manifest
//   impressions (only in a data dir that logged impressions: DatabaseOptions::impressions
//              creates it, an existing one is always opened; builds before it cannot open
//              such a data dir) logged predictions, storage/impression_store.h
//
// Write health. When a write fails (disk full, I/O error), RocksDB's write-ahead-log
// writer keeps the error, and Debian's RocksDB 7.8 (built with assertions on) aborts the
// process on the next append to it, even after RocksDB's own recovery. So the first
// failed Write marks the database *unwritable*: every later Write fails fast with
// Unavailable without touching RocksDB, until TryRecover reopens the database (once the
// disk accepts writes again); a reopen replays RocksDB's WAL, so nothing that was
// written is lost, and a torn last record was never acknowledged. RocksDB's info log
// goes to stderr (warnings and errors only): its LOG file, on the full disk, is another
// way the same assertion aborts the process.
//
// Threads: Write, Get, Put/Delete into batches, ApproximateSize, the health accessors and
// the snapshots from any thread (a reader lock on the handle). NewIterator's iterators
// must be destroyed before TryRecover runs: use them before serving or on the thread
// that calls TryRecover (the server's storage thread). A ReadSnapshot taken before a
// reopen is invalid after it (reads through it fail with Unavailable).
#ifndef STREAMREC_STORAGE_DATABASE_H_
#define STREAMREC_STORAGE_DATABASE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/file_system.h"
#include "rocksdb/statistics.h"
#include "rocksdb/write_batch.h"

namespace streamrec::storage {

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what);

enum class Family { kMeta = 0, kEvents = 1, kChunks = 2, kSnapshots = 3, kImpressions = 4 };

struct DatabaseOptions {
  std::string dir;
  // The file system RocksDB uses; null for the operating system's. Tests pass a wrapper
  // that injects write failures (tests/testing/fault_fs.h).
  std::shared_ptr<rocksdb::FileSystem> file_system;
  // False for tools that inspect an existing data dir: a mistyped path is an error, not
  // a new empty database.
  bool create_if_missing = true;
  // TryRecover reopens only once the file system has this much space available, so a
  // disk that a cleanup freed by a few megabytes does not make ingest flap.
  uint64_t recovery_free_bytes = uint64_t{64} << 20;
  // Create the impressions family when the data dir has none (a server that logs
  // impressions); one that exists is opened either way.
  bool impressions = false;
};

class Database;

// ReadSnapshot: a consistent point-in-time view for reads that span several calls
// (exports, restores). Released when the last reference goes.
class ReadSnapshot {
 public:
  ~ReadSnapshot();
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  friend class Database;
  ReadSnapshot(Database* db, const rocksdb::Snapshot* snapshot, uint64_t generation)
      : db_(db), snapshot_(snapshot), generation_(generation) {}
  Database* const db_;
  const rocksdb::Snapshot* const snapshot_;
  const uint64_t generation_;
};

class Database {
 public:
  // Open opens or creates the database in options.dir.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const DatabaseOptions& options);
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& dir) {
    DatabaseOptions options;
    options.dir = dir;
    return Open(options);
  }
  // Destroy deletes every file of the database in `dir` (for --start_fresh).
  static absl::Status Destroy(const std::string& dir);
  ~Database();

  // Put/Delete/DeleteRange add an operation on `family` to `batch` (the batch records
  // the family's id, which stays valid across a reopen; no lock, no open database
  // needed).
  void Put(rocksdb::WriteBatch& batch, Family family, std::string_view key,
           std::string_view value) const;
  void Delete(rocksdb::WriteBatch& batch, Family family, std::string_view key) const;
  void DeleteRange(rocksdb::WriteBatch& batch, Family family, std::string_view begin,
                   std::string_view end) const;

  // Write applies `batch` atomically; sync fsyncs the WAL first. Unavailable without
  // trying while the database is unwritable (see the header comment).
  absl::Status Write(rocksdb::WriteBatch& batch, bool sync);
  // Get returns the value of key, or nullopt when absent. Bulk reads (a whole snapshot
  // streamed out or restored) pass fill_cache = false: they would only evict what
  // serving and training read, and grow the process by the cache's size.
  absl::StatusOr<std::optional<std::string>> Get(Family family, std::string_view key,
                                                 const ReadSnapshot* snapshot = nullptr,
                                                 bool fill_cache = true) const;
  // Scan calls fn(key, value) for the keys of `family` in [begin, end) in order, at most
  // `max` of them, until fn returns false. It holds the reader lock throughout (a
  // reopen waits for it), so any thread may scan.
  absl::Status Scan(Family family, std::string_view begin, std::string_view end, size_t max,
                    const std::function<bool(std::string_view key, std::string_view value)>& fn)
      const;
  // has_impressions: the impressions family is open (Family::kImpressions is usable).
  bool has_impressions() const { return ids_.size() > static_cast<size_t>(Family::kImpressions); }
  // NewIterator iterates `family` (see the thread rules above).
  std::unique_ptr<rocksdb::Iterator> NewIterator(Family family,
                                                 const ReadSnapshot* snapshot = nullptr) const;
  // TakeSnapshot pins the current state for reads.
  std::shared_ptr<ReadSnapshot> TakeSnapshot();
  // CompactRange compacts [begin, end) of `family` so deleted data's space is freed.
  absl::Status CompactRange(Family family, std::string_view begin, std::string_view end);
  // DeleteFilesInRange drops the table files of `family` whose keys all lie in
  // [begin, end), without reading or rewriting anything (what a range tombstone covers
  // is then gone from disk at once). Keys in the memtables or in files that straddle the
  // bounds stay; delete those with DeleteRange.
  absl::Status DeleteFilesInRange(Family family, std::string_view begin, std::string_view end);
  // ApproximateSize: bytes of [begin, end) of `family` on disk and in memory.
  uint64_t ApproximateSize(Family family, std::string_view begin, std::string_view end) const;

  // SizeEstimates: RocksDB's own estimates, each summed over the column families.
  struct SizeEstimates {
    uint64_t live_data_bytes = 0;           // rocksdb.estimate-live-data-size
    uint64_t pending_compaction_bytes = 0;  // rocksdb.estimate-pending-compaction-bytes
    uint64_t sst_files_bytes = 0;           // rocksdb.total-sst-files-size
    uint64_t memtable_bytes = 0;            // rocksdb.cur-size-all-mem-tables
  };
  // EstimateSizes reads them (in-memory counters, no I/O); zeros while the database is
  // closed (between a failed reopen and the next one). Any thread.
  SizeEstimates EstimateSizes() const;

  // Write health: OK, or the error that made the database unwritable.
  absl::Status write_error() const;
  bool writable() const { return writable_.load(std::memory_order_acquire); }
  // TryRecover reopens an unwritable database once the file system has
  // recovery_free_bytes available; OK when writable (again). Cheap when writable. If the
  // reopen fails, the database is opened read-only meanwhile, so reads (exports, stats)
  // keep working. See the thread rules above.
  absl::Status TryRecover();
  // Reopens after a failure (recoveries), and fsyncs of the write-ahead log since open.
  uint64_t recoveries() const { return recoveries_.load(std::memory_order_relaxed); }
  uint64_t wal_syncs() const;
  const std::string& dir() const { return options_.dir; }

 private:
  friend class ReadSnapshot;
  explicit Database(const DatabaseOptions& options) : options_(options) {}
  absl::Status OpenLocked(bool read_only = false) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CloseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  rocksdb::ColumnFamilyHandle* Handle(Family family) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return handles_[static_cast<size_t>(family)];
  }
  void MarkUnwritable(const absl::Status& error);
  void Release(const ReadSnapshot* snapshot);

  // FamilyId: a column family handle that only carries the family's persistent id (all
  // a WriteBatch reads from a handle), valid whether or not the database is open.
  class FamilyId final : public rocksdb::ColumnFamilyHandle {
   public:
    FamilyId(std::string name, uint32_t id) : name_(std::move(name)), id_(id) {}
    const std::string& GetName() const override { return name_; }
    uint32_t GetID() const override { return id_; }
    rocksdb::Status GetDescriptor(rocksdb::ColumnFamilyDescriptor*) override {
      return rocksdb::Status::NotSupported("FamilyId");
    }
    const rocksdb::Comparator* GetComparator() const override;

   private:
    const std::string name_;
    const uint32_t id_;
  };

  const DatabaseOptions options_;
  std::vector<std::unique_ptr<FamilyId>> ids_;  // set by the first open, constant after
  std::unique_ptr<rocksdb::Env> env_;  // wraps options_.file_system when set
  std::shared_ptr<rocksdb::Statistics> statistics_;
  std::shared_ptr<rocksdb::Cache> block_cache_;
  mutable absl::Mutex mu_;
  std::unique_ptr<rocksdb::DB> db_ ABSL_GUARDED_BY(mu_);
  std::vector<rocksdb::ColumnFamilyHandle*> handles_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by every reopen
  // Snapshots of the current generation, released before a reopen closes the database.
  absl::flat_hash_set<const ReadSnapshot*> live_snapshots_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> writable_{true};
  mutable absl::Mutex error_mu_;
  absl::Status write_error_ ABSL_GUARDED_BY(error_mu_);
  std::atomic<uint64_t> recoveries_{0};
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_DATABASE_H_
