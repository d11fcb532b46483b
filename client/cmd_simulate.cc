// `streamrec simulate`: a closed-loop simulation against a running server (issue 13).
// Users of a seeded world with hidden preferences (client/simulation_world.h) ask the
// server to rank candidates (Predict, logging the impression), click the shown items
// according to their hidden click probabilities, and report the clicks as joined rewards
// (Observe events with only prediction_id, item id and label). Shown items not clicked
// get an explicit label 0 reward (--negatives explicit, the default), or are left to the
// server's default reward when their join window closes (--negatives default; that
// arrives --join_window later, thousands of rounds at full speed: pace with --rate). It
// prints the cumulative click rate every --report_every rounds, beside what an oracle
// and a random ranking would expect in the same rounds, and writes the curve with --csv.
//
// The policy is the server's (its model config's `exploration`): one run measures one
// policy; compare policies by running the same seed against servers started with
// different configs (scripts/plot_simulation.py draws their --csv curves).
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client/bench_report.h"
#include "client/commands.h"
#include "client/exit_codes.h"
#include "client/flag_values.h"
#include "client/simulation_world.h"
#include "client/words.h"

namespace streamrec::client {
namespace {

constexpr long long kMaxRounds = 100000000;

// Options: the simulation's flags.
struct Options {
  SimulationWorld::Options world;
  long long rounds = 5000;
  long long top_k = 3;
  long long report_every = 0;  // 0: rounds / 10
  bool explicit_negatives = true;  // --negatives explicit (default) | default
  double rate = 0;                  // --rate: rounds per second, 0 = as fast as answered
  std::string csv;    // --csv FILE, "" for none
  std::string label;  // --label NAME, "" for the policy's name
};

std::string ParseOptions(const Args& args, Options& o) {
  long long v = 0;
  struct Whole {
    const char* name;
    long long fallback, min, max;
    long long* out;
  };
  long long segments = 0, categories = 0, items = 0, candidates = 0, fresh = 0, every = 0,
            seed = 0;
  const SimulationWorld::Options d;
  for (const Whole& w : std::vector<Whole>{
           {"rounds", 5000, 1, kMaxRounds, &o.rounds},
           {"seed", 1, 0, std::numeric_limits<long long>::max(), &seed},
           {"segments", d.segments, 1, 100000, &segments},
           {"categories", d.categories, 1, 1000, &categories},
           {"items", d.initial_items, 1, 100000, &items},
           {"candidates", d.candidates, 1, 1000, &candidates},
           {"fresh", d.fresh_slots, 0, 1000, &fresh},
           {"new_item_every", d.new_item_every, 0, kMaxRounds, &every},
           {"top_k", 3, 1, 1000, &o.top_k},
           {"report_every", 0, 0, kMaxRounds, &o.report_every},
       }) {
    if (std::string err = WholeFlag(args, w.name, w.fallback, v, w.min, w.max); !err.empty()) {
      return err;
    }
    *w.out = v;
  }
  if (fresh > candidates) return "--fresh must be at most --candidates";
  if (o.top_k > candidates) return "--top_k must be at most --candidates";
  o.world.segments = static_cast<int>(segments);
  o.world.categories = static_cast<int>(categories);
  o.world.initial_items = static_cast<int>(items);
  o.world.candidates = static_cast<int>(candidates);
  o.world.fresh_slots = static_cast<int>(fresh);
  o.world.new_item_every = static_cast<int>(every);
  o.world.seed = static_cast<uint64_t>(seed);
  for (auto [name, out] : {std::pair{"new_item_boost", &o.world.new_item_boost},
                           std::pair{"appeal_sd", &o.world.appeal_sd},
                           std::pair{"affinity", &o.world.affinity},
                           std::pair{"base_logit", &o.world.base_logit},
                           std::pair{"boost_halflife", &o.world.boost_halflife}}) {
    if (std::string err = NumberFlag(args, name, *out); !err.empty()) return err;
  }
  if (o.world.appeal_sd < 0 || o.world.affinity < 0 || o.world.boost_halflife < 0) {
    return "--appeal_sd, --affinity and --boost_halflife must be >= 0";
  }
  if (std::string err = NumberFlag(args, "rate", o.rate); !err.empty() || o.rate < 0) {
    return err.empty() ? "--rate must be a number of rounds per second >= 0" : err;
  }
  if (o.report_every == 0) o.report_every = std::max(1LL, o.rounds / 10);
  if (auto n = args.Get("negatives")) {
    if (*n != "explicit" && *n != "default") {
      return "--negatives must be explicit or default, not \"" + *n + "\"";
    }
    o.explicit_negatives = *n == "explicit";
  }
  if (auto f = args.Get("csv")) o.csv = *f;
  if (auto l = args.Get("label")) o.label = *l;
  return "";
}

// PolicyName: the server's exploration policy, e.g. "epsilon_greedy(epsilon=0.1)".
std::string PolicyName(const v1::ExplorationConfig& e) {
  char buf[64];
  switch (e.policy()) {
    case v1::ExplorationConfig::EPSILON_GREEDY:
      std::snprintf(buf, sizeof buf, "epsilon_greedy(epsilon=%g)", e.has_epsilon() ? e.epsilon() : 0.1);
      return buf;
    case v1::ExplorationConfig::SOFTMAX:
      std::snprintf(buf, sizeof buf, "softmax(temperature=%g)",
                    e.has_temperature() ? e.temperature() : 0.1);
      return buf;
    default:
      return "greedy";
  }
}

// Totals: cumulative counts over the rounds so far.
struct Totals {
  int64_t rounds = 0, impressions = 0, clicks = 0, new_impressions = 0;
  double expected = 0;  // sum of the shown items' click probabilities
  double oracle = 0;    // sum of the best top_k probabilities of each round
  double random = 0;    // sum of top_k x the mean candidate probability
  double propensity = 0;  // sum of the shown items' propensities (those that carry one)
  int64_t propensities = 0;
  uint64_t rewards_sent = 0, rewards_joined = 0, rewards_dropped = 0;
};

double Rate(double num, int64_t den) { return den > 0 ? num / den : 0; }

// Point: one report row of the curve.
struct Point {
  int64_t round = 0, impressions = 0, clicks = 0;
  double click_rate = 0, window_click_rate = 0, expected_click_rate = 0, oracle_click_rate = 0,
         random_click_rate = 0, window_new_share = 0;
  int64_t new_items_arrived = 0, new_items_shown = 0;
  uint64_t model_version = 0;

