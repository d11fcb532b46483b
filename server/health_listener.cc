#include "server/health_listener.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/ext/health_check_service_server_builder_option.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace streamrec::server {

namespace hv1 = grpc::health::v1;

void HealthTable::Set(const std::string& service, bool serving) {
  {
    core::MutexLock lock(&mu_);
    auto [it, added] = serving_.try_emplace(service, serving);
    if (!added && it->second == serving) return;
    it->second = serving;
    ++generation_;
  }
  changed_.notify_all();
}

void HealthTable::SetAll(bool serving) {
  {
    core::MutexLock lock(&mu_);
    for (auto& [service, s] : serving_) s = serving;
    ++generation_;
  }
  changed_.notify_all();
}

std::optional<bool> HealthTable::Get(const std::string& service) const {
  core::MutexLock lock(&mu_);
  auto it = serving_.find(service);
  if (it == serving_.end()) return std::nullopt;
  return it->second;
}

uint64_t HealthTable::generation() const {
  core::MutexLock lock(&mu_);
  return generation_;
}

uint64_t HealthTable::WaitChange(uint64_t generation, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  core::UniqueLock lock(&mu_);
  while (generation_ == generation) {
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) break;
  }
  return generation_;
}

class HealthListener::Service final : public hv1::Health::Service {
 public:
  explicit Service(std::shared_ptr<const HealthTable> table) : table_(std::move(table)) {}

  grpc::Status Check(grpc::ServerContext*, const hv1::HealthCheckRequest* request,
                     hv1::HealthCheckResponse* response) override {
    const std::optional<bool> serving = table_->Get(request->service());
    if (!serving) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("unknown service \"", request->service(), "\""));
    }
    response->set_status(*serving ? hv1::HealthCheckResponse::SERVING
                                  : hv1::HealthCheckResponse::NOT_SERVING);
    return grpc::Status::OK;
  }

  // Watch: the status now, then each change, until the client goes away or the server
  // stops (a service never set answers SERVICE_UNKNOWN, as the standard asks).
  grpc::Status Watch(grpc::ServerContext* context, const hv1::HealthCheckRequest* request,
                     grpc::ServerWriter<hv1::HealthCheckResponse>* writer) override {
    std::optional<hv1::HealthCheckResponse::ServingStatus> sent;
    uint64_t generation = table_->generation();
    while (!context->IsCancelled() && !stopping_.load()) {
      const std::optional<bool> serving = table_->Get(request->service());
      const auto status = !serving ? hv1::HealthCheckResponse::SERVICE_UNKNOWN
                          : *serving ? hv1::HealthCheckResponse::SERVING
                                     : hv1::HealthCheckResponse::NOT_SERVING;
      if (sent != status) {
        hv1::HealthCheckResponse response;
        response.set_status(status);
        if (!writer->Write(response)) break;
        sent = status;
      }
      generation = table_->WaitChange(generation, std::chrono::milliseconds(200));
    }
    return grpc::Status::OK;
  }

  void Stop() { stopping_.store(true); }

 private:
  std::shared_ptr<const HealthTable> table_;
  std::atomic<bool> stopping_{false};
};

absl::StatusOr<std::unique_ptr<HealthListener>> HealthListener::Start(
    const std::string& address, std::shared_ptr<const HealthTable> table) {
  std::unique_ptr<HealthListener> h(new HealthListener());
  h->service_ = std::make_unique<Service>(std::move(table));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &h->port_);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(4096);  // a health request is a service name
  builder.RegisterService(h->service_.get());
  // This server's health service is ours: no default one beside it.
  builder.SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
  h->server_ = builder.BuildAndStart();
  if (h->server_ == nullptr || h->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on --health_listen ", address,
        ": the port is in use (another server?) or the address is not one of this host's"));
  }
  return h;
}

void HealthListener::Shutdown() {
  if (server_ == nullptr) return;
  service_->Stop();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_.reset();
}

HealthListener::~HealthListener() { Shutdown(); }

}  // namespace streamrec::server
