// Clock: the time the core's time-dependent behaviour reads (publication and persistence
// intervals; later, join windows), so tests can replace it. RealClock() is the process's
// clocks; tests use a fake that advances only when told (tests/testing/fake_clock.h).
// Implementations are thread-safe.
#ifndef STREAMREC_SERVER_CORE_CLOCK_H_
#define STREAMREC_SERVER_CORE_CLOCK_H_

#include <chrono>
#include <cstdint>
#include <functional>

namespace streamrec::core {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;

  // Now: monotonic time, for intervals and deadlines.
  virtual TimePoint Now() const = 0;
  // UnixMillis: wall-clock time, for timestamps (event time, snapshot time).
  virtual int64_t UnixMillis() const = 0;
  // OnJump registers `wake` to run (on the thread that moves the clock) whenever time
  // jumps, so a thread waiting for a deadline looks at the clock again. Real time never
  // jumps: the default ignores it.
  virtual void OnJump(std::function<void()> wake) {}
};

// RealClock: steady_clock and the system clock. Never null; lives forever.
Clock* RealClock();

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_CLOCK_H_
