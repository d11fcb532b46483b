// predict_rpc_bench: the cost of the per-RPC metrics interceptor (server/metrics/) in
// Predict latency through gRPC on loopback. Two in-process servers, one without and one
// with --metrics_listen (the interceptor counts every call), each scoring 100 candidates;
// one client thread alternates between them in rounds so both see the same machine
// load, then prints p50/p99/mean per server and the differences.
//   build/bin/predict_rpc_bench [seconds_per_round] [rounds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/grpc_server.h"
#include "streamrec/v1/streamrec.grpc.pb.h"

using namespace streamrec;
using Clock = std::chrono::steady_clock;

namespace {

v1::PredictRequest MakeRequest() {
  v1::PredictRequest r;
  (*r.mutable_context()->mutable_values())["user"].set_category("u1");
  for (int i = 0; i < 100; ++i) {
    auto* c = r.add_candidates();
    c->set_id("item" + std::to_string(i));
    (*c->mutable_features()->mutable_values())["genre"].set_category(std::to_string(i % 7));
  }
  return r;
}

void Round(v1::Recommender::Stub& stub, const v1::PredictRequest& request, double seconds,
           std::vector<double>& micros) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  v1::PredictResponse response;
  while (Clock::now() < end) {
    grpc::ClientContext ctx;
    const auto t0 = Clock::now();
    if (!stub.Predict(&ctx, request, &response).ok()) std::abort();
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
}

struct Summary {
  double p50, p99, mean;
  size_t n;
};

Summary Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[static_cast<size_t>(q * (v.size() - 1))]; };
  return {at(0.5), at(0.99), std::accumulate(v.begin(), v.end(), 0.0) / v.size(), v.size()};
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 6;
  server::ServerOptions plain;
  plain.listen = "127.0.0.1:0";
  plain.core.model.hash_bits = 18;
  server::ServerOptions metered = plain;
  metered.metrics_listen = "127.0.0.1:0";
  auto a = server::GrpcServer::Start(plain);
  auto b = server::GrpcServer::Start(metered);
  if (!a.ok() || !b.ok()) {
    std::fprintf(stderr, "start failed\n");
    return 1;
  }
  auto stub = [](const server::GrpcServer& s) {
    return v1::Recommender::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(s.port()), grpc::InsecureChannelCredentials()));
  };
  auto stub_a = stub(**a), stub_b = stub(**b);
  const v1::PredictRequest request = MakeRequest();
  std::vector<double> warm;
  Round(*stub_a, request, 0.5, warm);
  Round(*stub_b, request, 0.5, warm);
  std::vector<double> off, on;
  for (int r = 0; r < rounds; ++r) {
    // Alternate which goes first, so drifts in machine load cancel out.
    if (r % 2 == 0) {
      Round(*stub_a, request, seconds, off);
      Round(*stub_b, request, seconds, on);
    } else {
      Round(*stub_b, request, seconds, on);
      Round(*stub_a, request, seconds, off);
    }
  }
  const Summary s_off = Summarize(off), s_on = Summarize(on);
  std::printf("Predict through gRPC, 100 candidates, %d rounds x %.1f s each\n", rounds, seconds);
  std::printf("  metrics off: p50 %.1f us  p99 %.1f us  mean %.1f us  (%zu calls)\n", s_off.p50,
              s_off.p99, s_off.mean, s_off.n);
  std::printf("  metrics on:  p50 %.1f us  p99 %.1f us  mean %.1f us  (%zu calls)\n", s_on.p50,
              s_on.p99, s_on.mean, s_on.n);
  std::printf("  difference:  p50 %+.1f us  p99 %+.1f us  mean %+.1f us (%+.1f%%)\n",
              s_on.p50 - s_off.p50, s_on.p99 - s_off.p99, s_on.mean - s_off.mean,
              100 * (s_on.mean - s_off.mean) / s_off.mean);
  return 0;
}
