#include "client/usage.h"

namespace streamrec::client {
namespace {

constexpr char kGlobal[] =
    "usage: streamrec [--server HOST:PORT] [--timeout SECONDS] [--json] "
    "[--json_ints_as_numbers]\n"
    "                 [--tls] [--ca FILE] [--cert FILE --key FILE] [--token_file FILE]\n"
    "                 [--admin_server HOST:PORT] COMMAND ...\n";

constexpr char kFooter[] = R"(
values: numbers are recognised, a|b is multi-valued, [0.1,0.2] a vector, else a category;
        name:=value is always the one category "value" (user:=007).
flags: --name value or --name=value; snake_case (--skip_bad; --skip-bad is the same flag).
--server defaults to localhost:50051 (or $STREAMREC_SERVER); --timeout to 10 s.
--admin_server (snapshots save, rollback, export, import: the server's admin port)
        defaults to the --server host with port 50052 (or $STREAMREC_ADMIN_SERVER).
--tls: TLS to the server ($STREAMREC_TLS=1); --ca FILE its CA ($STREAMREC_CA, else the
        system's); --cert FILE --key FILE a client certificate for mutual TLS
        ($STREAMREC_CERT, $STREAMREC_KEY); --ca, --cert, --key imply --tls.
--token_file FILE: send the bearer token it holds on every call ($STREAMREC_TOKEN holds
        the token itself).
`streamrec help COMMAND` (or COMMAND --help, -h) prints one command's usage;
`streamrec --version` the version.
--json_ints_as_numbers: --json with 64-bit integers as JSON numbers, not strings
        (exact digits; JavaScript's numbers round integers beyond 2^53).
exit codes: 0 ok, 2 usage, 3 server unreachable or deadline passed, 4 server error,
            5 a file cannot be read or written, or its input is malformed.
)";

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"predict",
       "  predict [name=value ...] --item ID[,name=value...] [--item ...] [--top_k N]\n"
       "  predict --request JSON|@FILE|- [--top_k N]  a PredictRequest in JSON\n"
       "          --top_k N: the N best items (whole number; 0 = all)\n",
       {"item", "top_k", "request"}, true},
      {"observe",
       "  observe [name=value ...] --item ID[,name=value...] --label L [--weight W]\n"
       "          [--event_id ID] [--prediction_id ID] [--no_event_ids]\n"
       "  observe --request JSON|@FILE|-              an ObserveRequest or one Event in JSON\n"
       "          an event without --event_id gets a random one (not with --no_event_ids)\n",
       {"item", "label", "weight", "event_id", "prediction_id", "request", "no_event_ids"}, true},
      {"health", "  health                                      health of the server, "
                 "Recommender and Ingest\n",
       {}, false},
      {"info", "  info                                        the served model: kind, "
               "optimizer, version\n",
       {}, false},
      {"stats",
       "  stats [--watch] [--count N]                 counters and progressive metrics "
       "(GetStats);\n"
       "                                              --watch every second, --count N times\n",
       {"watch", "count"}, false},
      {"replay",
       "  replay FILE|- [--format jsonl|criteo|csv] [--batch N] [--rate N] [--report FILE.json]\n"
       "                [--report_every N] [--skip_bad] [--quiet] [--skip_header]\n"
       "                [--resume_from LINE] [--run_id ID | --no_event_ids]\n"
       "                [--label COLUMN] [--item COLUMN] [--numeric COL,COL...]   (csv)\n"
       "          --skip_bad: skip malformed lines and events the server rejects\n"
       "          --resume_from LINE: skip the lines before LINE (the first unacknowledged\n"
       "          line a replay ended by the server's shutdown prints)\n"
       "          each event without an event_id gets RUN:LINE, RUN a new run id (printed)\n"
       "          --run_id ID: reuse an earlier run's id (resent lines are not trained twice)\n"
       "          --no_event_ids: send no event ids (every replay trains again)\n",
       {"format", "batch", "rate", "report", "report_every", "skip_bad", "quiet", "skip_header",
        "label", "item", "numeric", "resume_from", "run_id", "no_event_ids"},
       true},
      {"generate",
       "  generate [--n N] [--seed S] [--format jsonl|criteo] [--output FILE]\n"
       "           [--layout users] [--users U] [--items I]        user x item (default)\n"
       "           --layout criteo [--features 5..40] [--items I] [--unscaled]\n"
       "                                              click-log shape: 13 numeric, 26 "
       "categorical\n",
       {"n", "seed", "users", "items", "format", "output", "layout", "features", "unscaled"},
       false},
      {"evaluate",
       "  evaluate --synthetic [--rounds N] [--seed S] [--format text|json]\n"
       "          IPS, SNIPS, DR and naive estimates of a target policy's click rate from\n"
       "          uniform-random logs of a simulator, against its true click rate\n"
       "          (--rounds default 200000, --seed default 3)\n"
       "  evaluate --obd ROOT | --obd_logged DIR --obd_target DIR [--campaign NAME ...]\n"
       "          Open Bandit Dataset: the target's (ROOT/bts) click rate estimated from the\n"
       "          logger's log (ROOT/random), beside its on-policy click rate, per campaign\n"
       "          (all, men, women: each found as DIR/NAME/NAME.csv)\n",
       {"synthetic", "rounds", "seed", "format", "obd", "obd_logged", "obd_target", "campaign"},
       false},
      {"simulate",
       "  simulate [--rounds N] [--seed S] [--top_k K] [--report_every N] [--csv FILE]\n"
       "           [--label NAME] [--negatives explicit|default] [--rate ROUNDS/S]\n"
       "           [--segments U] [--categories C] [--items I] [--candidates N] [--fresh N]\n"
       "           [--new_item_every N] [--new_item_boost X] [--boost_halflife N]\n"
       "           [--appeal_sd X] [--affinity X] [--base_logit X]\n"
       "          closed loop against the server: seeded users with hidden preferences\n"
       "          Predict (impressions logged), click, and report clicks as joined rewards\n"
       "          (prediction_id, item, label); cumulative click rate every N rounds beside\n"
       "          an oracle's and a random ranking's. The policy is the server's (its model\n"
       "          config's exploration). Defaults: 5000 rounds, seed 1, top_k 3; 4 segments,\n"
       "          4 categories; the candidates are the 10 newest items, one new every 100\n"
       "          rounds, its appeal +2 (logit) halving every 500 rounds. --negatives\n"
       "          explicit (default) sends label 0 for shown items not clicked; default\n"
       "          leaves them to the server's default reward (after its join window: pace\n"
       "          the rounds with --rate)\n",
       {"rounds", "seed", "top_k", "report_every", "csv", "label", "negatives", "rate",
        "segments", "categories", "items", "candidates", "fresh", "new_item_every",
        "new_item_boost", "boost_halflife", "appeal_sd", "affinity", "base_logit"},
       false},
      {"snapshots",
       "  snapshots list | save | rollback VERSION | export FILE [--version V] | import FILE\n"
       "          list asks --server; the others the admin port (--admin_server)\n",
       {"version"}, true},
      {"bench",
       "  bench predict [--concurrency N] [--connections N] [--duration S] [--candidates N]\n"
       "                [--candidate_features N] [--context_features N]\n"
       "          Predict QPS and p50/p90/p99/p99.9 latency, then the no-op Bench/Echo with\n"
       "          the same request and response sizes (served with the server flag\n"
       "          bench_service): the ratio predict_qps / noop_qps\n"
       "  bench observe [--mode unary|stream] [--batch N] [--concurrency N] [--features N]\n"
       "                [--events N | --duration S]\n"
       "          events/s acknowledged and applied (trained), 40-feature click-log events\n"
       "  bench mixed [predict's flags] [--observe_rate EVENTS/S] [--batch N] [--features N]\n"
       "          Predict latency idle, then while Observe trains at a fixed rate\n"
       "  bench freshness [--probes N] [--background_rate EVENTS/S] [--probe_timeout S]\n"
       "          from an Observe's acknowledgement until Predict reflects it, p50/p99\n"
       "  bench swap [predict's flags] [--observe_rate EVENTS/S] [--save_interval S]\n"
       "          Predict latency idle, then while snapshots are published (Observe) and\n"
       "          persisted (SaveSnapshot on --admin_server)\n"
       "  bench ... [--output FILE.json]              also write the JSON to FILE; --duration\n"
       "          is per phase (default 10 s), --concurrency the calls (streams) in flight\n",
       {"concurrency", "connections", "duration", "candidates", "candidate_features",
        "context_features", "mode", "batch", "features", "events", "observe_rate", "probes",
        "background_rate", "probe_timeout", "save_interval", "output"},
       true},
  };
  return *commands;
}

const CommandSpec* FindCommand(const std::string& name) {
  for (const CommandSpec& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const std::set<std::string>& GlobalFlags() {
  static const auto* flags = new std::set<std::string>{
      "server", "timeout", "json", "json_ints_as_numbers", "help", "admin_server",
      "tls", "ca", "cert", "key", "token_file"};
  return *flags;
}

const std::set<std::string>& BooleanFlags() {
  static const auto* flags = new std::set<std::string>{
      "json", "json_ints_as_numbers", "watch", "skip_bad", "quiet", "help", "skip_header",
      "unscaled", "no_event_ids", "tls", "synthetic"};
  return *flags;
}

std::string Usage() {
  std::string out = std::string(kGlobal) + "\ncommands:\n";
  for (const CommandSpec& c : Commands()) out += c.usage;
  out += "  help [COMMAND]                              this text, or one command's\n";
  return out + kFooter;
}

std::string CommandUsage(const CommandSpec& command) {
  return "usage: streamrec [--server HOST:PORT] [--timeout SECONDS] [--json] "
         "[--json_ints_as_numbers] [security flags] " + command.name + " ...\n\n" +
         command.usage + kFooter;
}

}  // namespace streamrec::client
