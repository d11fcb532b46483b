#include "server/metrics/grpc_interceptor.h"

#include <atomic>
#include <chrono>

namespace streamrec::server::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;

class RpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(std::shared_ptr<RpcMetrics> metrics, RpcMetrics::Method* method)
      : metrics_(std::move(metrics)), method_(method), start_(std::chrono::steady_clock::now()) {}

  ~RpcMetricsInterceptor() override {
    if (!recorded_.exchange(true)) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        !recorded_.exchange(true)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(int code) {
    RpcMetrics::Record(
        method_, code,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }

  const std::shared_ptr<RpcMetrics> metrics_;  // keeps method_ alive
  RpcMetrics::Method* const method_;
  const std::chrono::steady_clock::time_point start_;
  // A stream's send and receive hooks may run at once on different threads.
  std::atomic<bool> recorded_{false};
};

}  // namespace

grpc::experimental::Interceptor* RpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RpcMetricsInterceptor(metrics_, metrics_->Find(info->method()));
}

}  // namespace streamrec::server::metrics
