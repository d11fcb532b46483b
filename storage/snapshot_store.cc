#include "storage/snapshot_store.h"

#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "model/frozen_table.h"
#include "storage/config_codec.h"
#include "storage/encoding.h"

namespace streamrec::storage {
namespace {

constexpr uint32_t kManifestFormat = 1;
constexpr char kExportMagic[] = "STREAMREC-SNAPSHOT-1\n";
constexpr size_t kChunkBatchBytes = 4 << 20;

std::string ChunkKey(const std::string& table, uint32_t chunk, uint64_t version) {
  std::string key = table;
  key.push_back('\0');
  key += BigEndianKey(chunk).substr(4);
  key += BigEndianKey(version);
  return key;
}

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
    r.GetF64(*v);
  }
  uint32_t bins = 0, points = 0;
  if (!r.GetU32(bins) || bins > (1u << 20)) return false;
  s.positive_bins.resize(bins);
  s.negative_bins.resize(bins);
  for (double& v : s.positive_bins) r.GetF64(v);
  for (double& v : s.negative_bins) r.GetF64(v);
  if (!r.GetU32(points) || points > (1u << 26)) return false;
  s.window.resize(points);
  for (auto& p : s.window) {
    r.GetF32(p.p);
    r.GetF32(p.y);
    r.GetF32(p.w);
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
    return absl::DataLossError("unknown manifest format");
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
    if (!r.GetU32(chunks) || chunks > (1u << 26)) return absl::DataLossError("manifest is malformed");
    t.chunk_versions.resize(chunks);
    for (uint64_t& v : t.chunk_versions) r.GetU64(v);
  }
  if (!r.done()) return absl::DataLossError("manifest is malformed");
  m.encoded_bytes = sealed.size();
  return m;
}

size_t ChunkCount(size_t size) {
  return (size + model::kChunkFloats - 1) / model::kChunkFloats;
}

// LoadTables reads `m`'s chunks into model's tables via `chunk(table, c, v, floats)`.
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

}  // namespace

absl::Status SnapshotStore::Open() {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db()->NewIterator(rocksdb::ReadOptions(), db_->snapshots()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const uint64_t version = DecodeBigEndianKey(it->key().ToStringView());
    absl::StatusOr<Manifest> m = DecodeManifest(it->value().ToStringView());
    if (!m.ok()) {
      std::fprintf(stderr, "streamrec-server: snapshot %lu is unreadable (%s); skipped\n",
                   static_cast<unsigned long>(version), std::string(m.status().message()).c_str());
      continue;
    }
    manifests_[version] = *std::move(m);
  }
  if (absl::Status s = FromRocks(it->status(), "reading snapshot manifests"); !s.ok()) return s;
  // Chunks newer than the newest manifest belong to a persist that did not finish.
  const uint64_t newest = manifests_.empty() ? 0 : manifests_.rbegin()->first;
  rocksdb::WriteBatch orphans;
  size_t count = 0;
  std::unique_ptr<rocksdb::Iterator> chunks(
      db_->db()->NewIterator(rocksdb::ReadOptions(), db_->chunks()));
  for (chunks->SeekToFirst(); chunks->Valid(); chunks->Next()) {
    const std::string_view key = chunks->key().ToStringView();
    if (key.size() >= 8 && DecodeBigEndianKey(key.substr(key.size() - 8)) > newest) {
      orphans.Delete(db_->chunks(), chunks->key());
      ++count;
    }
  }
  if (count > 0) {
    std::fprintf(stderr, "streamrec-server: removing %zu chunks of an unfinished snapshot\n", count);
    if (absl::Status s = db_->Write(orphans, true); !s.ok()) return s;
  }
  if (!manifests_.empty()) {
    for (const TableManifest& t : manifests_.rbegin()->second.tables) {
      current_[t.name] = written_[t.name] = t.chunk_versions;
    }
  }
  return absl::OkStatus();
}

