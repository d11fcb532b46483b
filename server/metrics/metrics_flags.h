// The server's --metrics_listen flag (defined in metrics_flags.cc, beside the other
// server flags' rules: README "Server flags"). Main thread, after flag parsing.
#ifndef STREAMREC_SERVER_METRICS_METRICS_FLAGS_H_
#define STREAMREC_SERVER_METRICS_METRICS_FLAGS_H_

#include <string>

namespace streamrec::server::metrics {

// MetricsListenFlag: --metrics_listen ("" disables the endpoint).
std::string MetricsListenFlag();

}  // namespace streamrec::server::metrics

#endif  // STREAMREC_SERVER_METRICS_METRICS_FLAGS_H_
