#include "server/grpc_server.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace streamrec::server {

inline constexpr char kRecommenderService[] = "streamrec.v1.Recommender";
inline constexpr char kIngestService[] = "streamrec.v1.Ingest";

std::string WithPort(const std::string& address, int port) {
  const size_t colon = address.rfind(':');
  const std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const ServerOptions& options, const std::function<void(const GrpcServer&)>& on_listening) {
  if (options.grpc_memory_bytes < options.core.limits.max_message_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "grpc_memory_bytes (", options.grpc_memory_bytes, ") is below max_message_bytes (",
        options.core.limits.max_message_bytes, "): such a message could never be received"));
  }
  absl::StatusOr<std::unique_ptr<ServerCore>> core = ServerCore::Create(options.core);
  if (!core.ok()) return core.status();
  std::unique_ptr<GrpcServer> s(new GrpcServer());
  s->core_ = *std::move(core);
  s->recommender_ = std::make_unique<RecommenderService>(s->core_.get());
  s->admin_ = std::make_unique<AdminService>(s->core_.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &s->port_);
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
  grpc::ResourceQuota quota;
  quota.Resize(options.grpc_memory_bytes);
  builder.SetResourceQuota(quota);  // the builder keeps its own reference
  builder.RegisterService(s->recommender_.get());
  builder.RegisterService(s->admin_.get());
  s->metrics_ = std::make_unique<metrics::MetricsEndpoint>(s->core_.get());
  if (!options.metrics_listen.empty()) s->metrics_->InstallInterceptor(builder);
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    s->core_->Stop();
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen,
        ": the port is in use (another server?) or the address is not one of this host's"));
  }
  grpc::HealthCheckServiceInterface* health = s->server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus(kRecommenderService, false);
  health->SetServingStatus(kIngestService, false);
  s->core_->SetIngestListener(
      [health](bool serving) { health->SetServingStatus(kIngestService, serving); });
  s->listeners_.push_back({"grpc", WithPort(options.listen, s->port_)});
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
  health->SetServingStatus(kRecommenderService, true);
  return s;
}

GrpcServer::~GrpcServer() { Shutdown(); }

GrpcServer::ShutdownReport GrpcServer::Shutdown(std::chrono::milliseconds grace) {
  ShutdownReport report;
  if (shut_down_) return report;
  shut_down_ = true;
  if (server_ != nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + grace;
    const auto system_deadline = std::chrono::system_clock::now() + grace;
    core_->SetIngestListener(nullptr);
    server_->GetHealthCheckService()->SetServingStatus(false);
    // Streams first: each ends with its acknowledged count while the pipeline still
    // logs its request in flight; gRPC's Shutdown would cancel them at the deadline,
    // after their events were logged but before the client heard of it.
    core_->BeginStop();
    const size_t open_at_stop = core_->open_streams().open();
    core_->open_streams().WaitEmpty(deadline);
    server_->Shutdown(system_deadline);
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
