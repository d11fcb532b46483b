// `streamrec bench mixed|swap|freshness`: Predict latency without and with background
// work in one run (mixed: training at a fixed Observe rate; swap: that plus SaveSnapshot
// calls on the admin port, so snapshots are published and persisted), and freshness:
// the time from an Observe's acknowledgement until Predict reflects it.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

#include "client/bench_cli.h"
#include "client/commands.h"
#include "client/exit_codes.h"

namespace streamrec::client {
namespace {

using Clock = std::chrono::steady_clock;

// Background Observe traffic of the phases.
struct IngestFlags {
  double rate = 10000;  // events/s
  int batch = 256, features = 40;
};

std::string ReadIngestFlags(const Args& args, const std::string& rate_flag, IngestFlags& out) {
  std::string err;
  for (std::string e : {ReadRate(args, rate_flag, out.rate, out.rate),
                        ReadWhole(args, "batch", out.batch, out.batch, 1, 100000),
                        ReadWhole(args, "features", out.features, out.features, 5, 40)}) {
    if (err.empty()) err = e;
  }
  return err;
}

// Ingest: PacedLoad of Observe requests at IngestFlags' rate, on a connection of its own.
class Ingest {
 public:
  Ingest(Connection& conn, const IngestFlags& f)
      : batch_(f.batch), requests_(Buffers(ObserveRequests(f.batch, f.features, 8, 3))),
        channels_(conn, 1),
        load_(conn, channels_, kObserveMethod, &requests_, f.rate / f.batch) {}
  void Stop() { load_.Stop(); }
  double events_per_s() const {
    return load_.seconds() > 0 ? load_.ok() * batch_ / load_.seconds() : 0;
  }
  JsonObject ToJson() const {
    JsonObject o;
    o.Add("events_per_s", events_per_s()).Add("requests", load_.ok());
    o.Add("failed", load_.failed()).Add("skipped", load_.skipped());
    return o;
  }
  uint64_t failed() const { return load_.failed(); }
  grpc::Status first_error() const { return load_.first_error(); }
  void WarnFailures(const std::string& name) const {
    if (load_.failed() > 0) {
      BenchWarning(name, std::to_string(load_.failed()) + " Observe calls failed, the first: " +
                             StatusText(load_.first_error()));
    }
  }

