// train_bench: the updater's ceiling without gRPC or storage: Model::Train over
// click-log events (client/criteo_generator.h, 40 features: 13 numeric, 26 categorical,
// the item), converted by the server's RequestConverter once before the clock starts.
// Prints events/s for the default model (logistic regression, FTRL, 2^20 rows) and FM,
// and a hash of the trained predictions (equal across builds that train alike).
//   build/bin/train_bench [events=1000000] [hash_bits=20]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "client/criteo_events.h"
#include "client/criteo_generator.h"
#include "model/model.h"
#include "server/request_converter.h"

using namespace streamrec;

int main(int argc, char** argv) {
  const int events = argc > 1 ? std::atoi(argv[1]) : 1000000;
  const int hash_bits = argc > 2 ? std::atoi(argv[2]) : 20;
  client::CriteoStream stream(40, 100000, 1);
  server::VectorDims dims;
  server::RequestConverter converter(server::Limits{}, &dims);
  std::vector<model::Example> examples;
  examples.reserve(events);
  v1::ObserveRequest request;
  while (static_cast<int>(examples.size()) < events) {
    request.Clear();
    for (int i = 0; i < 256; ++i) {
      client::ToApiEvent(stream.Next(), false, false, *request.add_events());
    }
    auto batch = converter.ConvertObserve(request);
    if (!batch.ok()) {
      std::fprintf(stderr, "%s\n", std::string(batch.status().message()).c_str());
      return 1;
    }
    for (model::Example& e : (*batch)->examples) examples.push_back(std::move(e));
  }
  examples.resize(events);
  std::printf("%d events of 40 features, hash_bits %d\n", events, hash_bits);
  std::printf("%-22s %14s %18s\n", "model", "events/s", "prediction hash");
  for (model::ModelKind kind : {model::ModelKind::kLogisticRegression, model::ModelKind::kFm}) {
    model::ModelConfig config = model::DefaultModelConfig(kind);
    config.hash_bits = hash_bits;
    auto m = model::CreateModel(config);
    if (!m.ok()) {
      std::fprintf(stderr, "%s\n", std::string(m.status().message()).c_str());
      return 1;
    }
    uint64_t hash = 1469598103934665603ull;
    const auto start = std::chrono::steady_clock::now();
    for (const model::Example& e : examples) {
      const double p = (*m)->Train(e).prediction;
      uint64_t bits;
      std::memcpy(&bits, &p, 8);
      hash = (hash ^ bits) * 1099511628211ull;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-22s %14.0f %18llx\n",
                kind == model::ModelKind::kFm ? "factorization machine" : "logistic regression",
                events / s, static_cast<unsigned long long>(hash));
  }
  return 0;
}
