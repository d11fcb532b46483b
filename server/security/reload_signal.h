// ReloadOnSignal: runs a callback each time the process receives a signal (SIGHUP),
// on a thread of its own, until destroyed. The signal must be blocked in every thread
// (pthread_sigmask before any thread starts) so that only this thread takes it; one
// received before this object existed is taken at once (it stays pending).
//
//   ReloadOnSignal reload(SIGHUP, [&] { server->ReloadSecurity(); });
//
// Thread-compatible; the callback runs on the object's thread, never after destruction.
#ifndef STREAMREC_SERVER_SECURITY_RELOAD_SIGNAL_H_
#define STREAMREC_SERVER_SECURITY_RELOAD_SIGNAL_H_

#include <atomic>
#include <functional>
#include <thread>

namespace streamrec::server::security {

class ReloadOnSignal {
 public:
  ReloadOnSignal(int signal, std::function<void()> on_signal);
  ~ReloadOnSignal();
  ReloadOnSignal(const ReloadOnSignal&) = delete;
  ReloadOnSignal& operator=(const ReloadOnSignal&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace streamrec::server::security

#endif  // STREAMREC_SERVER_SECURITY_RELOAD_SIGNAL_H_
