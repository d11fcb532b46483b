#include "storage/snapshot_store.h"
#include "common/log.h"

#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "model/frozen_table.h"
#include "storage/config_codec.h"
#include "storage/encoding.h"

namespace streamrec::storage {
namespace {

constexpr size_t kChunkBatchBytes = 4 << 20;

}  // namespace

SnapshotStore::SnapshotStore(Database* db, SnapshotStoreOptions options)
    : db_(db), options_(options) {
  if (options_.retain < 1) const_cast<size_t&>(options_.retain) = 1;
}

absl::Status SnapshotStore::Open() {
  std::map<uint64_t, Manifest> manifests;
  std::map<uint64_t, std::string> unreadable;
  {
    std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(Family::kSnapshots);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const uint64_t version = DecodeBigEndianKey(it->key().ToStringView());
      absl::StatusOr<Manifest> m = DecodeManifest(it->value().ToStringView());
      if (!m.ok()) {
        log::Warning("snapshot unreadable",
                     {{"version", version}, {"error", std::string(m.status().message())}});
        unreadable[version] = std::string(m.status().message());
        continue;
      }
      manifests[version] = *std::move(m);
    }
    if (absl::Status s = FromRocks(it->status(), "reading snapshot manifests"); !s.ok()) return s;
  }
  if (!unreadable.empty() && options_.accept_data_loss) {
    rocksdb::WriteBatch batch;
    for (const auto& [version, why] : unreadable) {
      db_->Delete(batch, Family::kSnapshots, BigEndianKey(version));
    }
    log::Warning("--accept_data_loss: deleting unreadable snapshot manifests",
                 {{"manifests", unreadable.size()}});
    if (absl::Status s = db_->Write(batch, true); !s.ok()) return s;
  }
  {
    absl::MutexLock lock(&mu_);
    manifests_ = std::move(manifests);
    newest_seen_ = manifests_.empty() ? 0 : manifests_.rbegin()->first;
    if (!unreadable.empty()) newest_seen_ = std::max(newest_seen_, unreadable.rbegin()->first);
    if (!options_.accept_data_loss) unreadable_ = std::move(unreadable);
    if (!manifests_.empty()) {
      for (const TableManifest& t : manifests_.rbegin()->second.tables) {
        current_[t.name] = written_[t.name] = t.chunk_versions;
      }
    }
    for (const auto& [version, m] : manifests_) {
      for (const TableManifest& t : m.tables) {
        for (uint64_t v : t.chunk_versions) {
          if (v & kStagingBit) next_staging_ = std::max(next_staging_, v + 1);
        }
      }
    }
  }
  if (!options_.sweep_on_open) return absl::OkStatus();
  absl::StatusOr<uint64_t> swept = Sweep();
  if (!swept.ok()) return swept.status();
  if (*swept > 0) {
    log::Info("removed chunks no snapshot references (an unfinished snapshot or import)",
              {{"chunks", *swept}});
  }
  return absl::OkStatus();
}

void SnapshotStore::MarkReferenced(const Manifest& m, std::set<std::string>& keys) const {
  for (const TableManifest& t : m.tables) {
    for (size_t c = 0; c < t.chunk_versions.size(); ++c) {
      if (t.chunk_versions[c] != 0) {
        keys.insert(ChunkKey(t.name, static_cast<uint32_t>(c), t.chunk_versions[c]));
      }
    }
  }
}

absl::StatusOr<uint64_t> SnapshotStore::Sweep() {
  // Mark under the lock (memory only), sweep outside it.
  std::set<std::string> referenced;
  std::set<uint64_t> pinned;
  {
    absl::MutexLock lock(&mu_);
    // An unreadable manifest may reference any chunk: keep everything.
    if (!unreadable_.empty()) return 0;
    for (const auto& [version, m] : manifests_) MarkReferenced(m, referenced);
    pinned = pinned_staging_;
  }
  rocksdb::WriteBatch batch;
  uint64_t count = 0;
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(Family::kChunks);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    if (referenced.count(key) > 0 || pinned.count(ChunkKeyVersion(key)) > 0) continue;
    db_->Delete(batch, Family::kChunks, key);
    ++count;
    if (batch.GetDataSize() > kChunkBatchBytes) {
      if (absl::Status s = db_->Write(batch, false); !s.ok()) return s;
      batch.Clear();
    }
  }
  if (absl::Status s = FromRocks(it->status(), "reading snapshot chunks"); !s.ok()) return s;
  it.reset();
  if (batch.Count() > 0) {
    if (absl::Status s = db_->Write(batch, false); !s.ok()) return s;
  }
  return count;
}

