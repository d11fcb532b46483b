// The lifecycles of server/core/lifecycle.h as tables: every pair of states, allowed or
// not; and a PersistTicket moving through its part of the checkpoint lifecycle.
#include "server/core/lifecycle.h"

#include <gtest/gtest.h>

#include "server/core/persist_ticket.h"
#include "server/core/snapshot_slot.h"

namespace streamrec::core {
namespace {

TEST(LifecycleTest, SnapshotTransitions) {
  using S = SnapshotState;
  const S all[] = {S::kPublished, S::kRetired, S::kFreed};
  // Rows: from; columns: to (published, retired, freed).
  const bool allowed[3][3] = {
      {false, true, false},   // published -> retired
      {false, false, true},   // retired -> freed
      {false, false, false},  // freed: final
  };
  for (int f = 0; f < 3; ++f) {
    for (int t = 0; t < 3; ++t) {
      EXPECT_EQ(CanMove(all[f], all[t]), allowed[f][t]) << Name(all[f]) << " -> " << Name(all[t]);
    }
  }
}

TEST(LifecycleTest, CheckpointTransitions) {
  using C = CheckpointState;
  const C all[] = {C::kCaptured, C::kWritten, C::kDropped, C::kRetained, C::kDeleted};
  // Rows: from; columns: to (captured, written, dropped, retained, deleted).
  const bool allowed[5][5] = {
      {false, true, true, false, false},     // captured -> written | dropped
      {false, false, false, true, false},    // written -> retained
      {false, false, false, false, false},   // dropped: final
      {false, false, false, false, true},    // retained -> deleted
      {false, false, false, false, false},   // deleted: final
  };
  for (int f = 0; f < 5; ++f) {
    for (int t = 0; t < 5; ++t) {
      EXPECT_EQ(CanMove(all[f], all[t]), allowed[f][t]) << Name(all[f]) << " -> " << Name(all[t]);
    }
  }
}

TEST(LifecycleTest, TicketIsCapturedThenWrittenOrDropped) {
  PersistTicket written(7), dropped(8);
  EXPECT_EQ(written.state(), CheckpointState::kCaptured);
  written.Complete(absl::OkStatus());
  dropped.Complete(absl::UnavailableError("disk full"));
  EXPECT_EQ(written.state(), CheckpointState::kWritten);
  EXPECT_EQ(dropped.state(), CheckpointState::kDropped);
  written.Complete(absl::UnavailableError("late"));  // only the first outcome counts
  EXPECT_EQ(written.state(), CheckpointState::kWritten);
  EXPECT_TRUE(CanMove(CheckpointState::kCaptured, written.state()));
  EXPECT_TRUE(CanMove(CheckpointState::kCaptured, dropped.state()));
}

// A constant snapshot: enough to move through the slot.
class FixedSnapshot final : public model::Snapshot {
 public:
  explicit FixedSnapshot(uint64_t version) : Snapshot(version, 0) {}
  void Score(std::span<const model::HashedFeature>, std::span<const model::FeatureVector>,
             std::span<double> scores) const override {
    for (double& s : scores) s = 0.5;
  }
  uint64_t parameter_count() const override { return 0; }
};

// Where each state of a served snapshot is observable: published while the slot holds it,
// retired once replaced but still held by a reader, freed when the last reader lets go.
SnapshotState StateOf(const std::weak_ptr<const model::Snapshot>& weak, const SnapshotSlot& slot) {
  auto held = weak.lock();
  if (!held) return SnapshotState::kFreed;
  return slot.Get() == held ? SnapshotState::kPublished : SnapshotState::kRetired;
}

TEST(LifecycleTest, SnapshotMovesThroughTheSlot) {
  SnapshotSlot slot;
  slot.Exchange(std::make_shared<FixedSnapshot>(1));
  std::weak_ptr<const model::Snapshot> first = slot.Get();
  EXPECT_EQ(StateOf(first, slot), SnapshotState::kPublished);

  auto reader = slot.Get();  // a Predict in flight
  auto replaced = slot.Exchange(std::make_shared<FixedSnapshot>(2));
  replaced.reset();  // the updater lets go of what it swapped out
  EXPECT_EQ(StateOf(first, slot), SnapshotState::kRetired);
  EXPECT_TRUE(CanMove(SnapshotState::kPublished, SnapshotState::kRetired));
  EXPECT_EQ(slot.Get()->version(), 2u);

  reader.reset();  // the request ends
  EXPECT_EQ(StateOf(first, slot), SnapshotState::kFreed);
  EXPECT_TRUE(CanMove(SnapshotState::kRetired, SnapshotState::kFreed));
}

}  // namespace
}  // namespace streamrec::core
