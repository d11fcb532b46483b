// SnapshotStore, the read side: loading a manifest's chunks into a model (verify, load, or
// both), restoring a version or the newest one that verifies at start, and the staging
// and swap steps of an import. The write side (capture, write, retention, sweep) is in
// snapshot_store.cc; the contract is in snapshot_store.h.
#include <cstdio>
#include "common/log.h"
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/encoding.h"
#include "storage/snapshot_store.h"

namespace streamrec::storage {
namespace {

std::string Describe(const std::map<uint64_t, std::string>& failures) {
  std::vector<std::string> parts;
  for (const auto& [version, why] : failures) {
    const std::string self = absl::StrCat("snapshot ", version, ": ");
    parts.push_back(why.rfind(self, 0) == 0 ? why : absl::StrCat(self, why));
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace

absl::StatusOr<RestoredState> SnapshotStore::Load(const Manifest& m, model::Model& model,
                                                  LoadMode mode, const ReadSnapshot* snapshot) {
  if (absl::Status s = CheckTablesMatch(m, model); !s.ok()) return s;
  std::vector<model::StateTable> tables = model.StateTables();
  const std::vector<float> zeros(model::kChunkFloats, 0.0f);
  // Pass 0 reads and checks every chunk; pass 1 loads.
  const int first = mode == LoadMode::kLoad ? 1 : 0;
  const int end = mode == LoadMode::kVerify ? 1 : 2;
  for (int pass = first; pass < end; ++pass) {
    const bool load = pass == 1;
    for (size_t t = 0; t < tables.size(); ++t) {
      model::ParamTable& table = *tables[t].table;
      const TableManifest& tm = m.tables[t];
      for (size_t c = 0; c < tm.chunk_versions.size(); ++c) {
        const size_t n = table.ChunkSize(c);
        const float* data = zeros.data();
        std::string value;
        if (tm.chunk_versions[c] != 0) {
          absl::StatusOr<std::optional<std::string>> got = db_->Get(
              Family::kChunks, ChunkKey(tm.name, static_cast<uint32_t>(c), tm.chunk_versions[c]),
              snapshot, /*fill_cache=*/false);
          if (!got.ok()) return got.status();
          const std::string what =
              absl::StrCat("snapshot ", m.meta.version, ": chunk ", c, " of ", tm.name);
          if (!got->has_value()) return absl::DataLossError(absl::StrCat(what, " is missing"));
          value = std::move(**got);  // before taking views of it (a short value is inline)
          absl::StatusOr<std::string_view> floats =
              DecodeChunk(value, n, what, tables[t].min_value);
          if (!floats.ok()) return floats.status();
          data = reinterpret_cast<const float*>(floats->data());
        }
        if (!load) continue;
        if (std::memcmp(table.ChunkData(c), data, n * sizeof(float)) != 0) {
          table.SetChunk(c, data, n);
        }
      }
    }
  }
  if (end == 2) {
    for (const model::StateTable& t : tables) t.table->TakePersistDirty();  // persisted
    model.set_optimizer_step(m.meta.optimizer_step);
  }
  return RestoredState{m.meta, m.metrics};
}

absl::StatusOr<RestoredState> SnapshotStore::Restore(uint64_t version, model::Model& model,
                                                     bool verify_first) {
  absl::StatusOr<Manifest> m = Find(version);
  if (!m.ok()) return m.status();
  std::shared_ptr<ReadSnapshot> snapshot = db_->TakeSnapshot();
  absl::StatusOr<RestoredState> r = Load(
      *m, model, verify_first ? LoadMode::kVerifyThenLoad : LoadMode::kLoad, snapshot.get());
  if (r.status().code() == absl::StatusCode::kFailedPrecondition) {
    // Its tables do not fit the model this data dir was opened with (checked at open):
    // the snapshot is damaged, like a bad chunk, so a start falls back to an older one.
    return absl::DataLossError(absl::StrCat("snapshot ", version, ": ", r.status().message()));
  }
  if (!r.ok()) return r;
  // The restored snapshot's chunks are written: the next capture builds on them (they
  // describe the whole state, so no full capture is needed after an earlier failure).
  absl::MutexLock lock(&mu_);
  for (const TableManifest& tm : m->tables) current_[tm.name] = written_[tm.name] = tm.chunk_versions;
  force_full_ = false;
  return r;
}

absl::StatusOr<RestoredState> SnapshotStore::RestoreNewest(model::Model& model) {
  std::vector<uint64_t> versions;
  std::map<uint64_t, std::string> failures;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = manifests_.rbegin(); it != manifests_.rend(); ++it) versions.push_back(it->first);
    failures = unreadable_;
  }
  for (uint64_t v : versions) {
    absl::StatusOr<RestoredState> r = Restore(v, model);
    if (r.ok()) return r;
    if (r.status().code() == absl::StatusCode::kFailedPrecondition) return r.status();
    log::Warning("snapshot fails verification; trying an older one",
                 {{"version", v}, {"error", std::string(r.status().message())}});
    failures[v] = std::string(r.status().message());
  }
  if (failures.empty()) return absl::NotFoundError("no snapshot");
  if (options_.accept_data_loss) {
    log::Warning("--accept_data_loss: no snapshot verifies; starting from an empty model",
                 {{"failures", Describe(failures)}});
    // The snapshots that failed are gone for good: delete them, so they neither take
    // retention's places nor hold the log's truncation point (which would drop the very
    // events about to be replayed), and sweep their chunks.
    rocksdb::WriteBatch batch;
    for (const auto& [version, why] : failures) {
      db_->Delete(batch, Family::kSnapshots, BigEndianKey(version));
    }
    if (absl::Status s = db_->Write(batch, true); !s.ok()) return s;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [version, why] : failures) manifests_.erase(version);
      current_.clear();
      written_.clear();
    }
    if (absl::StatusOr<uint64_t> swept = Sweep(); !swept.ok()) return swept.status();
    // A half-loaded model must not survive: start from zeros.
    for (const model::StateTable& t : model.StateTables()) {
      const std::vector<float> zeros(model::kChunkFloats, 0.0f);
      for (size_t c = 0; c < t.table->num_chunks(); ++c) {
        t.table->SetChunk(c, zeros.data(), t.table->ChunkSize(c));
      }
      t.table->TakePersistDirty();
    }
    model.set_optimizer_step(0);
    absl::MutexLock lock(&mu_);
    force_full_ = true;
    return absl::NotFoundError("no snapshot verifies");
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the data dir ", db_->dir(), " holds ", failures.size(),
      " snapshot(s) and none verifies (", Describe(failures),
      "). Starting from an empty model would lose the events they hold. Restore the data "
      "dir from a backup, or start with --accept_data_loss to start from an empty model "
      "and replay only the events still in the log"));
}

