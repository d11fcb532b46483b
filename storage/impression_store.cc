#include "storage/impression_store.h"

#include "storage/database.h"

namespace streamrec::storage {

absl::Status RocksImpressionStore::Write(const StoreWrites& writes, bool sync) {
  rocksdb::WriteBatch batch;
  for (const StoreWrite& w : writes) {
    if (w.erase) {
      db_->Delete(batch, Family::kImpressions, w.key);
    } else {
      db_->Put(batch, Family::kImpressions, w.key, w.value);
    }
  }
  return db_->Write(batch, sync);
}

absl::StatusOr<std::optional<std::string>> RocksImpressionStore::Get(
    std::string_view key) const {
  return db_->Get(Family::kImpressions, key);
}

absl::Status RocksImpressionStore::Scan(
    std::string_view begin, std::string_view end, size_t max,
    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  return db_->Scan(Family::kImpressions, begin, end, max, fn);
}

absl::Status MemoryImpressionStore::Write(const StoreWrites& writes, bool) {
  absl::MutexLock lock(&mu_);
  for (const StoreWrite& w : writes) {
    if (w.erase) {
      map_.erase(w.key);
    } else {
      map_[w.key] = w.value;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> MemoryImpressionStore::Get(
    std::string_view key) const {
  absl::MutexLock lock(&mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

absl::Status MemoryImpressionStore::Scan(
    std::string_view begin, std::string_view end, size_t max,
    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (auto it = map_.lower_bound(begin); it != map_.end() && it->first < end && n < max;
       ++it, ++n) {
    if (!fn(it->first, it->second)) break;
  }
  return absl::OkStatus();
}

}  // namespace streamrec::storage
