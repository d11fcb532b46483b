// Clock: the monotonic time the core's time-dependent behaviour reads, so tests can
// replace it: today the updater's publication and persistence intervals
// (UpdaterOptions::clock), and join windows (UnixMillis). Not read through it: the storage thread's
// retry tick, and timestamps (event and snapshot times come from the system clock).
// RealClock() is steady_clock; tests use a fake that moves only when told
// (tests/testing/fake_clock.h). Implementations are thread-safe.
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
  // UnixMillis: wall-clock time, Unix milliseconds: when impressions are logged and when
  // their join windows close (server/reward_join.h). RealClock: the system clock.
  virtual int64_t UnixMillis() const;
  // OnJump registers `wake` to run (on the thread that moves the clock) whenever time
  // jumps, so a thread waiting for a deadline looks at the clock again, and returns the
  // registration's id; RemoveOnJump(id) ends it (call it before what `wake` touches is
  // destroyed). Real time never jumps: the defaults ignore both.
  virtual int OnJump(std::function<void()> wake) { return 0; }
  virtual void RemoveOnJump(int id) {}
};

// RealClock: steady_clock and the system clock. Never null; lives forever.
Clock* RealClock();

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_CLOCK_H_
