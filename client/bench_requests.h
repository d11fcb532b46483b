// The requests `streamrec bench` sends, built once before a run: realistic shapes from
// the click-log generator (client/criteo_generator.h, Zipf-distributed categories).
//   Observe: events of `features` features (5..40; 40 = 13 numeric I1..I13, 26
//            categorical C1..C26 and the item, as `streamrec generate --layout criteo`).
//   Predict: `context_features` context features and `candidates` candidates of
//            `candidate_features` features each, taken from the generator's fields in the
//            order C1..C26, I1..I13 (context first, then the candidates' fields; at most
//            39 in all), candidate ids the generator's Zipf item ids, unique per request.
// Deterministic for a seed. Pure functions; any thread.
#ifndef STREAMREC_CLIENT_BENCH_REQUESTS_H_
#define STREAMREC_CLIENT_BENCH_REQUESTS_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::client {

inline constexpr int kBenchItems = 100000;  // the generator's item cardinality
inline constexpr int kBenchFields = 39;     // C1..C26, I1..I13

struct PredictShape {
  int candidates = 100;
  int candidate_features = 5;
  int context_features = 5;
};

// BenchFieldName: the k-th field (0-based) of C1..C26, I1..I13.
std::string BenchFieldName(int k);

// PredictRequests: `n` different requests of `shape` (candidate_features +
// context_features <= kBenchFields, candidates <= kBenchItems).
// DistinctPredictRequests: how many different requests a load cycles through: 16, fewer
// for large requests (about 20,000 candidates in all), so building them stays quick.
inline int DistinctPredictRequests(const PredictShape& shape) {
  return std::max(1, std::min(16, 20000 / std::max(1, shape.candidates)));
}

std::vector<v1::PredictRequest> PredictRequests(const PredictShape& shape, int n, uint64_t seed);

// ObserveRequests: `n` different requests of `batch` events of `features` features.
std::vector<v1::ObserveRequest> ObserveRequests(int batch, int features, int n, uint64_t seed);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_BENCH_REQUESTS_H_
