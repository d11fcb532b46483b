#include "storage/database.h"
#include "common/log.h"

#include <cerrno>
#include <cstdarg>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "rocksdb/convenience.h"
#include "rocksdb/env.h"
#include "rocksdb/iterator.h"
#include "rocksdb/comparator.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/cache.h"

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
                           "snapshots", "impressions"};
// The families every data dir has; the impressions family only some (see the header).
constexpr size_t kRequiredFamilies = 4;

// StderrLogger: RocksDB's warnings and errors on stderr instead of a LOG file in the data
// dir (see the header comment: writing that file on a full disk aborts the process), at
// most 20 lines a minute (a write stall logs a line per write), with a count of the
// lines dropped.
class StderrLogger final : public rocksdb::Logger {
 public:
  StderrLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    const auto now = std::chrono::steady_clock::now();
    uint64_t dropped = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (now >= window_end_) {
        window_end_ = now + std::chrono::minutes(1);
        dropped = dropped_;
        dropped_ = 0;
        lines_ = 0;
      }
      if (++lines_ > 20) {
        ++dropped_;
        return;
      }
    }
    char line[1024];
    std::vsnprintf(line, sizeof(line), format, ap);
    if (dropped > 0) {
      log::Warning("rocksdb lines dropped", {{"lines", dropped}});
    }
    log::Warning("rocksdb", {{"message", std::string_view(line)}});
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::time_point window_end_;
  uint64_t lines_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace

ReadSnapshot::~ReadSnapshot() { db_->Release(this); }

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  std::unique_ptr<Database> db(new Database(options));
  if (options.create_if_missing) {
    // RocksDB would log an error for the missing directory before creating it.
    std::error_code ec;
    std::filesystem::create_directories(options.dir, ec);
  }
  if (options.file_system) db->env_ = rocksdb::NewCompositeEnv(options.file_system);
  db->statistics_ = rocksdb::CreateDBStatistics();
  db->block_cache_ = rocksdb::NewLRUCache(32 << 20);
  db->statistics_->set_stats_level(rocksdb::StatsLevel::kExceptDetailedTimers);
  absl::MutexLock lock(&db->mu_);
  if (absl::Status s = db->OpenLocked(); !s.ok()) return s;
  return db;
}

absl::Status Database::OpenLocked(bool read_only) {
  rocksdb::DBOptions options;
  options.create_if_missing = options_.create_if_missing;
  options.create_missing_column_families = options_.create_if_missing;
  options.IncreaseParallelism(2);
  options.info_log = std::make_shared<StderrLogger>();
  options.statistics = statistics_;
  if (env_) options.env = env_.get();
  // Memory: memtables are bounded per family (the log takes the largest, for ingest) and
  // in total, and reads share one bounded block cache, so streaming a large snapshot in or
  // out does not grow the process by more than these budgets.
  options.db_write_buffer_size = 64 << 20;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = block_cache_;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  // Memtable size per family (at most three each): the log's absorbs ingest bursts; snapshot
  // chunks are written in bulk and need little.
  const uint64_t memtable_bytes[] = {4 << 20, 32 << 20, 8 << 20, 4 << 20, 8 << 20};
  // The impressions family: when asked for, or when the data dir has it (RocksDB opens a
  // database only with all its families); the same set across reopens.
  size_t open_families = kRequiredFamilies;
  if (!ids_.empty()) {
    open_families = ids_.size();
  } else if (options_.impressions && !read_only) {
    open_families = std::size(kFamilies);
  } else {
    std::vector<std::string> names;
    if (rocksdb::DB::ListColumnFamilies(options, options_.dir, &names).ok()) {
      for (const std::string& n : names) {
        if (n == kFamilies[static_cast<size_t>(Family::kImpressions)]) {
          open_families = std::size(kFamilies);
        }
      }
    }
  }
  for (size_t f = 0; f < open_families; ++f) {
    rocksdb::ColumnFamilyOptions cf;
    cf.OptimizeLevelStyleCompaction(memtable_bytes[f] * 4);
    cf.write_buffer_size = memtable_bytes[f];
    cf.max_write_buffer_number = 3;
    cf.min_write_buffer_number_to_merge = 1;
    if (f == static_cast<size_t>(Family::kEvents)) {
      // One compression on every level of the log: its keys only grow, so each file
      // moves down the levels without a rewrite, which RocksDB does only between levels
      // that compress alike (the level-style default, none on levels 0-1 and LZ4 below,
      // rewrote the whole log once more at ingest rates).
      cf.compression_per_level.clear();
      cf.compression = rocksdb::kLZ4Compression;
    }
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    families.emplace_back(kFamilies[f], cf);
  }
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(options, options_.dir, families, &handles, &raw)
                : rocksdb::DB::Open(options, options_.dir, families, &handles, &raw);
  if (!s.ok()) {
    std::string hint;
    if (s.ToString().find("lock") != std::string::npos) {
      hint = " (is a server running on this data dir?)";
    } else if (!options_.create_if_missing && s.IsInvalidArgument()) {
      hint = " (not a streamrec data dir)";
    }
    return FromRocks(s, absl::StrCat("cannot open the database in ", options_.dir, hint));
  }
  db_.reset(raw);
  handles_ = std::move(handles);
  if (ids_.empty()) {
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      ids_.push_back(std::make_unique<FamilyId>(h->GetName(), h->GetID()));
    }
  }
  for (size_t i = 0; i < handles_.size(); ++i) {
    if (handles_[i]->GetID() != ids_[i]->GetID()) {
      return absl::InternalError("column family ids changed across a reopen");
    }
  }
  return absl::OkStatus();
}

