// FaultFs: a RocksDB FileSystem over the real one that fails every write with "No space
// left on device" while FailWrites(true) is in force, like a full disk: appends, syncs
// and new files fail; reads work. While BlockReads(true) is in force, reads of table
// files wait (to prove that something does not wait for a slow read). Passed to the server or a Database through their
// file_system option (the storage Env seam), so tests inject faults without switches on
// production classes. Thread-safe.
#ifndef STREAMREC_TESTS_TESTING_FAULT_FS_H_
#define STREAMREC_TESTS_TESTING_FAULT_FS_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "rocksdb/file_system.h"

namespace streamrec::testing {

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  FaultFs() : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultFs"; }

  void FailWrites(bool fail) {
    state_->countdown.store(-1);
    state_->fail.store(fail);
  }
  // FailWritesAfter: the next n writes succeed, then every write fails (a disk filling
  // up part way through a batch of writes).
  void FailWritesAfter(int64_t n) {
    state_->fail.store(false);
    state_->countdown.store(n);
  }
  void BlockReads(bool block) {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->block_reads = block;
    state_->cv.notify_all();
  }
  // Readers waiting in a blocked read now.
  int blocked_readers() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->blocked;
  }

  rocksdb::IOStatus NewRandomAccessFile(const std::string& f, const rocksdb::FileOptions& o,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                                        rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewRandomAccessFile(f, o, r, dbg);
    if (s.ok()) *r = std::make_unique<Reader>(std::move(*r), state_);
    return s;
  }
  // Writes refused since construction.
  uint64_t failures() const { return state_->failures.load(); }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    if (state_->Refuse()) return Full();
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok()) *r = std::make_unique<File>(std::move(*r), state_);
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    if (state_->Refuse()) return Full();
    rocksdb::IOStatus s = target()->ReopenWritableFile(f, o, r, dbg);
    if (s.ok()) *r = std::make_unique<File>(std::move(*r), state_);
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    if (state_->Refuse()) return Full();
    rocksdb::IOStatus s = target()->ReuseWritableFile(f, old, o, r, dbg);
    if (s.ok()) *r = std::make_unique<File>(std::move(*r), state_);
    return s;
  }

 private:
  struct State {
    std::atomic<bool> fail{false};
    std::atomic<int64_t> countdown{-1};
    std::atomic<uint64_t> failures{0};
    std::mutex mu;
    std::condition_variable cv;
    bool block_reads = false;
    int blocked = 0;
    void MaybeBlock() {
      std::unique_lock<std::mutex> lock(mu);
      if (!block_reads) return;
      ++blocked;
      cv.wait(lock, [this] { return !block_reads; });
      --blocked;
    }
    bool Refuse() {
      if (countdown.load() >= 0 && countdown.fetch_sub(1) <= 0) fail.store(true);
      if (!fail.load()) return false;
      failures.fetch_add(1);
      return true;
    }
  };
  static rocksdb::IOStatus Full() {
    return rocksdb::IOStatus::NoSpace("No space left on device (injected by FaultFs)");
  }
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile>&& f, std::shared_ptr<State> state)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(f)), state_(std::move(state)) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (state_->Refuse()) return Full();
      return target()->Append(d, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v,
                             rocksdb::IODebugContext* dbg) override {
      if (state_->Refuse()) return Full();
      return target()->Append(d, o, v, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                       const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
      if (state_->Refuse()) return Full();
      return target()->PositionedAppend(d, off, o, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                       const rocksdb::IOOptions& o,
                                       const rocksdb::DataVerificationInfo& v,
                                       rocksdb::IODebugContext* dbg) override {
      if (state_->Refuse()) return Full();
      return target()->PositionedAppend(d, off, o, v, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (state_->Refuse()) return Full();
      return target()->Sync(o, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (state_->Refuse()) return Full();
      return target()->Fsync(o, dbg);
    }

   private:
    std::shared_ptr<State> state_;
  };

  class Reader : public rocksdb::FSRandomAccessFileOwnerWrapper {
   public:
    Reader(std::unique_ptr<rocksdb::FSRandomAccessFile>&& f, std::shared_ptr<State> state)
        : rocksdb::FSRandomAccessFileOwnerWrapper(std::move(f)), state_(std::move(state)) {}
    rocksdb::IOStatus Read(uint64_t offset, size_t n, const rocksdb::IOOptions& o,
                           rocksdb::Slice* result, char* scratch,
                           rocksdb::IODebugContext* dbg) const override {
      state_->MaybeBlock();
      return target()->Read(offset, n, o, result, scratch, dbg);
    }

   private:
    std::shared_ptr<State> state_;
  };

  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace streamrec::testing

#endif  // STREAMREC_TESTS_TESTING_FAULT_FS_H_