SnapshotStore::Pending SnapshotStore::Capture(model::Model& model, const SnapshotMeta& meta,
                                              const model::StreamMetrics::State& metrics) {
  absl::MutexLock lock(&mu_);
  Pending p;
  p.epoch = epoch_;
  Manifest& m = p.manifest;
  m.meta = meta;
  m.meta.optimizer_step = model.optimizer_step();
  m.config = EncodeConfig(model.config());
  m.metrics = metrics;
  for (const model::StateTable& t : model.StateTables()) {
    if (force_full_) {
      for (size_t c = 0; c < t.table->num_chunks(); ++c) {
        t.table->MarkPersistDirty(static_cast<uint32_t>(c));
      }
    }
    std::vector<uint64_t>& versions = current_[t.name];
    versions.resize(t.table->num_chunks(), 0);
    for (uint32_t c : t.table->TakePersistDirty()) {
      std::string value;
      PutFloats(value, t.table->ChunkData(c), t.table->ChunkSize(c));
      Seal(value);
      p.chunks.emplace_back(ChunkKey(t.name, c, meta.version), std::move(value));
      versions[c] = meta.version;
    }
    m.tables.push_back({t.name, t.table->size(), versions});
  }
  force_full_ = false;
  return p;
}

absl::StatusOr<uint64_t> SnapshotStore::Write(Pending p,
                                              const std::function<void()>& before_manifest) {
  {
    absl::MutexLock lock(&mu_);
    if (p.epoch != epoch_) {
      return absl::AbortedError("snapshot dropped: an earlier snapshot write failed");
    }
  }
  uint64_t bytes = 0;
  absl::Status status;
  rocksdb::WriteBatch batch;
  for (auto& [key, value] : p.chunks) {
    bytes += value.size();
    batch.Put(db_->chunks(), key, value);
    if (batch.GetDataSize() > kChunkBatchBytes) {
      status = db_->Write(batch, false);
      batch.Clear();
      if (!status.ok()) break;
    }
  }
  if (status.ok() && batch.Count() > 0) status = db_->Write(batch, false);
  if (status.ok() && before_manifest) before_manifest();
  const std::string manifest = EncodeManifest(p.manifest);
  if (status.ok()) {
    rocksdb::WriteBatch last;
    last.Put(db_->snapshots(), BigEndianKey(p.manifest.meta.version), manifest);
    status = db_->Write(last, true);
  }
  absl::MutexLock lock(&mu_);
  if (!status.ok()) {
    ++epoch_;
    force_full_ = true;
    current_ = written_;
    return status;
  }
  bytes += manifest.size();
  for (const TableManifest& t : p.manifest.tables) written_[t.name] = t.chunk_versions;
  p.manifest.encoded_bytes = manifest.size();
  manifests_[p.manifest.meta.version] = std::move(p.manifest);
  while (manifests_.size() > retain_) {
    if (absl::Status s = DeleteOldest(); !s.ok()) return s;
  }
  return bytes;
}

absl::StatusOr<uint64_t> SnapshotStore::Persist(model::Model& model, const SnapshotMeta& meta,
                                                const model::StreamMetrics::State& metrics,
                                                const std::function<void()>& before_manifest) {
  return Write(Capture(model, meta, metrics), before_manifest);
}

absl::Status SnapshotStore::DeleteOldest() {
  auto oldest = manifests_.begin();
  rocksdb::WriteBatch batch;
  for (size_t t = 0; t < oldest->second.tables.size(); ++t) {
    const TableManifest& table = oldest->second.tables[t];
    for (size_t c = 0; c < table.chunk_versions.size(); ++c) {
      const uint64_t v = table.chunk_versions[c];
      if (v == 0) continue;
      bool referenced = false;
      for (auto it = std::next(oldest); it != manifests_.end() && !referenced; ++it) {
        for (const TableManifest& other : it->second.tables) {
          if (other.name == table.name && c < other.chunk_versions.size() &&
              other.chunk_versions[c] == v) {
            referenced = true;
          }
        }
      }
      if (!referenced) batch.Delete(db_->chunks(), ChunkKey(table.name, c, v));
    }
  }
  batch.Delete(db_->snapshots(), BigEndianKey(oldest->first));
  if (absl::Status s = db_->Write(batch, false); !s.ok()) return s;
  manifests_.erase(oldest);
  return absl::OkStatus();
}

