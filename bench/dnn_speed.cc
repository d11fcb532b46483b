// dnn_speed: training and scoring speed of the DNN model kind (model/dnn_model.h), in
// process, one thread:
//   - the brief's model (examples/models/dnn_brief.textproto): one 128-dim vector field
//     -> 256 -> 128 -> 1, batches of 256;
//   - a 40-field model: 40 categorical fields (20 context, 20 item) embedded in 8 floats
//     each plus the other slot (item_id), 2^20 rows, default layers.
// Prints events/s of Train (scoring each event, then the batch updates; with kOrdered
// the events of a batch are scored together at its end, as the server does), the progressive
// logloss (each event's TrainResult.prediction, made before its batch trains), the
// latency of one Score call of a context with 100 candidates, and the cost of one
// Publish after one batch, and a hash of the trained state (bit-identical training gives
// the same).
//
// The brief's stream is a fixed synthetic problem with a learnable signal: x ~ N(0, I)
// in 128 dims, label ~ Bernoulli(sigmoid(t(x))) for a fixed teacher
//   t(x) = 2 tanh(a.x) + (b.x)(c.x) - 0.5,   a, b, c unit vectors,
// all from std::mt19937_64 seeded 1 (printed: the click rate and the teacher's own
// logloss, the best any model can reach).
// --dump FILE writes that stream for bench/dnn_speed_torch.py (the PyTorch reference
// on the same events): per event float32 label then 128 float32 x, little-endian.
// The 40-field model's labels are random (speed only).
// --kernels ordered|eigen: the training arithmetic (DnnConfig::kernels; default ordered,
// what a new data dir trains with; eigen is earlier builds' and old data dirs').
//   build/bin/dnn_speed [events] [--only brief|fields] [--dump FILE]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "model/dnn_model.h"
#include "model/hash.h"
#include "model/loss.h"

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

constexpr uint32_t kDim = 128;

FeatureVector Fields(int first, int n, std::mt19937_64& gen) {
  FeatureVector out;
  for (int f = first; f < first + n; ++f) {
    out.push_back(Cat("f" + std::to_string(f), std::to_string(gen() % 1000)));
  }
  return out;
}

// BriefStream: the brief's learnable stream (see the top of the file); `raw` gets label
// then x per event.
std::vector<Example> BriefStream(int events, std::vector<float>& raw) {
  double teacher_loss = 0, clicks = 0;
  std::mt19937_64 gen(1);
  std::normal_distribution<double> normal;
  std::vector<double> teacher[3];
  for (auto& t : teacher) {
    double n2 = 0;
    for (uint32_t i = 0; i < kDim; ++i) {
      t.push_back(normal(gen));
      n2 += t.back() * t.back();
    }
    for (double& v : t) v /= std::sqrt(n2);
  }
  const uint64_t name = HashName("x");
  std::uniform_real_distribution<double> unit;
  std::vector<Example> stream;
  raw.clear();
  for (int e = 0; e < events; ++e) {
    FeatureVector f;
    double dot[3] = {0, 0, 0};
    float x[kDim];
    for (uint32_t i = 0; i < kDim; ++i) {
      x[i] = static_cast<float>(normal(gen));
      for (int t = 0; t < 3; ++t) dot[t] += teacher[t][i] * x[i];
      f.push_back({HashVectorDim(name, i), x[i], FieldId(name)});
    }
    const double logit = 2 * std::tanh(dot[0]) + dot[1] * dot[2] - 0.5;
    const float label = unit(gen) < Sigmoid(logit) ? 1.0f : 0.0f;
    teacher_loss += LogLoss(Sigmoid(logit), label);
    clicks += label;
    raw.push_back(label);
    raw.insert(raw.end(), x, x + kDim);
    stream.push_back({std::move(f), label, 1.0f});
  }
  std::printf("brief stream: %d events, click rate %.4f, teacher (Bayes) logloss %.4f\n", events,
              clicks / events, teacher_loss / events);
  return stream;
}

std::vector<Example> FieldsStream(int events) {
  std::mt19937_64 gen(1);
  std::vector<Example> stream;
  for (int i = 0; i < events; ++i) {
    FeatureVector f = Fields(0, 20, gen);
    FeatureVector it = Fields(20, 20, gen);
    it.push_back(Cat("item_id", std::to_string(gen() % 10000)));
    f.insert(f.end(), it.begin(), it.end());
    stream.push_back({std::move(f), static_cast<float>(gen() % 2), 1.0f});
  }
  return stream;
}

