#include "server/reward_join.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace streamrec::server {

const char* RewardJoin::DropName(Drop d) {
  switch (d) {
    case kUnknown: return "unknown";
    case kNotCandidate: return "not_candidate";
    case kDuplicate: return "duplicate";
    case kDropCount: break;
  }
  return "?";
}

RewardJoin::RewardJoin(const JoinOptions& options, storage::ImpressionStore* store,
                       core::Clock* clock)
    : options_(options), store_(store), clock_(clock) {}

absl::Status RewardJoin::Start() {
  if (store_ == nullptr) return absl::OkStatus();
  int64_t live = 0;
  absl::Status s = store_->Scan(storage::ExpiryBegin(), storage::ExpiryEnd(INT64_MAX),
                                SIZE_MAX, [&live](std::string_view, std::string_view) {
                                  ++live;
                                  return true;
                                });
  live_.store(live);
  return s;
}

absl::Status RewardJoin::Log(storage::Impression& imp) {
  if (store_ == nullptr) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    return absl::FailedPreconditionError(
        "this server logs no impressions (its data dir is kept readable by older builds: "
        "--log_record_format=3)");
  }
  imp.time_unix_ms = clock_->UnixMillis();
  imp.expires_unix_ms = imp.time_unix_ms + options_.window.count();
  storage::StoreWrites writes(2);
  writes[0].key = storage::ImpressionKey(imp.prediction_id);
  writes[0].value = storage::EncodeImpression(imp);
  writes[1].key = storage::ExpiryKey(imp.expires_unix_ms, imp.prediction_id);
  if (absl::Status s = store_->Write(writes, options_.sync); !s.ok()) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  logged_.fetch_add(1, std::memory_order_relaxed);
  live_.fetch_add(1, std::memory_order_relaxed);
  for (int64_t low = lowest_new_.load(); imp.expires_unix_ms < low &&
                                         !lowest_new_.compare_exchange_weak(low, imp.expires_unix_ms);) {
  }
  return absl::OkStatus();
}

absl::StatusOr<RewardJoin::Entry*> RewardJoin::Lookup(const std::string& id) {
  auto [it, inserted] = group_.try_emplace(id);
  Entry& e = it->second;
  if (!inserted || store_ == nullptr) return &e;
  absl::StatusOr<std::optional<std::string>> record = store_->Get(storage::ImpressionKey(id));
  if (!record.ok()) {
    group_.erase(it);
    return record.status();
  }
  if (!record->has_value()) return &e;
  absl::StatusOr<storage::Impression> imp = storage::DecodeImpression(**record);
  if (!imp.ok()) {  // damaged: as if absent (it cannot be joined), said once per group
    log::Error("impression unreadable", {{"prediction_id", std::string_view(id)},
                                         {"error", std::string(imp.status().message())}});
    return &e;
  }
  absl::StatusOr<std::optional<std::string>> rewarded = store_->Get(storage::RewardedKey(id));
  if (!rewarded.ok()) {
    group_.erase(it);
    return rewarded.status();
  }
  e.impression = std::make_shared<const storage::Impression>(*std::move(imp));
  if (rewarded->has_value()) e.rewarded = **rewarded;
  return &e;
}

void RewardJoin::JoinFeatures(const storage::Impression& imp, uint32_t c,
                              model::Example& out) const {
  const model::FeatureVector& item = imp.candidates[c].features;
  out.features.clear();
  out.features.reserve(imp.context.size() + item.size());
  out.features.insert(out.features.end(), imp.context.begin(), imp.context.end());
  out.features.insert(out.features.end(), item.begin(), item.end());
}

namespace {

// The impression a reward at `now` may join: present, not closed, window open.
const storage::Impression* OpenImpression(const std::shared_ptr<const storage::Impression>& imp,
                                          bool closed, int64_t now) {
  return imp != nullptr && !closed && imp->expires_unix_ms > now ? imp.get() : nullptr;
}

// CandidateOf: the index of `item_id` among the impression's candidates, or their count.
uint32_t CandidateOf(const storage::Impression& imp, std::string_view item_id) {
  uint32_t c = 0;
  while (c < imp.candidates.size() && imp.candidates[c].id != item_id) ++c;
  return c;
}

}  // namespace

