// Lifecycles, written down: the states a served snapshot and a persisted checkpoint go
// through, and the only transitions allowed, in the way TensorFlow Serving writes down a
// servable's states (tensorflow_serving/core/loader_harness.h). Pure; thread-compatible.
//
// A served snapshot (model::Snapshot, published by the updater into the SnapshotSlot):
//   kPublished --(a newer one replaces it in the slot)--> kRetired
//   kRetired   --(no reader holds it any more; freed on the updater thread)--> kFreed
// Readers may hold a published or retired snapshot; nothing else moves it.
//
// A checkpoint (captured by the updater, written by the storage thread):
//   kCaptured --(chunks and manifest durable)--> kWritten
//   kCaptured --(its write, or an earlier one, failed)--> kDropped
//   kWritten  --(listed by the store: restorable, rollback target)--> kRetained
//   kRetained --(retention: newer ones fill the quota)--> kDeleted
// A dropped checkpoint's state is marked changed again, so the next one writes it.
#ifndef STREAMREC_SERVER_CORE_LIFECYCLE_H_
#define STREAMREC_SERVER_CORE_LIFECYCLE_H_

namespace streamrec::core {

enum class SnapshotState { kPublished, kRetired, kFreed };
enum class CheckpointState { kCaptured, kWritten, kDropped, kRetained, kDeleted };

constexpr bool CanMove(SnapshotState from, SnapshotState to) {
  return (from == SnapshotState::kPublished && to == SnapshotState::kRetired) ||
         (from == SnapshotState::kRetired && to == SnapshotState::kFreed);
}

constexpr bool CanMove(CheckpointState from, CheckpointState to) {
  switch (from) {
    case CheckpointState::kCaptured:
      return to == CheckpointState::kWritten || to == CheckpointState::kDropped;
    case CheckpointState::kWritten:
      return to == CheckpointState::kRetained;
    case CheckpointState::kRetained:
      return to == CheckpointState::kDeleted;
    case CheckpointState::kDropped:
    case CheckpointState::kDeleted:
      return false;
  }
  return false;
}

constexpr const char* Name(SnapshotState s) {
  switch (s) {
    case SnapshotState::kPublished: return "published";
    case SnapshotState::kRetired: return "retired";
    case SnapshotState::kFreed: return "freed";
  }
  return "?";
}

constexpr const char* Name(CheckpointState s) {
  switch (s) {
    case CheckpointState::kCaptured: return "captured";
    case CheckpointState::kWritten: return "written";
    case CheckpointState::kDropped: return "dropped";
    case CheckpointState::kRetained: return "retained";
    case CheckpointState::kDeleted: return "deleted";
  }
  return "?";
}

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_LIFECYCLE_H_
