#include "server/core/clock.h"

namespace streamrec::core {
namespace {

class Real final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace

Clock* RealClock() {
  static Real* const clock = new Real();
  return clock;
}

}  // namespace streamrec::core
