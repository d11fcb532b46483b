// Ranker: Predict. Converts a request (RequestConverter), scores every candidate with the
// snapshot its SnapshotSource serves now (the context once, then each candidate's own
// features), and returns them best first, cut to top_k, with the snapshot's version and
// a fresh prediction id. With impression logging (PredictRequest.log_impression, or the
// server's default), the prediction is stored under its id before the answer
// (server/reward_join.h). If it cannot be: a request that asked for it explicitly fails
// (FAILED_PRECONDITION when the server logs no impressions, else the store's error); one
// logged by the server's default still gets its answer, with impression_logged false.
// Thread-safe: Predict from any number of threads; it never waits for training.
#ifndef STREAMREC_SERVER_RANKER_H_
#define STREAMREC_SERVER_RANKER_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "model/exploration.h"
#include "server/core/snapshot_source.h"
#include "server/request_converter.h"
#include "server/reward_join.h"
#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::server {

class Ranker {
 public:
  // `join` may be null (no impression logging). `exploration` (the model config's)
  // draws the order (model/exploration.h), seeded by HashName(prediction_id) (the xxh3
  // of model/hash.h), so a logged impression can be reproduced; greedy ranks as always
  // and sets no propensity.
  Ranker(const RequestConverter* converter, const core::SnapshotSource* source,
         RewardJoin* join = nullptr, const model::ExplorationConfig& exploration = {});

  absl::Status Predict(const ParsedPredict& request,
                       v1::PredictResponse& response);
  absl::Status Predict(const v1::PredictRequest& request, v1::PredictResponse& response);

  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }
  uint64_t candidates() const { return candidates_.load(std::memory_order_relaxed); }

 private:
  std::string NextPredictionId();

  const RequestConverter* const converter_;
  const core::SnapshotSource* const source_;
  RewardJoin* const join_;
  const model::ExplorationConfig exploration_;
  const std::string prediction_prefix_;  // random per process
  std::atomic<uint64_t> prediction_counter_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> candidates_{0};
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_RANKER_H_
