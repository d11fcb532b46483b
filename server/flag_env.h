// Flag plumbing of streamrec-server (server/main.cc), before and around absl's parsing:
//   - UseServerFlagsUsage: `--help` lists the server's own flags (those defined under
//     server/; absl's default matched none of them: "No flags matched"), and `--version`
//     prints the version, git revision and build type.
//   - ApplyFlagEnvironment: every server flag NAME may come from the environment variable
//     STREAMREC_<NAME in upper case> (STREAMREC_LISTEN, STREAMREC_DATA_DIR, ...). The
//     command line and --flagfile files override the environment, which overrides the
//     defaults. An unparsable value is an error naming the variable. A STREAMREC_*
//     variable that names no server flag (and is not one of the CLI's, kClientVariables)
//     is warned about by name (its value is never logged: it may be a token), so a
//     mistyped one (STREAMREC_LISTN) does not pass silently.
//   - UseLogFormatOfArgs: the --log_format of the command line (or STREAMREC_LOG_FORMAT)
//     in force before anything is logged, so the errors and warnings about the other
//     variables and flags are already in that format.
//   - CheckListenFlag: a listener flag's value is host:port with a port from 0 to 65535.
// Main thread, before any other thread starts.
#ifndef STREAMREC_SERVER_FLAG_ENV_H_
#define STREAMREC_SERVER_FLAG_ENV_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace streamrec::server {

// IsServerFlagFile: a flag defined in a file under server/ (the server's own flags, not
// absl's or gRPC's).
bool IsServerFlagFile(const std::string& filename);

void UseServerFlagsUsage();

// ApplyFlagEnvironment: call before absl::ParseCommandLine.
absl::Status ApplyFlagEnvironment();

// kClientVariables: the STREAMREC_* variables the CLI (or the tests) read, which a
// server's environment may hold too without a warning.
inline constexpr const char* kClientVariables[] = {
    "STREAMREC_SERVER", "STREAMREC_ADMIN_SERVER", "STREAMREC_TOKEN", "STREAMREC_TLS",
    "STREAMREC_CA",     "STREAMREC_CERT",         "STREAMREC_KEY",   "STREAMREC_IN_MOUNT_NS"};

// UseLogFormatOfArgs: sets the log format from `--log_format=F`, `-log_format=F` or
// `--log_format F` in argv (before a `--`), else from $STREAMREC_LOG_FORMAT; a value
// that is not text or json is left for the flag's own check after parsing. (A
// --flagfile's log_format applies from the parse on.)
void UseLogFormatOfArgs(int argc, char** argv);

// CheckListenFlag: InvalidArgument naming `flag` unless `value` is host:port (an IPv6
// host in brackets) with the port an integer from 0 to 65535 (gRPC wraps a larger one
// around: 70000 bound 4464); empty is OK when `empty_allowed` (the listener is off).
absl::Status CheckListenFlag(const std::string& flag, const std::string& value,
                             bool empty_allowed);

// EnvironmentName: "STREAMREC_" + the flag's name in upper case.
std::string EnvironmentName(const std::string& flag);

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_FLAG_ENV_H_
