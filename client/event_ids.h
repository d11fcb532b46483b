// Event ids the CLI sets so that the server's de-duplication (--dedup_window) can drop
// an event sent twice: `replay` gives each event without its own id "RUN:LINE" (a run id
// per invocation, or --run_id to resume an earlier run exactly), `observe` a random id
// per call. Pure functions except RandomId; any thread.
#ifndef STREAMREC_CLIENT_EVENT_IDS_H_
#define STREAMREC_CLIENT_EVENT_IDS_H_

#include <string>

#include "client/args.h"

namespace streamrec::client {

// RandomId: 16 lowercase hex digits from std::random_device.
std::string RandomId();
// RunIdFlag: --run_id (non-empty, at most 64 of [A-Za-z0-9._-]) into `out`, or a fresh
// RandomId when absent. Returns a usage error message, or "".
std::string RunIdFlag(const Args& args, std::string& out);
// LineEventId: "RUN:LINE".
inline std::string LineEventId(const std::string& run_id, unsigned long long line) {
  return run_id + ":" + std::to_string(line);
}

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_EVENT_IDS_H_
