// `streamrec bench predict|observe|mixed|freshness|swap`: the load generator
// (client/bench_load.h) against a running server; this file dispatches, reads the
// shared flags, and runs predict and observe (the others: client/cmd_bench_phases.cc).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "client/bench_cli.h"
#include "client/commands.h"
#include "client/exit_codes.h"
#include "client/flag_values.h"
#include "streamrec/v1/bench.pb.h"

namespace streamrec::client {

std::string ReadSeconds(const Args& args, const std::string& name, double& out) {
  const auto v = args.Get(name);
  if (!v) return "";
  double d = 0;
  if (ParseFinite(*v, d) && d > 0 && d <= 86400) {
    out = d;
    return "";
  }
  return "--" + name + " must be a number of seconds in (0, 86400], not \"" + *v + "\"";
}

std::string ReadWhole(const Args& args, const std::string& name, long long fallback, int& out,
                      long long min, long long max) {
  long long v = 0;
  std::string err = WholeFlag(args, name, fallback, v, min, max);
  out = static_cast<int>(v);
  return err;
}

std::string ReadRate(const Args& args, const std::string& name, double fallback, double& out) {
  out = fallback;
  const auto v = args.Get(name);
  if (!v) return "";
  if (ParseFinite(*v, out) && out >= 0 && out <= 1e9) return "";
  return "--" + name + " must be events per second in [0, 1e9], not \"" + *v + "\"";
}

std::string ReadPredictLoadFlags(const Args& args, PredictLoadFlags& out) {
  std::string err;
  for (std::string e :
       {ReadWhole(args, "concurrency", 8, out.concurrency, 1, 10000),
        ReadWhole(args, "candidates", 100, out.shape.candidates, 1, 10000),
        ReadWhole(args, "candidate_features", 5, out.shape.candidate_features, 0, kBenchFields),
        ReadWhole(args, "context_features", 5, out.shape.context_features, 0, kBenchFields),
        ReadSeconds(args, "duration", out.duration_s)}) {
    if (err.empty()) err = e;
  }
  if (!err.empty()) return err;
  if (out.shape.candidate_features + out.shape.context_features > kBenchFields) {
    return "--candidate_features plus --context_features must be at most " +
           std::to_string(kBenchFields) + " (the generator's fields)";
  }
  return ReadWhole(args, "connections", std::min(out.concurrency, 4), out.connections, 1, 1000);
}

std::optional<v1::Stats> FetchStats(Connection& conn, const std::string& what, int& exit_code) {
  v1::Stats stats;
  grpc::Status s = conn.admin().GetStats(conn.Context().get(), v1::GetStatsRequest(), &stats);
  if (!s.ok()) {
    exit_code = conn.Fail(what, s);
    return std::nullopt;
  }
  return stats;
}

int FailureExit(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                 status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
             ? kExitConnection
             : kExitServer;
}

int Emit(const BenchContext& bench, const std::string& table, const JsonObject& json) {
  const std::string text = json.Text();
  std::fputs(bench.json ? (text + "\n").c_str() : table.c_str(), stdout);
  std::fflush(stdout);
  if (auto path = bench.args.Get("output"); path && !path->empty()) {
    std::ofstream out(*path);
    out << text << "\n";
    out.close();
    if (!out) {
      std::fprintf(stderr, "streamrec: bench: cannot write %s\n", path->c_str());
      return kExitInput;
    }
  }
  return kExitOk;
}

void BenchWarning(const std::string& name, const std::string& text) {
  std::fprintf(stderr, "streamrec: bench %s: %s\n", name.c_str(), text.c_str());
}

namespace {

// EchoFor: an EchoRequest of `request_bytes` on the wire (as near as the length prefix
// allows) asking for a response of `response_bytes` on the wire.
v1::EchoRequest EchoFor(size_t request_bytes, size_t response_bytes) {
  v1::EchoResponse resp;
  size_t payload = response_bytes;
  resp.mutable_payload()->assign(payload, '\0');
  while (payload > 0 && resp.ByteSizeLong() > response_bytes) {
    resp.mutable_payload()->assign(--payload, '\0');
  }
  v1::EchoRequest req;
  req.set_response_bytes(static_cast<uint32_t>(payload));
  size_t size = request_bytes;
  req.mutable_payload()->assign(size, 'x');
  while (size > 0 && req.ByteSizeLong() > request_bytes) req.mutable_payload()->assign(--size, 'x');
  return req;
}

double Warmup(double duration_s) { return std::min(1.0, 0.1 * duration_s); }

}  // namespace

int RunBenchPredict(BenchContext& bench) {
  PredictLoadFlags f;
  if (std::string err = ReadPredictLoadFlags(bench.args, f); !err.empty()) return UsageError(err);
  const std::vector<v1::PredictRequest> requests = PredictRequests(f.shape, DistinctPredictRequests(f.shape), 1);
  const std::vector<grpc::ByteBuffer> predict_buffers = Buffers(requests);
  // One real Predict: it checks the server and sizes the no-op's response.
  v1::PredictResponse first;
  if (grpc::Status s = bench.conn.recommender().Predict(bench.conn.Context().get(), requests[0],
                                                        &first);
      !s.ok()) {
    return bench.conn.Fail("bench predict", s);
  }
  const size_t request_bytes = requests[0].ByteSizeLong(), response_bytes = first.ByteSizeLong();
  ChannelSet channels(bench.conn, f.connections);
  ClosedLoopOptions o;
  o.method = kPredictMethod;
  o.requests = &predict_buffers;
  o.concurrency = f.concurrency;
  o.warmup_s = Warmup(f.duration_s);
  o.duration_s = f.duration_s;
  LoadResult predict = RunClosedLoop(bench.conn, channels, o);
  if (predict.latencies_ns.empty()) return bench.conn.Fail("bench predict", predict.first_error);
  if (predict.failed > 0) {
    BenchWarning("predict", std::to_string(predict.failed) + " calls failed, the first: " +
                                StatusText(predict.first_error));
  }
  const LatencySummary p = Summarize(predict.latencies_ns, predict.seconds);

  // The transport ceiling: the no-op of the same sizes, same load.
  const std::vector<grpc::ByteBuffer> echo_buffers = {
      ToByteBuffer(EchoFor(request_bytes, response_bytes))};
  o.method = kEchoMethod;
  o.requests = &echo_buffers;
  std::optional<LatencySummary> noop;
  std::string note;
  o.max_calls = 1;
  o.duration_s = 0;
  o.warmup_s = 0;
  LoadResult probe = RunClosedLoop(bench.conn, channels, o);
  if (probe.ok == 0) {
    note = probe.first_error.error_code() == grpc::StatusCode::UNIMPLEMENTED
               ? "the baseline needs a server started with --bench_service"
               : "the no-op Echo failed: " + StatusText(probe.first_error);
    BenchWarning("predict", note + "; no ratio");
  } else {
    o.max_calls = 0;
    o.warmup_s = Warmup(f.duration_s);
    o.duration_s = f.duration_s;
    LoadResult echo = RunClosedLoop(bench.conn, channels, o);
    if (!echo.latencies_ns.empty()) noop = Summarize(echo.latencies_ns, echo.seconds);
  }
  const double ratio = noop && noop->per_second > 0 ? p.per_second / noop->per_second : NAN;

  JsonObject json;
  json.Add("bench", "predict").Add("server", bench.conn.target());
  json.Add("concurrency", f.concurrency).Add("connections", f.connections);
  json.Add("candidates", f.shape.candidates).Add("candidate_features", f.shape.candidate_features);
  json.Add("context_features", f.shape.context_features).Add("duration_s", f.duration_s);
  json.Add("request_bytes", uint64_t{request_bytes});
  json.Add("response_bytes", uint64_t{response_bytes});
  json.Add("predict", p.ToJson().Add("failed", predict.failed));
  json.Add("candidates_per_s", p.per_second * f.shape.candidates);
  if (noop) {
    json.Add("noop", noop->ToJson());
    json.Add("ratio", ratio);
  } else {
    json.AddNull("noop").AddNull("ratio").Add("noop_note", note);
  }
  char head[512];
  std::snprintf(head, sizeof head,
                "bench predict: %d calls in flight over %d connections, %d candidates x %d "
                "features + %d context features\n(request %zu bytes, response %zu bytes), "
                "%g s per phase\n\n",
                f.concurrency, f.connections, f.shape.candidates, f.shape.candidate_features,
                f.shape.context_features, request_bytes, response_bytes, f.duration_s);
  std::vector<std::vector<std::string>> rows = {LatencyHeader("method", "calls/s"),
                                                LatencyRow("Predict", p)};
  if (noop) rows.push_back(LatencyRow("Echo (no-op, same sizes)", *noop));
  std::string table = head + Table(rows) + "\n";
  table += noop ? "Predict QPS / no-op QPS: " + Ratio(ratio) + "\n"
                : "no ratio: " + note + "\n";
  table += "candidates scored/s: " + Fixed(p.per_second * f.shape.candidates, 0) + "\n";
  const int code = Emit(bench, table, json);
  // Calls failed during the measurement (the server stopped, say): the figures stand
  // for less than the run, so the exit says so.
  return code == kExitOk && predict.failed > 0 ? FailureExit(predict.first_error) : code;
}

int RunBenchObserve(BenchContext& bench) {
  const Args& args = bench.args;
  const std::string mode = args.Get("mode").value_or("stream");
  if (mode != "unary" && mode != "stream") {
    return UsageError("--mode must be unary or stream, not \"" + mode + "\"");
  }
  int batch = 0, concurrency = 0, features = 0;
  long long events = 0;
  double duration_s = 10;
  std::string err;
  for (std::string e : {ReadWhole(args, "batch", 256, batch, 1, 100000),
                        ReadWhole(args, "concurrency", 8, concurrency, 1, 10000),
                        ReadWhole(args, "features", 40, features, 5, 40),
                        WholeFlag(args, "events", 0, events, 1),
                        ReadSeconds(args, "duration", duration_s)}) {
    if (err.empty()) err = e;
  }
  if (!err.empty()) return UsageError(err);
  if (events > 0 && args.Has("duration")) {
    return UsageError("--events and --duration exclude each other");
  }
  int code = kExitOk;
  const std::optional<v1::Stats> before = FetchStats(bench.conn, "bench observe", code);
  if (!before) return code;
  const std::vector<grpc::ByteBuffer> requests =
      Buffers(ObserveRequests(batch, features, 8, 2));
  const uint64_t max_requests = events > 0 ? (events + batch - 1) / batch : 0;
  ChannelSet channels(bench.conn, std::min(concurrency, 8));
  const auto start = std::chrono::steady_clock::now();
  LoadResult r;
  if (mode == "unary") {
    ClosedLoopOptions o;
    o.method = kObserveMethod;
    o.requests = &requests;
    o.concurrency = concurrency;
    o.duration_s = events > 0 ? 0 : duration_s;
    o.max_calls = max_requests;
    o.retry_pushback = true;  // a full queue is flow control: sent again, counted
    r = RunClosedLoop(bench.conn, channels, o);
  } else {
    StreamOptions o;
    o.requests = &requests;
    o.streams = concurrency;
    o.duration_s = events > 0 ? 0 : duration_s;
    o.max_requests = max_requests;
    r = RunStreams(bench.conn, channels, o);
  }
  if (r.ok == 0) return bench.conn.Fail("bench observe", r.first_error);
  if (r.failed > 0) {
    BenchWarning("observe", std::to_string(r.failed) + (mode == "unary" ? " calls" : " streams") +
                                " failed, the first: " + StatusText(r.first_error));
  }
  const uint64_t acked = r.ok * batch;
  // Applied: until the updater has trained what was acknowledged (or stops moving).
  const uint64_t target = before->events_applied() + acked;
  v1::Stats after = *before;
  auto last_progress = std::chrono::steady_clock::now();
  while (true) {
    const uint64_t seen = after.events_applied();
    std::optional<v1::Stats> s = FetchStats(bench.conn, "bench observe", code);
    if (!s) return code;
    after = *s;
    const auto now = std::chrono::steady_clock::now();
    if (after.events_applied() >= target) break;
    if (after.events_applied() != seen) last_progress = now;
    if (now - last_progress > std::chrono::seconds(5)) {
      BenchWarning("observe", "applied stopped short of the acknowledged events (a mini-batch "
                              "model waits for --flush_partial_batch_ms?)");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double applied_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t applied = after.events_applied() - before->events_applied();
  const uint64_t wal_syncs = after.wal_syncs() - before->wal_syncs();
  const uint64_t persisted = after.snapshots_persisted() - before->snapshots_persisted();
  // The server does not report its --durability; sync's group commits show as fsyncs
  // beyond one per persisted snapshot.
  const std::string hint = wal_syncs > persisted + 1 ? "sync" : "none or async";
  const LatencySummary lat = Summarize(r.latencies_ns, r.seconds);

  JsonObject json;
  json.Add("bench", "observe").Add("server", bench.conn.target()).Add("mode", mode);
  json.Add("batch", batch).Add("concurrency", concurrency).Add("features", features);
  json.Add("requests", r.ok).Add("failed", r.failed).Add("pushed_back", r.pushed_back);
  json.Add("events_acked", acked).Add("ack_seconds", r.seconds);
  json.Add("acked_per_s", r.seconds > 0 ? acked / r.seconds : 0.0);
  json.Add("events_applied", applied).Add("applied_seconds", applied_s);
  json.Add("applied_per_s", applied_s > 0 ? applied / applied_s : 0.0);
  json.Add("request_latency", lat.ToJson());
  json.AddNull("durability").Add("durability_hint", hint).Add("wal_syncs", wal_syncs);
  json.Add("snapshots_persisted", persisted);
  char head[256];
  std::snprintf(head, sizeof head,
                "bench observe: %s, %d %s, %d events of %d features per request\n\n",
                mode.c_str(), concurrency,
                mode == "unary" ? "calls in flight" : "streams", batch, features);
  const std::string table =
      head +
      Table({{"", "events", "seconds", "events/s"},
             {"acknowledged", std::to_string(acked), Fixed(r.seconds, 2),
              Fixed(r.seconds > 0 ? acked / r.seconds : 0, 0)},
             {"applied (trained)", std::to_string(applied), Fixed(applied_s, 2),
              Fixed(applied_s > 0 ? applied / applied_s : 0, 0)}}) +
      "\nrequest latency (" + (mode == "unary" ? "call" : "write to ack") + "): p50 " +
      Fixed(lat.p50_us) + " us, p90 " + Fixed(lat.p90_us) + " us, p99 " + Fixed(lat.p99_us) +
      " us\ndurability: not reported by the server; " + std::to_string(wal_syncs) +
      " WAL fsyncs during the run (" + hint + ")\n" +
      (r.pushed_back > 0 ? "calls refused with RESOURCE_EXHAUSTED (queue full) and sent again "
                           "after 1 ms: " + std::to_string(r.pushed_back) + "\n"
                         : "");
  const int emitted = Emit(bench, table, json);
  // As for predict: failed measured calls (or streams) make the figures stand for less
  // than the run, so the exit says so (after the table).
  return emitted == kExitOk && r.failed > 0 ? FailureExit(r.first_error) : emitted;
}

int RunBench(const Args& args, Connection& conn, Connection& admin, bool json) {
  const auto& pos = args.positional();
  if (pos.size() != 2) {
    return UsageError("bench takes one of predict, observe, mixed, freshness, swap");
  }
  BenchContext bench{args, conn, admin, json};
  const std::string& what = pos[1];
  // Each subcommand's own flags: one of another subcommand's is a mistake (freshness
  // --observe_rate would silently run at the default --background_rate).
  static const std::vector<std::string> kPredict = {"concurrency", "connections", "duration",
                                                    "candidates", "candidate_features",
                                                    "context_features"};
  std::vector<std::string> own;
  if (what == "predict") {
    own = kPredict;
  } else if (what == "observe") {
    own = {"mode", "batch", "concurrency", "features", "events", "duration"};
  } else if (what == "mixed" || what == "swap") {
    own = kPredict;
    for (const char* f : {"observe_rate", "batch", "features"}) own.push_back(f);
    if (what == "swap") own.push_back("save_interval");
  } else if (what == "freshness") {
    own = {"probes", "background_rate", "probe_timeout", "batch", "features"};
  }
  own.push_back("output");
  if (auto path = args.Get("output"); path && !path->empty()) {
    // Before the run, not after minutes of it: the file must be writable.
    std::ofstream probe(*path, std::ios::app);
    if (!probe) {
      std::fprintf(stderr, "streamrec: bench: cannot write --output %s: %s\n", path->c_str(),
                   std::strerror(errno));
      return kExitInput;
    }
  }
  for (const char* flag : {"concurrency", "connections", "duration", "candidates",
                           "candidate_features", "context_features", "mode", "batch",
                           "features", "events", "observe_rate", "probes", "background_rate",
                           "probe_timeout", "save_interval"}) {
    if (!own.empty() && args.Has(flag) &&
        std::find(own.begin(), own.end(), flag) == own.end()) {
      return UsageError("--" + std::string(flag) + " does not apply to bench " + what +
                        " (`streamrec help bench` lists each one's flags)");
    }
  }
  if (what == "predict") return RunBenchPredict(bench);
  if (what == "observe") return RunBenchObserve(bench);
  if (what == "mixed") return RunBenchMixed(bench);
  if (what == "freshness") return RunBenchFreshness(bench);
  if (what == "swap") return RunBenchSwap(bench);
  return UsageError("unknown bench \"" + what + "\" (predict, observe, mixed, freshness, swap)");
}

}  // namespace streamrec::client
