// Updater: trains in order, publishes increasing versions only when something changed,
// never disturbs a reader holding an old snapshot, drains on Stop; a mini-batch model's
// partial batch is flushed through a logged marker after the idle time (fake clock) and
// at Stop, never with flushing off or for a per-event model. Runs under TSan.
#include "server/core/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "model/hash.h"
#include "model/linear_model.h"
#include "model/model.h"
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

// A small DNN in batches of 64.
std::unique_ptr<model::Model> NewDnn() {
  model::ModelConfig c = model::DefaultModelConfig(model::ModelKind::kDnn);
  c.hash_bits = 10;
  c.dnn.embedding_dim = 4;
  c.dnn.hidden = {8, 4};
  c.dnn.batch_size = 64;
  return *model::CreateModel(c);
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


// Settle: the updater has completed a whole loop since the call (it held two gates).
void Settle(Updater& u) {
  testing::UpdaterGate(u).Release();
  testing::UpdaterGate(u).Release();
}

// FlushLog: an AppendFn that numbers entries as the event log does and records, per
// logged batch, its first sequence number and whether it is a flush marker.
struct FlushLog {
  std::mutex mu;
  uint64_t next = 1;
  std::vector<std::pair<uint64_t, bool>> batches;
  AppendFn Fn() {
    return [this](const std::vector<EventBatch*>& group) -> absl::StatusOr<uint64_t> {
      std::lock_guard<std::mutex> lock(mu);
      const uint64_t first = next;
      for (EventBatch* b : group) {
        batches.emplace_back(next, b->flush);
        next += b->flush ? 1 : b->examples.size();
      }
      return first;
    };
  }
  std::vector<std::pair<uint64_t, bool>> Batches() {
    std::lock_guard<std::mutex> lock(mu);
    return batches;
  }
};

// Issue 9: on a quiet stream a DNN's partial batch is applied once no event has arrived
// for flush_partial_batch_ms on the injected clock, through a marker logged after the
// pending events at a sequence number of its own; the snapshot then holds the batch, bit
// for bit what a model flushed at the same place holds. Nothing more is flushed while
// nothing is pending; the next quiet spell flushes again.
TEST(PipelineTest, AQuietDnnStreamFlushesItsPartialBatchAfterTheIdleTime) {
  testing::FakeClock clock;
  FlushLog log;
  PipelineOptions options = Capacity(1000);
  options.updater.clock = &clock;
  options.updater.flush_partial_batch_ms = 1000;
  options.updater.publish_every_events = 1;  // publish what changed without waiting
  Pipeline p(NewDnn(), options, log.Fn(), nullptr);
  p.Start(1);
  auto b = Clicks("a", 1.0f, 10);
  ASSERT_TRUE(p.queue().TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return p.updater().Stats().events_applied == 10; }));
  clock.Advance(std::chrono::milliseconds(999));
  Settle(p.updater());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(p.updater().Counters().flushes, 0u);
  EXPECT_EQ(p.slot().Get()->version(), 0u);  // nothing applied: nothing published
  clock.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(WaitFor([&] { return p.slot().Get()->events_applied() == 10; }));
  EXPECT_EQ(p.updater().Counters().flushes, 1u);
  EXPECT_EQ(p.updater().Stats().last_seq, 11u);  // the marker's number
  EXPECT_EQ(p.updater().Stats().events_applied, 10u);
  EXPECT_EQ(log.Batches(), (std::vector<std::pair<uint64_t, bool>>{{1, false}, {11, true}}));
  // The same events flushed at the same place, offline.
  std::unique_ptr<model::Model> reference = NewDnn();
  const std::unique_ptr<EventBatch> same = Clicks("a", 1.0f, 10);
  for (const model::Example& e : same->examples) reference->Train(e);
  ASSERT_TRUE(reference->FlushPending());
  EXPECT_EQ(p.slot().Get()->ScoreOne({}, Item("a")),
            reference->Publish(1, 10, nullptr)->ScoreOne({}, Item("a")));
  EXPECT_NE(p.slot().Get()->ScoreOne({}, Item("a")), 0.5);
  // Nothing pending: no more markers, however long the quiet.
  clock.Advance(std::chrono::milliseconds(10000));
  Settle(p.updater());
  EXPECT_EQ(p.updater().Counters().flushes, 1u);
  auto c = Clicks("a", 0.0f, 3);
  ASSERT_TRUE(p.queue().TryPush(c));
  ASSERT_TRUE(WaitFor([&] { return p.updater().Stats().events_applied == 13; }));
  clock.Advance(std::chrono::milliseconds(1000));
  ASSERT_TRUE(WaitFor([&] { return p.slot().Get()->events_applied() == 13; }));
  EXPECT_EQ(p.updater().Stats().last_seq, 15u);
  p.Stop();
  EXPECT_EQ(p.updater().Counters().flushes, 2u);  // nothing pending at the stop
  EXPECT_EQ(log.Batches().size(), 4u);
}

