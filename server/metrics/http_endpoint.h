// MetricsEndpoint: the server's Prometheus endpoint. It owns the per-RPC series and the
// gRPC interceptor that fills them (server/metrics/grpc_interceptor.h), and an HTTP
// server (Debian's cpp-httplib) answering GET /metrics with the page of
// server/metrics/scrape.h; every other path is 404. The HTTP server runs on threads of
// its own (an acceptor and kHttpWorkers workers), reads the core only through Gather's
// thread-safe accessors, and never holds a core lock while it formats or writes, so a
// slow or stuck scraper cannot delay Predict, Observe or the updater. One request per
// connection (no keep-alive); a connection that sends nothing for kIdleTimeoutSeconds
// (before its request, or between two reads of it) is closed, and a write may wait 5 s:
// idle connections (16 of them: a scrape answered within about 2 s) cannot starve the
// scrapes for long, and a stop never waits on one. The page is gzipped when the
// request's Accept-Encoding accepts gzip with q > 0 (AcceptsGzip), else sent as is.
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
#include <string_view>
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

inline constexpr int kHttpWorkers = 8;
inline constexpr int kIdleTimeoutSeconds = 1;

// AcceptsGzip: whether an Accept-Encoding value (RFC 9110: codings with optional
// q-values, "*" for any other) accepts gzip: "gzip", "x-gzip;q=0.5", "*" yes;
// "gzip;q=0", "identity", "br", "" no.
bool AcceptsGzip(const std::string& accept_encoding);

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
