// model_quality: the README's "Learning quality" table. Every quality stream
// (bench/quality_streams.h) through every model setting, one pass, each event scored
// before it is learned (progressive validation), in process on one thread. A setting is
// "default" (no --model_config: what a new user gets) or a text-format ModelConfig file
// (the shipped examples). Prints logloss, AUC, NE (against the running click rate) and
// events/s per (stream, setting), as Markdown with --markdown.
//   build/bin/model_quality [--events N] [--movielens DIR] [--markdown] [--dump DIR]
//                           [SETTING ...]     (default: default + examples/models/*)
// --dump DIR also writes each stream as DIR/STREAM.txt for bench/reference_quality.py
// (the same events through a reference library): one event per line, "label" then
// "row:value:field" per feature, row = hash mod 2^20, field = the index of its field in
// order of first appearance.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <unordered_map>
#include <string>
#include <vector>

#include "bench/quality_streams.h"
#include "model/auc.h"
#include "model/loss.h"
#include "model/model.h"
#include "server/model_config_proto.h"

using namespace streamrec;

namespace {

struct Setting {
  std::string name;
  model::ModelConfig config;
};

bool Dump(const bench::Stream& s, const std::string& dir) {
  std::ofstream out(dir + "/" + s.name + ".txt");
  std::unordered_map<uint32_t, int> fields;
  for (const model::Example& e : s.examples) {
    out << e.label;
    for (const model::HashedFeature& f : e.features) {
      const int field = fields.emplace(f.field, static_cast<int>(fields.size())).first->second;
      out << ' ' << (f.hash & ((uint64_t{1} << 20) - 1)) << ':' << f.value << ':' << field;
    }
    out << '\n';
  }
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  size_t events = 0;
  bool markdown = false;
  std::string dump;
  std::string dir = "../shared/data/movielens-latest-small";
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--events" && i + 1 < argc) {
      events = std::stoul(argv[++i]);
    } else if (a == "--movielens" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--dump" && i + 1 < argc) {
      dump = argv[++i];
    } else if (a == "--markdown") {
      markdown = true;
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "usage: model_quality [--events N] [--movielens DIR] [--markdown] "
                           "[--dump DIR] [default | CONFIG.textproto ...]\n");
      return 2;
    } else {
      names.push_back(a);
    }
  }
  if (names.empty()) {
    names = {"default", "examples/models/logistic_crosses.textproto",
             "examples/models/fm.textproto"};
  }
  std::vector<Setting> settings;
  for (const std::string& n : names) {
    if (n == "default") {
      settings.push_back({"default (logistic)", model::ModelConfig()});
      continue;
    }
    absl::StatusOr<model::ModelConfig> c = server::LoadModelConfig(n);
    if (!c.ok()) {
      std::fprintf(stderr, "%s\n", std::string(c.status().message()).c_str());
      return 2;
    }
    std::string label = n.substr(n.rfind('/') + 1);
    settings.push_back({label.substr(0, label.rfind('.')), *c});
  }
  const std::vector<bench::Stream> streams = bench::QualityStreams(dir, events);
  for (const bench::Stream& s : streams) {
    if (!dump.empty() && !Dump(s, dump)) {
      std::fprintf(stderr, "cannot write %s/%s.txt\n", dump.c_str(), s.name.c_str());
      return 1;
    }
  }
  if (markdown) {
    std::printf("| stream | model | logloss | AUC | NE | events/s |\n|---|---|---|---|---|---|\n");
  } else {
    std::printf("%-11s %-22s %8s %7s %6s %10s\n", "stream", "model", "logloss", "AUC", "NE",
                "events/s");
  }
  for (const bench::Stream& s : streams) {
    const double base = bench::RunningRateLogLoss(s.examples);
    for (const Setting& setting : settings) {
      const bench::Progressive r = bench::RunProgressive(setting.config, s.examples);
      const double loss = r.logloss, auc = r.auc, rate = r.events_per_s;
      if (markdown) {
        std::printf("| %s | %s | %.4f | %.4f | %.3f | %.0f |\n", s.name.c_str(),
                    setting.name.c_str(), loss, auc, loss / base, rate);
      } else {
        std::printf("%-11s %-22s %8.4f %7.4f %6.3f %10.0f\n", s.name.c_str(),
                    setting.name.c_str(), loss, auc, loss / base, rate);
      }
      std::fflush(stdout);
    }
    if (!markdown) {
      std::printf("%-11s running click rate %.4f, generator optimum %.4f\n\n", s.name.c_str(),
                  base, s.optimal_logloss);
    }
  }
  return 0;
}
