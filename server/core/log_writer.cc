#include "server/core/log_writer.h"

#include <xxhash.h>

#include "common/thread_name.h"

namespace streamrec::core {

LogWriter::LogWriter(EventQueue* queue, BatchInbox* inbox, AppendFn append,
                     LogWriterOptions options, uint64_t next_seq)
    : queue_(queue),
      inbox_(inbox),
      append_(std::move(append)),
      options_(options),
      next_seq_(next_seq) {}

LogWriter::~LogWriter() { Stop(); }

void LogWriter::SeedDedup(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) Remember(KeyOf(id));
}

LogWriter::IdKey LogWriter::KeyOf(const std::string& id) {
  if (id.empty()) return {};
  const XXH128_hash_t h = XXH3_128bits(id.data(), id.size());
  IdKey key{h.low64, h.high64};
  if (key == IdKey{}) key.lo = 1;  // keep the zero key for "no id"
  return key;
}

void LogWriter::Start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  running_.store(true);
  thread_ = std::thread([this] { Run(); });
}

void LogWriter::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  queue_->Wake();
  thread_.join();
  running_.store(false);
}

void LogWriter::RequestFlush(std::function<void(const absl::Status&)> done) {
  {
    MutexLock lock(&flush_mu_);
    if (done) flush_done_.push_back(std::move(done));
    flush_requested_.store(true);
  }
  queue_->Wake();
}

std::unique_ptr<EventBatch> LogWriter::TakeFlushRequest() {
  if (!flush_requested_.load()) return nullptr;
  std::vector<std::function<void(const absl::Status&)>> done;
  {
    MutexLock lock(&flush_mu_);
    done.swap(flush_done_);
    flush_requested_.store(false);
  }
  auto marker = std::make_unique<EventBatch>();
  marker->flush = true;
  marker->accepted_at = std::chrono::steady_clock::now();
  marker->on_logged = [done = std::move(done)](const absl::Status& s) {
    for (const auto& d : done) d(s);
  };
  return marker;
}

absl::StatusOr<uint64_t> LogWriter::AppendFlush() {
  if (running_.load()) return absl::FailedPreconditionError("the log writer is running");
  EventBatch marker;
  marker.flush = true;
  uint64_t first = next_seq_;
  if (append_) {
    const std::vector<EventBatch*> raw = {&marker};
    absl::StatusOr<uint64_t> logged = append_(raw);
    if (options_.group_done) options_.group_done(logged.status());
    if (!logged.ok()) return logged.status();
    first = *logged;
  }
  next_seq_ = first + 1;
  Remember(IdKey{});
  return first;
}

void LogWriter::Remember(const IdKey& key) {
  // The window is the last dedup_window logged events, those without an id included, so
  // it is the same live and when rebuilt from the log's tail at start.
  if (options_.dedup_window == 0) return;
  if (!(key == IdKey{})) ++recent_[key];
  recent_order_.push_back(key);
  if (recent_order_.size() > options_.dedup_window) {
    const IdKey old = recent_order_.front();
    recent_order_.pop_front();
    if (!(old == IdKey{})) {
      auto it = recent_.find(old);
      if (--it->second == 0) recent_.erase(it);
    }
  }
}

void LogWriter::Run() {
  SetThreadName("sr-log-writer");
  std::vector<std::unique_ptr<EventBatch>> group;
  for (;;) {
    const bool stopping = stop_.load();
    size_t events = 0;
    size_t bytes = 0;
    // Due events go first: they were decided on what was logged before this group.
    if (options_.due && !stopping) {
      if (std::unique_ptr<EventBatch> due = options_.due()) {
        events += due->examples.size();
        group.push_back(std::move(due));
      }
    }
    while (events < options_.max_group_events && bytes < options_.max_group_bytes) {
      std::unique_ptr<EventBatch> b = queue_->TryPop();
      if (!b) break;
      events += b->examples.size();
      bytes += b->bytes;
      group.push_back(std::move(b));
    }
    // A requested marker goes after everything taken so far: after the events the
    // updater had trained when it asked, which were logged before they reached it.
    if (std::unique_ptr<EventBatch> marker = TakeFlushRequest()) group.push_back(std::move(marker));
    if (!group.empty()) {
      WriteGroup(group);
      group.clear();
      continue;
    }
    if (stopping) break;
    queue_->WaitForWork(std::chrono::steady_clock::now() +
                        (options_.due ? options_.due_interval : std::chrono::seconds(1)));
  }
}

void LogWriter::WriteGroup(std::vector<std::unique_ptr<EventBatch>>& group) {
  std::vector<EventBatch*> raw;
  std::vector<absl::Status> admitted(group.size());
  absl::flat_hash_set<IdKey> in_group;  // ids logged by this group
  // The window keys of the group's entries in log order (kept events, markers), hashed
  // once here and remembered once the group is logged.
  std::vector<IdKey> keys;
  for (size_t g = 0; g < group.size(); ++g) {
    EventBatch* b = group[g].get();
    if (options_.admit && !b->flush) admitted[g] = options_.admit(*b);
    if (!admitted[g].ok()) continue;
    if (b->flush) keys.push_back(IdKey{});  // an entry without an id
    const size_t keys_before = keys.size();
    if (options_.dedup_window > 0) {
      std::vector<uint8_t> removed;  // made at the first duplicate
      for (size_t i = 0; i < b->examples.size(); ++i) {
        const IdKey key = i < b->event_ids.size() ? KeyOf(b->event_ids[i]) : IdKey{};
        if (!(key == IdKey{}) && (recent_.contains(key) || !in_group.insert(key).second)) {
          if (removed.empty()) removed.resize(b->examples.size(), 0);
          removed[i] = 1;
          ++b->duplicates;
          continue;
        }
        keys.push_back(key);
      }
      // A duplicate event is neither logged nor joined.
      if (!removed.empty()) b->RemoveEvents(removed);
    }
    // Joined once de-duplicated; a batch refused here takes back its window entries.
    if (options_.resolve && !b->flush) admitted[g] = options_.resolve(*b);
    if (!admitted[g].ok()) {
      for (size_t k = keys_before; k < keys.size(); ++k) in_group.erase(keys[k]);
      keys.resize(keys_before);
      b->duplicates = 0;
      continue;
    }
    duplicates_.fetch_add(b->duplicates, std::memory_order_relaxed);
    raw.push_back(b);
  }
  absl::Status status = absl::OkStatus();
  uint64_t first_seq = next_seq_;
  if (append_ && !raw.empty()) {
    absl::StatusOr<uint64_t> first = append_(raw);
    status = first.status();
    if (first.ok()) first_seq = *first;
  }
  if (!raw.empty() && options_.group_done) options_.group_done(status);
  if (status.ok()) {
    uint64_t seq = first_seq;
    for (EventBatch* b : raw) {
      if (b->flush) {  // one sequence number
        b->first_seq = seq++;
        continue;
      }
      b->first_seq = b->examples.empty() ? 0 : seq;
      seq += b->examples.size();
    }
    for (const IdKey& key : keys) Remember(key);
    next_seq_ = seq;
  }
  for (size_t g = 0; g < group.size(); ++g) {
    std::unique_ptr<EventBatch>& b = group[g];
    const absl::Status& outcome = admitted[g].ok() ? status : admitted[g];
    if (b->on_logged) b->on_logged(outcome);
    if (outcome.ok() && (!b->examples.empty() || b->flush)) {
      inbox_->Push(std::move(b));
    } else if (!b->flush) {  // a marker holds no queue places
      queue_->Release(*b);
    }
  }
}

}  // namespace streamrec::core