const rocksdb::Comparator* Database::FamilyId::GetComparator() const {
  return rocksdb::BytewiseComparator();
}

void Database::CloseLocked() {
  if (!db_) return;
  for (const ReadSnapshot* snapshot : live_snapshots_) db_->ReleaseSnapshot(snapshot->snapshot_);
  live_snapshots_.clear();
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  db_->Close().PermitUncheckedError();
  db_.reset();
}

absl::Status Database::Destroy(const std::string& dir) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : kFamilies) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  rocksdb::Options options;
  options.info_log = std::make_shared<StderrLogger>();
  return FromRocks(rocksdb::DestroyDB(dir, options, families),
                   absl::StrCat("cannot delete the database in ", dir));
}

Database::~Database() {
  absl::MutexLock lock(&mu_);
  CloseLocked();
}

void Database::Put(rocksdb::WriteBatch& batch, Family family, std::string_view key,
                   std::string_view value) const {
  batch.Put(ids_[static_cast<size_t>(family)].get(), rocksdb::Slice(key.data(), key.size()),
            rocksdb::Slice(value.data(), value.size())).PermitUncheckedError();
}

void Database::Delete(rocksdb::WriteBatch& batch, Family family, std::string_view key) const {
  batch.Delete(ids_[static_cast<size_t>(family)].get(), rocksdb::Slice(key.data(), key.size()))
      .PermitUncheckedError();
}

void Database::DeleteRange(rocksdb::WriteBatch& batch, Family family, std::string_view begin,
                           std::string_view end) const {
  batch.DeleteRange(ids_[static_cast<size_t>(family)].get(),
                    rocksdb::Slice(begin.data(), begin.size()),
                    rocksdb::Slice(end.data(), end.size())).PermitUncheckedError();
}

absl::Status Database::Write(rocksdb::WriteBatch& batch, bool sync) {
  if (!writable()) return write_error();
  rocksdb::WriteOptions options;
  options.sync = sync;
  absl::Status status;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (!writable() || !db_) return write_error();  // a concurrent writer failed meanwhile
    status = FromRocks(db_->Write(options, &batch), "write");
  }
  if (!status.ok() && !absl::IsInvalidArgument(status)) {
    MarkUnwritable(status);
    return write_error();  // the same explanation for the first failure and the rest
  }
  return status;
}

void Database::MarkUnwritable(const absl::Status& error) {
  absl::MutexLock lock(&error_mu_);
  if (!writable_.load()) return;
  write_error_ = absl::UnavailableError(
      absl::StrCat("storage is not writable (", error.message(), ")"));
  writable_.store(false, std::memory_order_release);
  log::Error("storage write failed", {{"error", std::string(write_error_.message())}});
}

absl::Status Database::write_error() const {
  absl::MutexLock lock(&error_mu_);
  return write_error_;
}

absl::Status Database::TryRecover() {
  if (writable()) return absl::OkStatus();
  std::error_code ec;
  const std::filesystem::space_info space = std::filesystem::space(options_.dir, ec);
  if (!ec && space.available < options_.recovery_free_bytes) {
    return absl::UnavailableError(absl::StrCat(
        "waiting for ", options_.recovery_free_bytes >> 20, " MiB of free space in ",
        options_.dir, " (", space.available >> 20, " MiB available)"));
  }
  absl::Status reopened;
  {
    absl::MutexLock lock(&mu_);
    CloseLocked();
    ++generation_;
    reopened = OpenLocked();
    // Still failing: read-only meanwhile, so exports and stats keep working.
    if (!reopened.ok()) OpenLocked(/*read_only=*/true).IgnoreError();
  }
  if (!reopened.ok()) return reopened;
  // The reopened database must also take a write (a full disk may still open).
  rocksdb::WriteBatch probe;
  Put(probe, Family::kMeta, "write_probe", "");
  rocksdb::WriteOptions options;
  options.sync = true;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (absl::Status s = FromRocks(db_->Write(options, &probe), "write"); !s.ok()) {
      // Leave it to the next attempt (which reopens again: the WAL writer that failed
      // must not be written to).
      return s;
    }
  }
  {
    absl::MutexLock lock(&error_mu_);
    write_error_ = absl::OkStatus();
    writable_.store(true, std::memory_order_release);
  }
  recoveries_.fetch_add(1, std::memory_order_relaxed);
  log::Info("storage is writable again (database reopened)");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> Database::Get(Family family, std::string_view key,
                                                         const ReadSnapshot* snapshot,
                                                         bool fill_cache) const {
  absl::ReaderMutexLock lock(&mu_);
  if (!db_) return absl::UnavailableError("the database is being reopened");
  rocksdb::ReadOptions options;
  options.fill_cache = fill_cache;
  if (snapshot != nullptr) {
    if (snapshot->generation_ != generation_) {
      return absl::UnavailableError("the database was reopened during the read; retry");
    }
    options.snapshot = snapshot->snapshot_;
  }
  std::string value;
  rocksdb::Status s =
      db_->Get(options, Handle(family), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "read");
  return std::optional<std::string>(std::move(value));
}

