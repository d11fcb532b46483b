// PublishPolicy as a table of cases: when publication is due, and how the interval
// adapts to the cost of the last publication.
#include "server/core/publish_policy.h"

#include <gtest/gtest.h>

namespace streamrec::core {
namespace {

using std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

TEST(PublishPolicyTest, DueTable) {
  PublishPolicy p;
  p.min_interval = milliseconds(20);
  p.every_events = 100;
  const TimePoint next = TimePoint(milliseconds(1000));
  struct Case {
    uint64_t applied;
    int now_ms;
    bool due;
  } cases[] = {
      {0, 0, false},      // nothing trained: never, however late
      {0, 5000, false},
      {1, 999, false},    // trained, before the interval ends
      {1, 1000, true},    // at the deadline
      {1, 1500, true},
      {99, 999, false},
      {100, 0, true},     // enough events: at once
      {1000, 0, true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(p.Due(c.applied, TimePoint(milliseconds(c.now_ms)), next), c.due)
        << "applied " << c.applied << " now " << c.now_ms;
  }
}

TEST(PublishPolicyTest, IntervalAdaptsToPublicationCost) {
  PublishPolicy p;
  p.min_interval = milliseconds(20);
  p.max_share = 0.2;
  struct Case {
    int took_us;
    int interval_us;
  } cases[] = {
      {0, 20000},       // cheap: the configured interval
      {1000, 20000},    // 1 ms / 0.2 = 5 ms < 20 ms
      {4000, 20000},    // exactly the share
      {10000, 50000},   // 10 ms publication: wait 50 ms, publication stays at 20%
      {200000, 1000000},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::microseconds>(
                  p.NextInterval(std::chrono::microseconds(c.took_us)))
                  .count(),
              c.interval_us)
        << "took " << c.took_us;
  }
}

}  // namespace
}  // namespace streamrec::core
