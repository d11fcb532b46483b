#include "server/grpc_server.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "common/log.h"

namespace streamrec::server {

inline constexpr char kRecommenderService[] = "streamrec.v1.Recommender";
inline constexpr char kIngestService[] = "streamrec.v1.Ingest";

std::string WithPort(const std::string& address, int port) {
  const size_t colon = address.rfind(':');
  const std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  return absl::StrCat(host, ":", port);
}

namespace {

// ConfigureBuilder: what every listener shares: no SO_REUSEPORT, the message limit, no
// compressed requests, the memory quota.
void ConfigureBuilder(grpc::ServerBuilder& builder, const ServerOptions& options,
                      grpc::ResourceQuota& quota) {
  // No SO_REUSEPORT (gRPC sets it by default on Linux): with it, a second server started
  // on a served port binds too, and the kernel splits connections between two models.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.core.limits.max_message_bytes));
  // Compressed requests are refused: Debian's gRPC 1.51 inflates a message before it
  // checks the size limit, so a 300 KB gzip request made the server allocate 600 MB.
  // (Responses are never compressed either; on loopback and in a cluster the CPU costs
  // more than the bytes.)
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_DEFLATE, false);
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_GZIP, false);
  builder.SetResourceQuota(quota);  // the builder keeps its own reference
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const ServerOptions& options, const std::function<void(const GrpcServer&)>& on_listening) {
  if (options.grpc_memory_bytes < options.core.limits.max_message_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "grpc_memory_bytes (", options.grpc_memory_bytes, ") is below max_message_bytes (",
        options.core.limits.max_message_bytes, "): such a message could never be received"));
  }
  // gRPC serves private copies of the TLS files, which change only to files that check.
  std::unique_ptr<security::TlsMirror> tls_mirror;
  if (options.tls.enabled()) {
    absl::StatusOr<std::unique_ptr<security::TlsMirror>> m = security::TlsMirror::Create(options.tls);
    if (!m.ok()) return m.status();
    tls_mirror = *std::move(m);
  } else if (absl::Status s = security::CheckTlsFiles(options.tls).status(); !s.ok()) {
    return s;  // --tls_key or --tls_client_ca without --tls_cert
  }
  absl::StatusOr<std::unique_ptr<security::Authorizer>> auth =
      security::Authorizer::Create(options.auth);
  if (!auth.ok()) return auth.status();
  absl::StatusOr<std::unique_ptr<ServerCore>> core = ServerCore::Create(options.core);
  if (!core.ok()) return core.status();
  std::unique_ptr<GrpcServer> s(new GrpcServer());
  s->core_ = *std::move(core);
  s->auth_ = *std::move(auth);
  s->tls_ = options.tls;
  s->tls_mirror_ = std::move(tls_mirror);
  s->recommender_ = std::make_unique<RecommenderService>(s->core_.get(), s->auth_.get());
  s->admin_port_service_ = std::make_unique<AdminService>(
      s->core_.get(), s->auth_.get(), AdminService::Surface::kAdminPort, options.admin_listen);
  const std::shared_ptr<grpc::ServerCredentials> credentials =
      security::ServerCredentials(s->tls_mirror_ ? s->tls_mirror_->served() : options.tls);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ResourceQuota quota;  // shared by the listeners
  quota.Resize(options.grpc_memory_bytes);
  // Requests by RPC and code on both ports (server/metrics/), when metrics are served.
  s->metrics_ = std::make_unique<metrics::MetricsEndpoint>(s->core_.get());
  // The admin port first, so that the serving port's refusals can name its bound port.
  if (!options.admin_listen.empty()) {
    grpc::ServerBuilder admin_builder;
    admin_builder.AddListeningPort(options.admin_listen, credentials, &s->admin_port_);
    ConfigureBuilder(admin_builder, options, quota);
    if (!options.metrics_listen.empty()) s->metrics_->InstallInterceptor(admin_builder);
    admin_builder.RegisterService(s->admin_port_service_.get());
    s->admin_server_ = admin_builder.BuildAndStart();
    if (s->admin_server_ == nullptr || s->admin_port_ == 0) {
      s->core_->Stop();
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on --admin_listen ", options.admin_listen,
          ": the port is in use (another server?) or the address is not one of this host's"));
    }
  }
  s->admin_ = std::make_unique<AdminService>(
      s->core_.get(), s->auth_.get(), AdminService::Surface::kServing,
      s->admin_server_ ? WithPort(options.admin_listen, s->admin_port_) : "");
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &s->port_);
  ConfigureBuilder(builder, options, quota);
  builder.RegisterService(s->recommender_.get());
  builder.RegisterService(s->admin_.get());
  if (options.bench_service) {
    s->bench_ = std::make_unique<BenchService>(s->auth_.get(),
                                               options.core.limits.max_message_bytes);
    builder.RegisterService(s->bench_.get());
  }
  if (!options.metrics_listen.empty()) s->metrics_->InstallInterceptor(builder);
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    if (s->admin_server_) s->admin_server_->Shutdown();
    s->core_->Stop();
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on --listen ", options.listen,
        ": the port is in use (another server?) or the address is not one of this host's"));
  }
  // Every status goes to the serving port's health service and to the table the health
  // listener answers from.
  grpc::HealthCheckServiceInterface* health_service = s->server_->GetHealthCheckService();
  const auto health = [health_service, table = s->health_table_](const std::string& service,
                                                                  bool serving) {
    health_service->SetServingStatus(service, serving);
    table->Set(service, serving);
  };
  health("", true);
  health(kRecommenderService, false);
  health(kIngestService, false);
  s->core_->SetIngestListener([health](bool serving) { health(kIngestService, serving); });
  if (!options.health_listen.empty()) {
    absl::StatusOr<std::unique_ptr<HealthListener>> listener =
        HealthListener::Start(options.health_listen, s->health_table_);
    if (!listener.ok()) {
      s->Shutdown(std::chrono::milliseconds(100));
      return listener.status();
    }
    s->health_listener_ = *std::move(listener);
  }
  s->listeners_.push_back({"grpc", WithPort(options.listen, s->port_)});
  if (s->admin_server_) {
    s->listeners_.push_back({"admin", WithPort(options.admin_listen, s->admin_port_)});
  }
  if (s->health_listener_) {
    s->listeners_.push_back(
        {"health", WithPort(options.health_listen, s->health_listener_->port())});
  }
  if (!options.metrics_listen.empty()) {
    absl::StatusOr<int> port = s->metrics_->Listen(options.metrics_listen);
    if (!port.ok()) {
      s->Shutdown(std::chrono::milliseconds(100));
      return port.status();
    }
    s->listeners_.push_back({"metrics", WithPort(options.metrics_listen, *port)});
  }
  if (on_listening) on_listening(*s);
  if (absl::Status r = s->core_->Recover(); !r.ok()) {
    s->Shutdown(std::chrono::milliseconds(100));
    return r;
  }
  health(kRecommenderService, true);
  if (s->tls_mirror_) s->tls_mirror_->Start();
  return s;
}

