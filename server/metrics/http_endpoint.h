// MetricsEndpoint: the server's Prometheus endpoint. It owns the per-RPC series and the
// gRPC interceptor that fills them (server/metrics/grpc_interceptor.h), and an HTTP
// server (Debian's cpp-httplib) answering GET /metrics with the page of
// server/metrics/scrape.h; every other path is 404. The HTTP server runs on threads of
// its own (an acceptor and two workers), reads the core only through Gather's
// thread-safe accessors, and never holds a core lock while it formats or writes, so a
// slow or stuck scraper cannot delay Predict, Observe or the updater. One request per
// connection (no keep-alive), 5-second read and write timeouts: a stop never waits on an
// idle connection.
//
//   MetricsEndpoint metrics(core);
//   metrics.InstallInterceptor(builder);            // before BuildAndStart
//   absl::StatusOr<int> port = metrics.Listen("0.0.0.0:9464");
//
// Threads: the constructor, InstallInterceptor, Listen, Stop and the destructor from the
// owner thread; `core` must outlive the endpoint (or its Stop).
#ifndef STREAMREC_SERVER_METRICS_HTTP_ENDPOINT_H_
#define STREAMREC_SERVER_METRICS_HTTP_ENDPOINT_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "grpcpp/server_builder.h"
#include "server/metrics/rpc_metrics.h"

namespace httplib {
class Server;
}

namespace streamrec::server {
class ServerCore;
}

namespace streamrec::server::metrics {

class MetricsEndpoint {
 public:
  explicit MetricsEndpoint(const ServerCore* core);
  ~MetricsEndpoint();  // Stop()
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // InstallInterceptor: the per-RPC counting interceptor, into `builder`. Call once,
  // before builder.BuildAndStart (it sets the builder's interceptor creators).
  void InstallInterceptor(grpc::ServerBuilder& builder);

  // Listen binds `address` ("host:port", "[v6 host]:port"; port 0 lets the OS choose)
  // and starts serving; returns the bound port. InvalidArgument for an address that does
  // not parse, Unavailable when it cannot be bound (in use, not this host's). Once.
  absl::StatusOr<int> Listen(const std::string& address);

  // Stop closes the listener and joins the HTTP threads (a scrape in progress finishes
  // first). Idempotent.
  void Stop();

  const RpcMetrics& rpcs() const { return *rpcs_; }

 private:
  const ServerCore* const core_;
  const std::shared_ptr<RpcMetrics> rpcs_;
  bool intercepting_ = false;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
};

// SplitHostPort: "host:port" or "[v6]:port" into the host (without brackets) and the
// port (0 to 65535); false for anything else.
bool SplitHostPort(const std::string& address, std::string* host, int* port);

}  // namespace streamrec::server::metrics

#endif  // STREAMREC_SERVER_METRICS_HTTP_ENDPOINT_H_
