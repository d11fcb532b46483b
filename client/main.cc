// streamrec: the command-line client. `streamrec help [COMMAND]` prints the usage
// (client/usage.cc); the README documents each command with an example.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "client/commands.h"
#include "client/connection.h"
#include "client/exit_codes.h"
#include "client/flag_values.h"
#include "client/security.h"
#include "client/usage.h"
#include "streamrec_git_revision.h"  // generated at build time (cmake/git_revision.cmake)

#ifndef STREAMREC_VERSION
#error "STREAMREC_VERSION is defined by client/CMakeLists.txt (the CMake project version)"
#endif

namespace streamrec::client {

int UsageError(const std::string& message) {
  std::fprintf(stderr, "streamrec: %s\n(run `streamrec help` for usage)\n", message.c_str());
  return kExitUsage;
}

namespace {

// AsksVersion: `--version` comes before the command word (after it, `snapshots export`
// takes --version V).
bool AsksVersion(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string raw = argv[i], a = FlagName(raw);
    if (a == "__version") return true;
    if (a == "__server" || a == "__timeout" || a == "__admin_server" || a == "__ca" ||
        a == "__cert" || a == "__key" || a == "__token_file") {
      ++i;
    } else if (raw.empty() || raw[0] != '-' || raw == "-") {
      return false;  // the command
    }
  }
  return false;
}

int Help(const std::string& command) {
  if (command.empty()) {
    std::fputs(Usage().c_str(), stdout);
    return kExitOk;
  }
  const CommandSpec* spec = FindCommand(command);
  if (!spec) return UsageError("unknown command \"" + command + "\"");
  std::fputs(CommandUsage(*spec).c_str(), stdout);
  return kExitOk;
}

}  // namespace

int Main(int argc, char** argv) {
  if (AsksVersion(argc, argv)) {
    std::printf("streamrec %s (git %s, %s build)\n", STREAMREC_VERSION, STREAMREC_GIT_REVISION,
                STREAMREC_BUILD_TYPE);
    return kExitOk;
  }
  Args args;
  const std::string parse_error = args.Parse(argc, argv, BooleanFlags());
  const auto& pos = args.positional();
  if (!pos.empty() && pos[0] == "help") {
    if (pos.size() > 2) return UsageError("help takes one COMMAND");
    return Help(pos.size() == 2 ? pos[1] : "");
  }
  if (args.Has("help")) return Help(pos.empty() ? "" : pos[0]);
  if (!parse_error.empty()) return UsageError(parse_error);
  if (pos.empty()) {
    std::fputs(Usage().c_str(), stderr);
    return kExitUsage;
  }
  const std::string command = pos[0];
  const CommandSpec* spec = FindCommand(command);
  if (!spec) return UsageError("unknown command \"" + command + "\"");
  std::set<std::string> allowed = spec->flags;
  allowed.insert(GlobalFlags().begin(), GlobalFlags().end());
  if (auto unknown = args.Unknown(allowed)) {
    return UsageError("unknown option --" + *unknown + " for " + command +
                      " (see `streamrec help " + command + "`)");
  }
  if (!spec->positional && pos.size() > 1) {
    return UsageError("unexpected argument \"" + pos[1] + "\" for " + command);
  }
  const bool json = args.Has("json") || args.Has("json_ints_as_numbers");
  SetJsonIntsAsNumbers(args.Has("json_ints_as_numbers"));
  if (command == "generate") return RunGenerate(args, json);
  if (command == "evaluate") return RunEvaluate(args, json);

  std::string server = "localhost:50051";
  if (const char* env = std::getenv("STREAMREC_SERVER"); env && *env) server = env;
  if (auto s = args.Get("server")) server = *s;
  if (server.empty()) return UsageError("--server must name a host:port, not \"\"");
  double timeout = 10;
  // At most a million seconds: beyond that a deadline overflows gRPC's clock and fails at
  // once (1e18 answered DEADLINE_EXCEEDED immediately).
  if (std::string err = NumberFlag(args, "timeout", timeout);
      !err.empty() || !(timeout > 0) || timeout > 1e6) {
    return UsageError("--timeout must be a number of seconds in (0, 1000000], not \"" +
                      *args.Get("timeout") + "\"");
  }
  Security security;
  if (SecurityError e = LoadSecurity(args, &security); e.exit_code != 0) {
    if (e.exit_code == kExitUsage) return UsageError(e.message);
    std::fprintf(stderr, "streamrec: %s\n", e.message.c_str());
    return e.exit_code;
  }
  Connection conn(server, timeout, security);
  if (command == "predict") return RunPredict(args, conn, json);
  if (command == "observe") return RunObserve(args, conn, json);
  if (command == "health") return RunHealth(args, conn, json);
  if (command == "info") return RunInfo(args, conn, json);
  if (command == "stats") return RunStats(args, conn, json);
  if (command == "simulate") return RunSimulate(args, conn, json);
  if (command == "snapshots" || command == "bench") {
    std::string admin_server = AdminTarget(server);
    if (const char* env = std::getenv("STREAMREC_ADMIN_SERVER"); env && *env) admin_server = env;
    if (auto s = args.Get("admin_server")) admin_server = *s;
    if (admin_server.empty()) return UsageError("--admin_server must name a host:port, not \"\"");
    Connection admin(admin_server, timeout, security);
    return command == "bench" ? RunBench(args, conn, admin, json)
                              : RunSnapshots(args, conn, admin, json);
  }
  return RunReplay(args, conn, json);
}

}  // namespace streamrec::client

int main(int argc, char** argv) { return streamrec::client::Main(argc, argv); }