SnapshotStore::Pending SnapshotStore::Capture(model::Model& model, const SnapshotMeta& meta,
                                              const model::StreamMetrics::State& metrics) {
  absl::MutexLock lock(&mu_);
  Pending p;
  p.epoch = epoch_;
  Manifest& m = p.manifest;
  m.meta = meta;
  m.meta.optimizer_step = model.optimizer_step();
  m.config = EncodeTrainingConfig(model.config());
  m.metrics = metrics;
  for (const model::StateTable& t : model.StateTables()) {
    if (force_full_) {
      for (size_t c = 0; c < t.table->num_chunks(); ++c) {
        t.table->MarkPersistDirty(static_cast<uint32_t>(c));
      }
    }
    std::vector<uint64_t>& versions = current_[t.name];
    versions.resize(t.table->num_chunks(), 0);
    const bool share = t.published != nullptr && t.published->size() == t.table->size();
    for (uint32_t c : t.table->TakePersistDirty()) {
      CapturedChunk& chunk = p.chunks.emplace_back();
      chunk.key = ChunkKey(t.name, c, meta.version);
      if (share) {
        chunk.shared = t.published->Chunk(c);
        chunk.floats = t.published->ChunkFloats(c);
      } else {
        PutFloats(chunk.value, t.table->ChunkData(c), t.table->ChunkSize(c));
        Seal(chunk.value);
      }
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
    // An unreadable snapshot may be one a newer build wrote: never overwrite it.
    if (unreadable_.count(p.manifest.meta.version) > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "snapshot ", p.manifest.meta.version, " exists and this build cannot read it; "
          "not overwritten"));
    }
  }
  uint64_t bytes = 0;
  absl::Status status;
  rocksdb::WriteBatch batch;
  for (CapturedChunk& chunk : p.chunks) {
    if (chunk.shared) {
      PutFloats(chunk.value, chunk.shared->values.data(), chunk.floats);
      Seal(chunk.value);
      chunk.shared.reset();
    }
    bytes += chunk.value.size();
    db_->Put(batch, Family::kChunks, chunk.key, chunk.value);
    std::string().swap(chunk.value);  // the batch holds its copy
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
    db_->Put(last, Family::kSnapshots, BigEndianKey(p.manifest.meta.version), manifest);
    status = db_->Write(last, true);
  }
  rocksdb::WriteBatch retire;
  {
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
    RetireOldest(retire);
  }
  // Retention's deletes are not needed for correctness; a failure is reported and the
  // chunks are swept later.
  if (retire.Count() > 0) {
    if (absl::Status s = db_->Write(retire, false); !s.ok()) {
      log::Warning("deleting retired snapshots failed", {{"error", std::string(s.message())}});
    }
  }
  return bytes;
}

void SnapshotStore::RetireOldest(rocksdb::WriteBatch& batch) {
  while (manifests_.size() > options_.retain) {
    auto oldest = manifests_.begin();
    // An unreadable manifest may reference any chunk: retire the manifest, keep its chunks
    // (Sweep removes them once no manifest is unreadable).
    if (!unreadable_.empty()) {
      db_->Delete(batch, Family::kSnapshots, BigEndianKey(oldest->first));
      manifests_.erase(oldest);
      continue;
    }
    // A chunk key is (table, index, version): the oldest manifest's chunk is still needed
    // when another manifest names the same version at the same index. Integer compares
    // only: this runs on every write.
    for (const TableManifest& table : oldest->second.tables) {
      std::vector<const std::vector<uint64_t>*> others;
      for (auto it = std::next(oldest); it != manifests_.end(); ++it) {
        for (const TableManifest& other : it->second.tables) {
          if (other.name == table.name) others.push_back(&other.chunk_versions);
        }
      }
      for (size_t c = 0; c < table.chunk_versions.size(); ++c) {
        const uint64_t v = table.chunk_versions[c];
        if (v == 0 || pinned_staging_.count(v) > 0) continue;
        bool referenced = false;
        for (const std::vector<uint64_t>* o : others) {
          if (c < o->size() && (*o)[c] == v) {
            referenced = true;
            break;
          }
        }
        if (!referenced) {
          db_->Delete(batch, Family::kChunks, ChunkKey(table.name, static_cast<uint32_t>(c), v));
        }
      }
    }
    db_->Delete(batch, Family::kSnapshots, BigEndianKey(oldest->first));
    manifests_.erase(oldest);
  }
}

absl::StatusOr<uint64_t> SnapshotStore::Persist(model::Model& model, const SnapshotMeta& meta,
                                                const model::StreamMetrics::State& metrics,
                                                const std::function<void()>& before_manifest) {
  return Write(Capture(model, meta, metrics), before_manifest);
}

absl::StatusOr<Manifest> SnapshotStore::Find(uint64_t version) const {
  absl::MutexLock lock(&mu_);
  auto found = manifests_.find(version);
  if (found == manifests_.end()) {
    return absl::NotFoundError(absl::StrCat("no snapshot with version ", version));
  }
  return found->second;
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

uint64_t SnapshotStore::NewestVersion() const {
  absl::MutexLock lock(&mu_);
  return std::max(newest_seen_, manifests_.empty() ? 0 : manifests_.rbegin()->first);
}

}  // namespace streamrec::storage
