#include "storage/meta_store.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "storage/config_codec.h"
#include "storage/encoding.h"

namespace streamrec::storage {
namespace {

constexpr char kConfigKey[] = "config";
constexpr char kLegacyVectorDimsKey[] = "vector_dims";
constexpr std::string_view kDimPrefix = "dim/";

}  // namespace

absl::StatusOr<std::optional<std::string>> MetaStore::LoadEncodedConfig() {
  return db_->Get(Family::kMeta, kConfigKey);
}

absl::Status MetaStore::SaveConfig(const model::ModelConfig& config) {
  rocksdb::WriteBatch batch;
  db_->Put(batch, Family::kMeta, kConfigKey, EncodeConfig(config));
  return db_->Write(batch, true);
}

void MetaStore::AddVectorDims(const VectorDimList& dims, rocksdb::WriteBatch& batch) const {
  for (const auto& [field, dim] : dims) {
    std::string value;
    PutU32(value, dim);
    db_->Put(batch, Family::kMeta, std::string(kDimPrefix) + field, value);
  }
}

absl::StatusOr<VectorDimList> MetaStore::LoadVectorDims() {
  VectorDimList out;
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(Family::kMeta);
  for (it->Seek(std::string(kDimPrefix)); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (key.substr(0, kDimPrefix.size()) != kDimPrefix) break;
    Reader r(it->value().ToStringView());
    uint32_t dim = 0;
    if (!r.GetU32(dim) || !r.done() || dim == 0) {
      return absl::DataLossError(absl::StrCat("vector dimension record ", std::string(key), " is corrupt"));
    }
    out.emplace_back(std::string(key.substr(kDimPrefix.size())), dim);
  }
  if (absl::Status s = FromRocks(it->status(), "reading vector dimensions"); !s.ok()) return s;
  it.reset();
  // Earlier versions kept the whole registry in one key: migrate it.
  absl::StatusOr<std::optional<std::string>> legacy = db_->Get(Family::kMeta, kLegacyVectorDimsKey);
  if (!legacy.ok()) return legacy.status();
  if (legacy->has_value()) {
    Reader r(**legacy);
    uint32_t n = 0;
    VectorDimList old;
    // Each entry takes at least 8 bytes: never trust a count beyond the bytes present.
    if (r.GetU32(n) && n <= r.remaining() / 8) {
      old.resize(n);
      for (auto& [field, dim] : old) {
        r.GetString(field);
        r.GetU32(dim);
      }
    }
    if (!r.done()) return absl::DataLossError("the vector dimension registry is corrupt");
    // Validate everything before writing anything: a refused migration changes nothing.
    for (const auto& [field, dim] : old) {
      if (dim == 0) {
        return absl::DataLossError(absl::StrCat(
            "the vector dimension registry is corrupt (field ", field, " has dimension 0)"));
      }
      for (const auto& [known, known_dim] : out) {
        if (known == field && known_dim != dim) {
          return absl::DataLossError(absl::StrCat(
              "the vector dimension registry says field ", field, " has dimension ", dim,
              " but record dim/", field, " says ", known_dim));
        }
      }
    }
    rocksdb::WriteBatch batch;
    AddVectorDims(old, batch);
    db_->Delete(batch, Family::kMeta, kLegacyVectorDimsKey);
    if (absl::Status s = db_->Write(batch, true); !s.ok()) return s;
    for (const auto& entry : old) {
      bool known = false;
      for (const auto& [field, dim] : out) known = known || field == entry.first;
      if (!known) out.push_back(entry);
    }
  }
  return out;
}

}  // namespace streamrec::storage
