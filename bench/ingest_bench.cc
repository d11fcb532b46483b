// ingest_bench: unary Observe throughput of a running server on realistic click-log
// events (the criteo layout of client/criteo_generator.h: 13 numeric, 26 categorical
// Zipf-distributed fields and an item; --features 5..40). The requests are built and
// serialized once before the clock starts and sent as raw bytes by `--concurrency`
// threads, each on its own channel (its own connection), so the client spends its CPU on
// gRPC alone. Prints events/s acknowledged, and applied (the server's events_applied
// counter, read from GetStats once the last acknowledgement is in, until it catches up).
//   build/bin/ingest_bench --server 127.0.0.1:PORT [--events 2000000] [--batch 256]
//                          [--concurrency 8] [--features 40] [--seed 1]
// The server's flags (durability, model) are its own: start it as you want it measured.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "client/criteo_events.h"
#include "client/criteo_generator.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "streamrec/v1/admin.grpc.pb.h"
#include "streamrec/v1/streamrec.pb.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "Server address.");
ABSL_FLAG(int64_t, events, 2000000, "Events to send.");
ABSL_FLAG(int, batch, 256, "Events per Observe request.");
ABSL_FLAG(int, concurrency, 8, "Calls in flight (one thread and one connection each).");
ABSL_FLAG(int, features, 40, "Features per event (5..40, the criteo layout).");
ABSL_FLAG(int, distinct_requests, 64, "Distinct requests built (sent round robin).");
ABSL_FLAG(uint64_t, seed, 1, "Generator seed.");

using namespace streamrec;
using Clock = std::chrono::steady_clock;

namespace {

uint64_t EventsApplied(v1::Admin::Stub& admin) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::Stats stats;
  grpc::Status s = admin.GetStats(&ctx, v1::GetStatsRequest(), &stats);
  if (!s.ok()) {
    std::fprintf(stderr, "GetStats: %s\n", s.error_message().c_str());
    std::exit(1);
  }
  return stats.events_applied();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string server = absl::GetFlag(FLAGS_server);
  const int batch = absl::GetFlag(FLAGS_batch), threads = absl::GetFlag(FLAGS_concurrency);
  const int64_t calls_total = absl::GetFlag(FLAGS_events) / batch;

  client::CriteoStream stream(absl::GetFlag(FLAGS_features), 100000, absl::GetFlag(FLAGS_seed));
  std::vector<std::string> requests;
  size_t bytes = 0;
  for (int r = 0; r < absl::GetFlag(FLAGS_distinct_requests); ++r) {
    v1::ObserveRequest req;
    for (int i = 0; i < batch; ++i) {
      client::ToApiEvent(stream.Next(), /*unscaled=*/false, /*criteo_layout=*/false,
                         *req.add_events());
    }
    requests.push_back(req.SerializeAsString());
    bytes += requests.back().size();
  }
  std::printf("server %s: %lld calls of %d events (%d features, %.0f bytes/event), %d in flight\n",
              server.c_str(), static_cast<long long>(calls_total), batch,
              absl::GetFlag(FLAGS_features), double(bytes) / requests.size() / batch, threads);

  auto admin = v1::Admin::NewStub(grpc::CreateChannel(server, grpc::InsecureChannelCredentials()));
  const uint64_t applied_before = EventsApplied(*admin);
  const grpc::internal::RpcMethod method("/streamrec.v1.Recommender/Observe",
                                         grpc::internal::RpcMethod::NORMAL_RPC);
  std::atomic<int64_t> next{0}, acked{0}, failed{0}, retries{0};
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      grpc::ChannelArguments args;
      args.SetInt("streamrec.bench_channel", t);  // a connection of its own
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      auto channel = grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args);
      for (int64_t c; (c = next.fetch_add(1)) < calls_total;) {
        const std::string& bytes_c = requests[c % requests.size()];
        grpc::Slice slice(bytes_c);
        grpc::ByteBuffer req(&slice, 1), resp;
        grpc::Status s;
        for (;;) {  // a full queue: back off and send the request again, as clients should
          grpc::ClientContext ctx;
          s = grpc::internal::BlockingUnaryCall(channel.get(), method, &ctx, req, &resp);
          if (s.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) break;
          retries.fetch_add(1);
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (s.ok()) {
          acked.fetch_add(batch);
        } else if (failed.fetch_add(1) < 5) {
          std::fprintf(stderr, "Observe: %d %s\n", s.error_code(), s.error_message().c_str());
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  const double ack_s = std::chrono::duration<double>(Clock::now() - start).count();
  const uint64_t target = applied_before + acked.load();
  uint64_t applied = 0;
  while ((applied = EventsApplied(*admin)) < target &&
         std::chrono::duration<double>(Clock::now() - start).count() < ack_s * 10 + 30) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double applied_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("acknowledged %lld events in %.2f s: %.0f events/s\n",
              static_cast<long long>(acked.load()), ack_s, acked.load() / ack_s);
  std::printf("applied      %llu events in %.2f s: %.0f events/s\n",
              static_cast<unsigned long long>(applied - applied_before), applied_s,
              (applied - applied_before) / applied_s);
  if (retries.load()) {
    std::printf("calls refused with RESOURCE_EXHAUSTED (queue full) and sent again: %lld\n",
                static_cast<long long>(retries.load()));
  }
  if (failed.load()) std::printf("failed calls: %lld\n", static_cast<long long>(failed.load()));
  return failed.load() ? 1 : 0;
}
