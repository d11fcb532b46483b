// Snapshot: an immutable, versioned copy of a model's weights that serving threads
// score with. Published by the updater (Model::Publish) and shared by shared_ptr:
// holding one keeps that version's memory alive, so hold it for one request only.
// All methods are const and safe to call from any number of threads at once.
//
// Scoring is batched: Score takes a request's context and all its candidates in one
// call, so a model does its context work once (a linear model's context sum, an FM's
// summed context factors, a DNN's first-layer share) and may score the candidates
// together (one matrix product per request).
#ifndef STREAMREC_MODEL_SNAPSHOT_H_
#define STREAMREC_MODEL_SNAPSHOT_H_

#include <cstdint>
#include <span>
#include <vector>

#include "model/example.h"

namespace streamrec::model {

class Snapshot {
 public:
  Snapshot(uint64_t version, uint64_t events_applied)
      : version_(version), events_applied_(events_applied) {}
  virtual ~Snapshot() = default;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // Score writes to scores[i] the click probability of candidate i: the context's
  // features together with items[i]'s. scores.size() == items.size().
  virtual void Score(std::span<const HashedFeature> context, std::span<const FeatureVector> items,
                     std::span<double> scores) const = 0;
  // ScoreOne: Score for a single candidate.
  double ScoreOne(std::span<const HashedFeature> context, const FeatureVector& item) const {
    double score = 0;
    Score(context, std::span<const FeatureVector>(&item, 1), std::span<double>(&score, 1));
    return score;
  }

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
