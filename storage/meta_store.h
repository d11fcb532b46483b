// MetaStore: the small metadata the server keeps beside its log and snapshots, in the
// `default` column family (Family::kMeta): the ModelConfig the data was written with, and the registry of
// vector fields and their dimensions (one key per field, so registering a field writes
// one small key, never the whole registry).
// Thread-compatible: the config at startup; dimensions are added by the log writer
// thread inside its log WriteBatch (AddVectorDims), loaded before serving.
#ifndef STREAMREC_STORAGE_META_STORE_H_
#define STREAMREC_STORAGE_META_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/model_config.h"
#include "storage/database.h"
#include "storage/event_log.h"  // VectorDimList

namespace streamrec::storage {

class MetaStore {
 public:
  explicit MetaStore(Database* db) : db_(db) {}

  // LoadConfig returns the stored config as written (nullopt on a fresh data dir).
  absl::StatusOr<std::optional<std::string>> LoadEncodedConfig();
  absl::Status SaveConfig(const model::ModelConfig& config);

  // LoadVectorDims returns every registered field, migrating the single-key registry of
  // earlier versions ("vector_dims") to one key per field.
  absl::StatusOr<VectorDimList> LoadVectorDims();
  // AddVectorDims adds the registration of `dims` to `batch`.
  void AddVectorDims(const VectorDimList& dims, rocksdb::WriteBatch& batch) const;

 private:
  Database* const db_;
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_META_STORE_H_
