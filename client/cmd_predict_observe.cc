// `streamrec predict` and `streamrec observe`. A --request that cannot be read or is not
// the JSON of its message exits kExitInput; a bad flag or feature word kExitUsage.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <sstream>

#include "client/commands.h"
#include "client/event_ids.h"
#include "client/exit_codes.h"
#include "client/feature_text.h"
#include "client/flag_values.h"
#include "client/words.h"
#include "google/protobuf/util/json_util.h"

namespace streamrec::client {
namespace {

// ReadJsonArg returns --request's text: inline JSON, @FILE, or - for stdin.
bool ReadJsonArg(const std::string& arg, std::string& out) {
  if (arg == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    out = ss.str();
    return true;
  }
  if (!arg.empty() && arg[0] == '@') {
    std::ifstream in(arg.substr(1));
    if (!in) return false;
    std::stringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
  }
  out = arg;
  return true;
}

bool ParseJson(const std::string& text, google::protobuf::Message& m, std::string& error) {
  const auto status = google::protobuf::util::JsonStringToMessage(text, &m);
  if (!status.ok()) error = std::string(status.message());
  return status.ok();
}

// ContextFromPositional parses the positional name=value words after the command.
std::string ContextFromPositional(const Args& args, v1::Features& context) {
  const auto& pos = args.positional();
  for (size_t i = 1; i < pos.size(); ++i) {
    if (std::string err = ParseAssignment(pos[i], context); !err.empty()) return err;
  }
  return "";
}

int InputError(const std::string& message) {
  std::fprintf(stderr, "streamrec: %s\n", message.c_str());
  return kExitInput;
}

// ReadRequest reads --request into `text`; false after printing why it could not.
bool ReadRequest(const std::string& command, const std::string& arg, std::string& text) {
  if (ReadJsonArg(arg, text)) return true;
  InputError(command + ": cannot read " + arg.substr(1) + " (--request " + arg + ")");
  return false;
}

// RequestExcludes: a usage error naming the first of `flags` given with --request (which
// carries the whole request, so they would be ignored), or "".
std::string RequestExcludes(const Args& args, std::initializer_list<const char*> flags) {
  if (!args.Has("request")) return "";
  if (args.positional().size() > 1) {  // [0] is the command
    return "--request carries the whole request: feature arguments are not allowed with it";
  }
  for (const char* f : flags) {
    if (args.Has(f)) return std::string("--") + f + " is not allowed with --request (it carries "
                                        "the whole request)";
  }
  return "";
}

}  // namespace

int RunPredict(const Args& args, Connection& conn, bool json) {
  if (std::string err = RequestExcludes(args, {"item", "top_k"}); !err.empty()) {
    return UsageError(err);
  }
  v1::PredictRequest req;
  if (auto request = args.Get("request")) {
    std::string text, error;
    if (!ReadRequest("predict", *request, text)) return kExitInput;
    if (!ParseJson(text, req, error)) {
      return InputError("predict: --request is not a PredictRequest: " + error);
    }
  } else {
    if (std::string err = ContextFromPositional(args, *req.mutable_context()); !err.empty()) {
      return UsageError(err);
    }
    for (const std::string& spec : args.GetAll("item")) {
      if (std::string err = ParseItem(spec, *req.add_candidates()); !err.empty()) {
        return UsageError(err);
      }
    }
    if (req.candidates_size() == 0) return UsageError("predict needs --item ID (repeatable)");
  }
  if (args.Has("top_k")) {
    long long k = 0;
    if (std::string err = WholeFlag(args, "top_k", 0, k, 0, UINT32_MAX); !err.empty()) {
      return UsageError(err);
    }
    req.set_top_k(static_cast<uint32_t>(k));
  }
  v1::PredictResponse resp;
  grpc::Status s = conn.recommender().Predict(conn.Context().get(), req, &resp);
  if (!s.ok()) return conn.Fail("predict", s);
  if (json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return kExitOk;
  }
  std::printf("model_version %lu  prediction_id %s\n",
              static_cast<unsigned long>(resp.model_version()), resp.prediction_id().c_str());
  std::printf("%-5s %-24s %-10s %s\n", "rank", "id", "score", "index");
  for (int i = 0; i < resp.items_size(); ++i) {
    const v1::ScoredItem& it = resp.items(i);
    std::printf("%-5d %-24s %-10.6f %u\n", i + 1, it.id().c_str(), it.score(), it.index());
  }
  return kExitOk;
}

int RunObserve(const Args& args, Connection& conn, bool json) {
  if (std::string err = RequestExcludes(args, {"item", "label", "weight", "prediction_id"});
      !err.empty()) {
    return UsageError(err);
  }
  v1::ObserveRequest req;
  if (auto request = args.Get("request")) {
    std::string text, error;
    if (!ReadRequest("observe", *request, text)) return kExitInput;
    // Either an ObserveRequest or a single Event.
    if (!ParseJson(text, req, error) || req.events_size() == 0) {
      req.Clear();
      std::string event_error;
      if (!ParseJson(text, *req.add_events(), event_error)) {
        return InputError("observe: --request is neither an ObserveRequest nor an Event: " +
                          (error.empty() ? event_error : error));
      }
    }
  } else {
    v1::Event* e = req.add_events();
    if (std::string err = ContextFromPositional(args, *e->mutable_context()); !err.empty()) {
      return UsageError(err);
    }
    const auto items = args.GetAll("item");
    if (items.size() != 1) return UsageError("observe needs exactly one --item ID");
    if (std::string err = ParseItem(items[0], *e->mutable_item()); !err.empty()) {
      return UsageError(err);
    }
    double v = 0;
    if (!args.Has("label")) return UsageError("observe needs --label (1 click, 0 none)");
    if (std::string err = NumberFlag(args, "label", v); !err.empty()) return UsageError(err);
    e->set_label(v);
    if (args.Has("weight")) {
      if (std::string err = NumberFlag(args, "weight", v); !err.empty()) return UsageError(err);
      e->set_weight(v);
    }
    if (auto id = args.Get("event_id")) e->set_event_id(*id);
    if (auto id = args.Get("prediction_id")) e->set_prediction_id(*id);
  }
  // An event without an id gets a random one, so that a retry of this call (gRPC's, or a
  // proxy's) is dropped by the server's de-duplication rather than trained twice.
  if (!args.Has("no_event_ids")) {
    for (v1::Event& e : *req.mutable_events()) {
      if (e.event_id().empty()) e.set_event_id(RandomId());
    }
  }
  v1::ObserveResponse resp;
  grpc::Status s = conn.recommender().Observe(conn.Context().get(), req, &resp);
  if (!s.ok()) return conn.Fail("observe", s);
  if (json) {
    std::printf("%s\n", ToJson(resp).c_str());
  } else {
    if (resp.duplicates() > 0) {
      std::printf("accepted %s (%s already seen: a duplicate event_id, not trained again)\n",
                  Counted(resp.accepted(), "event").c_str(),
                  Counted(resp.duplicates(), "event").c_str());
    } else {
      std::printf("accepted %s\n", Counted(resp.accepted(), "event").c_str());
    }
    if (resp.rewards_joined() + resp.rewards_dropped() > 0) {
      std::printf("rewards: %lu joined with their impression, %lu dropped (unknown or closed "
                  "prediction_id, not a candidate, or already rewarded: see stats)\n",
                  static_cast<unsigned long>(resp.rewards_joined()),
                  static_cast<unsigned long>(resp.rewards_dropped()));
    }
  }
  return kExitOk;
}

}  // namespace streamrec::client
