// The click streams that learning quality is measured on (README "Learning quality"),
// as the model sees them: each event built as an API Event and hashed by the server's
// own RequestConverter, in stream order. Thread-compatible.
//   movielens      MovieLens latest-small, timestamp order, rating >= 4 is a click: user
//                  (context), item id and genres (item features); absent without the
//                  data set under ../shared/data
//   criteo         `streamrec generate --layout criteo` defaults: 13 numeric fields
//                  (ln(1 + count)), 26 categorical, the item; 40 features
//   criteo-raw     the same with the numbers unscaled (counts up to 10,000)
//   criteo-5       the same layout with 5 features per event (item, I1, C1..C3)
#ifndef STREAMREC_BENCH_QUALITY_STREAMS_H_
#define STREAMREC_BENCH_QUALITY_STREAMS_H_

#include <string>
#include <vector>

#include "model/example.h"
#include "model/model_config.h"

namespace streamrec::bench {

struct Stream {
  std::string name;
  std::vector<model::Example> examples;
  // The generator's own mean logloss (0 for real data): the floor no model reaches.
  double optimal_logloss = 0;
};

// QualityStreams returns the streams above (movielens only if its files exist), each
// with at most `events` events (0: all of MovieLens; generated streams default to
// 200,000).
std::vector<Stream> QualityStreams(const std::string& movielens_dir, size_t events);

// Progressive: one pass of a model over a stream, each event scored before it is learned.
struct Progressive {
  double logloss = 0, auc = 0, events_per_s = 0;
};
Progressive RunProgressive(const model::ModelConfig& config,
                           const std::vector<model::Example>& examples);

// RunningRateLogLoss: the mean logloss of the running click rate
// (clicks + 1) / (events + 2), the constant predictor every model must beat.
double RunningRateLogLoss(const std::vector<model::Example>& examples);

}  // namespace streamrec::bench

#endif  // STREAMREC_BENCH_QUALITY_STREAMS_H_
