// FakeClock: a core::Clock that moves only when a test calls Advance, waking whoever
// waits for a deadline on it. Thread-safe.
#ifndef STREAMREC_TESTS_TESTING_FAKE_CLOCK_H_
#define STREAMREC_TESTS_TESTING_FAKE_CLOCK_H_

#include <functional>
#include <map>
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
  int OnJump(std::function<void()> wake) override {
    std::lock_guard<std::mutex> lock(mu_);
    wakes_[++last_id_] = std::move(wake);
    return last_id_;
  }
  void RemoveOnJump(int id) override {
    std::lock_guard<std::mutex> lock(mu_);
    wakes_.erase(id);
  }
  // UnixMillis: a fixed start (2026-01-01) plus the time advanced.
  int64_t UnixMillis() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return kStartUnixMs +
           std::chrono::duration_cast<std::chrono::milliseconds>(now_ - TimePoint(std::chrono::hours(1000)))
               .count();
  }
  static constexpr int64_t kStartUnixMs = 1767225600000;
  // Advance moves the clock by `d` and wakes the waiters.
  void Advance(std::chrono::milliseconds d) {
    std::vector<std::function<void()>> wakes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      now_ += d;
      for (const auto& [id, wake] : wakes_) wakes.push_back(wake);
    }
    for (auto& w : wakes) w();
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_{std::chrono::hours(1000)};
  int last_id_ = 0;
  std::map<int, std::function<void()>> wakes_;
};

}  // namespace streamrec::testing

#endif  // STREAMREC_TESTS_TESTING_FAKE_CLOCK_H_
