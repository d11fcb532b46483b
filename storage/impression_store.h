// ImpressionStore: the keyspace logged impressions live in (storage/impression.h names
// its keys), behind an interface so that a distributed mode can keep impressions
// elsewhere. Two implementations:
//   RocksImpressionStore   the data dir's `impressions` column family. Its writes that
//                          account for logged events (a reward joined, an impression
//                          closed) are not written here but carried by the event log's
//                          Append (storage/event_log.h, StoreWrites), so they are
//                          durable in the same RocksDB write as those events.
//   MemoryImpressionStore  a server without a data dir: an ordered map, lost at exit.
// Threads: Write, Get, Scan and size from any thread.
#ifndef STREAMREC_STORAGE_IMPRESSION_STORE_H_
#define STREAMREC_STORAGE_IMPRESSION_STORE_H_

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/event_log.h"

namespace streamrec::storage {

class Database;

class ImpressionStore {
 public:
  virtual ~ImpressionStore() = default;
  // Write applies `writes` at once; `sync` fsyncs first where that means something.
  virtual absl::Status Write(const StoreWrites& writes, bool sync) = 0;
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const = 0;
  // Scan: the keys in [begin, end) in order, at most `max`, until fn returns false.
  virtual absl::Status Scan(
      std::string_view begin, std::string_view end, size_t max,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) const = 0;
  // carried_by_log: whether the event log's Append writes StoreWrites into this store
  // (atomically with its events); otherwise the caller applies them with Write.
  virtual bool carried_by_log() const = 0;
};

class RocksImpressionStore final : public ImpressionStore {
 public:
  // `db` must have the impressions family (DatabaseOptions::impressions).
  explicit RocksImpressionStore(Database* db) : db_(db) {}
  absl::Status Write(const StoreWrites& writes, bool sync) override;
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override;
  absl::Status Scan(std::string_view begin, std::string_view end, size_t max,
                    const std::function<bool(std::string_view, std::string_view)>& fn)
      const override;
  bool carried_by_log() const override { return true; }

 private:
  Database* const db_;
};

class MemoryImpressionStore final : public ImpressionStore {
 public:
  absl::Status Write(const StoreWrites& writes, bool sync) override;
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override;
  absl::Status Scan(std::string_view begin, std::string_view end, size_t max,
                    const std::function<bool(std::string_view, std::string_view)>& fn)
      const override;
  bool carried_by_log() const override { return false; }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::string, std::less<>> map_ ABSL_GUARDED_BY(mu_);
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_IMPRESSION_STORE_H_
