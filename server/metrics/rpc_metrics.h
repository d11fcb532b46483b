// RpcMetrics: per-RPC request counts by status code and latency histograms, for the
// gRPC server interceptor (server/metrics/grpc_interceptor.h) to record into and
// /metrics to read. The methods are fixed at construction (streamrec's Recommender and
// Admin services, gRPC health, server reflection), so the map from a method's name to
// its series never changes and recording takes no lock: a lookup in a constant hash map,
// then relaxed atomic adds. A method outside the set is counted under service and method
// "unknown" (bounded label values whatever clients call).
//
// Thread-safe: Find and Record from any gRPC thread, Read from the scraping thread.
#ifndef STREAMREC_SERVER_METRICS_RPC_METRICS_H_
#define STREAMREC_SERVER_METRICS_RPC_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/core/histogram.h"

namespace streamrec::server::metrics {

// kStatusCodes: gRPC's status codes, 0 (OK) to 16 (UNAUTHENTICATED).
inline constexpr int kStatusCodes = 17;
// StatusCodeName: "OK", "INVALID_ARGUMENT", ... (gRPC's canonical names).
const char* StatusCodeName(int code);

class RpcMetrics {
 public:
  // The default set: every method of streamrec.v1.Recommender and streamrec.v1.Admin
  // (read from their descriptors), grpc.health.v1.Health's and reflection's.
  RpcMetrics();
  // With an explicit set of "/package.Service/Method" paths (tests).
  explicit RpcMetrics(const std::vector<std::string>& methods);
  RpcMetrics(const RpcMetrics&) = delete;
  RpcMetrics& operator=(const RpcMetrics&) = delete;

  // Method: one method's series.
  struct Method {
    explicit Method(std::string service, std::string name)
        : service(std::move(service)), name(std::move(name)) {}
    const std::string service, name;
    std::array<std::atomic<uint64_t>, kStatusCodes> calls{};
    core::Histogram seconds{core::LatencyBuckets()};
  };
  // Find: the series of `path` ("/streamrec.v1.Recommender/Predict"); never null (the
  // "unknown" series for a path outside the set).
  Method* Find(std::string_view path);
  // Record: one finished call of `method` with status `code` after `seconds`.
  static void Record(Method* method, int code, double seconds);

  // Read: every method's figures (zeros included), in a fixed order.
  struct MethodFigures {
    std::string service, name;
    std::array<uint64_t, kStatusCodes> calls{};
    core::Histogram::Snapshot seconds;
  };
  std::vector<MethodFigures> Read() const;

 private:
  // Constant after construction.
  std::vector<std::unique_ptr<Method>> methods_;  // the unknown one last
  absl::flat_hash_map<std::string, Method*> by_path_;
};

}  // namespace streamrec::server::metrics

#endif  // STREAMREC_SERVER_METRICS_RPC_METRICS_H_
