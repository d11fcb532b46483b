// The export side of the export file format (snapshot_export.h): a cursor that streams a
// snapshot's manifest and chunks as the file's bytes. The import side is
// snapshot_import.cc.
#include "storage/snapshot_export.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "model/frozen_table.h"
#include "storage/config_codec.h"

namespace streamrec::storage {

ExportCursor::ExportCursor(Database* db, Manifest manifest,
                           std::shared_ptr<ReadSnapshot> snapshot)
    : db_(db), manifest_(std::move(manifest)), snapshot_(std::move(snapshot)) {
  header_ = kExportMagic;
  PutMeta(header_, manifest_.meta);
  PutString(header_, manifest_.config);
  PutMetrics(header_, manifest_.metrics);
  PutU32(header_, static_cast<uint32_t>(manifest_.tables.size()));
  file_bytes_ = header_.size() + 8;
  for (const TableManifest& t : manifest_.tables) {
    file_bytes_ += 4 + t.name.size() + 8 + t.size * sizeof(float);
  }
}

absl::StatusOr<std::string> ExportCursor::Next(size_t max_bytes) {
  std::string out;
  if (done_) return out;
  max_bytes = std::max<size_t>(max_bytes, 1);
  if (header_pos_ < header_.size()) {
    const size_t n = std::min(max_bytes, header_.size() - header_pos_);
    out.append(header_, header_pos_, n);
    header_pos_ += n;
    if (header_pos_ == header_.size()) std::string().swap(header_);
  }
  const std::vector<float> zeros(model::kChunkFloats, 0.0f);
  while (out.size() < max_bytes && header_.empty() && table_ < manifest_.tables.size()) {
    const TableManifest& t = manifest_.tables[table_];
    if (!table_started_) {
      PutString(out, t.name);
      PutU64(out, t.size);
      table_started_ = true;
    }
    if (chunk_ >= t.chunk_versions.size()) {
      ++table_;
      chunk_ = 0;
      table_started_ = false;
      continue;
    }
    const size_t n = std::min<size_t>(model::kChunkFloats, t.size - chunk_ * model::kChunkFloats);
    const uint64_t v = t.chunk_versions[chunk_];
    if (v == 0) {
      PutFloats(out, zeros.data(), n);
    } else {
      absl::StatusOr<std::optional<std::string>> value =
          db_->Get(Family::kChunks, ChunkKey(t.name, static_cast<uint32_t>(chunk_), v),
                   snapshot_.get(), /*fill_cache=*/false);
      if (!value.ok()) return value.status();
      const std::string what =
          absl::StrCat("snapshot ", manifest_.meta.version, ": chunk ", chunk_, " of ", t.name);
      if (!value->has_value()) return absl::DataLossError(absl::StrCat(what, " is missing"));
      absl::StatusOr<std::string_view> floats = DecodeChunk(**value, n, what);
      if (!floats.ok()) return floats.status();
      out.append(floats->data(), floats->size());
    }
    ++chunk_;
  }
  if (header_.empty() && table_ == manifest_.tables.size() && out.size() < max_bytes) {
    checksum_.Update(out);
    PutU64(out, checksum_.Digest());
    done_ = true;
    return out;
  }
  checksum_.Update(out);
  return out;
}

absl::StatusOr<std::string> ExportToString(SnapshotStore& store, uint64_t version) {
  absl::StatusOr<Manifest> m = store.Find(version);
  if (!m.ok()) return m.status();
  ExportCursor cursor(store.db(), *std::move(m), store.db()->TakeSnapshot());
  std::string file;
  while (!cursor.done()) {
    absl::StatusOr<std::string> piece = cursor.Next(1 << 20);
    if (!piece.ok()) return piece.status();
    file += *piece;
  }
  return file;
}

}  // namespace streamrec::storage
