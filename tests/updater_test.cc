// Updater: trains in order, publishes increasing versions only when something changed,
// never disturbs a reader holding an old snapshot, drains on Stop. Runs under TSan.
#include "server/core/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "model/hash.h"
#include "model/linear_model.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/updater_gate.h"

namespace streamrec::core {
namespace {

model::FeatureVector Item(const std::string& id) {
  return {{model::HashCategory(model::HashName("item_id"), id), 1.0f}};
}

std::unique_ptr<EventBatch> Clicks(const std::string& id, float label, int n) {
  auto b = std::make_unique<EventBatch>();
  for (int i = 0; i < n; ++i) b->examples.push_back({Item(id), label, 1.0f, 0});
  return b;
}

PipelineOptions Capacity(size_t events) {
  PipelineOptions options;
  options.queue_capacity = events;
  return options;
}

std::unique_ptr<model::Model> NewModel() {
  model::ModelConfig c;
  c.hash_bits = 16;
  return std::make_unique<model::LinearModel>(c);
}

template <typename F>
bool WaitFor(F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(UpdaterTest, PublishesVersionZeroThenLearns) {
  Pipeline p(NewModel(), Capacity(1000), nullptr, nullptr);
  EventQueue& q = p.queue();
  SnapshotSlot& slot = p.slot();
  Updater& u = p.updater();
  auto v0 = slot.Get();
  ASSERT_NE(v0, nullptr);
  EXPECT_EQ(v0->version(), 0u);
  p.Start(1);
  auto b = Clicks("a", 1.0f, 500);
  ASSERT_TRUE(q.TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return slot.Get()->events_applied() == 500; }));
  auto v = slot.Get();
  EXPECT_GT(v->version(), 0u);
  EXPECT_GT(v->ScoreOne({}, Item("a")), 0.9);
  // The reader still holding version 0 sees the untrained model.
  EXPECT_DOUBLE_EQ(v0->ScoreOne({}, Item("a")), 0.5);
  const UpdaterStats s = u.Stats();
  EXPECT_EQ(s.events_applied, 500u);
  EXPECT_EQ(s.overall.events, 500u);
  EXPECT_EQ(s.window.events, 500u);
  EXPECT_GT(s.ack_to_publish_p99_ms, 0.0);
  EXPECT_EQ(q.depth(), 0u);
}

TEST(UpdaterTest, ConcurrentReadersDuringTrainingSeeConsistentMonotonicVersions) {
  PipelineOptions options = Capacity(10000);
  options.updater.publish_interval_ms = 1;
  options.updater.publish_every_events = 50;
  Pipeline p(NewModel(), options, nullptr, nullptr);
  EventQueue& q = p.queue();
  SnapshotSlot& slot = p.slot();
  Updater& u = p.updater();
  p.Start(1);
  std::atomic<bool> stop{false};
  std::atomic<bool> ok{true};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (!stop.load()) {
        auto s = slot.Get();
        if (s->version() < last) ok = false;
        last = s->version();
        // An immutable snapshot scores the same twice, whatever the trainer does.
        const double a = s->ScoreOne({}, Item("x"));
        const double b = s->ScoreOne({}, Item("x"));
        if (a != b) ok = false;
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    auto b = Clicks("x", i % 2 ? 1.0f : 0.0f, 20);
    while (!q.TryPush(b)) std::this_thread::yield();
  }
  ASSERT_TRUE(WaitFor([&] { return u.Stats().events_applied == 4000; }));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_TRUE(ok.load());
  EXPECT_GT(u.Stats().publications, 1u);
}

TEST(UpdaterTest, StopTrainsEverythingQueued) {
  PipelineOptions options = Capacity(100000);
  options.updater.publish_interval_ms = 100000;  // only Stop publishes
  options.updater.publish_every_events = 1000000;
  Pipeline p(NewModel(), options, nullptr, nullptr);
  EventQueue& q = p.queue();
  SnapshotSlot& slot = p.slot();
  Updater& u = p.updater();
  p.Start(1);
  testing::UpdaterGate gate(u);  // nothing is trained while the queue fills
  for (int i = 0; i < 10; ++i) {
    auto b = Clicks("a", 1.0f, 1000);
    ASSERT_TRUE(q.TryPush(b));
  }
  gate.Release();
  p.Stop();
  EXPECT_EQ(u.Stats().events_applied, 10000u);
  EXPECT_EQ(slot.Get()->events_applied(), 10000u);
  EXPECT_EQ(slot.Get()->version(), 1u);
}

TEST(UpdaterTest, PauseHoldsTheQueueFull) {
  Pipeline p(NewModel(), Capacity(10), nullptr, nullptr);
  EventQueue& q = p.queue();
  Updater& u = p.updater();
  p.Start(1);
  testing::UpdaterGate gate(u);
  auto a = Clicks("a", 1.0f, 10);
  std::atomic<bool> logged{false};
  a->on_logged = [&logged](const absl::Status&) { logged = true; };
  ASSERT_TRUE(q.TryPush(a));
  // Once the writer has taken the batch out of the ring and logged it, only training
  // may give its places back; paused, the updater does not train.
  ASSERT_TRUE(WaitFor([&] { return logged.load(); }));
  auto b = Clicks("a", 1.0f, 1);
  EXPECT_FALSE(q.TryPush(b));
  EXPECT_EQ(q.depth(), 10u);
  EXPECT_EQ(u.Stats().events_applied, 0u);
  gate.Release();
  ASSERT_TRUE(WaitFor([&] { return q.depth() == 0; }));
  EXPECT_TRUE(q.TryPush(b));
}

TEST(UpdaterTest, WeightZeroEventsDoNotPublish) {
  Pipeline p(NewModel(), Capacity(100), nullptr, nullptr);
  EventQueue& q = p.queue();
  SnapshotSlot& slot = p.slot();
  Updater& u = p.updater();
  p.Start(1);
  auto b = std::make_unique<EventBatch>();
  b->examples.push_back({Item("a"), 1.0f, 0.0f, 0});
  ASSERT_TRUE(q.TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return u.Stats().events_applied == 1; }));
  p.Stop();
  EXPECT_EQ(u.Stats().publications, 0u);
  EXPECT_EQ(slot.Get()->version(), 0u);
}

