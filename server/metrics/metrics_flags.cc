#include "server/metrics/metrics_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, metrics_listen, "0.0.0.0:9464",
          "Address of the Prometheus endpoint (GET /metrics), host:port; port 0 lets the OS "
          "choose; empty: no endpoint.");

namespace streamrec::server::metrics {

std::string MetricsListenFlag() { return absl::GetFlag(FLAGS_metrics_listen); }

}  // namespace streamrec::server::metrics