// A clean stop flushes the pending events through a last marker (the writer stopped),
// so the final checkpoint holds them all and stands at the marker; with flushing off
// (0) neither the idle time nor the stop flushes, and the checkpoint stands at the last
// full batch.
TEST(PipelineTest, StopFlushesThePendingEventsUnlessFlushingIsOff) {
  for (const int64_t flush_ms : {int64_t{1000}, int64_t{0}}) {
    SCOPED_TRACE(flush_ms);
    testing::FakeClock clock;
    FlushLog log;
    std::vector<Checkpoint> checkpoints;  // updater thread, read after Stop
    PersistFn persist = [&](model::Model&, const Checkpoint& c,
                            std::shared_ptr<PersistTicket> ticket) {
      checkpoints.push_back(c);
      ticket->Complete(absl::OkStatus());
      return absl::OkStatus();
    };
    PipelineOptions options = Capacity(1000);
    options.updater.clock = &clock;
    options.updater.flush_partial_batch_ms = flush_ms;
    options.updater.persist_interval_ms = 0;
    Pipeline p(NewDnn(), options, log.Fn(), persist);
    p.Start(1);
    auto b = Clicks("a", 1.0f, 70);  // a full batch and 6 pending
    ASSERT_TRUE(p.queue().TryPush(b));
    ASSERT_TRUE(WaitFor([&] { return p.updater().Stats().events_applied == 70; }));
    if (flush_ms == 0) {
      clock.Advance(std::chrono::milliseconds(100000));  // no idle flush either
      Settle(p.updater());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    p.Stop();
    ASSERT_FALSE(checkpoints.empty());
    const Checkpoint& last = checkpoints.back();
    if (flush_ms > 0) {
      EXPECT_EQ(p.updater().Counters().flushes, 1u);
      EXPECT_EQ(log.Batches().back(), (std::pair<uint64_t, bool>{71, true}));
      EXPECT_EQ(last.last_seq, 71u);
      EXPECT_EQ(last.events_applied, 70u);
      EXPECT_EQ(last.metrics.overall.events, 70u);
      EXPECT_EQ(p.slot().Get()->events_applied(), 70u);
      EXPECT_EQ(p.updater().model().pending_events(), 0u);  // after Stop: the owner's
    } else {
      EXPECT_EQ(p.updater().Counters().flushes, 0u);
      EXPECT_EQ(log.Batches().size(), 1u);
      EXPECT_EQ(last.last_seq, 64u);
      EXPECT_EQ(last.events_applied, 64u);
      EXPECT_EQ(p.slot().Get()->events_applied(), 64u);
    }
    EXPECT_EQ(p.updater().Stats().events_applied, 70u);
  }
}

// A DNN with the ordered kernels defers its predictions to its batch boundaries (one
// product per layer for a batch's scoring); the updater fills the batch's metric points
// there, so the progressive metrics are exactly those of predictions made one by one:
// a full batch, then a partial one flushed at the stop.
TEST(PipelineTest, DeferredPredictionsGiveTheSameProgressiveMetrics) {
  ASSERT_TRUE(NewDnn()->DeferPredictions(true));
  std::vector<Checkpoint> checkpoints;
  PersistFn persist = [&](model::Model&, const Checkpoint& c,
                          std::shared_ptr<PersistTicket> ticket) {
    checkpoints.push_back(c);
    ticket->Complete(absl::OkStatus());
    return absl::OkStatus();
  };
  auto events = std::make_unique<EventBatch>();
  for (int i = 0; i < 100; ++i) {
    events->examples.push_back({Item(i % 3 == 0 ? "a" : "b"), i % 3 == 0 ? 1.0f : 0.0f,
                                i % 7 == 0 ? 0.0f : 1.0f, 0});
  }
  model::MetricSums want;
  std::unique_ptr<model::Model> reference = NewDnn();  // predicting one by one
  for (const model::Example& e : events->examples) {
    const double p = reference->Train(e).prediction;
    want.Add(static_cast<float>(p), e.label, e.weight);
  }
  PipelineOptions options = Capacity(1000);
  testing::FakeClock clock;
  FlushLog log;
  options.updater.clock = &clock;
  options.updater.persist_interval_ms = 0;
  Pipeline p(NewDnn(), options, log.Fn(), persist);
  p.Start(1);
  ASSERT_TRUE(p.queue().TryPush(events));
  ASSERT_TRUE(WaitFor([&] { return p.updater().Stats().events_applied == 100; }));
  p.Stop();  // flushes the 36 pending
  ASSERT_FALSE(checkpoints.empty());
  const model::MetricSums& got = checkpoints.back().metrics.overall;
  EXPECT_EQ(got.events, 100u);
  EXPECT_EQ(got.weight, want.weight);
  EXPECT_EQ(got.loss, want.loss);
  EXPECT_EQ(got.correct, want.correct);
  EXPECT_EQ(got.prediction, want.prediction);
  EXPECT_EQ(got.label, want.label);
}

// A per-event model never has pending events: no marker, whatever the quiet, and the
// sequence numbers stay the events'.
TEST(PipelineTest, APerEventModelNeverFlushes) {
  testing::FakeClock clock;
  FlushLog log;
  PipelineOptions options = Capacity(1000);
  options.updater.clock = &clock;
  options.updater.flush_partial_batch_ms = 1000;
  Pipeline p(NewModel(), options, log.Fn(), nullptr);
  p.Start(1);
  auto b = Clicks("a", 1.0f, 10);
  ASSERT_TRUE(p.queue().TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return p.updater().Stats().events_applied == 10; }));
  clock.Advance(std::chrono::milliseconds(60000));
  Settle(p.updater());
  p.Stop();
  EXPECT_EQ(p.updater().Counters().flushes, 0u);
  EXPECT_EQ(p.updater().Stats().last_seq, 10u);
  EXPECT_EQ(log.Batches().size(), 1u);
}