GrpcServer::~GrpcServer() { Shutdown(); }

absl::Status GrpcServer::ReloadSecurity() {
  absl::Status first;
  if (auth_->configured()) {
    if (absl::Status r = auth_->Reload(); r.ok()) {
      log::Info("tokens reloaded", {{"tokens", auth_->token_count()}});
    } else {
      log::Error("tokens not reloaded, the previous ones stay in force",
                 {{"error", std::string(r.message())}});
      first.Update(r);
    }
  }
  if (tls_mirror_) first.Update(tls_mirror_->Refresh(/*requested=*/true));  // logs either way
  return first;
}

GrpcServer::ShutdownReport GrpcServer::Shutdown(std::chrono::milliseconds grace) {
  ShutdownReport report;
  if (shut_down_) return report;
  shut_down_ = true;
  if (server_ != nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + grace;
    const auto system_deadline = std::chrono::system_clock::now() + grace;
    core_->SetIngestListener(nullptr);
    server_->GetHealthCheckService()->SetServingStatus(false);
    health_table_->SetAll(false);
    // Streams first: each ends with its acknowledged count while the pipeline still
    // logs its request in flight; gRPC's Shutdown would cancel them at the deadline,
    // after their events were logged but before the client heard of it.
    core_->BeginStop();
    const size_t open_at_stop = core_->open_streams().open();
    core_->open_streams().WaitEmpty(deadline);
    server_->Shutdown(system_deadline);
    if (admin_server_ != nullptr) admin_server_->Shutdown(system_deadline);
    if (health_listener_ != nullptr) health_listener_->Shutdown();
    // Cut: open at the stop and not ended with the stop's status (gRPC cancelled them at
    // the deadline). Counted after gRPC's Shutdown: a stream still open when WaitEmpty
    // gave up may yet have finished with its counts.
    const size_t ended_streams = core_->open_streams().ended().streams;
    report.streams_cut = open_at_stop > ended_streams ? open_at_stop - ended_streams : 0;
  }
  const StreamRegistry::Ended ended = core_->open_streams().ended();
  report.streams_ended = ended.streams;
  report.requests_acknowledged = ended.requests;
  report.events_acknowledged = ended.events;
  core_->Stop();
  return report;
}

}  // namespace streamrec::server
