// `streamrec generate`: a seeded synthetic click stream in jsonl or criteo format, and the
// generator's own optimal logloss on stderr. Two layouts: `users` (the default; user x
// item, client/click_generator.h) and `criteo` (13 numeric, 26 categorical fields and an
// item with hidden pairwise interactions, client/criteo_generator.h).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "client/click_generator.h"
#include "client/commands.h"
#include "client/criteo_events.h"
#include "client/criteo_generator.h"
#include "client/event_formats.h"
#include "client/exit_codes.h"
#include "client/flag_values.h"
#include "client/words.h"

namespace streamrec::client {
namespace {

// Number reads flag `name` as a whole number >= `min` (`fallback` when absent); false on
// anything else (a fraction, a sign, a value beyond long long).
bool Number(const Args& args, const std::string& name, long long fallback, long long& out,
            long long min = 1) {
  out = fallback;
  auto v = args.Get(name);
  return !v || (ParseWhole(*v, out) && out >= min);
}


int Finish(std::ostream& out, bool json, long long n, long long seed, double optimal) {
  out.flush();
  if (!out) {
    std::fprintf(stderr, "streamrec: generate: write failed\n");
    return kExitInput;
  }
  if (json) {
    std::fprintf(stderr, "{\"events\":%lld,\"seed\":%lld,\"optimal_logloss\":%.6f}\n", n, seed,
                 optimal);
  } else {
    std::fprintf(stderr, "generated %s (seed %lld); the generator's optimal logloss is %.5f\n",
                 Counted(static_cast<uint64_t>(n), "event").c_str(), seed, optimal);
  }
  return kExitOk;
}

}  // namespace

int RunGenerate(const Args& args, bool json) {
  long long n = 0, seed = 0, users = 0, items = 0;
  if (!Number(args, "n", 100000, n)) {
    return UsageError("--n must be a whole number in 1..9223372036854775807");
  }
  if (!Number(args, "seed", 1, seed, 0)) {
    return UsageError("--seed must be a whole number >= 0");
  }
  if (!Number(args, "users", 100, users) || users > 100000) {
    return UsageError("--users must be in 1..100000");
  }
  std::string layout = args.Get("layout").value_or("users");
  if (layout != "users" && layout != "criteo") {
    return UsageError("--layout must be users or criteo");
  }
  const bool criteo = layout == "criteo";
  if (!Number(args, "items", criteo ? 1000 : 50, items) || items > 100000 ||
      (!criteo && users * items > 10000000)) {
    return UsageError("--items must be in 1..100000, users x items at most 10^7");
  }
  long long features = 0;
  if (!Number(args, "features", 40, features) || features < 5 || features > 40) {
    return UsageError("--features must be in 5..40");
  }
  if (!criteo && (args.Get("features") || args.Has("unscaled"))) {
    return UsageError("--features and --unscaled are for --layout criteo");
  }
  if (criteo && args.Get("users")) return UsageError("--users is for --layout users");
  const bool unscaled = args.Has("unscaled");
  Format format = Format::kJsonl;
  if (auto f = args.Get("format")) {
    auto parsed = ParseFormat(*f);
    if (!parsed || *parsed == Format::kCsv) return UsageError("--format must be jsonl or criteo");
    format = *parsed;
  }
  if (unscaled && format == Format::kCriteo) {
    return UsageError("--unscaled is for --format jsonl (a criteo file always carries the raw "
                      "counts)");
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (auto o = args.Get("output"); o && *o != "-") {
    file.open(*o);
    if (!file) {
      std::fprintf(stderr, "streamrec: generate: cannot write %s\n", o->c_str());
      return kExitInput;
    }
    out = &file;
  }
  v1::Event event;
  if (criteo) {
    CriteoStream stream(static_cast<int>(features), static_cast<int>(items),
                        static_cast<uint64_t>(seed));
    for (long long k = 0; k < n; ++k) {
      ToApiEvent(stream.Next(), unscaled, format == Format::kCriteo, event);
      *out << FormatEventLine(format, event) << '\n';
    }
    return Finish(*out, json, n, seed, stream.OptimalLogLoss());
  }
  ClickStream stream(static_cast<int>(users), static_cast<int>(items),
                              static_cast<uint64_t>(seed));
  for (long long k = 0; k < n; ++k) {
    const ClickEvent e = stream.Next();
    const std::string u = "u" + std::to_string(e.user), i = "i" + std::to_string(e.item);
    event.Clear();
    event.set_label(e.label);
    auto& ctx = *event.mutable_context()->mutable_values();
    if (format == Format::kCriteo) {
      // C1 user, C2 item, C3 their interaction; the rest missing.
      ctx["C1"].set_category(u);
      ctx["C2"].set_category(i);
      ctx["C3"].set_category(u + "|" + i);
    } else {
      ctx["user"].set_category(u);
      event.mutable_item()->set_id(i);
      (*event.mutable_item()->mutable_features()->mutable_values())["user_x_item"].set_category(
          u + "|" + i);
    }
    *out << FormatEventLine(format, event) << '\n';
  }
  return Finish(*out, json, n, seed, stream.OptimalLogLoss());
}

}  // namespace streamrec::client