// A marker whose append fails is dropped, and asked for again after another idle time.
TEST(PipelineTest, AFailedFlushMarkerIsAskedForAgain) {
  testing::FakeClock clock;
  std::atomic<int> marker_failures{1};
  FlushLog log;
  AppendFn ok = log.Fn();
  AppendFn append = [&](const std::vector<EventBatch*>& group) -> absl::StatusOr<uint64_t> {
    if (group.size() == 1 && group[0]->flush && marker_failures.fetch_sub(1) > 0) {
      return absl::UnavailableError("disk full (test)");
    }
    return ok(group);
  };
  PipelineOptions options = Capacity(1000);
  options.updater.clock = &clock;
  options.updater.flush_partial_batch_ms = 1000;
  Pipeline p(NewDnn(), options, append, nullptr);
  p.Start(1);
  auto b = Clicks("a", 1.0f, 10);
  ASSERT_TRUE(p.queue().TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return p.updater().Stats().events_applied == 10; }));
  clock.Advance(std::chrono::milliseconds(1000));
  ASSERT_TRUE(WaitFor([&] { return marker_failures.load() <= 0; }));
  Settle(p.updater());
  EXPECT_EQ(p.updater().Counters().flushes, 0u);
  // Asked for again once the updater heard of the failure and another idle time passed.
  ASSERT_TRUE(WaitFor([&] {
    clock.Advance(std::chrono::milliseconds(50));
    return p.updater().Counters().flushes == 1;
  }));
  EXPECT_EQ(p.updater().Stats().last_seq, 11u);  // the failed one took no number
  p.Stop();
}

}  // namespace
}  // namespace streamrec::core
