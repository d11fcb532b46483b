// StorageExecutor: the server's one storage thread. It runs storage work in FIFO order,
// off the gRPC threads and the updater: snapshot writes (each followed by retention and
// log truncation), export and import pieces, sweeps, and completion callbacks. While
// idle it runs a periodic tick (the database's write-health recovery).
//
// Back-pressure: snapshot writes are counted; BeginWrite blocks its caller (the updater)
// while `max_pending_writes` are already queued, so captured snapshots cannot pile up in
// memory when the disk is slow. Everything else is queued without blocking.
//
// Threads: Post, BeginWrite, WaitIdle from any thread but the executor's own (WaitIdle
// from the executor would wait for itself); Stop from the owner, once.
#ifndef STREAMREC_SERVER_STORAGE_EXECUTOR_H_
#define STREAMREC_SERVER_STORAGE_EXECUTOR_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <thread>

#include "server/core/mutex.h"

namespace streamrec::server {

class StorageExecutor {
 public:
  // `tick` (may be empty) runs on the executor thread every `tick_interval` while no
  // task is waiting.
  StorageExecutor(std::function<void()> tick, std::chrono::milliseconds tick_interval,
                  int max_pending_writes = 2);
  ~StorageExecutor();  // Stop()

  // Post queues `task`.
  void Post(std::function<void()> task);
  // BeginWrite waits while max_pending_writes writes are queued, then queues `write`.
  void BeginWrite(std::function<void()> write);
  // WaitIdle blocks until every task queued before the call has run.
  void WaitIdle();
  // Stop runs everything queued, then joins the thread. Idempotent.
  void Stop();

 private:
  void Run();

  const std::function<void()> tick_;
  const std::chrono::milliseconds tick_interval_;
  const int max_pending_writes_;
  core::Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int pending_writes_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_STORAGE_EXECUTOR_H_