 private:
  const int batch_;
  const std::vector<grpc::ByteBuffer> requests_;
  ChannelSet channels_;
  PacedLoad load_;
};

// Saver: SaveSnapshot on the admin port every `interval_s` until Stop.
class Saver {
 public:
  Saver(Connection& admin, double interval_s)
      : thread_([this, &admin, interval_s] {
          while (!stop_.load()) {
            v1::SaveSnapshotResponse resp;
            grpc::Status s = admin.admin().SaveSnapshot(admin.Context().get(),
                                                        v1::SaveSnapshotRequest(), &resp);
            if (s.ok()) {
              ++ok_;
            } else if (failed_++ == 0) {
              first_error_ = s;
            }
            const Clock::time_point next = Clock::now() +
                std::chrono::microseconds(static_cast<int64_t>(interval_s * 1e6));
            while (!stop_.load() && Clock::now() < next) {
              std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
          }
        }) {}
  ~Saver() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  // After Stop:
  uint64_t ok() const { return ok_; }
  uint64_t failed() const { return failed_; }
  const grpc::Status& first_error() const { return first_error_; }

 private:
  std::atomic<bool> stop_{false};
  uint64_t ok_ = 0, failed_ = 0;  // written by the thread until Stop
  grpc::Status first_error_;
  std::thread thread_;  // last: starts once the rest is built
};

// TwoPhases: Predict at fixed concurrency idle, then with ingest (and saves for swap).
int TwoPhases(BenchContext& bench, const std::string& name, bool saves) {
  PredictLoadFlags f;
  IngestFlags ingest_flags;
  double save_interval_s = 1;
  std::string err = ReadPredictLoadFlags(bench.args, f);
  if (err.empty()) err = ReadIngestFlags(bench.args, "observe_rate", ingest_flags);
  if (err.empty() && saves) err = ReadSeconds(bench.args, "save_interval", save_interval_s);
  if (!err.empty()) return UsageError(err);
  const std::vector<grpc::ByteBuffer> requests = Buffers(PredictRequests(f.shape, DistinctPredictRequests(f.shape), 1));
  ChannelSet channels(bench.conn, f.connections);
  ClosedLoopOptions o;
  o.method = kPredictMethod;
  o.requests = &requests;
  o.concurrency = f.concurrency;
  o.warmup_s = std::min(1.0, 0.1 * f.duration_s);
  o.duration_s = f.duration_s;
  LoadResult idle = RunClosedLoop(bench.conn, channels, o);
  if (idle.latencies_ns.empty()) return bench.conn.Fail("bench " + name, idle.first_error);
  int code = kExitOk;
  const std::optional<v1::Stats> before = FetchStats(bench.conn, "bench " + name, code);
  if (!before) return code;

  Ingest ingest(bench.conn, ingest_flags);
  std::unique_ptr<Saver> saver;
  if (saves) saver = std::make_unique<Saver>(bench.admin, save_interval_s);
  o.warmup_s = std::max(o.warmup_s, 0.5);  // the ingest settles first
  LoadResult busy = RunClosedLoop(bench.conn, channels, o);
  ingest.Stop();
  if (saver) saver->Stop();
  const std::optional<v1::Stats> after = FetchStats(bench.conn, "bench " + name, code);
  if (!after) return code;
  if (busy.latencies_ns.empty()) return bench.conn.Fail("bench " + name, busy.first_error);
  ingest.WarnFailures(name);
  if (saver && saver->failed() > 0) {
    BenchWarning(name, std::to_string(saver->failed()) + " SaveSnapshot calls failed, the " +
                           "first: " + StatusText(saver->first_error()) +
                           " (--admin_server names the admin port)");
  }
  const LatencySummary a = Summarize(idle.latencies_ns, idle.seconds);
  const LatencySummary b = Summarize(busy.latencies_ns, busy.seconds);
  const uint64_t publications = after->publications() - before->publications();
  const uint64_t persisted = after->snapshots_persisted() - before->snapshots_persisted();
  const std::string busy_name = saves ? "swapping" : "training";

  JsonObject json;
  json.Add("bench", name).Add("server", bench.conn.target());
  json.Add("concurrency", f.concurrency).Add("connections", f.connections);
  json.Add("candidates", f.shape.candidates).Add("candidate_features", f.shape.candidate_features);
  json.Add("context_features", f.shape.context_features).Add("duration_s", f.duration_s);
  json.Add("observe_rate", ingest_flags.rate).Add("batch", ingest_flags.batch);
  json.Add("idle", a.ToJson()).Add(busy_name, b.ToJson());
  json.Add("observe", ingest.ToJson());
  json.Add("publications", publications).Add("snapshots_persisted", persisted);
  if (saver) json.Add("saves", saver->ok()).Add("save_interval_s", save_interval_s);
  // No ratio when the busy phase did not do what it compares against: no Observe was
  // acknowledged (refused, say, for a token without the observe role), or, for swap, no
  // SaveSnapshot succeeded.
  const bool measured = ingest.events_per_s() > 0 && (!saver || saver->ok() > 0);
  const auto ratio = [&](double b_us, double a_us) { return measured && a_us > 0 ? b_us / a_us : NAN; };
  json.Add("p50_ratio", ratio(b.p50_us, a.p50_us));
  json.Add("p99_ratio", ratio(b.p99_us, a.p99_us));
  json.Add("p999_ratio", ratio(b.p999_us, a.p999_us));
  char head[512];
  std::snprintf(head, sizeof head,
                "bench %s: Predict, %d calls in flight, %d candidates; idle, then with Observe "
                "at %g events/s%s; %g s per phase\n\n",
                name.c_str(), f.concurrency, f.shape.candidates, ingest_flags.rate,
                saves ? " and SaveSnapshot on the admin port" : "", f.duration_s);
  std::string table = head + Table({LatencyHeader("phase", "calls/s"),
                                    LatencyRow("idle (baseline)", a),
                                    LatencyRow(busy_name, b),
                                    {"ratio", Ratio(ratio(b.per_second, a.per_second)),
                                     Ratio(ratio(b.p50_us, a.p50_us)),
                                     Ratio(ratio(b.p90_us, a.p90_us)),
                                     Ratio(ratio(b.p99_us, a.p99_us)),
                                     Ratio(ratio(b.p999_us, a.p999_us)),
                                     Ratio(ratio(b.max_us, a.max_us))}});
  table += "\nduring " + busy_name + ": Observe " + Fixed(ingest.events_per_s(), 0) +
           " events/s acknowledged, " + std::to_string(publications) + " snapshots published, " +
           std::to_string(persisted) + " persisted";
  if (saver) table += " (" + std::to_string(saver->ok()) + " SaveSnapshot calls)";
  if (!measured) table += "\nno ratio: the " + busy_name + " phase did no work (see the warnings)";
  const int emitted = Emit(bench, table + "\n", json);
  if (emitted != kExitOk) return emitted;
  // Measured calls that failed, or a busy phase that did no work, fail the run; a
  // background call refused now and then (a save while one is being written, a full
  // queue) is only warned about.
  if (busy.failed > 0) return FailureExit(busy.first_error);
  if (!measured) {
    return FailureExit(ingest.events_per_s() > 0 ? saver->first_error() : ingest.first_error());
  }
  return kExitOk;
}

double Logit(double p) {
  p = std::clamp(p, 1e-15, 1 - 1e-15);
  return std::log(p / (1 - p));
}

}  // namespace

int RunBenchMixed(BenchContext& bench) { return TwoPhases(bench, "mixed", false); }
int RunBenchSwap(BenchContext& bench) { return TwoPhases(bench, "swap", true); }

int RunBenchFreshness(BenchContext& bench) {
  IngestFlags ingest_flags;
  int probes = 0;
  double timeout_s = 10;
  std::string err = ReadIngestFlags(bench.args, "background_rate", ingest_flags);
  if (err.empty()) err = ReadWhole(bench.args, "probes", 100, probes, 1, 100000);
  if (err.empty()) err = ReadSeconds(bench.args, "probe_timeout", timeout_s);
  if (!err.empty()) return UsageError(err);
  Connection& conn = bench.conn;
  std::unique_ptr<Ingest> ingest;
  if (ingest_flags.rate > 0) {
    ingest = std::make_unique<Ingest>(conn, ingest_flags);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  // Each probe: a new item P and a reference item R, both unseen. The difference of
  // their logits is P's own weight (for a linear or FM model without context): the
  // bias, which the background traffic moves, cancels. One positive event for P, then
  // Predict until the difference moves.
  const std::string run = std::to_string(
      std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
  std::mt19937_64 rng(12345);
  std::vector<int64_t> fresh_ns;
  uint64_t timeouts = 0, polls = 0;
  for (int i = 0; i < probes; ++i) {
    const std::string p = "bench-fresh-" + run + "-" + std::to_string(i);
    const std::string r = "bench-ref-" + run + "-" + std::to_string(i);
    v1::PredictRequest req;
    req.add_candidates()->set_id(p);
    req.add_candidates()->set_id(r);
    auto diff = [&](double& out) {
      v1::PredictResponse resp;
      grpc::Status s = conn.recommender().Predict(conn.Context().get(), req, &resp);
      if (!s.ok()) return s;
      if (resp.items_size() != 2) {
        return grpc::Status(grpc::StatusCode::INTERNAL, "Predict did not score both items");
      }
      const v1::ScoredItem& a = resp.items(0).index() == 0 ? resp.items(0) : resp.items(1);
      const v1::ScoredItem& b = resp.items(0).index() == 0 ? resp.items(1) : resp.items(0);
      out = Logit(a.score()) - Logit(b.score());
      return grpc::Status::OK;
    };
    double before = 0, now = 0;
    if (grpc::Status s = diff(before); !s.ok()) return conn.Fail("bench freshness: predict", s);
    v1::ObserveRequest obs;
    v1::Event* e = obs.add_events();
    e->mutable_item()->set_id(p);
    e->set_label(1);
    v1::ObserveResponse ack;
    if (grpc::Status s = conn.recommender().Observe(conn.Context().get(), obs, &ack); !s.ok()) {
      return conn.Fail("bench freshness: observe", s);
    }
    const Clock::time_point acked = Clock::now();
    const auto limit = std::chrono::duration<double>(timeout_s);
    bool reflected = false;
    Clock::duration took{};
    while (Clock::now() - acked < limit) {
      if (grpc::Status s = diff(now); !s.ok()) return conn.Fail("bench freshness: predict", s);
      ++polls;
      if (std::abs(now - before) > 1e-9) {
        took = Clock::now() - acked;
        reflected = took <= limit;  // a poll that answers after the limit is a timeout
        break;
      }
    }
    if (reflected) {
      fresh_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
    } else {
      ++timeouts;
    }
    // A random pause, so the probes fall at every phase of the publication interval.
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
  }
  if (ingest) {
    ingest->Stop();
    ingest->WarnFailures("freshness");
  }
  if (timeouts > 0) {
    BenchWarning("freshness", std::to_string(timeouts) + " probes were not reflected within " +
                                  Fixed(timeout_s, timeout_s < 0.1 ? 4 : 1) +
                                  " s (--probe_timeout)");
  }
  const LatencySummary s = Summarize(fresh_ns, 0);
  JsonObject json;
  json.Add("bench", "freshness").Add("server", conn.target()).Add("probes", probes);
  json.Add("reflected", uint64_t{fresh_ns.size()}).Add("timeouts", timeouts);
  json.Add("predict_polls", polls);
  if (fresh_ns.empty()) {  // no sample: no percentile
    json.AddNull("p50_ms").AddNull("p90_ms").AddNull("p99_ms").AddNull("mean_ms").AddNull("max_ms");
  } else {
    json.Add("p50_ms", s.p50_us / 1e3).Add("p90_ms", s.p90_us / 1e3).Add("p99_ms", s.p99_us / 1e3);
    json.Add("mean_ms", s.mean_us / 1e3).Add("max_ms", s.max_us / 1e3);
  }
  json.Add("background_rate", ingest_flags.rate);
  if (ingest) {
    json.Add("background", ingest->ToJson());
  } else {
    json.AddNull("background");
  }
  char head[256];
  std::snprintf(head, sizeof head,
                "bench freshness: %d probes, Observe acknowledged -> Predict reflects it, "
                "background ingest %g events/s (achieved %.0f)\n\n",
                probes, ingest_flags.rate, ingest ? ingest->events_per_s() : 0.0);
  const std::string table =
      head + Table({{"probes reflected", "p50 ms", "p90 ms", "p99 ms", "max ms", "timeouts"},
                    fresh_ns.empty()
                        ? std::vector<std::string>{"0", "-", "-", "-", "-",
                                                   std::to_string(timeouts)}
                        : std::vector<std::string>{std::to_string(fresh_ns.size()),
                                                   Fixed(s.p50_us / 1e3, 2),
                                                   Fixed(s.p90_us / 1e3, 2),
                                                   Fixed(s.p99_us / 1e3, 2),
                                                   Fixed(s.max_us / 1e3, 2),
                                                   std::to_string(timeouts)}});
  // Every probe must be reflected: a timed-out one is a freshness beyond --probe_timeout.
  const int emitted = Emit(bench, table, json);
  if (emitted != kExitOk) return emitted;
  return timeouts > 0 ? kExitServer : kExitOk;
}

}  // namespace streamrec::client