absl::StatusOr<RestoredState> SnapshotStore::Restore(uint64_t version, model::Model& model) {
  absl::MutexLock lock(&mu_);
  auto found = manifests_.find(version);
  if (found == manifests_.end()) {
    return absl::NotFoundError(absl::StrCat("no snapshot with version ", version));
  }
  const Manifest& m = found->second;
  if (absl::Status s = CheckTablesMatch(m, model); !s.ok()) return s;
  std::vector<model::StateTable> tables = model.StateTables();
  std::vector<float> zeros(model::kChunkFloats, 0.0f);
  // Restore into a scratch model if the caller cannot afford a half-loaded one: the
  // chunk bookkeeping below changes only once every table has loaded.
  for (size_t t = 0; t < tables.size(); ++t) {
    model::ParamTable& table = *tables[t].table;
    const TableManifest& tm = m.tables[t];
    for (size_t c = 0; c < tm.chunk_versions.size(); ++c) {
      const size_t n = table.ChunkSize(c);
      if (tm.chunk_versions[c] == 0) {
        table.SetChunk(c, zeros.data(), n);
        continue;
      }
      absl::StatusOr<std::optional<std::string>> value =
          db_->Get(db_->chunks(), ChunkKey(tm.name, static_cast<uint32_t>(c), tm.chunk_versions[c]));
      if (!value.ok()) return value.status();
      std::string_view payload;
      if (!value->has_value() || !Unseal(**value, payload) || payload.size() != n * sizeof(float)) {
        return absl::DataLossError(absl::StrCat("snapshot ", version, ": chunk ", c, " of ",
                                                tm.name, " is missing or corrupt"));
      }
      table.SetChunk(c, reinterpret_cast<const float*>(payload.data()), n);
    }
    table.TakePersistDirty();  // already persisted under these versions
  }
  // The restored snapshot's chunks are written: the next capture builds on them.
  for (const TableManifest& tm : m.tables) current_[tm.name] = written_[tm.name] = tm.chunk_versions;
  model.set_optimizer_step(m.meta.optimizer_step);
  model.ResetPublishBase();
  return RestoredState{m.meta, m.metrics};
}

absl::StatusOr<RestoredState> SnapshotStore::RestoreNewest(model::Model& model) {
  std::vector<uint64_t> versions;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = manifests_.rbegin(); it != manifests_.rend(); ++it) versions.push_back(it->first);
  }
  for (uint64_t v : versions) {
    absl::StatusOr<RestoredState> r = Restore(v, model);
    if (r.ok()) return r;
    if (r.status().code() == absl::StatusCode::kFailedPrecondition) return r.status();
    std::fprintf(stderr, "streamrec-server: snapshot %lu fails verification (%s); trying an "
                 "older one\n", static_cast<unsigned long>(v),
                 std::string(r.status().message()).c_str());
  }
  return absl::NotFoundError("no snapshot");
}

