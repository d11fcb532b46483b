// The load generator of `streamrec bench`: pre-serialized requests (grpc::ByteBuffer,
// built once and reused) sent through generic stubs on several channels, each its own
// connection (Connection::NewChannel), with gRPC's callback API: no thread per call, no
// serialization per call, so the generator costs little of the cores it shares with the
// server. Three shapes of load:
//   RunClosedLoop  `concurrency` unary calls always in flight (each slot issues its next
//                  call from the completion of the last), for a duration or a count;
//   RunStreams     `streams` bidi streams, each with up to `window` requests unacknowledged;
//   PacedLoad      an open loop in the background: a fixed rate of unary calls.
// Every context comes from Connection::Context, so the bearer token goes along (and each
// unary call has the CLI's --timeout).
// RunClosedLoop and RunStreams block until their load is done; PacedLoad is driven by
// its own thread. Each is used from one thread.
#ifndef STREAMREC_CLIENT_BENCH_LOAD_H_
#define STREAMREC_CLIENT_BENCH_LOAD_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/connection.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace streamrec::client {

inline constexpr char kPredictMethod[] = "/streamrec.v1.Recommender/Predict";
inline constexpr char kObserveMethod[] = "/streamrec.v1.Recommender/Observe";
inline constexpr char kObserveStreamMethod[] = "/streamrec.v1.Recommender/ObserveStream";
inline constexpr char kEchoMethod[] = "/streamrec.v1.Bench/Echo";

// ToByteBuffer: a message's wire bytes, serialized once.
grpc::ByteBuffer ToByteBuffer(const google::protobuf::Message& message);

// ChannelSet: `n` channels to the connection's target, one connection each, and a
// generic stub on each. Load slot i uses stub(i % n). Thread-safe.
class ChannelSet {
 public:
  ChannelSet(const Connection& conn, int n);
  grpc::GenericStub& stub(size_t i) { return *stubs_[i % stubs_.size()]; }
  size_t size() const { return stubs_.size(); }

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
};

// LoadResult: what a load did. Latencies are of the successful calls (or stream
// requests, write to acknowledgement) that started after the warm-up.
struct LoadResult {
  std::vector<int64_t> latencies_ns;
  uint64_t ok = 0;      // successful calls (stream requests acknowledged), warm-up included
  uint64_t failed = 0;  // failed calls (or streams)
  uint64_t pushed_back = 0;  // RESOURCE_EXHAUSTED answers sent again (retry_pushback)
  grpc::Status first_error;  // of the first failure (OK when none)
  double seconds = 0;        // from the end of the warm-up to the last completion
};

struct ClosedLoopOptions {
  std::string method;
  const std::vector<grpc::ByteBuffer>* requests = nullptr;  // sent in turn
  int concurrency = 8;
  double warmup_s = 0;    // calls in the warm-up are not measured
  double duration_s = 0;  // measured time after the warm-up; 0: until max_calls
  uint64_t max_calls = 0;  // calls in all, warm-up included; 0: until duration_s
  // retry_pushback: a call answered RESOURCE_EXHAUSTED (a full queue) is sent again
  // after 1 ms, as a client under flow control would, and counted in pushed_back, not
  // failed (after 10,000 tries it fails).
  bool retry_pushback = false;
};

// RunClosedLoop runs the load and returns once every call has completed. A failure
// other than RESOURCE_EXHAUSTED (the server pushing back) stops the load.
LoadResult RunClosedLoop(const Connection& conn, ChannelSet& channels,
                         const ClosedLoopOptions& options);

struct StreamOptions {
  std::string method = kObserveStreamMethod;
  const std::vector<grpc::ByteBuffer>* requests = nullptr;
  int streams = 8;
  int window = 2;          // requests written and not yet acknowledged, per stream
  double duration_s = 0;   // 0: until max_requests
  uint64_t max_requests = 0;  // in all; 0: until duration_s
};

// RunStreams runs the streams and returns once every one has ended (each after its
// last acknowledgement). A stream that fails ends; the others go on.
LoadResult RunStreams(const Connection& conn, ChannelSet& channels, const StreamOptions& options);

// PacedLoad: `calls_per_second` unary calls of `method`, requests in turn, from the
// constructor until Stop(); a call falling due while `max_in_flight` are in flight is
// skipped and counted. Calls that fail are counted, the load goes on.
class PacedLoad {
 public:
  PacedLoad(const Connection& conn, ChannelSet& channels, std::string method,
            const std::vector<grpc::ByteBuffer>* requests, double calls_per_second,
            int max_in_flight = 64);
  ~PacedLoad() { Stop(); }
  PacedLoad(const PacedLoad&) = delete;
  PacedLoad& operator=(const PacedLoad&) = delete;

  // Stop ends the pacing and waits for the calls in flight. Idempotent.
  void Stop();
  uint64_t ok() const { return ok_.load(); }
  uint64_t failed() const { return failed_.load(); }
  uint64_t skipped() const { return skipped_.load(); }
  double seconds() const;  // since the start, or from start to Stop()
  grpc::Status first_error() const;

 private:
  struct Slot {
    std::unique_ptr<grpc::ClientContext> context;
    grpc::ByteBuffer response;
  };
  void Loop();

  const Connection& conn_;
  ChannelSet& channels_;
  const std::string method_;
  const std::vector<grpc::ByteBuffer>* const requests_;
  const double calls_per_second_;
  std::vector<Slot> slots_;  // constant size after construction
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> ok_{0}, failed_{0}, skipped_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<size_t> free_;  // guarded by mu_
  grpc::Status first_error_;  // guarded by mu_
  std::chrono::steady_clock::time_point end_;  // guarded by mu_; set by Stop
  std::thread thread_;
};

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_BENCH_LOAD_H_
