#include "server/security/reload_signal.h"

#include <csignal>
#include <ctime>

namespace streamrec::server::security {

ReloadOnSignal::ReloadOnSignal(int signal, std::function<void()> on_signal) {
  thread_ = std::thread([this, signal, on_signal = std::move(on_signal)] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    // Woken every 200 ms to see whether it should stop (a thread blocked in sigwait
    // cannot be woken otherwise without sending it the signal).
    const timespec tick{0, 200 * 1000 * 1000};
    while (!stop_.load()) {
      if (sigtimedwait(&set, nullptr, &tick) == signal) on_signal();
    }
  });
}

ReloadOnSignal::~ReloadOnSignal() {
  stop_.store(true);
  thread_.join();
}

}  // namespace streamrec::server::security
