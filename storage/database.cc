#include "storage/database.h"

#include "absl/strings/str_cat.h"
#include "rocksdb/options.h"

namespace streamrec::storage {

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut()) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

namespace {

const char* kFamilies[] = {rocksdb::kDefaultColumnFamilyName.c_str(), "events", "chunks",
                           "snapshots"};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& dir) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.IncreaseParallelism(2);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : kFamilies) {
    rocksdb::ColumnFamilyOptions cf;
    cf.OptimizeLevelStyleCompaction();
    families.emplace_back(name, cf);
  }
  std::unique_ptr<Database> db(new Database());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, families, &db->handles_, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("cannot open the database in ", dir));
  db->db_.reset(raw);
  return db;
}

absl::Status Database::Destroy(const std::string& dir) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : kFamilies) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  return FromRocks(rocksdb::DestroyDB(dir, rocksdb::Options(), families),
                   absl::StrCat("cannot delete the database in ", dir));
}

Database::~Database() {
  if (!db_) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

absl::Status Database::Write(rocksdb::WriteBatch& batch, bool sync) {
  if (fail_writes_.load()) return absl::UnavailableError("write failed (injected for testing)");
  rocksdb::WriteOptions options;
  options.sync = sync;
  return FromRocks(db_->Write(options, &batch), "write");
}

absl::StatusOr<std::optional<std::string>> Database::Get(rocksdb::ColumnFamilyHandle* cf,
                                                         const std::string& key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "read");
  return std::optional<std::string>(std::move(value));
}

}  // namespace streamrec::storage