TEST(PipelineTest, WriterSequencesLogsAndAcknowledgesBeforeTraining) {
  std::vector<std::pair<uint64_t, size_t>> appended;  // (first seq, events), writer thread
  std::atomic<int> acks{0};
  // The log numbers the events (as the RocksDB log does from where recovery left it).
  uint64_t next_seq = 41;
  AppendFn append = [&](const std::vector<EventBatch*>& group) -> absl::StatusOr<uint64_t> {
    size_t n = 0;
    for (EventBatch* b : group) n += b->examples.size();
    const uint64_t first = next_seq;
    next_seq += n;
    appended.emplace_back(first, n);
    return first;
  };
  Pipeline p(NewModel(), Capacity(1000), append, nullptr);
  p.Start(41);
  testing::UpdaterGate gate(p.updater());  // acknowledgement must not wait for training
  for (int i = 0; i < 5; ++i) {
    auto b = Clicks("a", 1.0f, 3);
    b->on_logged = [&](const absl::Status& s) { acks += s.ok(); };
    ASSERT_TRUE(p.queue().TryPush(b));
  }
  ASSERT_TRUE(WaitFor([&] { return acks.load() == 5; }));
  EXPECT_EQ(p.updater().Stats().events_applied, 0u);
  gate.Release();
  ASSERT_TRUE(WaitFor([&] { return p.updater().Stats().events_applied == 15; }));
  EXPECT_EQ(p.updater().Stats().last_seq, 55u);  // seqs 41..55
  p.Stop();
  uint64_t next = 41;
  for (const auto& [first, n] : appended) {
    EXPECT_EQ(first, next);
    next += n;
  }
  EXPECT_EQ(next, 56u);
}

TEST(PipelineTest, FailedAppendAnswersErrorAndTrainsNothing) {
  std::atomic<int> failures{0};
  AppendFn append = [](const std::vector<EventBatch*>&) -> absl::StatusOr<uint64_t> {
    return absl::UnavailableError("disk full");
  };
  Pipeline p(NewModel(), Capacity(100), append, nullptr);
  p.Start(1);
  auto b = Clicks("a", 1.0f, 10);
  b->on_logged = [&](const absl::Status& s) { failures += !s.ok(); };
  ASSERT_TRUE(p.queue().TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return failures.load() == 1; }));
  ASSERT_TRUE(WaitFor([&] { return p.queue().depth() == 0; }));  // places released
  p.Stop();
  EXPECT_EQ(p.updater().Stats().events_applied, 0u);
}