// Run trains `stream` once (timed), then scores 100 of `candidates` for `context` and
// publishes after one more batch.
void Run(const char* name, const ModelConfig& config, const std::vector<Example>& stream,
         const FeatureVector& context, const std::vector<FeatureVector>& items) {
  DnnModel m(config);
  const int events = static_cast<int>(stream.size());
  // As the server trains (Model::DeferPredictions): each batch's events scored together
  // at its end (kOrdered), when the stream is whole batches.
  const bool defer = events % config.dnn.batch_size == 0 && m.DeferPredictions(true);
  double loss = 0;
  const Clock::time_point start = Clock::now();
  if (defer) {
    size_t next = 0;  // the first event whose prediction is not yet counted
    for (const Example& e : stream) {
      m.Train(e);
      for (double p : m.BatchPredictions()) loss += LogLoss(p, stream[next++].label);
    }
  } else {
    for (const Example& e : stream) loss += LogLoss(m.Train(e).prediction, e.label);
  }
  const double train = Seconds(start);
  m.DeferPredictions(false);
  // FNV-1a over every state table's floats: equal across builds iff training is bit for
  // bit the same.
  uint64_t state = 0xcbf29ce484222325ull;
  for (const StateTable& t : m.StateTables()) {
    for (float v : t.table->values()) {
      uint32_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      state = (state ^ bits) * 0x100000001b3ull;
    }
  }
  std::shared_ptr<const Snapshot> s = m.Publish(1, events, nullptr);
  std::vector<double> scores(items.size());
  const int kCalls = 200;
  const Clock::time_point score_start = Clock::now();
  for (int c = 0; c < kCalls; ++c) s->Score(context, items, scores);
  const double score = Seconds(score_start) / kCalls;
  PublishCost cost;
  for (uint32_t i = 0; i < config.dnn.batch_size; ++i) m.Train(stream[i]);  // one batch
  const Clock::time_point publish_start = Clock::now();
  m.Publish(2, events, &cost);
  const double publish = Seconds(publish_start);
  std::printf("%-10s %8.0f events/s train   progressive logloss %.4f   %7.0f us per Score "
              "of 100 candidates   %lu parameters   publish after a batch %.2f ms (%lu chunks)   "
              "state %016llx\n",
              name, events / train, loss / events, score * 1e6,
              static_cast<unsigned long>(m.parameter_count()), publish * 1e3,
              static_cast<unsigned long>(cost.chunks_copied), static_cast<unsigned long long>(state));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int events = 51200;
  std::string only, dump;
  DnnKernels kernels = DnnKernels::kOrdered;  // new data dirs' default
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else if (std::strcmp(argv[i], "--kernels") == 0 && i + 1 < argc &&
               (std::strcmp(argv[i + 1], "eigen") == 0 ||
                std::strcmp(argv[i + 1], "ordered") == 0)) {
      kernels = std::strcmp(argv[++i], "eigen") == 0 ? DnnKernels::kEigen : DnnKernels::kOrdered;
    } else if (std::strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
      dump = argv[++i];
    } else if (argv[i][0] != '-' && std::atoi(argv[i]) > 0) {
      events = std::atoi(argv[i]);
    } else {
      std::fprintf(stderr, "usage: dnn_speed [events] [--only brief|fields] [--kernels "
                           "ordered|eigen] [--dump FILE]\n");
      return 2;
    }
  }
  if (only.empty() || only == "brief") {
    ModelConfig brief = DefaultModelConfig(ModelKind::kDnn);
    brief.dnn.kernels = kernels;
    brief.hash_bits = 4;
    brief.dnn.dense_fields = {{"x", kDim}};
    brief.dnn.other_slot = false;
    std::vector<float> raw;
    const std::vector<Example> stream = BriefStream(events, raw);
    if (!dump.empty()) {
      FILE* f = std::fopen(dump.c_str(), "wb");
      if (f == nullptr || std::fwrite(raw.data(), sizeof(float), raw.size(), f) != raw.size() ||
          std::fclose(f) != 0) {
        std::fprintf(stderr, "dnn_speed: cannot write %s\n", dump.c_str());
        return 1;
      }
    }
    std::vector<FeatureVector> items;
    for (int i = 0; i < 100; ++i) items.push_back(stream[i].features);
    Run("brief", brief, stream, FeatureVector(), items);
  }
  if (only.empty() || only == "fields") {
    ModelConfig wide = DefaultModelConfig(ModelKind::kDnn);
    wide.dnn.kernels = kernels;
    for (int f = 0; f < 40; ++f) wide.dnn.fields.push_back("f" + std::to_string(f));
    const std::vector<Example> stream = FieldsStream(events);
    std::mt19937_64 gen(2);
    const FeatureVector context = Fields(0, 20, gen);
    std::vector<FeatureVector> items;
    for (int i = 0; i < 100; ++i) {
      FeatureVector f = Fields(20, 20, gen);
      f.push_back(Cat("item_id", std::to_string(gen() % 10000)));
      items.push_back(std::move(f));
    }
    Run("40 fields", wide, stream, context, items);
  }
  return 0;
}
