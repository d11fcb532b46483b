#include "server/metrics/http_endpoint.h"

#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "httplib.h"
#include "server/metrics/grpc_interceptor.h"
#include "server/metrics/scrape.h"

namespace streamrec::server::metrics {

bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) return false;
  std::string h = address.substr(0, colon);
  if (!h.empty() && h.front() == '[') {
    if (h.size() < 2 || h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string::npos) {
    return false;  // an IPv6 host needs brackets
  }
  if (h.empty()) return false;
  int p = -1;
  const char* begin = address.data() + colon + 1;
  const char* end = address.data() + address.size();
  const auto r = std::from_chars(begin, end, p);
  if (r.ec != std::errc() || r.ptr != end || p < 0 || p > 65535) return false;
  *host = h;
  *port = p;
  return true;
}

bool AcceptsGzip(const std::string& accept_encoding) {
  // Each element: coding [; q=VALUE] [; other params], codings case-insensitive.
  std::optional<double> gzip, any;
  for (absl::string_view element : absl::StrSplit(accept_encoding, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(element, ';');
    const std::string coding = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
    double q = 1;
    for (size_t i = 1; i < parts.size(); ++i) {
      const absl::string_view param = absl::StripAsciiWhitespace(parts[i]);
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        if (!absl::SimpleAtod(param.substr(2), &q)) q = 0;  // unreadable: not acceptable
      }
    }
    if (coding == "gzip" || coding == "x-gzip") gzip = std::max(gzip.value_or(0), q);
    if (coding == "*") any = q;
  }
  return gzip.value_or(any.value_or(0)) > 0;
}

MetricsEndpoint::MetricsEndpoint(const ServerCore* core)
    : core_(core), rpcs_(std::make_shared<RpcMetrics>()) {}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

void MetricsEndpoint::InstallInterceptor(grpc::ServerBuilder& builder) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<RpcMetricsInterceptorFactory>(rpcs_));
  builder.experimental().SetInterceptorCreators(std::move(creators));
  intercepting_ = true;
}

absl::StatusOr<int> MetricsEndpoint::Listen(const std::string& address) {
  std::string host;
  int port = 0;
  if (!SplitHostPort(address, &host, &port)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics address \"", address, "\" is not host:port (an IPv6 host in brackets)"));
  }
  if (http_ != nullptr) return absl::FailedPreconditionError("metrics endpoint already listening");
  http_ = std::make_unique<httplib::Server>();
  // SO_REUSEADDR only: cpp-httplib's default also sets SO_REUSEPORT, with which a second
  // server on the same port would bind and split the scrapes (as for gRPC's port).
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // A connection holds a worker from its accept until it is answered or times out, in
  // the order accepted: so idle or slow connections (a port scan, a stuck client) are
  // cut after about a second each, by enough workers that a few of them never delay a
  // scrape much.
  http_->new_task_queue = [] { return new httplib::ThreadPool(kHttpWorkers); };
  http_->set_keep_alive_max_count(1);
  http_->set_keep_alive_timeout(kIdleTimeoutSeconds);  // the wait for a request's first byte
  http_->set_read_timeout(kIdleTimeoutSeconds, 0);
  http_->set_write_timeout(5, 0);
  // cpp-httplib 0.11 compresses when Accept-Encoding merely contains "gzip" (or "br"),
  // "gzip;q=0" (refused) included: the request's header is replaced by what it accepts.
  http_->set_pre_routing_handler([](const httplib::Request& request, httplib::Response&) {
    // httplib's request object is its own non-const local, passed to handlers as const.
    auto& headers = const_cast<httplib::Request&>(request).headers;
    std::string accept;
    for (auto [it, end] = headers.equal_range("Accept-Encoding"); it != end; ++it) {
      if (!accept.empty()) accept += ",";
      accept += it->second;
    }
    headers.erase("Accept-Encoding");
    if (AcceptsGzip(accept)) headers.emplace("Accept-Encoding", "gzip");
    return httplib::Server::HandlerResponse::Unhandled;
  });
  const RpcMetrics* rpcs = intercepting_ ? rpcs_.get() : nullptr;
  http_->Get("/metrics", [this, rpcs](const httplib::Request&, httplib::Response& response) {
    response.set_content(Render(Gather(*core_, rpcs)), "text/plain; version=0.0.4; charset=utf-8");
  });
  const int bound = port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    http_.reset();
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on --metrics_listen ", address,
        ": the port is in use (another server?) or the address is not one of "
        "this host's"));
  }
  auto finished = std::make_shared<std::atomic<bool>>(false);
  thread_ = std::thread([http = http_.get(), finished, address] {
    if (!http->listen_after_bind()) {
      log::Error("the metrics endpoint stopped accepting connections", {{"address", address}});
    }
    finished->store(true);
  });
  // httplib's stop() does nothing until its accept loop runs: wait for it, so that a
  // Stop right after Listen cannot miss it and wait forever.
  while (!http_->is_running() && !finished->load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return bound;
}

void MetricsEndpoint::Stop() {
  if (http_ == nullptr) return;
  http_->stop();
  if (thread_.joinable()) thread_.join();
  http_.reset();
}

}  // namespace streamrec::server::metrics
