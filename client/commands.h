// The CLI's commands. Each returns an exit code (client/exit_codes.h) and prints its
// result to stdout (readable, or JSON with --json) and its errors to stderr.
#ifndef STREAMREC_CLIENT_COMMANDS_H_
#define STREAMREC_CLIENT_COMMANDS_H_

#include "client/args.h"
#include "client/connection.h"

namespace streamrec::client {

int RunPredict(const Args& args, Connection& conn, bool json);
int RunObserve(const Args& args, Connection& conn, bool json);
int RunHealth(const Args& args, Connection& conn, bool json);
int RunInfo(const Args& args, Connection& conn, bool json);
int RunStats(const Args& args, Connection& conn, bool json);
int RunReplay(const Args& args, Connection& conn, bool json);
int RunGenerate(const Args& args, bool json);
// RunEvaluate: offline evaluation (client/cmd_evaluate.cc); needs no server.
int RunEvaluate(const Args& args, bool json);
// RunSimulate: the closed-loop simulator against `conn` (client/cmd_simulate.cc).
int RunSimulate(const Args& args, Connection& conn, bool json);
// RunSnapshots: `list` asks `conn` (the serving port answers it), the others `admin`
// (the admin port, --admin_server).
int RunSnapshots(const Args& args, Connection& conn, Connection& admin, bool json);
// RunBench: `bench predict|observe|mixed|freshness|swap` (client/bench_cli.h) against
// `conn`; swap's SaveSnapshot calls go to `admin`.
int RunBench(const Args& args, Connection& conn, Connection& admin, bool json);

// UsageError prints a usage message for a command and returns kExitUsage.
int UsageError(const std::string& message);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_COMMANDS_H_