absl::Status RewardJoin::Resolve(core::EventBatch& batch) {
  if (batch.rewards.empty()) return absl::OkStatus();
  // Every impression first, so that a read error refuses the batch before anything of it
  // is joined.
  std::vector<Entry*> entries(batch.rewards.size());
  for (size_t r = 0; r < batch.rewards.size(); ++r) {
    absl::StatusOr<Entry*> e = Lookup(batch.rewards[r].prediction_id);
    if (!e.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot read the impression of a reward (", e.status().message(), "); retry"));
    }
    entries[r] = *e;
  }
  const int64_t now = clock_->UnixMillis();
  std::vector<uint8_t> drop(batch.examples.size(), 0);
  size_t dropped = 0;
  size_t joined = 0;
  for (size_t r = 0; r < batch.rewards.size(); ++r) {
    const core::PendingReward& reward = batch.rewards[r];
    Entry& e = *entries[r];
    const storage::Impression* imp = OpenImpression(e.impression, e.closed, now);
    const uint32_t c = imp == nullptr ? 0 : CandidateOf(*imp, reward.item_id);
    const bool candidate = imp != nullptr && c < imp->candidates.size();
    const bool first = candidate && !storage::IsRewarded(e.rewarded, c);
    if (first) {
      storage::SetRewarded(e.rewarded, c);
      e.changed = true;
    }
    // An event with features is trained as sent: it only settles its item's default.
    if (reward.has_features) continue;
    if (!first) {
      ++group_dropped_[imp == nullptr ? kUnknown : !candidate ? kNotCandidate : kDuplicate];
      drop[reward.event] = 1;
      ++dropped;
      continue;
    }
    model::Example& ex = batch.examples[reward.event];
    JoinFeatures(*imp, c, ex);
    ++joined;
    // Clamped to the window: a client's time far in the future must not swamp the mean.
    const int64_t since = ex.time_unix_ms <= imp->time_unix_ms ? 0 : ex.time_unix_ms - imp->time_unix_ms;
    const uint64_t latency = static_cast<uint64_t>(
        std::min<int64_t>(since, imp->expires_unix_ms - imp->time_unix_ms));
    group_latency_sum_ += latency;
    group_latency_max_ = std::max(group_latency_max_, latency);
  }
  group_joined_ += joined;
  batch.rewards_joined = joined;
  batch.rewards_dropped = dropped;
  batch.rewards.clear();
  if (dropped > 0) batch.RemoveEvents(drop);
  return absl::OkStatus();
}

std::unique_ptr<core::EventBatch> RewardJoin::TakeDue() {
  if (store_ == nullptr) return nullptr;
  // A group whose batches were all refused left only unchanged lookups: start afresh.
  if (writes_.empty()) group_.clear();
  const int64_t now = clock_->UnixMillis();
  if (now < next_due_ms_) return nullptr;
  std::vector<std::pair<int64_t, std::string>> due;
  const int64_t from = std::min(scan_from_ms_, lowest_new_.exchange(INT64_MAX));
  absl::Status s = store_->Scan(
      storage::ExpiryEnd(from), storage::ExpiryEnd(now + 1), options_.max_closed_per_group,
      [&due](std::string_view key, std::string_view) {
        int64_t expires;
        std::string id;
        if (storage::ParseExpiryKey(key, expires, id)) due.emplace_back(expires, std::move(id));
        return true;
      });
  if (!s.ok()) {
    scan_from_ms_ = from;  // look there again
    next_due_ms_ = now + 1000;
    return nullptr;
  }
  // Once this group is logged, scans start at the last expiry it closes; until then (and
  // if it is not logged) where this one did.
  scan_from_ms_ = from;
  group_scan_from_ms_ = from;
  // All due now: look again at the next group; else in a while (new impressions close
  // a whole window from now).
  next_due_ms_ = due.size() >= options_.max_closed_per_group ? now : now + 100;
  if (due.empty()) return nullptr;
  auto batch = std::make_unique<core::EventBatch>();
  batch->accepted_at = std::chrono::steady_clock::now();
  for (const auto& [expires, id] : due) {
    absl::StatusOr<Entry*> found = Lookup(id);
    if (!found.ok()) {
      next_due_ms_ = now + 1000;
      break;
    }
    Entry& e = **found;
    group_scan_from_ms_ = expires;  // everything before it in the scan is closed
    if (e.closed) continue;
    e.closed = true;
    writes_.push_back({storage::ExpiryKey(expires, id), "", true});
    writes_.push_back({storage::ImpressionKey(id), "", true});
    writes_.push_back({storage::RewardedKey(id), "", true});
    ++group_closed_;
    if (e.impression == nullptr || !options_.defaults) continue;
    const storage::Impression& imp = *e.impression;
    const size_t k = options_.default_top_k == 0
                         ? imp.shown.size()
                         : std::min<size_t>(options_.default_top_k, imp.shown.size());
    for (size_t r = 0; r < k; ++r) {
      const uint32_t c = imp.shown[r];
      if (storage::IsRewarded(e.rewarded, c)) continue;
      model::Example& ex = batch->examples.emplace_back();
      JoinFeatures(imp, c, ex);
      ex.label = options_.default_label;
      ex.weight = options_.default_weight;
      ex.time_unix_ms = imp.expires_unix_ms;
      ++group_defaults_;
    }
  }
  if (group_closed_ == 0) return nullptr;
  return batch;
}