TEST(PipelineTest, DuplicateEventIdsAreAcknowledgedButTrainedOnce) {
  PipelineOptions options = Capacity(100);
  options.writer.dedup_window = 3;
  Pipeline p(NewModel(), options, nullptr, nullptr);
  p.Start(1, /*recent_event_ids=*/{"old"});
  auto b = Clicks("a", 1.0f, 6);
  b->event_ids = {"x", "y", "x", "old", "", ""};  // "x" again and "old" are duplicates
  std::atomic<int> acks{0};
  b->on_logged = [&](const absl::Status& s) { acks += s.ok(); };
  ASSERT_TRUE(p.queue().TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return acks.load() == 1 && p.queue().depth() == 0; }));
  p.Stop();
  EXPECT_EQ(p.updater().Stats().events_applied, 4u);
  EXPECT_EQ(p.writer()->duplicates_dropped(), 2u);
}

TEST(PipelineTest, PersistsPeriodicallyAndOnStopWithTheLastSequenceNumber) {
  std::vector<Checkpoint> checkpoints;  // updater thread, read after Stop
  PersistFn persist = [&](model::Model&, const Checkpoint& c,
                          std::shared_ptr<PersistTicket> ticket) {
    checkpoints.push_back(c);
    ticket->Complete(absl::OkStatus());
    return absl::OkStatus();
  };
  PipelineOptions options = Capacity(1000);
  options.updater.persist_interval_ms = 5;
  Pipeline p(NewModel(), options, nullptr, persist);
  p.Start(1);
  auto b = Clicks("a", 1.0f, 10);
  ASSERT_TRUE(p.queue().TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return p.updater().Counters().persists >= 1; }));
  auto c = Clicks("a", 0.0f, 5);
  ASSERT_TRUE(p.queue().TryPush(c));
  p.Stop();
  ASSERT_GE(checkpoints.size(), 2u);
  EXPECT_EQ(checkpoints.back().last_seq, 15u);
  EXPECT_EQ(checkpoints.back().events_applied, 15u);
  EXPECT_EQ(checkpoints.back().metrics.overall.events, 15u);
  EXPECT_EQ(checkpoints.back().version, p.slot().Get()->version());
  for (size_t i = 1; i < checkpoints.size(); ++i) {
    EXPECT_GT(checkpoints[i].version, checkpoints[i - 1].version);
  }
}

// A checkpoint counts only once written: its writer completes the ticket later, on its
// own thread, as the server's storage thread does.
class AsyncWriter {
 public:
  ~AsyncWriter() { Join(); }
  PersistFn Fn() {
    return [this](model::Model&, const Checkpoint& c, std::shared_ptr<PersistTicket> ticket) {
      const bool fail = fail_next_.exchange(false);
      {
        std::lock_guard<std::mutex> lock(mu_);
        captured_.push_back(c);
      }
      Join();
      writer_ = std::thread([ticket, fail] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a disk write
        ticket->Complete(fail ? absl::UnavailableError("disk full (test)") : absl::OkStatus());
      });
      return absl::OkStatus();
    };
  }
  void FailNext() { fail_next_ = true; }
  std::vector<Checkpoint> captured() {
    std::lock_guard<std::mutex> lock(mu_);
    return captured_;
  }
  void Join() {
    if (writer_.joinable()) writer_.join();
  }

 private:
  std::atomic<bool> fail_next_{false};
  std::mutex mu_;
  std::vector<Checkpoint> captured_;
  std::thread writer_;  // updater thread only
};

absl::StatusOr<uint64_t> SaveNow(Updater& u) {
  std::promise<absl::StatusOr<uint64_t>> result;
  u.Post([&] { u.PersistNow([&](absl::StatusOr<uint64_t> v) { result.set_value(v); }); });
  return result.get_future().get();
}