  JsonObject ToJson() const {
    JsonObject o;
    o.Add("round", round).Add("impressions", impressions).Add("clicks", clicks)
        .Add("click_rate", click_rate).Add("window_click_rate", window_click_rate)
        .Add("expected_click_rate", expected_click_rate)
        .Add("oracle_click_rate", oracle_click_rate).Add("random_click_rate", random_click_rate)
        .Add("window_new_share", window_new_share).Add("new_items_arrived", new_items_arrived)
        .Add("new_items_shown", new_items_shown).Add("model_version", model_version);
    return o;
  }
};

constexpr char kCsvHeader[] =
    "label,policy,seed,round,impressions,clicks,click_rate,window_click_rate,"
    "expected_click_rate,oracle_click_rate,random_click_rate,window_new_share,"
    "new_items_arrived,new_items_shown,model_version\n";

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string CsvRow(const std::string& label, const std::string& policy, uint64_t seed,
                   const Point& p) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                ",%" PRIu64 ",%" PRId64 ",%" PRId64 ",%" PRId64
                ",%.6f,%.6f,%.6f,%.6f,%.6f,%.4f,%" PRId64 ",%" PRId64 ",%" PRIu64 "\n",
                seed, p.round, p.impressions, p.clicks, p.click_rate, p.window_click_rate,
                p.expected_click_rate, p.oracle_click_rate, p.random_click_rate,
                p.window_new_share, p.new_items_arrived, p.new_items_shown, p.model_version);
  return CsvField(label) + "," + CsvField(policy) + buf;
}

std::string TextRow(const Point& p) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%9" PRId64 " %11" PRId64 " %8" PRId64 "  %10.4f  %7.4f  %8.4f  %7.4f  %7.4f  "
                "%9.3f  %" PRId64 "/%" PRId64 "\n",
                p.round, p.impressions, p.clicks, p.click_rate, p.window_click_rate,
                p.expected_click_rate, p.oracle_click_rate, p.random_click_rate,
                p.window_new_share, p.new_items_shown, p.new_items_arrived);
  return buf;
}

constexpr char kTextHeader[] =
    "    round impressions   clicks  click_rate   window  expected   oracle   random  "
    "new_share  new_shown\n";

}  // namespace

