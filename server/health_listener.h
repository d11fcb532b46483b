// HealthListener: a plaintext gRPC server (--health_listen) that serves only the standard
// health service (grpc.health.v1.Health: Check and Watch), answering what the serving
// port's health service says: a HealthTable the GrpcServer updates alongside it. For
// probes that speak no TLS (Kubernetes' native gRPC probes) while --tls_cert secures the
// serving and admin ports; it carries nothing but the serving statuses of the services.
// HealthTable: any thread. HealthListener: Start and Shutdown from the owner thread; its
// calls run on gRPC's threads.
#ifndef STREAMREC_SERVER_HEALTH_LISTENER_H_
#define STREAMREC_SERVER_HEALTH_LISTENER_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "server/core/mutex.h"

namespace streamrec::server {

class HealthTable {
 public:
  void Set(const std::string& service, bool serving);
  // SetAll: every service known so far (the stop: all NOT_SERVING).
  void SetAll(bool serving);
  // Get: the service's status, or nullopt for a service never set (NOT_FOUND).
  std::optional<bool> Get(const std::string& service) const;
  // WaitChange: returns once the table changed after `generation` (or `timeout` passed);
  // the current generation.
  uint64_t WaitChange(uint64_t generation, std::chrono::milliseconds timeout) const;
  uint64_t generation() const;

 private:
  mutable core::Mutex mu_;
  mutable std::condition_variable_any changed_;
  absl::flat_hash_map<std::string, bool> serving_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

class HealthListener {
 public:
  // Start: listens on `address` (host:port, port 0 for any) without TLS. Unavailable when
  // it cannot be bound.
  static absl::StatusOr<std::unique_ptr<HealthListener>> Start(
      const std::string& address, std::shared_ptr<const HealthTable> table);
  ~HealthListener();

  int port() const { return port_; }
  void Shutdown();

 private:
  class Service;
  HealthListener() = default;

  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_HEALTH_LISTENER_H_