std::unique_ptr<rocksdb::Iterator> Database::NewIterator(Family family,
                                                         const ReadSnapshot* snapshot) const {
  absl::ReaderMutexLock lock(&mu_);
  if (!db_) {
    return std::unique_ptr<rocksdb::Iterator>(
        rocksdb::NewErrorIterator(rocksdb::Status::Busy("the database is being reopened")));
  }
  rocksdb::ReadOptions options;
  if (snapshot != nullptr) {
    if (snapshot->generation_ != generation_) {
      return std::unique_ptr<rocksdb::Iterator>(rocksdb::NewErrorIterator(
          rocksdb::Status::Busy("the database was reopened during the read")));
    }
    options.snapshot = snapshot->snapshot_;
  }
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(options, Handle(family)));
}

absl::Status Database::Scan(
    Family family, std::string_view begin, std::string_view end, size_t max,
    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  absl::ReaderMutexLock lock(&mu_);
  if (!db_) return absl::UnavailableError("the database is being reopened");
  rocksdb::ReadOptions options;
  const rocksdb::Slice upper(end.data(), end.size());
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, Handle(family)));
  size_t n = 0;
  for (it->Seek(rocksdb::Slice(begin.data(), begin.size())); it->Valid() && n < max;
       it->Next(), ++n) {
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  return FromRocks(it->status(), "scan");
}

std::shared_ptr<ReadSnapshot> Database::TakeSnapshot() {
  absl::MutexLock lock(&mu_);
  if (!db_) return std::shared_ptr<ReadSnapshot>(new ReadSnapshot(this, nullptr, ~uint64_t{0}));
  std::shared_ptr<ReadSnapshot> s(new ReadSnapshot(this, db_->GetSnapshot(), generation_));
  live_snapshots_.insert(s.get());
  return s;
}

void Database::Release(const ReadSnapshot* snapshot) {
  absl::MutexLock lock(&mu_);
  // A snapshot of an earlier generation was released by the reopen.
  if (live_snapshots_.erase(snapshot) > 0) db_->ReleaseSnapshot(snapshot->snapshot_);
}

absl::Status Database::CompactRange(Family family, std::string_view begin,
                                    std::string_view end) {
  absl::ReaderMutexLock lock(&mu_);
  if (!db_) return absl::UnavailableError("the database is being reopened");
  rocksdb::Slice b(begin.data(), begin.size()), e(end.data(), end.size());
  return FromRocks(db_->CompactRange(rocksdb::CompactRangeOptions(), Handle(family), &b, &e),
                   "compacting");
}

absl::Status Database::DeleteFilesInRange(Family family, std::string_view begin,
                                          std::string_view end) {
  absl::ReaderMutexLock lock(&mu_);
  if (!db_) return absl::UnavailableError("the database is being reopened");
  rocksdb::Slice b(begin.data(), begin.size()), e(end.data(), end.size());
  return FromRocks(rocksdb::DeleteFilesInRange(db_.get(), Handle(family), &b, &e,
                                               /*include_end=*/false),
                   "deleting log files");
}

uint64_t Database::ApproximateSize(Family family, std::string_view begin,
                                   std::string_view end) const {
  absl::ReaderMutexLock lock(&mu_);
  if (!db_) return 0;
  rocksdb::Range range(rocksdb::Slice(begin.data(), begin.size()),
                       rocksdb::Slice(end.data(), end.size()));
  uint64_t size = 0;
  rocksdb::SizeApproximationOptions options;
  options.include_memtables = true;
  options.include_files = true;
  db_->GetApproximateSizes(options, Handle(family), &range, 1, &size).PermitUncheckedError();
  return size;
}

Database::SizeEstimates Database::EstimateSizes() const {
  SizeEstimates e;
  absl::ReaderMutexLock lock(&mu_);
  if (!db_) return e;
  const std::pair<const std::string*, uint64_t*> properties[] = {
      {&rocksdb::DB::Properties::kEstimateLiveDataSize, &e.live_data_bytes},
      {&rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &e.pending_compaction_bytes},
      {&rocksdb::DB::Properties::kTotalSstFilesSize, &e.sst_files_bytes},
      {&rocksdb::DB::Properties::kCurSizeAllMemTables, &e.memtable_bytes},
  };
  for (const auto& [name, value] : properties) {
    if (!db_->GetAggregatedIntProperty(*name, value)) *value = 0;
  }
  return e;
}

uint64_t Database::wal_syncs() const {
  return statistics_->getTickerCount(rocksdb::WAL_FILE_SYNCED);
}

}  // namespace streamrec::storage
