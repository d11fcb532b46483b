// streamrec: the command-line client. `streamrec help` lists the commands; the README
// documents each with an example.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "client/commands.h"
#include "client/exit_codes.h"

namespace streamrec::client {

constexpr char kUsage[] = R"(usage: streamrec [--server HOST:PORT] [--timeout SECONDS] [--json] COMMAND ...

commands:
  predict [name=value ...] --item ID[,name=value...] [--item ...] [--top_k N]
  predict --request JSON|@FILE|-              a PredictRequest in JSON
  observe [name=value ...] --item ID[,name=value...] --label L [--weight W]
          [--event_id ID] [--prediction_id ID]
  observe --request JSON|@FILE|-              an ObserveRequest or one Event in JSON
  health                                      health of the server, Recommender and Ingest
  info                                        the served model (GetModelInfo)
  stats [--watch] [--count N]                 counters and progressive metrics (GetStats)
  replay FILE|- [--format jsonl|criteo|csv] [--batch N] [--rate N] [--report FILE.json]
                [--report_every N] [--skip-bad] [--quiet] [--skip_header]
                [--label COLUMN] [--item COLUMN] [--numeric COL,COL...]   (csv)
  generate [--n N] [--seed S] [--format jsonl|criteo] [--output FILE]
           [--layout users] [--users U] [--items I]        user x item (default)
           --layout criteo [--features 5..40] [--items I] [--unscaled]
                                              click-log shape: 13 numeric, 26 categorical
  snapshots list | save | rollback VERSION | export FILE [--version V] | import FILE

values: numbers are recognised, a|b is multi-valued, [0.1,0.2] a vector, else a category.
--server defaults to localhost:50051 (or $STREAMREC_SERVER); --timeout to 10 s.
exit codes: 0 ok, 2 usage, 3 server unreachable or deadline passed, 4 server error,
            5 unreadable or malformed input.
)";

int UsageError(const std::string& message) {
  std::fprintf(stderr, "streamrec: %s\n(run `streamrec help` for usage)\n", message.c_str());
  return kExitUsage;
}

int Main(int argc, char** argv) {
  Args args;
  if (std::string err =
          args.Parse(argc, argv, {"json", "watch", "skip-bad", "quiet", "help", "skip_header",
                                  "unscaled"});
      !err.empty()) {
    return UsageError(err);
  }
  const auto& pos = args.positional();
  if (args.Has("help") || pos.empty() || pos[0] == "help") {
    std::fputs(kUsage, pos.empty() && !args.Has("help") ? stderr : stdout);
    return pos.empty() && !args.Has("help") ? kExitUsage : kExitOk;
  }
  const std::string command = pos[0];
  const std::set<std::string> global = {"server", "timeout", "json", "help"};
  const std::map<std::string, std::set<std::string>> known = {
      {"predict", {"item", "top_k", "request"}},
      {"observe", {"item", "label", "weight", "event_id", "prediction_id", "request"}},
      {"health", {}},
      {"info", {}},
      {"stats", {"watch", "count"}},
      {"replay", {"format", "batch", "rate", "report", "report_every", "skip-bad", "quiet",
                  "skip_header", "label", "item", "numeric"}},
      {"generate", {"n", "seed", "users", "items", "format", "output", "layout", "features",
                    "unscaled"}},
      {"snapshots", {"version"}},
  };
  auto it = known.find(command);
  if (it == known.end()) return UsageError("unknown command \"" + command + "\"");
  std::set<std::string> allowed = it->second;
  allowed.insert(global.begin(), global.end());
  if (auto unknown = args.Unknown(allowed)) {
    return UsageError("unknown option --" + *unknown + " for " + command);
  }
  const bool takes_positional = command == "predict" || command == "observe" ||
                                command == "replay" || command == "snapshots";
  if (!takes_positional && pos.size() > 1) {
    return UsageError("unexpected argument \"" + pos[1] + "\" for " + command);
  }
  const bool json = args.Has("json");
  if (command == "generate") return RunGenerate(args, json);

  std::string server = "localhost:50051";
  if (const char* env = std::getenv("STREAMREC_SERVER"); env && *env) server = env;
  if (auto s = args.Get("server")) server = *s;
  double timeout = 10;
  if (auto t = args.Get("timeout")) {
    char* end = nullptr;
    timeout = std::strtod(t->c_str(), &end);
    if (end != t->c_str() + t->size() || !(timeout > 0)) {
      return UsageError("--timeout must be a number of seconds > 0");
    }
  }
  Connection conn(server, timeout);
  if (command == "predict") return RunPredict(args, conn, json);
  if (command == "observe") return RunObserve(args, conn, json);
  if (command == "health") return RunHealth(args, conn, json);
  if (command == "info") return RunInfo(args, conn, json);
  if (command == "stats") return RunStats(args, conn, json);
  if (command == "snapshots") return RunSnapshots(args, conn, json);
  return RunReplay(args, conn, json);
}

}  // namespace streamrec::client

int main(int argc, char** argv) { return streamrec::client::Main(argc, argv); }
