// Database: the RocksDB instance under --data_dir and its column families. The one
// place rocksdb::Status becomes absl::Status (FromRocks).
//
// Column families (README "On-disk layout"):
//   default    meta:   "config" -> encoded ModelConfig; "vector_dims" -> encoded dims
//   events     log:    BE(first seq of record) -> sealed record of consecutive events
//   chunks     params: table \0 BE32(chunk) BE64(version) -> sealed floats
//   snapshots  manifests: BE64(version) -> sealed manifest
// Thread-safe (RocksDB is); handles live as long as the Database.
#ifndef STREAMREC_STORAGE_DATABASE_H_
#define STREAMREC_STORAGE_DATABASE_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace streamrec::storage {

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what);

class Database {
 public:
  // Open opens or creates the database in `dir`.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& dir);
  // Destroy deletes every file of the database in `dir` (for --start_fresh).
  static absl::Status Destroy(const std::string& dir);
  ~Database();

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* meta() const { return handles_[0]; }
  rocksdb::ColumnFamilyHandle* events() const { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* chunks() const { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* snapshots() const { return handles_[3]; }

  // Write applies `batch` atomically; sync fsyncs the WAL first.
  absl::Status Write(rocksdb::WriteBatch& batch, bool sync);
  // FailWritesForTesting makes every Write fail with Unavailable (fault injection).
  void FailWritesForTesting(bool fail) { fail_writes_.store(fail); }
  // Get returns the value of key, or nullopt when absent.
  absl::StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* cf,
                                                 const std::string& key);

 private:
  Database() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::atomic<bool> fail_writes_{false};
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_DATABASE_H_
