// observe_bench: end-to-end Observe over gRPC on loopback against an in-process server
// with a fresh data dir, for each durability mode. Measures stream throughput (events/s
// acknowledged, 100 events per request) and unary Observe latency (1 event, p50/p99).
// `none` is the baseline measured in the same run.
//   build/bin/observe_bench [stream_events] [unary_calls]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/grpc_server.h"

using namespace streamrec;
using Clock = std::chrono::steady_clock;

namespace {

v1::Event MakeEvent(int i) {
  v1::Event e;
  (*e.mutable_context()->mutable_values())["user"].set_category("u" + std::to_string(i % 1000));
  (*e.mutable_context()->mutable_values())["hour"].set_number(i % 24);
  e.mutable_item()->set_id("i" + std::to_string(i % 300));
  e.set_label(i % 3 == 0);
  return e;
}

struct Result {
  double events_per_second, p50_us, p99_us;
};

Result Run(storage::Durability durability, const std::string& dir, int stream_events, int calls) {
  server::ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.admin_listen = "127.0.0.1:0";
  o.core.storage.data_dir = dir;
  o.core.storage.durability = durability;
  auto s = server::GrpcServer::Start(o);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
    std::exit(1);
  }
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*s)->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Recommender::NewStub(channel);
  Result r{};
  {
    grpc::ClientContext ctx;
    auto stream = stub->ObserveStream(&ctx);
    const auto start = Clock::now();
    std::thread writer([&] {
      for (int b = 0; b < stream_events / 100; ++b) {
        v1::ObserveRequest req;
        for (int i = 0; i < 100; ++i) *req.add_events() = MakeEvent(b * 100 + i);
        stream->Write(req);
      }
      stream->WritesDone();
    });
    v1::ObserveResponse resp;
    uint64_t acked = 0;
    while (stream->Read(&resp)) acked += resp.accepted();
    writer.join();
    stream->Finish();
    r.events_per_second = acked / std::chrono::duration<double>(Clock::now() - start).count();
  }
  std::vector<double> us;
  for (int c = 0; c < calls; ++c) {
    v1::ObserveRequest req;
    *req.add_events() = MakeEvent(c);
    v1::ObserveResponse resp;
    grpc::ClientContext ctx;
    const auto t0 = Clock::now();
    stub->Observe(&ctx, req, &resp);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  r.p50_us = us[us.size() / 2];
  r.p99_us = us[us.size() * 99 / 100];
  (*s)->Shutdown();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int stream_events = argc > 1 ? std::atoi(argv[1]) : 200000;
  const int calls = argc > 2 ? std::atoi(argv[2]) : 2000;
  const std::string base = std::filesystem::temp_directory_path() / "streamrec-observe-bench";
  struct Mode {
    const char* name;
    storage::Durability d;
  } modes[] = {{"none", storage::Durability::kNone},
               {"async", storage::Durability::kAsync},
               {"sync", storage::Durability::kSync}};
  std::printf("%d streamed events (100 per request), %d unary calls of 1 event\n", stream_events,
              calls);
  std::printf("%-6s %12s %8s %12s %12s\n", "mode", "stream ev/s", "ratio", "unary p50 us",
              "unary p99 us");
  double baseline = 0;
  for (const Mode& m : modes) {
    std::filesystem::remove_all(base);
    const Result r = Run(m.d, base, stream_events, calls);
    if (baseline == 0) baseline = r.events_per_second;
    std::printf("%-6s %12.0f %8.2f %12.0f %12.0f\n", m.name, r.events_per_second,
                r.events_per_second / baseline, r.p50_us, r.p99_us);
  }
  std::filesystem::remove_all(base);
  return 0;
}
