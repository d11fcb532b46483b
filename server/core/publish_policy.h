// PublishPolicy: when the updater publishes a snapshot, as a pure function of what it
// trained and how long the last publication took. Publication is due when something was
// trained since the last one and either `every_events` were, or the interval has passed.
// The interval adapts: after a publication that took d it is at least d / max_share, so
// publication takes at most that share of the updater's time whatever the update pattern
// (a publication's cost follows the chunks changed, model/frozen_table.h). A plain value;
// thread-compatible.
#ifndef STREAMREC_SERVER_CORE_PUBLISH_POLICY_H_
#define STREAMREC_SERVER_CORE_PUBLISH_POLICY_H_

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace streamrec::core {

struct PublishPolicy {
  using Duration = std::chrono::steady_clock::duration;
  std::chrono::milliseconds min_interval{20};
  uint64_t every_events = 10000;
  double max_share = 0.2;

  // Due: whether to publish now, with `applied` events trained since the last
  // publication and the next one planned at `next`.
  template <typename TimePoint>
  bool Due(uint64_t applied, TimePoint now, TimePoint next) const {
    return applied > 0 && (now >= next || applied >= every_events);
  }
  // NextInterval: the wait after a publication that took `took`.
  Duration NextInterval(Duration took) const {
    return std::max<Duration>(min_interval,
                              std::chrono::duration_cast<Duration>(took / max_share));
  }
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_PUBLISH_POLICY_H_