absl::StatusOr<std::string> SnapshotStore::Export(uint64_t version) {
  absl::MutexLock lock(&mu_);
  auto found = manifests_.find(version);
  if (found == manifests_.end()) {
    return absl::NotFoundError(absl::StrCat("no snapshot with version ", version));
  }
  const Manifest& m = found->second;
  std::string out = kExportMagic;
  PutMeta(out, m.meta);
  PutString(out, m.config);
  PutMetrics(out, m.metrics);
  PutU32(out, static_cast<uint32_t>(m.tables.size()));
  std::vector<float> zeros(model::kChunkFloats, 0.0f);
  for (const TableManifest& t : m.tables) {
    PutString(out, t.name);
    PutU64(out, t.size);
    for (size_t c = 0; c < t.chunk_versions.size(); ++c) {
      const size_t n = std::min(model::kChunkFloats, t.size - c * model::kChunkFloats);
      if (t.chunk_versions[c] == 0) {
        PutFloats(out, zeros.data(), n);
        continue;
      }
      absl::StatusOr<std::optional<std::string>> value =
          db_->Get(db_->chunks(), ChunkKey(t.name, static_cast<uint32_t>(c), t.chunk_versions[c]));
      if (!value.ok()) return value.status();
      std::string_view payload;
      if (!value->has_value() || !Unseal(**value, payload) || payload.size() != n * sizeof(float)) {
        return absl::DataLossError(absl::StrCat("snapshot ", version, ": chunk ", c, " of ",
                                                t.name, " is missing or corrupt"));
      }
      out.append(payload.data(), payload.size());
    }
  }
  Seal(out);
  return out;
}

absl::StatusOr<RestoredState> SnapshotStore::Import(std::string_view file, model::Model& model) {
  const std::string_view magic = kExportMagic;
  std::string_view payload;
  if (file.substr(0, magic.size()) != magic) {
    return absl::InvalidArgumentError("not a streamrec snapshot export");
  }
  if (!Unseal(file, payload)) return absl::DataLossError("snapshot export checksum mismatch");
  Reader r(payload.substr(magic.size()));
  Manifest m;
  uint32_t tables = 0;
  GetMeta(r, m.meta);
  r.GetString(m.config);
  if (!GetMetrics(r, m.metrics) || !r.GetU32(tables) || tables > 64) {
    return absl::DataLossError("snapshot export is malformed");
  }
  m.tables.resize(tables);
  std::vector<std::vector<float>> data(tables);
  for (uint32_t t = 0; t < tables; ++t) {
    r.GetString(m.tables[t].name);
    r.GetU64(m.tables[t].size);
    if (!r.ok() || m.tables[t].size > (uint64_t{1} << 32)) {
      return absl::DataLossError("snapshot export is malformed");
    }
    m.tables[t].chunk_versions.assign(ChunkCount(m.tables[t].size), 1);
    data[t].resize(m.tables[t].size);
    if (!r.GetFloats(data[t].data(), data[t].size())) {
      return absl::DataLossError("snapshot export is truncated");
    }
  }
  if (!r.done()) return absl::DataLossError("snapshot export is malformed");
  if (absl::Status s = CheckTablesMatch(m, model); !s.ok()) return s;
  std::vector<model::StateTable> model_tables = model.StateTables();
  for (uint32_t t = 0; t < tables; ++t) {
    model::ParamTable& table = *model_tables[t].table;
    for (size_t c = 0; c < table.num_chunks(); ++c) {
      table.SetChunk(c, data[t].data() + c * model::kChunkFloats, table.ChunkSize(c));
    }
  }
  model.set_optimizer_step(m.meta.optimizer_step);
  model.ResetPublishBase();
  return RestoredState{m.meta, m.metrics};
}

std::vector<SnapshotInfo> SnapshotStore::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<SnapshotInfo> out;
  for (const auto& [version, m] : manifests_) {
    SnapshotInfo info;
    info.meta = m.meta;
    info.bytes = m.encoded_bytes;
    for (const TableManifest& t : m.tables) {
      for (uint64_t v : t.chunk_versions) info.bytes += v ? model::kChunkFloats * 4 + 8 : 0;
    }
    out.push_back(info);
  }
  return out;
}

uint64_t SnapshotStore::OldestLastSeq() const {
  absl::MutexLock lock(&mu_);
  return manifests_.empty() ? 0 : manifests_.begin()->second.meta.last_seq;
}

}  // namespace streamrec::storage
