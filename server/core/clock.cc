#include "server/core/clock.h"

namespace streamrec::core {
namespace {

class Real final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace

int64_t Clock::UnixMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Clock* RealClock() {
  static Real* const clock = new Real();
  return clock;
}

}  // namespace streamrec::core
