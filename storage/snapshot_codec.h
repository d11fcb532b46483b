// Snapshot codec: the one encoding of a snapshot's description, shared by the manifests
// in the `snapshots` column family and by export files (storage/snapshot_export.h).
//
//   meta     u64 version, i64 time_unix_ms, u64 last_seq, u64 events_applied,
//            u64 updates_skipped, u64 optimizer_step
//   config   string (storage/config_codec.h)
//   metrics  u64 events, f64 weight, loss, correct, prediction, label,
//            u32 bins, bins x f64 positive, bins x f64 negative,
//            u32 points, points x (f32 p, f32 y, f32 w)
//   manifest u32 format (kManifestFormat), meta, config, metrics, u32 tables,
//            tables x (string name, u64 size, u32 chunks, chunks x u64 version), checksum
//
// Decoding checks every claimed count against the bytes actually present before it
// allocates, and rejects non-finite metric values. Pure functions; thread-compatible.
#ifndef STREAMREC_STORAGE_SNAPSHOT_CODEC_H_
#define STREAMREC_STORAGE_SNAPSHOT_CODEC_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "model/frozen_table.h"
#include "model/model.h"
#include "model/stream_metrics.h"
#include "storage/encoding.h"

namespace streamrec::storage {

inline constexpr uint32_t kManifestFormat = 1;
inline constexpr size_t kMetaBytes = 48;
// Chunk versions with this bit set name chunks staged by an import (not a model
// version); a manifest may reference them like any other chunk.
inline constexpr uint64_t kStagingBit = uint64_t{1} << 63;

// SnapshotMeta: the trainer's counters stored with a snapshot.
struct SnapshotMeta {
  uint64_t version = 0;
  int64_t time_unix_ms = 0;
  uint64_t last_seq = 0;  // last logged event included
  uint64_t events_applied = 0;
  uint64_t updates_skipped = 0;
  uint64_t optimizer_step = 0;
};

// Manifest: a snapshot's content list (decoded form of the snapshots CF value).
struct TableManifest {
  std::string name;
  uint64_t size = 0;
  std::vector<uint64_t> chunk_versions;  // 0: never written (zeros)
};
struct Manifest {
  SnapshotMeta meta;
  std::string config;  // EncodeConfig
  model::StreamMetrics::State metrics;
  std::vector<TableManifest> tables;
  uint64_t encoded_bytes = 0;
};

void PutMeta(std::string& out, const SnapshotMeta& m);
bool GetMeta(Reader& r, SnapshotMeta& m);
void PutMetrics(std::string& out, const model::StreamMetrics::State& s);
// GetMetrics: false when malformed, truncated or non-finite.
bool GetMetrics(Reader& r, model::StreamMetrics::State& s);

std::string EncodeManifest(const Manifest& m);
absl::StatusOr<Manifest> DecodeManifest(std::string_view sealed);

// ChunkKey: table \0 BE32(chunk) BE64(version); ChunkKeyVersion reads the version back.
std::string ChunkKey(std::string_view table, uint32_t chunk, uint64_t version);
uint64_t ChunkKeyVersion(std::string_view key);
size_t ChunkCount(uint64_t size);

// CheckTablesMatch: the manifest's config is compatible with `model`'s, and its tables
// have the model's names and sizes (FailedPrecondition naming the difference).
absl::Status CheckTablesMatch(const Manifest& m, model::Model& model);
// DecodeChunk verifies a stored chunk value (checksum, n floats, all finite and at least
// `min_value`) and returns its floats; DataLoss naming `what` otherwise.
absl::StatusOr<std::string_view> DecodeChunk(
    std::string_view sealed, size_t n, const std::string& what,
    float min_value = -std::numeric_limits<float>::infinity());
// AllFinite reports whether n floats are all finite; AllValid also that they are at
// least min_value.
bool AllFinite(const float* data, size_t n);
bool AllValid(const float* data, size_t n, float min_value);

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_SNAPSHOT_CODEC_H_
