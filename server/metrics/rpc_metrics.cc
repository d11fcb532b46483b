#include "server/metrics/rpc_metrics.h"

#include "google/protobuf/descriptor.h"
#include "streamrec/v1/admin.pb.h"
#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::server::metrics {
namespace {

std::vector<std::string> DefaultMethods() {
  std::vector<std::string> paths;
  const google::protobuf::DescriptorPool* pool = google::protobuf::DescriptorPool::generated_pool();
  // Referencing the generated messages links their files into the pool.
  (void)v1::PredictRequest::descriptor();
  (void)v1::GetStatsRequest::descriptor();
  for (const char* service : {"streamrec.v1.Recommender", "streamrec.v1.Admin"}) {
    const google::protobuf::ServiceDescriptor* s = pool->FindServiceByName(service);
    if (s == nullptr) continue;
    for (int m = 0; m < s->method_count(); ++m) {
      paths.push_back("/" + s->full_name() + "/" + s->method(m)->name());
    }
  }
  // gRPC's own services (their descriptors are not in the generated pool).
  for (const char* path : {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
                           "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"}) {
    paths.push_back(path);
  }
  return paths;
}

}  // namespace

const char* StatusCodeName(int code) {
  static const char* const kNames[kStatusCodes] = {
      "OK",        "CANCELLED",          "UNKNOWN",        "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",  "ALREADY_EXISTS", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",       "UNAVAILABLE",    "DATA_LOSS",
      "UNAUTHENTICATED"};
  return code >= 0 && code < kStatusCodes ? kNames[code] : "UNKNOWN";
}

RpcMetrics::RpcMetrics() : RpcMetrics(DefaultMethods()) {}

RpcMetrics::RpcMetrics(const std::vector<std::string>& methods) {
  for (const std::string& path : methods) {
    // "/package.Service/Method"
    const size_t slash = path.rfind('/');
    if (path.empty() || path[0] != '/' || slash == 0 || by_path_.contains(path)) continue;
    methods_.push_back(
        std::make_unique<Method>(path.substr(1, slash - 1), path.substr(slash + 1)));
    by_path_[path] = methods_.back().get();
  }
  methods_.push_back(std::make_unique<Method>("unknown", "unknown"));
}

RpcMetrics::Method* RpcMetrics::Find(std::string_view path) {
  auto it = by_path_.find(absl::string_view(path.data(), path.size()));
  return it == by_path_.end() ? methods_.back().get() : it->second;
}

void RpcMetrics::Record(Method* method, int code, double seconds) {
  if (code < 0 || code >= kStatusCodes) code = 2;  // UNKNOWN
  method->calls[code].fetch_add(1, std::memory_order_relaxed);
  method->seconds.Observe(seconds);
}

std::vector<RpcMetrics::MethodFigures> RpcMetrics::Read() const {
  std::vector<MethodFigures> out;
  out.reserve(methods_.size());
  for (const auto& m : methods_) {
    MethodFigures f;
    f.service = m->service;
    f.name = m->name;
    for (int c = 0; c < kStatusCodes; ++c) f.calls[c] = m->calls[c].load(std::memory_order_relaxed);
    f.seconds = m->seconds.Read();
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace streamrec::server::metrics
