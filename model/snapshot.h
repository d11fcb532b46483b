// Snapshot: an immutable, versioned copy of a model's weights that serving threads
// score with. Published by the updater (Model::Publish) and shared by shared_ptr:
// holding one keeps that version's memory alive, so hold it for one request only.
// All methods are const and safe to call from any number of threads at once.
//
// Scoring is split so that a request's context is processed once, not once per
// candidate: ScoreContext(context) once, then ScoreItem(context_score, item) per item.
#ifndef STREAMREC_MODEL_SNAPSHOT_H_
#define STREAMREC_MODEL_SNAPSHOT_H_

#include <cstdint>
#include <span>

#include "model/example.h"

namespace streamrec::model {

// ContextScore is the part of a score that depends on the context only.
struct ContextScore {
  double logit = 0;
};

class Snapshot {
 public:
  Snapshot(uint64_t version, uint64_t events_applied)
      : version_(version), events_applied_(events_applied) {}
  virtual ~Snapshot() = default;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // ScoreContext returns the context's share of the score (including the bias).
  virtual ContextScore ScoreContext(std::span<const HashedFeature> context) const = 0;
  // ScoreItem returns the click probability of an item's features in that context.
  virtual double ScoreItem(const ContextScore& context,
                           std::span<const HashedFeature> item) const = 0;

  // Monotonically increasing version; events trained into it.
  uint64_t version() const { return version_; }
  uint64_t events_applied() const { return events_applied_; }
  virtual uint64_t parameter_count() const = 0;

 private:
  const uint64_t version_;
  const uint64_t events_applied_;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_SNAPSHOT_H_
