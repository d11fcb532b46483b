// The subcommands of `streamrec bench` (client/cmd_bench.cc dispatches) and what they
// share: reading their flags, fetching Stats, and printing the result as a table (or
// JSON with --json; --output FILE.json writes the JSON as well). Each Run* returns an
// exit code (client/exit_codes.h). Used from the CLI's main thread.
#ifndef STREAMREC_CLIENT_BENCH_CLI_H_
#define STREAMREC_CLIENT_BENCH_CLI_H_

#include <optional>
#include <string>
#include <vector>

#include "client/args.h"
#include "client/bench_load.h"
#include "client/bench_report.h"
#include "client/bench_requests.h"
#include "client/connection.h"

namespace streamrec::client {

struct BenchContext {
  const Args& args;
  Connection& conn;   // --server
  Connection& admin;  // --admin_server (bench swap's SaveSnapshot)
  bool json = false;
};

// Flags of the Predict load (bench predict, mixed, swap), checked.
struct PredictLoadFlags {
  PredictShape shape;
  int concurrency = 8;
  int connections = 4;  // default: min(concurrency, 4)
  double duration_s = 10;
};

// The flag readers return a usage message, or "" when the flags are good.
std::string ReadPredictLoadFlags(const Args& args, PredictLoadFlags& out);
// ReadSeconds: --`name` as a number of seconds in (0, 86400] (`out` keeps its default
// when absent).
std::string ReadSeconds(const Args& args, const std::string& name, double& out);
// ReadWhole: --`name` as a whole number in [min, max].
std::string ReadWhole(const Args& args, const std::string& name, long long fallback, int& out,
                      long long min, long long max);
// ReadRate: --`name` as events per second >= 0.
std::string ReadRate(const Args& args, const std::string& name, double fallback, double& out);

// GetStats from the serving port; nullopt after printing the failure (`what` names it).
std::optional<v1::Stats> FetchStats(Connection& conn, const std::string& what, int& exit_code);

// Emit prints `table` (or the JSON with --json) to stdout, and writes the JSON to
// --output FILE when given. kExitInput when the file cannot be written.
int Emit(const BenchContext& bench, const std::string& table, const JsonObject& json);
// FailureExit: the exit code for calls that failed with `status` (3 unreachable or
// deadline, else 4), for a run whose table is printed but whose load partly failed.
int FailureExit(const grpc::Status& status);

// Warning: "streamrec: bench NAME: TEXT" on stderr.
void BenchWarning(const std::string& name, const std::string& text);

int RunBenchPredict(BenchContext& bench);
int RunBenchObserve(BenchContext& bench);
int RunBenchMixed(BenchContext& bench);
int RunBenchSwap(BenchContext& bench);
int RunBenchFreshness(BenchContext& bench);

// Buffers: each message serialized once.
template <typename M>
std::vector<grpc::ByteBuffer> Buffers(const std::vector<M>& messages) {
  std::vector<grpc::ByteBuffer> out;
  for (const M& m : messages) out.push_back(ToByteBuffer(m));
  return out;
}
}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_BENCH_CLI_H_
