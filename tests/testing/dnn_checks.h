// Checks shared by the DNN and DeepFM tests (both are model::DnnModel): a model's state
// tables as plain vectors, a labelled stream from an event generator, and the check that
// the two training arithmetics (dnn.kernels) compute the same functions. Header-only.
#ifndef STREAMREC_TESTS_TESTING_DNN_CHECKS_H_
#define STREAMREC_TESTS_TESTING_DNN_CHECKS_H_

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/dnn_model.h"
#include "tests/testing/model_events.h"

namespace streamrec::model_testing {

inline std::vector<std::vector<float>> Tables(model::DnnModel& m) {
  std::vector<std::vector<float>> out;
  for (const model::StateTable& t : m.StateTables()) out.push_back(t.table->values());
  return out;
}

// For tests that run for both training arithmetics:
//   INSTANTIATE_TEST_SUITE_P(Both, MySuite, kBothKernels, KernelsName);
inline const auto kBothKernels =
    ::testing::Values(model::DnnKernels::kEigen, model::DnnKernels::kOrdered);
inline std::string KernelsName(const ::testing::TestParamInfo<model::DnnKernels>& info) {
  return std::string(model::DnnKernelsName(info.param));
}

using EventFn = std::function<model::FeatureVector(Rng&)>;

// Stream: n events of `event`, clicked with probability 0.3, every 7th of weight 0.
inline std::vector<model::Example> Stream(int n, uint64_t seed, const EventFn& event) {
  Rng rng(seed);
  std::vector<model::Example> out;
  for (int i = 0; i < n; ++i) {
    model::FeatureVector f = event(rng);
    out.push_back({std::move(f), rng.Uniform() < 0.3 ? 1.0f : 0.0f, i % 7 == 0 ? 0.0f : 1.0f});
  }
  return out;
}

// ExpectBothKernelsAgree: on the same trained state (an Eigen model of `config`, trained
// on 1280 of `events`, its tables copied into an ordered one at that batch boundary) the
// two arithmetics' predictions agree closely (not bitwise: the sums run in other orders),
// and so do the tables after the remaining events; some trained float differs.
inline void ExpectBothKernelsAgree(model::ModelConfig config,
                                   const std::vector<model::Example>& events,
                                   const EventFn& event) {
  config.dnn.kernels = model::DnnKernels::kEigen;
  model::DnnModel eigen(config);
  for (int i = 0; i < 1280; ++i) eigen.Train(events[i]);
  ASSERT_EQ(eigen.pending_events(), 0u);
  config.dnn.kernels = model::DnnKernels::kOrdered;
  model::DnnModel ordered(config);
  std::vector<model::StateTable> from = eigen.StateTables(), to = ordered.StateTables();
  ASSERT_EQ(from.size(), to.size());
  for (size_t t = 0; t < from.size(); ++t) {
    for (size_t k = 0; k < from[t].table->num_chunks(); ++k) {
      to[t].table->SetChunk(k, from[t].table->ChunkData(k), from[t].table->ChunkSize(k));
    }
  }
  ordered.ResetPublishBase();
  ordered.DiscardPending();
  ordered.set_optimizer_step(eigen.optimizer_step());
  ASSERT_EQ(Tables(ordered), Tables(eigen));
  Rng rng(41);
  int differ = 0;
  for (int i = 0; i < 50; ++i) {
    const model::FeatureVector f = event(rng);
    const double a = eigen.Predict(f), b = ordered.Predict(f);
    EXPECT_NEAR(a, b, 1e-6) << i;
    differ += a != b;
  }
  std::printf("predictions that differ in some bit: %d of 50\n", differ);
  for (size_t i = 1280; i < events.size(); ++i) {
    EXPECT_NEAR(eigen.Train(events[i]).prediction, ordered.Train(events[i]).prediction, 1e-5)
        << i;
  }
  const auto ta = Tables(eigen), tb = Tables(ordered);
  ASSERT_EQ(ta.size(), tb.size());
  size_t floats_differ = 0;
  for (size_t t = 0; t < ta.size(); ++t) {
    ASSERT_EQ(ta[t].size(), tb[t].size());
    for (size_t i = 0; i < ta[t].size(); ++i) {
      ASSERT_NEAR(ta[t][i], tb[t][i], 1e-4 + 1e-3 * std::fabs(ta[t][i])) << t << " " << i;
      floats_differ += ta[t][i] != tb[t][i];
    }
  }
  std::printf("floats that differ after %zu more events: %zu\n", events.size() - 1280,
              floats_differ);
  EXPECT_GT(floats_differ, 0u);
}

// ExpectDeferredPredictionsAreTrains (kOrdered): the batch scored at its end gives every
// event of `events` (300 or more) exactly, bit for bit, the prediction Train gives it
// alone, through full batches, a flushed partial one, a mid-batch ResetPublishBase, a
// switch off and on mid-batch and a DiscardPending; the tables end the same. kEigen does
// not defer.
inline void ExpectDeferredPredictionsAreTrains(model::ModelConfig config,
                                               const std::vector<model::Example>& events) {
  config.dnn.kernels = model::DnnKernels::kEigen;
  EXPECT_FALSE(model::DnnModel(config).DeferPredictions(true));
  config.dnn.kernels = model::DnnKernels::kOrdered;
  model::DnnModel now(config), late(config);
  ASSERT_TRUE(late.DeferPredictions(true));
  std::vector<double> want, got;
  auto take = [&](model::DnnModel& m, std::vector<double>& out) {
    for (double p : m.BatchPredictions()) out.push_back(p);
  };
  for (size_t i = 0; i < events.size(); ++i) {
    want.push_back(now.Train(events[i]).prediction);
    const model::TrainResult r = late.Train(events[i]);
    const bool deferred = i <= 100 || i > 140;
    if (deferred && late.pending_events() > 0) {
      EXPECT_TRUE(std::isnan(r.prediction)) << i;
    }
    if (!deferred) {
      EXPECT_EQ(r.prediction, want.back()) << i;
    }
    take(late, got);
    if (i == 20) {  // mid-batch: a partial batch
      ASSERT_TRUE(now.FlushPending());
      ASSERT_TRUE(late.FlushPending());
      take(late, got);
    }
    if (i == 50) {  // mid-batch: the layers are rebuilt (same tables)
      now.ResetPublishBase();
      late.ResetPublishBase();
    }
    if (i == 100) {
      ASSERT_FALSE(late.DeferPredictions(false));  // mid-batch, off...
    }
    if (i == 140) {
      ASSERT_TRUE(late.DeferPredictions(true));  // ...and on again
    }
  }
  ASSERT_TRUE(now.FlushPending());
  ASSERT_TRUE(late.FlushPending());
  take(late, got);
  // While off, Train answered and the batch repeated it.
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(std::memcmp(&got[i], &want[i], sizeof(double)), 0) << i;
  }
  EXPECT_EQ(Tables(now), Tables(late));
  // Dropped pending events have no predictions.
  for (int i = 0; i < 3; ++i) late.Train(events[i]);
  late.DiscardPending();
  EXPECT_TRUE(late.BatchPredictions().empty());
}

}  // namespace streamrec::model_testing

#endif  // STREAMREC_TESTS_TESTING_DNN_CHECKS_H_
