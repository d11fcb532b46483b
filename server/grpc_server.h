// GrpcServer: a running streamrec server: ServerCore plus the Recommender, Admin,
// health and reflection services on the serving port, and the Admin service with the
// methods that change or copy the model on the admin port (--admin_listen; the serving
// port refuses those, see server/admin_service.h). Both listeners use the same TLS
// (server/security/tls_options.h) and tokens (server/security/token_auth.h). Used by
// main.cc and by the integration tests (which listen on 127.0.0.1:0 and read port(),
// admin_port()).
//
// Health: the overall service ("") is SERVING as soon as the port answers (liveness);
// "streamrec.v1.Recommender" is NOT_SERVING until recovery (snapshot restore and log
// replay) is done (readiness: Predict works); "streamrec.v1.Ingest" is SERVING while
// Observe can accept events (ready and the data dir writable; NOT_SERVING on a full
// disk, while Predict stays SERVING). Shutdown sets all to NOT_SERVING first.
// Threads: Start, Shutdown from the owner thread; core() is thread-safe.
#ifndef STREAMREC_SERVER_GRPC_SERVER_H_
#define STREAMREC_SERVER_GRPC_SERVER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "server/admin_service.h"
#include "server/bench_service.h"
#include "server/health_listener.h"
#include "server/metrics/http_endpoint.h"
#include "server/recommender_service.h"
#include "server/security/tls_mirror.h"
#include "server/security/tls_options.h"
#include "server/security/token_auth.h"
#include "server/server_core.h"

namespace streamrec::server {

struct ServerOptions {
  std::string listen = "0.0.0.0:50051";
  // The admin port: Admin's methods, SaveSnapshot, Rollback, ExportSnapshot and
  // ImportSnapshot among them. Empty: none (those methods are then unavailable).
  std::string admin_listen = "127.0.0.1:50052";
  // A plaintext listener with only the health service, mirroring the serving port's
  // statuses (server/health_listener.h), for probes without TLS. Empty: none.
  std::string health_listen;
  security::TlsOptions tls;    // every listener's TLS; none by default
  security::AuthOptions auth;  // bearer tokens; none by default
  // Bound on gRPC's own memory (connections, call state, message buffers): the server's
  // grpc::ResourceQuota, below which gRPC tries to keep its memory. At least
  // limits.max_message_bytes.
  size_t grpc_memory_bytes = size_t{1} << 30;
  // The Prometheus endpoint's address (server/metrics/http_endpoint.h); empty: none, and
  // no per-RPC counting. The binary's default (--metrics_listen) is 0.0.0.0:9464.
  std::string metrics_listen;
  // Serve the benchmark-only streamrec.v1.Bench (server/bench_service.h) on the serving
  // port; off: it is UNIMPLEMENTED.
  bool bench_service = false;
  CoreOptions core;
};

// WithPort: host:port with the port replaced by `port` (a listener's bound port, for an
// address that asked for port 0).
std::string WithPort(const std::string& address, int port);

class GrpcServer {
 public:
  // Start builds the core, listens, recovers, and returns once ready. InvalidArgument
  // for bad options, Unavailable when the address cannot be bound; the recovery's error
  // when it fails.
  // `on_listening(server)` runs once every listener answers, before recovery (the
  // core's model_config() is the one in effect; listeners() has the bound addresses).
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const ServerOptions& options,
      const std::function<void(const GrpcServer&)>& on_listening = nullptr);
  ~GrpcServer();

  int port() const { return port_; }
  int admin_port() const { return admin_port_; }  // 0 without an admin port
  ServerCore& core() { return *core_; }
  const ServerCore& core() const { return *core_; }

  // ReloadSecurity (SIGHUP): re-reads the tokens file and checks the TLS files, logging
  // the outcome of each. A tokens file that no longer parses (or would leave no token in
  // force) leaves the current tokens in force; TLS files that check are served to the
  // handshakes that start within a second, files that do not are never served (the
  // previous ones stay; security::TlsMirror, which also re-checks them every
  // tls.refresh_interval_s). Returns the first error. Any thread.
  absl::Status ReloadSecurity();

  // Listener: one bound address: its name ("grpc", "admin", and the other listeners' names) and
  // host:port with the port the OS chose for port 0.
  struct Listener {
    std::string name, address;
  };
  const std::vector<Listener>& listeners() const { return listeners_; }

  // What a Shutdown did to the ObserveStreams open at its start.
  struct ShutdownReport {
    uint64_t streams_ended = 0;  // ended by the stop, with the counts they acknowledged
    uint64_t requests_acknowledged = 0, events_acknowledged = 0;  // by those streams
    uint64_t streams_cut = 0;  // still open when `grace` ran out: cancelled by gRPC
  };
  // Shutdown: health NOT_SERVING; new Observe calls and streams are refused with
  // UNAVAILABLE (SHUTTING_DOWN); every open stream stops reading and ends once its
  // request in flight is acknowledged (ServerCore::BeginStop); then gRPC stops accepting
  // calls and gives the calls still in flight until `grace` (from the start) to finish;
  // then trains what was accepted, publishes, and stops the updater. Idempotent (a
  // second call reports nothing).
  ShutdownReport Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

 private:
  GrpcServer() = default;

  std::unique_ptr<ServerCore> core_;
  std::unique_ptr<security::Authorizer> auth_;
  security::TlsOptions tls_;
  std::unique_ptr<security::TlsMirror> tls_mirror_;  // with TLS: the files gRPC serves
  std::unique_ptr<RecommenderService> recommender_;
  std::unique_ptr<AdminService> admin_;            // the serving port's: read-only
  std::unique_ptr<AdminService> admin_port_service_;  // the admin port's: everything
  std::unique_ptr<BenchService> bench_;            // with options.bench_service only
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> admin_server_;
  // What the serving port's health service says, for the health listener to answer.
  std::shared_ptr<HealthTable> health_table_ = std::make_shared<HealthTable>();
  std::unique_ptr<HealthListener> health_listener_;
  int port_ = 0;
  int admin_port_ = 0;
  std::vector<Listener> listeners_;
  bool shut_down_ = false;
  // Last: destroyed first, so no scrape reads the core while it goes away.
  std::unique_ptr<metrics::MetricsEndpoint> metrics_;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_GRPC_SERVER_H_
