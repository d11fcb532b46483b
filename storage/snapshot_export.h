// Snapshot export files, streamed in both directions with bounded memory.
//
// File format (version 1, unchanged since the first release):
//   "STREAMREC-SNAPSHOT-1\n", meta, config, metrics (storage/snapshot_codec.h),
//   u32 tables, tables x (string name, u64 size, size x f32 little-endian),
//   u64 XXH3-64 of every byte before it.
// The checksum proves integrity, not origin: anyone can recompute it. So an import
// trusts nothing it claims: every size is checked against the receiving model (and
// against the bytes received) before anything is allocated or written, and every value
// must be finite.
//
// ExportCursor produces the file piece by piece from a manifest, reading chunks through
// a RocksDB snapshot (retention may run meanwhile). ImportSession consumes a file piece
// by piece and writes its chunks under a staging version of the SnapshotStore; Finish
// returns the staged manifest, which the server swaps in (SnapshotStore::WriteSwap and
// LoadSwapped). Neither holds more than one
// piece and one write batch in memory, whatever the model size.
//
// Thread-compatible: one thread at a time per object (the server's storage thread).
#ifndef STREAMREC_STORAGE_SNAPSHOT_EXPORT_H_
#define STREAMREC_STORAGE_SNAPSHOT_EXPORT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "model/model_config.h"
#include "storage/database.h"
#include "storage/encoding.h"
#include "storage/snapshot_codec.h"
#include "storage/snapshot_store.h"

namespace streamrec::storage {

inline constexpr std::string_view kExportMagic = "STREAMREC-SNAPSHOT-1\n";
// What every version's magic starts with (the version number and a newline follow).
inline constexpr std::string_view kExportMagicPrefix = "STREAMREC-SNAPSHOT-";

class ExportCursor {
 public:
  // Exports `manifest` as stored in `db` at `snapshot`.
  ExportCursor(Database* db, Manifest manifest, std::shared_ptr<ReadSnapshot> snapshot);

  // Next returns the next piece of the file, at least one byte and at most about
  // `max_bytes` (plus less than one chunk); empty once the whole file was returned.
  absl::StatusOr<std::string> Next(size_t max_bytes);
  bool done() const { return done_; }
  // The size of the whole file.
  uint64_t file_bytes() const { return file_bytes_; }

 private:
  Database* const db_;
  const Manifest manifest_;
  const std::shared_ptr<ReadSnapshot> snapshot_;
  std::string header_;  // emitted first
  size_t header_pos_ = 0;
  size_t table_ = 0;
  size_t chunk_ = 0;
  bool table_started_ = false;
  bool done_ = false;
  uint64_t file_bytes_ = 0;
  StreamingChecksum checksum_;
};

// ExportToString: the whole file in memory (tests and small models).
absl::StatusOr<std::string> ExportToString(SnapshotStore& store, uint64_t version);

// The model an import is checked against.
struct ImportTarget {
  struct Table {
    std::string name;
    uint64_t size = 0;  // floats
    float min_value = 0;
  };
  model::ModelConfig config;
  std::vector<Table> tables;
  static ImportTarget Of(model::Model& model);
};

class ImportSession {
 public:
  ImportSession(SnapshotStore* store, ImportTarget target);
  ~ImportSession();  // an unfinished session releases its staging version

  // Feed consumes the next bytes of the file, writing complete chunks. InvalidArgument
  // for something that is not an export, FailedPrecondition for another model's export,
  // DataLoss for a damaged one; the session is unusable after an error.
  absl::Status Feed(std::string_view bytes);
  // Finish checks that the whole file arrived intact and returns the staged manifest.
  absl::StatusOr<Manifest> Finish();
  uint64_t bytes_received() const { return received_; }
  // Abandon releases the staging version now (its chunks become sweepable unless a
  // written manifest references them); idempotent, and done by the destructor.
  void Abandon();

 private:
  enum class Step {
    kMagic, kMeta, kConfigLength, kConfig, kMetricSums, kBins, kSkipBins, kPoints,
    kSkipPoints, kTableCount, kNameLength, kName, kTableSize, kTableData, kChecksum, kDone
  };
  absl::Status Parse();
  absl::Status Fail(absl::Status status);
  absl::Status WriteChunk(std::string_view floats);
  absl::Status Flush();
  // Take consumes n bytes when available (hashing them unless it is the checksum).
  bool Take(size_t n, std::string_view& out);

  SnapshotStore* const store_;
  const ImportTarget target_;
  const uint64_t staging_version_;
  absl::Status error_;
  Step step_ = Step::kMagic;
  std::string pending_;  // received, not yet consumed
  size_t pos_ = 0;
  uint64_t received_ = 0;
  uint64_t skip_ = 0;  // bytes left to skip in kSkipBins/kSkipPoints
  uint32_t count_ = 0;  // field length or table count being read
  size_t table_ = 0;
  size_t chunk_ = 0;
  Manifest manifest_;
  rocksdb::WriteBatch batch_;
  StreamingChecksum checksum_;
  bool finished_ = false;
  bool abandoned_ = false;
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_SNAPSHOT_EXPORT_H_
