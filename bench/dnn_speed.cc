// dnn_speed: training and scoring speed of the DNN model kind (model/dnn_model.h), in
// process, one thread:
//   - the brief's model (examples/models/dnn_brief.textproto): one 128-dim vector field
//     -> 256 -> 128 -> 1, batches of 256;
//   - a 40-field model: 40 categorical fields (20 context, 20 item) embedded in 8 floats
//     each plus the other slot (item_id), 2^20 rows, default layers.
// Prints events/s of Train (scoring each event, then the batch updates) and the latency
// of one Score call of a context with 100 candidates, and the cost of one Publish after
// one batch.
//   build/bin/dnn_speed [events]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "model/dnn_model.h"
#include "model/hash.h"

using namespace streamrec::model;

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

HashedFeature Cat(const std::string& field, const std::string& value) {
  const uint64_t name = HashName(field);
  return {HashCategory(name, value), 1.0f, FieldId(name)};
}

FeatureVector Vector(const char* field, std::mt19937_64& gen) {
  std::normal_distribution<float> normal;
  const uint64_t name = HashName(field);
  FeatureVector out;
  for (uint32_t i = 0; i < 128; ++i) out.push_back({HashVectorDim(name, i), normal(gen), FieldId(name)});
  return out;
}

FeatureVector Fields(int first, int n, std::mt19937_64& gen) {
  FeatureVector out;
  for (int f = first; f < first + n; ++f) {
    out.push_back(Cat("f" + std::to_string(f), std::to_string(gen() % 1000)));
  }
  return out;
}

void Run(const char* name, const ModelConfig& config, int events,
         FeatureVector (*context)(std::mt19937_64&), FeatureVector (*item)(std::mt19937_64&)) {
  DnnModel m(config);
  std::mt19937_64 gen(1);
  std::vector<Example> stream;
  for (int i = 0; i < events; ++i) {
    FeatureVector f = context(gen);
    FeatureVector it = item(gen);
    f.insert(f.end(), it.begin(), it.end());
    stream.push_back({std::move(f), static_cast<float>(gen() % 2), 1.0f});
  }
  const Clock::time_point start = Clock::now();
  for (const Example& e : stream) m.Train(e);
  const double train = Seconds(start);
  std::shared_ptr<const Snapshot> s = m.Publish(1, events, nullptr);
  const FeatureVector ctx = context(gen);
  std::vector<FeatureVector> items;
  for (int i = 0; i < 100; ++i) items.push_back(item(gen));
  std::vector<double> scores(items.size());
  const int kCalls = 200;
  const Clock::time_point score_start = Clock::now();
  for (int c = 0; c < kCalls; ++c) s->Score(ctx, items, scores);
  const double score = Seconds(score_start) / kCalls;
  PublishCost cost;
  for (uint32_t i = 0; i < config.dnn.batch_size; ++i) m.Train(stream[i]);  // one batch
  const Clock::time_point publish_start = Clock::now();
  m.Publish(2, events, &cost);
  const double publish = Seconds(publish_start);
  std::printf("%-10s %8.0f events/s train   %7.0f us per Score of 100 candidates   "
              "%lu parameters   publish after a batch %.2f ms (%lu chunks)\n",
              name, events / train, score * 1e6,
              static_cast<unsigned long>(m.parameter_count()), publish * 1e3,
              static_cast<unsigned long>(cost.chunks_copied));
}

}  // namespace

int main(int argc, char** argv) {
  const int events = argc > 1 ? std::atoi(argv[1]) : 51200;
  ModelConfig brief = DefaultModelConfig(ModelKind::kDnn);
  brief.hash_bits = 4;
  brief.dnn.dense_fields = {{"x", 128}};
  brief.dnn.other_slot = false;
  Run("brief", brief, events, [](std::mt19937_64&) { return FeatureVector(); },
      [](std::mt19937_64& g) { return Vector("x", g); });
  ModelConfig wide = DefaultModelConfig(ModelKind::kDnn);
  for (int f = 0; f < 40; ++f) wide.dnn.fields.push_back("f" + std::to_string(f));
  Run("40 fields", wide, events, [](std::mt19937_64& g) { return Fields(0, 20, g); },
      [](std::mt19937_64& g) {
        FeatureVector f = Fields(20, 20, g);
        f.push_back(Cat("item_id", std::to_string(g() % 10000)));
        return f;
      });
  return 0;
}
