// The server's request parsing, no gRPC: protobuf's parser of the wire-compatible views
// (what the handlers used before) against the zero-copy parser (server/parsed_request.h),
// alone and with the conversion to model input, on `streamrec bench`'s request shapes:
// Predict with 100 candidates x 5 features + 5 context features, Observe with 256
// click-log events of 40 features.
//   build/bin/request_parse_bench --benchmark_min_time=0.5
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "client/bench_requests.h"
#include "google/protobuf/arena.h"
#include "server/parsed_request.h"
#include "server/request_converter.h"
#include "streamrec/internal/request_views.pb.h"

namespace streamrec {
namespace {

const std::string& PredictBytes() {
  static const std::string bytes =
      client::PredictRequests(client::PredictShape{}, 1, 7)[0].SerializeAsString();
  return bytes;
}
const std::string& ObserveBytes() {
  static const std::string bytes =
      client::ObserveRequests(256, 40, 1, 7)[0].SerializeAsString();
  return bytes;
}

void BM_PredictProtobufView(benchmark::State& state) {
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* view = google::protobuf::Arena::CreateMessage<internal::PredictRequestView>(&arena);
    benchmark::DoNotOptimize(view->ParseFromString(PredictBytes()));
  }
  state.SetBytesProcessed(state.iterations() * PredictBytes().size());
}
BENCHMARK(BM_PredictProtobufView);

void BM_PredictParsed(benchmark::State& state) {
  server::ParsedPredict parsed;
  for (auto _ : state) benchmark::DoNotOptimize(parsed.Parse(PredictBytes()));
  state.SetBytesProcessed(state.iterations() * PredictBytes().size());
}
BENCHMARK(BM_PredictParsed);

void BM_PredictParsedAndConverted(benchmark::State& state) {
  server::ParsedPredict parsed;
  server::VectorDims dims;
  server::RequestConverter converter(server::Limits{}, &dims);
  server::PredictInput input;
  for (auto _ : state) {
    if (!parsed.Parse(PredictBytes()) || !converter.ConvertPredict(parsed, input).ok()) {
      state.SkipWithError("conversion failed");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * PredictBytes().size());
}
BENCHMARK(BM_PredictParsedAndConverted);

void BM_ObserveProtobufView(benchmark::State& state) {
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* view = google::protobuf::Arena::CreateMessage<internal::ObserveRequestView>(&arena);
    benchmark::DoNotOptimize(view->ParseFromString(ObserveBytes()));
  }
  state.SetItemsProcessed(state.iterations() * 256);
}
BENCHMARK(BM_ObserveProtobufView);

void BM_ObserveParsed(benchmark::State& state) {
  server::ParsedObserve parsed;
  for (auto _ : state) benchmark::DoNotOptimize(parsed.Parse(ObserveBytes()));
  state.SetItemsProcessed(state.iterations() * 256);
}
BENCHMARK(BM_ObserveParsed);

void BM_ObserveParsedAndConverted(benchmark::State& state) {
  server::ParsedObserve parsed;
  server::VectorDims dims;
  server::RequestConverter converter(server::Limits{}, &dims);
  for (auto _ : state) {
    if (!parsed.Parse(ObserveBytes()) || !converter.ConvertObserve(parsed).ok()) {
      state.SkipWithError("conversion failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * 256);
}
BENCHMARK(BM_ObserveParsedAndConverted);

}  // namespace
}  // namespace streamrec

BENCHMARK_MAIN();
