// Flag plumbing of streamrec-server (server/main.cc), before and around absl's parsing:
//   - UseServerFlagsUsage: `--help` lists the server's own flags (those defined under
//     server/; absl's default matched none of them: "No flags matched"), and `--version`
//     prints the version, git revision and build type.
//   - ApplyFlagEnvironment: every server flag NAME may come from the environment variable
//     STREAMREC_<NAME in upper case> (STREAMREC_LISTEN, STREAMREC_DATA_DIR, ...). The
//     command line and --flagfile files override the environment, which overrides the
//     defaults. An unparsable value is an error naming the variable.
// Main thread, before any other thread starts.
#ifndef STREAMREC_SERVER_FLAG_ENV_H_
#define STREAMREC_SERVER_FLAG_ENV_H_

#include <string>

#include "absl/status/status.h"

namespace streamrec::server {

// IsServerFlagFile: a flag defined in a file under server/ (the server's own flags, not
// absl's or gRPC's).
bool IsServerFlagFile(const std::string& filename);

void UseServerFlagsUsage();

// ApplyFlagEnvironment: call before absl::ParseCommandLine.
absl::Status ApplyFlagEnvironment();

// EnvironmentName: "STREAMREC_" + the flag's name in upper case.
std::string EnvironmentName(const std::string& flag);

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_FLAG_ENV_H_