std::vector<std::string> SnapshotStore::Unreadable() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [version, why] : unreadable_) out.push_back(absl::StrCat(version, ": ", why));
  return out;
}

uint64_t SnapshotStore::BeginStaging() {
  absl::MutexLock lock(&mu_);
  const uint64_t v = next_staging_++;
  pinned_staging_.insert(v);
  return v;
}

void SnapshotStore::EndStaging(uint64_t staging_version) {
  absl::MutexLock lock(&mu_);
  pinned_staging_.erase(staging_version);
}

absl::Status SnapshotStore::Verify(const Manifest& source, model::Model& model) {
  std::shared_ptr<ReadSnapshot> snapshot = db_->TakeSnapshot();
  return Load(source, model, LoadMode::kVerify, snapshot.get()).status();
}

absl::StatusOr<uint64_t> SnapshotStore::WriteSwap(const Manifest& source,
                                                  const SnapshotMeta& meta,
                                                  const model::StreamMetrics::State& metrics,
                                                  const std::function<void()>& before_manifest) {
  Pending p;
  {
    absl::MutexLock lock(&mu_);
    p.epoch = epoch_;
  }
  p.manifest.meta = meta;
  p.manifest.meta.optimizer_step = source.meta.optimizer_step;
  p.manifest.config = source.config;
  p.manifest.metrics = metrics;
  p.manifest.tables = source.tables;
  return Write(std::move(p), before_manifest);
}

absl::StatusOr<RestoredState> SnapshotStore::LoadSwapped(const Manifest& source,
                                                         model::Model& model) {
  std::shared_ptr<ReadSnapshot> snapshot = db_->TakeSnapshot();
  absl::StatusOr<RestoredState> r = Load(source, model, LoadMode::kLoad, snapshot.get());
  if (!r.ok()) return r;
  // Written as the swap's snapshot: the next capture builds on these chunks.
  absl::MutexLock lock(&mu_);
  for (const TableManifest& tm : source.tables) current_[tm.name] = written_[tm.name] = tm.chunk_versions;
  force_full_ = false;
  return r;
}

}  // namespace streamrec::storage