storage::StoreWrites RewardJoin::TakeWrites() {
  storage::StoreWrites writes = std::move(writes_);
  writes_.clear();
  for (auto& [id, e] : group_) {
    if (e.changed && !e.closed) writes.push_back({storage::RewardedKey(id), e.rewarded, false});
  }
  writes_taken_ = true;
  return writes;
}

void RewardJoin::GroupDone(const absl::Status& status) {
  if (status.ok() && !writes_taken_ && store_ != nullptr && !store_->carried_by_log()) {
    // No log carries them (a server without a data dir): the store takes them now.
    storage::StoreWrites writes = TakeWrites();
    if (!writes.empty()) store_->Write(writes, false).IgnoreError();  // in memory
  }
  if (status.ok()) {
    if (group_closed_ > 0) scan_from_ms_ = group_scan_from_ms_;
    joined_.fetch_add(group_joined_, std::memory_order_relaxed);
    for (int d = 0; d < kDropCount; ++d) {
      dropped_[d].fetch_add(group_dropped_[d], std::memory_order_relaxed);
    }
    defaults_.fetch_add(group_defaults_, std::memory_order_relaxed);
    closed_.fetch_add(group_closed_, std::memory_order_relaxed);
    live_.fetch_sub(static_cast<int64_t>(group_closed_), std::memory_order_relaxed);
    latency_sum_.fetch_add(group_latency_sum_, std::memory_order_relaxed);
    if (group_latency_max_ > latency_max_.load(std::memory_order_relaxed)) {
      latency_max_.store(group_latency_max_, std::memory_order_relaxed);
    }
  } else {
    next_due_ms_ = clock_->UnixMillis() + 1000;  // what was due is due again
  }
  group_.clear();
  writes_.clear();
  writes_taken_ = false;
  group_joined_ = group_defaults_ = group_closed_ = 0;
  group_latency_sum_ = group_latency_max_ = 0;
  for (uint64_t& d : group_dropped_) d = 0;
}

RewardJoin::Counters RewardJoin::counters() const {
  Counters c;
  c.impressions_logged = logged_.load(std::memory_order_relaxed);
  c.impressions_failed = failed_.load(std::memory_order_relaxed);
  c.impressions_live = static_cast<uint64_t>(std::max<int64_t>(0, live_.load()));
  c.rewards_joined = joined_.load(std::memory_order_relaxed);
  for (int d = 0; d < kDropCount; ++d) c.rewards_dropped[d] = dropped_[d].load();
  c.defaults_emitted = defaults_.load(std::memory_order_relaxed);
  c.impressions_closed = closed_.load(std::memory_order_relaxed);
  c.join_latency_ms_sum = latency_sum_.load(std::memory_order_relaxed);
  c.join_latency_ms_max = latency_max_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace streamrec::server
