// Updater: trains in order, publishes increasing versions only when something changed,
// never disturbs a reader holding an old snapshot, drains on Stop. Runs under TSan.
#include "server/core/updater.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "model/hash.h"
#include "model/linear_model.h"

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
  EventQueue q(1000);
  SnapshotSlot slot;
  Updater u(NewModel(), &q, &slot, UpdaterOptions{});
  auto v0 = slot.Get();
  ASSERT_NE(v0, nullptr);
  EXPECT_EQ(v0->version(), 0u);
  u.Start();
  auto b = Clicks("a", 1.0f, 500);
  ASSERT_TRUE(q.TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return slot.Get()->events_applied() == 500; }));
  auto v = slot.Get();
  EXPECT_GT(v->version(), 0u);
  EXPECT_GT(v->ScoreItem(v->ScoreContext({}), Item("a")), 0.9);
  // The reader still holding version 0 sees the untrained model.
  EXPECT_DOUBLE_EQ(v0->ScoreItem(v0->ScoreContext({}), Item("a")), 0.5);
  const UpdaterStats s = u.Stats();
  EXPECT_EQ(s.events_applied, 500u);
  EXPECT_EQ(s.overall.events, 500u);
  EXPECT_EQ(s.window.events, 500u);
  EXPECT_GT(s.ack_to_publish_p99_ms, 0.0);
  EXPECT_EQ(q.depth(), 0u);
}

TEST(UpdaterTest, ConcurrentReadersDuringTrainingSeeConsistentMonotonicVersions) {
  EventQueue q(10000);
  SnapshotSlot slot;
  UpdaterOptions options;
  options.publish_interval_ms = 1;
  options.publish_every_events = 50;
  Updater u(NewModel(), &q, &slot, options);
  u.Start();
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
        const double a = s->ScoreItem(s->ScoreContext({}), Item("x"));
        const double b = s->ScoreItem(s->ScoreContext({}), Item("x"));
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
  EventQueue q(100000);
  SnapshotSlot slot;
  UpdaterOptions options;
  options.publish_interval_ms = 100000;  // only Stop publishes
  options.publish_every_events = 1000000;
  Updater u(NewModel(), &q, &slot, options);
  u.SetPausedForTesting(true);
  u.Start();
  for (int i = 0; i < 10; ++i) {
    auto b = Clicks("a", 1.0f, 1000);
    ASSERT_TRUE(q.TryPush(b));
  }
  u.Stop();
  EXPECT_EQ(u.Stats().events_applied, 10000u);
  EXPECT_EQ(slot.Get()->events_applied(), 10000u);
  EXPECT_EQ(slot.Get()->version(), 1u);
}

TEST(UpdaterTest, PauseHoldsTheQueueFull) {
  EventQueue q(10);
  SnapshotSlot slot;
  Updater u(NewModel(), &q, &slot, UpdaterOptions{});
  u.SetPausedForTesting(true);
  u.Start();
  auto a = Clicks("a", 1.0f, 10);
  ASSERT_TRUE(q.TryPush(a));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto b = Clicks("a", 1.0f, 1);
  EXPECT_FALSE(q.TryPush(b));
  u.SetPausedForTesting(false);
  ASSERT_TRUE(WaitFor([&] { return q.depth() == 0; }));
  EXPECT_TRUE(q.TryPush(b));
}

TEST(UpdaterTest, WeightZeroEventsDoNotPublish) {
  EventQueue q(100);
  SnapshotSlot slot;
  Updater u(NewModel(), &q, &slot, UpdaterOptions{});
  u.Start();
  auto b = std::make_unique<EventBatch>();
  b->examples.push_back({Item("a"), 1.0f, 0.0f, 0});
  ASSERT_TRUE(q.TryPush(b));
  ASSERT_TRUE(WaitFor([&] { return u.Stats().events_applied == 1; }));
  u.Stop();
  EXPECT_EQ(u.Stats().publications, 0u);
  EXPECT_EQ(slot.Get()->version(), 0u);
}

}  // namespace
}  // namespace streamrec::core
