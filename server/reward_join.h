// RewardJoin: the server side of the feedback loop. Predict logs impressions into an
// ImpressionStore (storage/impression_store.h); an Observe event that names only a
// prediction_id (server/core/event_queue.h, PendingReward) is joined with its impression
// on the log writer's thread, in log order, and logged as the full example (the
// impression's context and the rewarded candidate's features, the event's label and
// weight), so replaying the log needs no join and reproduces the model bit for bit.
// When an impression's window closes, every shown item (the first default_top_k
// returned) that got no reward becomes a default-reward event, logged like any other.
//
// Rules (README "Joined rewards"), each counted in Stats and in the ObserveResponse:
//   unknown        no impression under the prediction_id, or its window has closed
//                  (the impression is gone once its defaults are logged)
//   not_candidate  the item id was not among the impression's candidates
//   duplicate      that (prediction, item) was rewarded before
// A dropped reward is acknowledged (like a duplicate event id) but never logged or
// trained. An event with features and a prediction_id is trained on its own features; it
// marks its item rewarded in the impression (so no default reward follows for it). Windows close by the writer's clock (Clock::UnixMillis) as the log is
// written; the decision is in the log, so a replay reads no clock. The store's writes
// that account for a group (rewarded marks, closed impressions) are carried by the same
// log append (StoreWrites), so after a crash the log and the store agree: nothing is
// joined or defaulted twice, nothing acknowledged is lost.
//
// Threads: ShouldLog, Log, counters from any thread (Predict handlers); Resolve, TakeDue,
// TakeWrites, GroupDone on the log writer's thread only; Start before serving.
#ifndef STREAMREC_SERVER_REWARD_JOIN_H_
#define STREAMREC_SERVER_REWARD_JOIN_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "server/core/clock.h"
#include "server/core/event_queue.h"
#include "storage/impression.h"
#include "storage/impression_store.h"

namespace streamrec::server {

struct JoinOptions {
  // --log_impressions: log every Predict's impression unless the request says otherwise.
  bool log_by_default = false;
  // --join_window: how long after Predict a reward is joined.
  std::chrono::milliseconds window{std::chrono::hours(1)};
  // --default_reward: the label of a shown item that got no reward; off: none.
  bool defaults = true;
  float default_label = 0;
  // --default_reward_weight.
  float default_weight = 1;
  // --default_reward_top_k: the first k returned items get a default; 0: all returned.
  uint32_t default_top_k = 0;
  // --durability=sync: impressions are fsynced before Predict answers.
  bool sync = false;
  // Impressions closed per log group at most (the rest in the next ones).
  size_t max_closed_per_group = 256;
  // The clock windows are measured on (tests inject one); null: the updater's, else real.
  core::Clock* clock = nullptr;
};

class RewardJoin {
 public:
  // `store` null: impressions cannot be logged (a data dir kept readable by older
  // builds, --log_record_format=3); every reward is then unknown.
  RewardJoin(const JoinOptions& options, storage::ImpressionStore* store, core::Clock* clock);

  // Start counts the impressions in the store (before serving).
  absl::Status Start();

  // Predict side. ShouldLog: the request's log_impression, else the server default.
  bool ShouldLog(bool has_request_choice, bool request_choice) const {
    return has_request_choice ? request_choice : options_.log_by_default;
  }
  bool available() const { return store_ != nullptr; }
  // Log stores `impression` (time, expiry stamped here) durably per --durability.
  absl::Status Log(storage::Impression& impression);

  // Log writer side (see the header comment). Resolve joins the batch's rewards, all or
  // nothing: an error reading the store refuses the batch (Unavailable; the client
  // retries) before anything of it is joined.
  absl::Status Resolve(core::EventBatch& batch);
  std::unique_ptr<core::EventBatch> TakeDue();
  storage::StoreWrites TakeWrites();
  void GroupDone(const absl::Status& status);

  enum Drop { kUnknown, kNotCandidate, kDuplicate, kDropCount };
  static const char* DropName(Drop d);
  struct Counters {
    uint64_t impressions_logged = 0;
    uint64_t impressions_failed = 0;  // Predict answered, the store refused the write
    uint64_t impressions_live = 0;    // in the store, window not closed yet
    uint64_t rewards_joined = 0;
    uint64_t rewards_dropped[kDropCount] = {};
    uint64_t defaults_emitted = 0;
    uint64_t impressions_closed = 0;
    // Time from the impression to the reward's event time, over the joined rewards.
    uint64_t join_latency_ms_sum = 0;
    uint64_t join_latency_ms_max = 0;
  };
  Counters counters() const;

 private:
  // The state of one impression as the log writer sees it: the store's, plus this
  // group's changes (committed by GroupDone).
  struct Entry {
    std::shared_ptr<const storage::Impression> impression;  // null: none (unknown/closed)
    std::string rewarded;                                   // bitmap
    bool changed = false;                                   // rewarded changed in the group
    bool closed = false;                                    // closed in the group
  };
  // Lookup: the writer's view of prediction_id (cached for the group).
  absl::StatusOr<Entry*> Lookup(const std::string& prediction_id);
  // JoinFeatures: the impression's context and candidate's features, as the converter
  // orders a full event's (context, then item).
  void JoinFeatures(const storage::Impression& imp, uint32_t candidate,
                    model::Example& out) const;

  const JoinOptions options_;
  storage::ImpressionStore* const store_;
  core::Clock* const clock_;

  // Log writer thread only.
  absl::node_hash_map<std::string, Entry> group_;  // touched by the group (stable addresses)
  storage::StoreWrites writes_;
  bool writes_taken_ = false;
  int64_t next_due_ms_ = 0;
  // Where the expiry scan starts: the last closed impression's expiry (windows close in
  // expiry order), so it does not walk the tombstones of the ones closed before; and the
  // lowest expiry logged since the last scan (Log, any thread), in case the clock went
  // back. A scan lowers scan_from_ms_ to where it started; the group that closes what it
  // found raises it to the last expiry closed (GroupDone).
  int64_t scan_from_ms_ = 0;
  int64_t group_scan_from_ms_ = 0;
  std::atomic<int64_t> lowest_new_{INT64_MAX};

  std::atomic<uint64_t> logged_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<int64_t> live_{0};
  std::atomic<uint64_t> joined_{0};
  std::atomic<uint64_t> dropped_[kDropCount] = {};
  std::atomic<uint64_t> defaults_{0};
  std::atomic<uint64_t> closed_{0};
  std::atomic<uint64_t> latency_sum_{0};
  std::atomic<uint64_t> latency_max_{0};
  // This group's, added to the counters once it is logged.
  uint64_t group_joined_ = 0, group_defaults_ = 0, group_closed_ = 0;
  uint64_t group_latency_sum_ = 0, group_latency_max_ = 0;
  uint64_t group_dropped_[kDropCount] = {};
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_REWARD_JOIN_H_
