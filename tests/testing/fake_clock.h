// FakeClock: a core::Clock that moves only when a test calls Advance, waking whoever
// waits for a deadline on it. Thread-safe.
#ifndef STREAMREC_TESTS_TESTING_FAKE_CLOCK_H_
#define STREAMREC_TESTS_TESTING_FAKE_CLOCK_H_

#include <functional>
#include <mutex>
#include <vector>

#include "server/core/clock.h"

namespace streamrec::testing {

class FakeClock final : public core::Clock {
 public:
  TimePoint Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  int64_t UnixMillis() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return unix_ms_;
  }
  void OnJump(std::function<void()> wake) override {
    std::lock_guard<std::mutex> lock(mu_);
    wakes_.push_back(std::move(wake));
  }
  // Advance moves both clocks by `d` and wakes the waiters.
  void Advance(std::chrono::milliseconds d) {
    std::vector<std::function<void()>> wakes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      now_ += d;
      unix_ms_ += d.count();
      wakes = wakes_;
    }
    for (auto& w : wakes) w();
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_{std::chrono::hours(1000)};
  int64_t unix_ms_ = 1700000000000;
  std::vector<std::function<void()>> wakes_;
};

}  // namespace streamrec::testing

#endif  // STREAMREC_TESTS_TESTING_FAKE_CLOCK_H_
