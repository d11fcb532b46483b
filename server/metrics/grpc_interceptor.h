// RpcMetricsInterceptorFactory: a gRPC server interceptor that counts every call by
// method and status code and records its latency into RpcMetrics
// (server/metrics/rpc_metrics.h). Latency runs from the call's arrival (the interceptor
// is created when gRPC starts the call) to the moment its status is sent; for a stream
// that is the stream's whole life. A call that ends without sending a status (the client
// went away first) counts as CANCELLED when gRPC destroys the call.
//
// Install with ServerBuilder::experimental().SetInterceptorCreators before BuildAndStart.
// The factory and each interceptor share ownership of the RpcMetrics, so it outlives
// every call. Thread-safe: gRPC creates and runs interceptors on its own threads; each
// interceptor belongs to one call.
#ifndef STREAMREC_SERVER_METRICS_GRPC_INTERCEPTOR_H_
#define STREAMREC_SERVER_METRICS_GRPC_INTERCEPTOR_H_

#include <memory>

#include "grpcpp/support/server_interceptor.h"
#include "server/metrics/rpc_metrics.h"

namespace streamrec::server::metrics {

class RpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcMetricsInterceptorFactory(std::shared_ptr<RpcMetrics> metrics)
      : metrics_(std::move(metrics)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const std::shared_ptr<RpcMetrics> metrics_;
};

}  // namespace streamrec::server::metrics

#endif  // STREAMREC_SERVER_METRICS_GRPC_INTERCEPTOR_H_
