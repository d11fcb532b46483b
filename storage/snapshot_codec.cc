#include "storage/snapshot_codec.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "storage/config_codec.h"

namespace streamrec::storage {

void PutMeta(std::string& out, const SnapshotMeta& m) {
  PutU64(out, m.version);
  PutU64(out, static_cast<uint64_t>(m.time_unix_ms));
  PutU64(out, m.last_seq);
  PutU64(out, m.events_applied);
  PutU64(out, m.updates_skipped);
  PutU64(out, m.optimizer_step);
}

bool GetMeta(Reader& r, SnapshotMeta& m) {
  uint64_t time = 0;
  r.GetU64(m.version);
  r.GetU64(time);
  r.GetU64(m.last_seq);
  r.GetU64(m.events_applied);
  r.GetU64(m.updates_skipped);
  r.GetU64(m.optimizer_step);
  m.time_unix_ms = static_cast<int64_t>(time);
  return r.ok();
}

void PutMetrics(std::string& out, const model::StreamMetrics::State& s) {
  PutU64(out, s.overall.events);
  for (double v : {s.overall.weight, s.overall.loss, s.overall.correct, s.overall.prediction,
                   s.overall.label}) {
    PutF64(out, v);
  }
  PutU32(out, static_cast<uint32_t>(s.positive_bins.size()));
  for (double v : s.positive_bins) PutF64(out, v);
  for (double v : s.negative_bins) PutF64(out, v);
  PutU32(out, static_cast<uint32_t>(s.window.size()));
  for (const auto& p : s.window) {
    PutF32(out, p.p);
    PutF32(out, p.y);
    PutF32(out, p.w);
  }
}

bool GetMetrics(Reader& r, model::StreamMetrics::State& s) {
  r.GetU64(s.overall.events);
  for (double* v : {&s.overall.weight, &s.overall.loss, &s.overall.correct,
                    &s.overall.prediction, &s.overall.label}) {
    if (r.GetF64(*v) && !std::isfinite(*v)) return false;
  }
  uint32_t bins = 0, points = 0;
  // Counts are checked against the bytes present before anything is allocated.
  if (!r.GetU32(bins) || bins > model::StreamMetrics::kHistogramBins ||
      bins > r.remaining() / 16) {
    return false;
  }
  s.positive_bins.resize(bins);
  s.negative_bins.resize(bins);
  for (double& v : s.positive_bins) r.GetF64(v);
  for (double& v : s.negative_bins) r.GetF64(v);
  if (!r.GetU32(points) || points > r.remaining() / 12) return false;
  s.window.resize(points);
  for (auto& p : s.window) {
    r.GetF32(p.p);
    r.GetF32(p.y);
    r.GetF32(p.w);
    if (!std::isfinite(p.p) || !std::isfinite(p.y) || !std::isfinite(p.w)) return false;
  }
  for (size_t i = 0; i < bins; ++i) {
    if (!std::isfinite(s.positive_bins[i]) || !std::isfinite(s.negative_bins[i])) return false;
  }
  return r.ok();
}

std::string EncodeManifest(const Manifest& m) {
  std::string out;
  PutU32(out, kManifestFormat);
  PutMeta(out, m.meta);
  PutString(out, m.config);
  PutMetrics(out, m.metrics);
  PutU32(out, static_cast<uint32_t>(m.tables.size()));
  for (const TableManifest& t : m.tables) {
    PutString(out, t.name);
    PutU64(out, t.size);
    PutU32(out, static_cast<uint32_t>(t.chunk_versions.size()));
    for (uint64_t v : t.chunk_versions) PutU64(out, v);
  }
  Seal(out);
  return out;
}

absl::StatusOr<Manifest> DecodeManifest(std::string_view sealed) {
  std::string_view payload;
  if (!Unseal(sealed, payload)) return absl::DataLossError("manifest checksum mismatch");
  Reader r(payload);
  Manifest m;
  uint32_t format = 0, tables = 0;
  if (!r.GetU32(format) || format != kManifestFormat) {
    return absl::DataLossError(absl::StrCat("the manifest has format ", format,
                                            "; this build reads manifest format ",
                                            kManifestFormat));
  }
  GetMeta(r, m.meta);
  r.GetString(m.config);
  if (!GetMetrics(r, m.metrics) || !r.GetU32(tables) || tables > 64) {
    return absl::DataLossError("manifest is malformed");
  }
  m.tables.resize(tables);
  for (TableManifest& t : m.tables) {
    uint32_t chunks = 0;
    r.GetString(t.name);
    r.GetU64(t.size);
    if (!r.GetU32(chunks) || chunks > r.remaining() / 8 || chunks != ChunkCount(t.size)) {
      return absl::DataLossError("manifest is malformed");
    }
    t.chunk_versions.resize(chunks);
    for (uint64_t& v : t.chunk_versions) r.GetU64(v);
  }
  if (!r.done()) return absl::DataLossError("manifest is malformed");
  m.encoded_bytes = sealed.size();
  return m;
}

std::string ChunkKey(std::string_view table, uint32_t chunk, uint64_t version) {
  std::string key(table);
  key.push_back('\0');
  key += BigEndianKey(chunk).substr(4);
  key += BigEndianKey(version);
  return key;
}

uint64_t ChunkKeyVersion(std::string_view key) {
  return key.size() >= 8 ? DecodeBigEndianKey(key.substr(key.size() - 8)) : 0;
}

size_t ChunkCount(uint64_t size) {
  return static_cast<size_t>((size + model::kChunkFloats - 1) / model::kChunkFloats);
}

absl::Status CheckTablesMatch(const Manifest& m, model::Model& model) {
  absl::StatusOr<model::ModelConfig> stored = DecodeConfig(m.config);
  if (!stored.ok()) return stored.status();
  if (absl::Status s = CheckCompatible(*stored, model.config()); !s.ok()) return s;
  std::vector<model::StateTable> tables = model.StateTables();
  if (tables.size() != m.tables.size()) {
    return absl::FailedPreconditionError("snapshot has a different set of tables");
  }
  for (size_t i = 0; i < tables.size(); ++i) {
    if (tables[i].name != m.tables[i].name || tables[i].table->size() != m.tables[i].size ||
        m.tables[i].chunk_versions.size() != ChunkCount(m.tables[i].size)) {
      return absl::FailedPreconditionError(
          absl::StrCat("snapshot table ", m.tables[i].name, " does not match the model"));
    }
  }
  return absl::OkStatus();
}

bool AllFinite(const float* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(data[i])) return false;
  }
  return true;
}

bool AllValid(const float* data, size_t n, float min_value) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(data[i]) || data[i] < min_value) return false;
  }
  return true;
}

absl::StatusOr<std::string_view> DecodeChunk(std::string_view sealed, size_t n,
                                             const std::string& what, float min_value) {
  std::string_view payload;
  if (!Unseal(sealed, payload) || payload.size() != n * sizeof(float)) {
    return absl::DataLossError(absl::StrCat(what, " is corrupt"));
  }
  // The payload may be unaligned: check the floats through a copy.
  float buf[model::kChunkFloats];
  std::memcpy(buf, payload.data(), payload.size());
  if (!AllFinite(buf, n)) {
    return absl::DataLossError(absl::StrCat(what, " holds a non-finite value"));
  }
  if (!AllValid(buf, n, min_value)) {
    return absl::DataLossError(absl::StrCat(what, " holds a value below ", min_value,
                                            ", which this table cannot hold"));
  }
  return payload;
}

}  // namespace streamrec::storage
