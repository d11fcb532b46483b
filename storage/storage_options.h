// StorageOptions: how a server keeps its state under --data_dir (durability, retention,
// the operator's explicit choices, and the file-system seam tests inject faults through),
// a plain value constant after start. Owned by storage/ so that no RocksDB type is named
// outside it; this header only forward-declares rocksdb::FileSystem.
#ifndef STREAMREC_STORAGE_STORAGE_OPTIONS_H_
#define STREAMREC_STORAGE_STORAGE_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace rocksdb {
class FileSystem;
}

namespace streamrec::storage {

// Durability of acknowledged events (README "Persistence").
enum class Durability { kNone, kAsync, kSync };

struct StorageOptions {
  // Where the database lives; empty keeps everything in memory (tests).
  std::string data_dir;
  Durability durability = Durability::kAsync;
  size_t snapshots_retained = 5;
  // Discard a data dir written with an incompatible configuration instead of refusing.
  bool start_fresh = false;
  // Start even when the data dir's snapshots are unreadable or the log has a gap, losing
  // what they held (the operator's explicit decision; refused otherwise).
  bool accept_data_loss = false;
  // The event log's record format (storage/log_record.h): 5, or 3 (with 4 for flush
  // markers) while a build older than format 5 may have to read the log.
  int log_record_format = 5;
  // Create the impressions column family (storage/database.h) if the data dir has none:
  // off with log_record_format 3, so that an older build can still open the data dir
  // (which then logs no impressions).
  bool impressions = true;
  // How often an unwritable data dir is retried.
  std::chrono::milliseconds recovery_interval{1000};
  // The file system RocksDB uses (null: the OS's): the seam tests inject faults through.
  std::shared_ptr<rocksdb::FileSystem> file_system;
  // Tests: runs between a snapshot's chunks and its manifest (crash-point injection).
  std::function<void()> testing_before_manifest;
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_STORAGE_OPTIONS_H_
