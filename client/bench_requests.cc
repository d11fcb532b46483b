#include "client/bench_requests.h"

#include <set>

#include "client/criteo_events.h"
#include "client/criteo_generator.h"

namespace streamrec::client {

std::string BenchFieldName(int k) {
  return k < CriteoStream::kCategorical ? "C" + std::to_string(k + 1)
                                        : "I" + std::to_string(k - CriteoStream::kCategorical + 1);
}

std::vector<v1::PredictRequest> PredictRequests(const PredictShape& shape, int n, uint64_t seed) {
  CriteoStream stream(40, kBenchItems, seed);
  std::vector<v1::PredictRequest> out(n);
  v1::Event event;
  for (v1::PredictRequest& req : out) {
    ToApiEvent(stream.Next(), false, false, event);
    auto& context = *req.mutable_context()->mutable_values();
    for (int k = 0; k < shape.context_features; ++k) {
      const auto& from = event.context().values();  // the latest event's fields
      if (auto it = from.find(BenchFieldName(k)); it != from.end()) context[it->first] = it->second;
    }
    std::set<std::string> ids;
    for (int c = 0; c < shape.candidates; ++c) {
      ToApiEvent(stream.Next(), false, false, event);
      std::string id = event.item().id();
      // The generator's items are Zipf-distributed: redraw a repeated id a few times
      // (100 draws over 100,000 items repeat the head), then fall back to a suffix, so a
      // request of many candidates still builds in time linear in their number.
      for (int tries = 0; ids.count(id) && tries < 3; ++tries) {
        ToApiEvent(stream.Next(), false, false, event);
        id = event.item().id();
      }
      if (ids.count(id)) id += "-" + std::to_string(c);
      ids.insert(id);
      v1::Item* item = req.add_candidates();
      item->set_id(id);
      auto& features = *item->mutable_features()->mutable_values();
      const auto& from = event.context().values();
      for (int k = shape.context_features;
           k < shape.context_features + shape.candidate_features; ++k) {
        if (auto it = from.find(BenchFieldName(k)); it != from.end()) {
          features[it->first] = it->second;
        }
      }
    }
  }
  return out;
}

std::vector<v1::ObserveRequest> ObserveRequests(int batch, int features, int n, uint64_t seed) {
  CriteoStream stream(features, kBenchItems, seed);
  std::vector<v1::ObserveRequest> out(n);
  for (v1::ObserveRequest& req : out) {
    for (int i = 0; i < batch; ++i) ToApiEvent(stream.Next(), false, false, *req.add_events());
  }
  return out;
}

}  // namespace streamrec::client