TEST(PipelineTest, FailedWriteIsNotPersistedAndStopWritesTheStateAgain) {
  AsyncWriter writer;
  PipelineOptions options = Capacity(1000);
  options.updater.persist_interval_ms = 0;  // only on demand and on Stop
  Pipeline p(NewModel(), options, nullptr, writer.Fn());
  p.Start(1);
  auto b = Clicks("a", 1.0f, 100);
  ASSERT_TRUE(p.queue().TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return p.updater().Stats().events_applied == 100; }));
  writer.FailNext();
  // Save reports the write's failure, not the capture's success...
  EXPECT_EQ(SaveNow(p.updater()).status().code(), absl::StatusCode::kUnavailable);
  // ...and once the disk is healthy a new save writes again (not the old failure).
  absl::StatusOr<uint64_t> saved = SaveNow(p.updater());
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(writer.captured().size(), 2u);
  // Nothing changed since a good write: no new checkpoint.
  EXPECT_EQ(*SaveNow(p.updater()), *saved);
  EXPECT_EQ(writer.captured().size(), 2u);
  // A failed write right before a clean stop: Stop must write the state again.
  auto c = Clicks("a", 0.0f, 5);
  ASSERT_TRUE(p.queue().TryPush(c));
  ASSERT_TRUE(WaitFor([&] { return p.updater().Stats().events_applied == 105; }));
  writer.FailNext();
  EXPECT_FALSE(SaveNow(p.updater()).ok());
  p.Stop();
  const std::vector<Checkpoint> all = writer.captured();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all.back().last_seq, 105u);
  EXPECT_TRUE(p.updater().final_persist_status().ok());
  const UpdaterStats stats = p.updater().Stats();
  EXPECT_EQ(stats.persist_failures, 2u);
  EXPECT_EQ(stats.persists_written, 2u);
  EXPECT_EQ(stats.persisted_version, all.back().version);
}

TEST(PipelineTest, StopReportsAFinalWriteThatFails) {
  AsyncWriter writer;
  PipelineOptions options = Capacity(1000);
  options.updater.persist_interval_ms = 0;
  Pipeline p(NewModel(), options, nullptr, writer.Fn());
  p.Start(1);
  auto b = Clicks("a", 1.0f, 10);
  ASSERT_TRUE(p.queue().TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return p.updater().Stats().events_applied == 10; }));
  writer.FailNext();
  p.Stop();
  EXPECT_EQ(p.updater().final_persist_status().code(), absl::StatusCode::kUnavailable);
}

// The intervals are read from the injected clock: with a clock that stands still nothing
// is published by time, whatever the real time; moving it publishes.
TEST(PipelineTest, PublicationAndPersistenceFollowTheInjectedClock) {
  testing::FakeClock clock;
  std::atomic<int> persists{0};
  PersistFn persist = [&](model::Model&, const Checkpoint&, std::shared_ptr<PersistTicket> t) {
    ++persists;
    t->Complete(absl::OkStatus());
    return absl::OkStatus();
  };
  PipelineOptions options = Capacity(1000);
  options.updater.publish_interval_ms = 50;
  options.updater.publish_every_events = 1000000;
  options.updater.persist_interval_ms = 10000;
  options.updater.clock = &clock;
  Pipeline p(NewModel(), options, nullptr, persist);
  p.Start(1);
  auto b = Clicks("a", 1.0f, 10);
  ASSERT_TRUE(p.queue().TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return p.updater().Stats().events_applied == 10; }));
  // The updater has been idle past its deadline check since training; the fake clock
  // has not moved, so nothing is published.
  testing::UpdaterGate(p.updater()).Release();  // one full loop after training
  EXPECT_EQ(p.slot().Get()->version(), 0u);
  clock.Advance(std::chrono::milliseconds(50));
  ASSERT_TRUE(WaitFor([&] { return p.slot().Get()->version() == 1u; }));
  EXPECT_EQ(persists.load(), 0);
  clock.Advance(std::chrono::milliseconds(10000));
  ASSERT_TRUE(WaitFor([&] { return persists.load() == 1; }));
  p.Stop();
}

TEST(PipelineTest, RestoreAndReplayContinueVersionsAndCounters) {
  Pipeline p(NewModel(), Capacity(100), nullptr, nullptr);
  Checkpoint c;
  c.version = 7;
  c.last_seq = 100;
  c.events_applied = 100;
  p.updater().Restore(c);
  EXPECT_EQ(p.slot().Get()->version(), 7u);
  auto replayed = Clicks("a", 1.0f, 4);
  replayed->first_seq = 101;
  p.updater().Replay(*replayed);
  p.Start(105);
  // Recovery's training is served at Start, past any version the crashed server could
  // have published for those 4 events.
  EXPECT_EQ(p.slot().Get()->version(), 11u);
  auto b = Clicks("a", 1.0f, 1);
  ASSERT_TRUE(p.queue().TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return p.updater().Stats().events_applied == 105; }));
  EXPECT_EQ(p.updater().Stats().last_seq, 105u);
  p.Stop();
}

}  // namespace
}  // namespace streamrec::core