int RunSimulate(const Args& args, Connection& conn, bool json) {
  Options o;
  if (std::string err = ParseOptions(args, o); !err.empty()) return UsageError(err);

  v1::ModelInfo info;
  if (grpc::Status s = conn.admin().GetModelInfo(conn.Context().get(), v1::GetModelInfoRequest(),
                                                  &info);
      !s.ok()) {
    return conn.Fail("simulate: GetModelInfo", s);
  }
  const std::string policy = PolicyName(info.config().exploration());
  const std::string label = o.label.empty() ? policy : o.label;

  std::ofstream csv;
  if (!o.csv.empty()) {
    csv.open(o.csv, std::ios::trunc);
    if (!csv) {
      std::fprintf(stderr, "streamrec: simulate: cannot write %s (--csv)\n", o.csv.c_str());
      return kExitInput;
    }
    csv << kCsvHeader;
  }

  SimulationWorld world(o.world);
  const std::string negatives = o.explicit_negatives
                                    ? "label 0 sent for shown items not clicked"
                                    : "shown items not clicked get the server's default reward";
  if (!json) {
    std::printf("simulate: %lld rounds against %s, policy %s, seed %" PRIu64 "\n", o.rounds,
                conn.target().c_str(), policy.c_str(), o.world.seed);
    std::printf("world: %d segments, %d categories, %d items", o.world.segments,
                o.world.categories, o.world.initial_items);
    if (o.world.new_item_every > 0) {
      std::printf(" + 1 new every %d rounds (appeal +%g)", o.world.new_item_every,
                  o.world.new_item_boost);
    }
    std::printf("; %d candidates (the %d newest), top_k %lld\nrewards: clicks as label 1, "
                "joined by prediction_id; %s\n\n%s",
                o.world.candidates, o.world.fresh_slots, o.top_k, negatives.c_str(),
                kTextHeader);
    std::fflush(stdout);
  }

  Totals t, window_start;
  std::vector<Point> curve;
  std::vector<bool> shown_ever;
  uint64_t model_version = 0;
  const auto start = std::chrono::steady_clock::now();
  for (long long r = 0; r < o.rounds; ++r) {
    if (o.rate > 0) {
      std::this_thread::sleep_until(start + std::chrono::duration<double>(r / o.rate));
    }
    const SimulationWorld::Round round = world.NextRound();
    v1::PredictRequest request;
    (*request.mutable_context()->mutable_values())["segment"].set_category(round.segment_id);
    for (int i : round.candidates) {
      v1::Item* item = request.add_candidates();
      item->set_id(world.items()[i].id);
      (*item->mutable_features()->mutable_values())["category"].set_category(
          world.items()[i].category);
    }
    request.set_top_k(static_cast<uint32_t>(o.top_k));
    request.set_log_impression(true);
    v1::PredictResponse response;
    if (grpc::Status s = conn.recommender().Predict(conn.Context().get(), request, &response);
        !s.ok()) {
      return conn.Fail("simulate: predict (round " + std::to_string(round.number) + ")", s);
    }
    if (!response.impression_logged()) {
      std::fprintf(stderr,
                   "streamrec: simulate: the server did not log the impression of round %" PRId64
                   " (PredictResponse.impression_logged is false, the request set "
                   "log_impression): rewards cannot be joined; this needs a server with "
                   "impression logging (README \"Joined rewards\")\n",
                   round.number);
      return kExitServer;
    }
    model_version = response.model_version();

    v1::ObserveRequest rewards;
    t.oracle += world.OracleClicks(round, static_cast<int>(o.top_k));
    t.random += std::min<double>(o.top_k, round.candidates.size()) * world.MeanProbability(round);
    for (const v1::ScoredItem& scored : response.items()) {
      if (scored.index() >= round.candidates.size()) {
        std::fprintf(stderr, "streamrec: simulate: Predict returned index %u of %zu candidates\n",
                     scored.index(), round.candidates.size());
        return kExitServer;
      }
      const int item = round.candidates[scored.index()];
      if (shown_ever.size() <= static_cast<size_t>(item)) shown_ever.resize(item + 1, false);
      shown_ever[item] = true;
      ++t.impressions;
      if (world.items()[item].is_new()) ++t.new_impressions;
      if (scored.has_propensity()) {
        t.propensity += scored.propensity();
        ++t.propensities;
      }
      t.expected += world.Probability(round.segment, item);
      const bool clicked = world.Click(round.segment, item);
      t.clicks += clicked;
      if (clicked || o.explicit_negatives) {
        v1::Event* e = rewards.add_events();
        e->set_prediction_id(response.prediction_id());
        e->mutable_item()->set_id(scored.id());
        e->set_label(clicked ? 1 : 0);
      }
    }
    ++t.rounds;
    if (rewards.events_size() > 0) {
      v1::ObserveResponse ack;
      if (grpc::Status s = conn.recommender().Observe(conn.Context().get(), rewards, &ack);
          !s.ok()) {
        return conn.Fail("simulate: observe (round " + std::to_string(round.number) + ")", s);
      }
      t.rewards_sent += rewards.events_size();
      t.rewards_joined += ack.rewards_joined();
      t.rewards_dropped += ack.rewards_dropped();
    }

    if (t.rounds % o.report_every == 0 || t.rounds == o.rounds) {
      Point p;
      p.round = t.rounds;
      p.impressions = t.impressions;
      p.clicks = t.clicks;
      p.click_rate = Rate(t.clicks, t.impressions);
      p.window_click_rate = Rate(t.clicks - window_start.clicks,
                                 t.impressions - window_start.impressions);
      p.expected_click_rate = Rate(t.expected, t.impressions);
      p.oracle_click_rate = Rate(t.oracle, t.impressions);
      p.random_click_rate = Rate(t.random, t.impressions);
      p.window_new_share = Rate(t.new_impressions - window_start.new_impressions,
                                t.impressions - window_start.impressions);
      for (size_t i = 0; i < world.items().size(); ++i) {
        if (!world.items()[i].is_new()) continue;
        ++p.new_items_arrived;
        if (i < shown_ever.size() && shown_ever[i]) ++p.new_items_shown;
      }
      p.model_version = model_version;
      curve.push_back(p);
      window_start = t;
      if (csv.is_open()) csv << CsvRow(label, policy, o.world.seed, p);
      if (!json) {
        std::fputs(TextRow(p).c_str(), stdout);
        std::fflush(stdout);
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (csv.is_open()) {
    csv.close();
    if (!csv) {
      std::fprintf(stderr, "streamrec: simulate: writing %s failed (--csv)\n", o.csv.c_str());
      return kExitInput;
    }
  }

  const Point& last = curve.back();
  const bool joined_none = t.rewards_sent > 0 && t.rewards_joined == 0;
  if (json) {
    JsonObject world_json;
    world_json.Add("segments", o.world.segments).Add("categories", o.world.categories)
        .Add("items", o.world.initial_items).Add("new_item_every", o.world.new_item_every)
        .Add("new_item_boost", o.world.new_item_boost).Add("candidates", o.world.candidates)
        .Add("fresh", o.world.fresh_slots).Add("appeal_sd", o.world.appeal_sd)
        .Add("affinity", o.world.affinity).Add("base_logit", o.world.base_logit)
        .Add("boost_halflife", o.world.boost_halflife);
    JsonObject out;
    out.Add("policy", policy).Add("label", label).Add("server", conn.target())
        .Add("seed", static_cast<uint64_t>(o.world.seed)).Add("rounds", static_cast<int64_t>(o.rounds))
        .Add("top_k", static_cast<int64_t>(o.top_k))
        .Add("negatives", o.explicit_negatives ? "explicit" : "default")
        .Add("rate", o.rate)
        .Add("world", world_json).Add("final", last.ToJson())
        .Add("mean_propensity", t.propensities > 0
                                    ? std::optional<double>(Rate(t.propensity, t.propensities))
                                    : std::nullopt)
        .Add("rewards", JsonObject()
                            .Add("sent", t.rewards_sent)
                            .Add("joined", t.rewards_joined)
                            .Add("dropped", t.rewards_dropped))
        .Add("seconds", seconds).Add("rounds_per_s", seconds > 0 ? o.rounds / seconds : 0.0);
    std::string text = out.Text();
    text.pop_back();  // the closing brace: the curve (an array) follows
    text += ",\"curve\":[";
    for (size_t i = 0; i < curve.size(); ++i) text += (i ? "," : "") + curve[i].ToJson().Text();
    std::printf("%s]}\n", text.c_str());
  } else {
    std::printf("\nfinal: click rate %.4f (%s of %s) with policy %s; an oracle would expect "
                "%.4f, a random ranking %.4f\n",
                last.click_rate, Counted(last.clicks, "click").c_str(),
                Counted(last.impressions, "impression").c_str(), policy.c_str(),
                last.oracle_click_rate, last.random_click_rate);
    std::printf("new items: %" PRId64 " of %" PRId64 " ever shown; rewards: %s sent, %" PRIu64
                " joined, %" PRIu64 " dropped; %.1f s (%.0f rounds/s)\n",
                last.new_items_shown, last.new_items_arrived,
                Counted(t.rewards_sent, "event").c_str(), t.rewards_joined, t.rewards_dropped,
                seconds, seconds > 0 ? o.rounds / seconds : 0.0);
  }
  if (t.rewards_dropped > 0) {
    std::fprintf(stderr,
                 "streamrec: simulate: the server dropped %" PRIu64 " of %" PRIu64
                 " rewards (ObserveResponse.rewards_dropped; `streamrec stats` counts them "
                 "by reason)\n",
                 t.rewards_dropped, t.rewards_sent);
  }
  if (joined_none) {
    std::fprintf(stderr,
                 "streamrec: simulate: the server joined none of the %" PRIu64
                 " rewards (ObserveResponse.rewards_joined is 0): the model did not learn "
                 "from them\n",
                 t.rewards_sent);
    return kExitServer;
  }
  return kExitOk;
}

}  // namespace streamrec::client
