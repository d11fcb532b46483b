// replay_parse_bench: the client side of `streamrec replay` without a server: a file's
// lines parsed into ObserveRequests of 500 events (each with its "RUN:LINE" event id, as
// replay gives them), then dropped, in events/s. Readers, each on the whole file:
//   old      the parsers before the fast paths (protobuf's JsonStringToMessage; the criteo
//            reader splitting into std::strings), copied here verbatim, in replay's loop
//   new      EventParser (client/event_formats.h) in the same single-threaded loop
//   new, Arena requests   the same, each request on its own protobuf Arena
//   ReplayReader          replay's reader (client/replay_reader.h) with 0 (parsing in
//                         Next), 1 and one per core parsing threads; its requests come
//                         serialized, which the rows above leave out (the old replay
//                         serialized on the sending thread, inside gRPC's Write)
// Each is run `repeat` times over the whole file; the best run is reported, in events per
// second of the thread's CPU time (stable on a machine other jobs share) and of wall time.
//   build/bin/replay_parse_bench FILE jsonl|criteo [repeat]
// Events: `streamrec generate --n 200000 --layout criteo --format jsonl|criteo`.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/event_formats.h"
#include "client/event_ids.h"
#include "client/event_json.h"
#include "client/replay_reader.h"
#include "google/protobuf/util/json_util.h"
#include "tests/testing/old_criteo_reader.h"

using namespace streamrec;
using Clock = std::chrono::steady_clock;

namespace {

// ---- The parsers before this benchmark existed (client/event_formats.cc at 489b40d). ----
bool OldParse(client::Format format, const std::string& line, v1::Event& event,
              std::string& error) {
  event.Clear();
  if (format == client::Format::kCriteo) return streamrec::testing::OldParseCriteo(line, event, error);
  const auto status = google::protobuf::util::JsonStringToMessage(line, &event);
  if (!status.ok()) {
    error = std::string(status.message());
    return false;
  }
  return true;
}
// ---- end of the old parsers ----

using ParseFn = std::function<bool(const std::string&, v1::Event&, std::string&)>;

// Run: replay's reading loop (getline, parse into the request, event id, a request every
// 500 events) over `text`; returns the events parsed.
uint64_t Run(const std::string& text, const ParseFn& parse) {
  std::istringstream in(text);
  std::string line, error;
  v1::ObserveRequest req;
  std::vector<uint64_t> lines;
  uint64_t line_number = 0, events = 0;
  const std::string run_id = "0123456789abcdef";
  while (std::getline(in, line)) {
    ++line_number;
    if (!parse(line, *req.add_events(), error)) {
      std::fprintf(stderr, "line %lu: %s\n", static_cast<unsigned long>(line_number),
                   error.c_str());
      std::exit(1);
    }
    v1::Event& e = *req.mutable_events(req.events_size() - 1);
    if (e.event_id().empty()) e.set_event_id(client::LineEventId(run_id, line_number));
    lines.push_back(line_number);
    if (req.events_size() >= 500) {
      events += req.events_size();
      v1::ObserveRequest sent = std::move(req);  // handed to the stream, dropped at its ack
      req.Clear();
      lines.clear();
    }
  }
  return events + req.events_size();
}

// RunArena: the same, each request on its own Arena (dropped with it).
uint64_t RunArena(const std::string& text, const ParseFn& parse) {
  std::istringstream in(text);
  std::string line, error;
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 1 << 20;
  auto arena = std::make_unique<google::protobuf::Arena>(options);
  auto* req = google::protobuf::Arena::CreateMessage<v1::ObserveRequest>(arena.get());
  std::vector<uint64_t> lines;
  uint64_t line_number = 0, events = 0;
  const std::string run_id = "0123456789abcdef";
  while (std::getline(in, line)) {
    ++line_number;
    if (!parse(line, *req->add_events(), error)) {
      std::fprintf(stderr, "line %lu: %s\n", static_cast<unsigned long>(line_number),
                   error.c_str());
      std::exit(1);
    }
    v1::Event& e = *req->mutable_events(req->events_size() - 1);
    if (e.event_id().empty()) e.set_event_id(client::LineEventId(run_id, line_number));
    lines.push_back(line_number);
    if (req->events_size() >= 500) {
      events += req->events_size();
      arena = std::make_unique<google::protobuf::Arena>(options);
      req = google::protobuf::Arena::CreateMessage<v1::ObserveRequest>(arena.get());
      lines.clear();
    }
  }
  return events + req->events_size();
}

// RunReader: replay's own reader (client/replay_reader.h) with `workers` parsing threads,
// the requests dropped as they come.
uint64_t RunReader(const std::string& text, client::Format format, int workers) {
  std::istringstream in(text);
  client::ReplayReader::Options o;
  o.source = "bench";
  o.format = format;
  o.run_id = "0123456789abcdef";
  o.batch = 500;
  o.workers = workers;
  client::ReplayReader reader(in, o, [](uint64_t) {});
  client::ReplayBatch batch;
  uint64_t events = 0;
  while (reader.Next(batch)) events += batch.size();
  if (!reader.input_error().empty()) {
    std::fprintf(stderr, "%s\n", reader.input_error().c_str());
    std::exit(1);
  }
  return events;
}

double ProcessSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

double ThreadSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

struct Rate {
  double cpu = 0, wall = 0;  // events per second
};

Rate Best(const std::string& text, int repeat, const ParseFn& parse, bool arena = false) {
  Rate best;
  for (int r = 0; r < repeat; ++r) {
    const auto start = Clock::now();
    const double cpu_start = ThreadSeconds();
    const uint64_t n = arena ? RunArena(text, parse) : Run(text, parse);
    const double cpu = ThreadSeconds() - cpu_start;
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    best.cpu = std::max(best.cpu, n / cpu);
    best.wall = std::max(best.wall, n / wall);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: replay_parse_bench FILE jsonl|criteo [repeat]\n");
    return 2;
  }
  std::ifstream file(argv[1], std::ios::binary);
  std::stringstream buf;
  buf << file.rdbuf();
  const std::string text = buf.str();
  const std::optional<client::Format> format = client::ParseFormat(argv[2]);
  if (!file || !format || *format == client::Format::kCsv) {
    std::fprintf(stderr, "cannot read %s as jsonl or criteo\n", argv[1]);
    return 2;
  }
  const int repeat = argc > 3 ? std::atoi(argv[3]) : 3;
  const Rate old_rate = Best(text, repeat, [&](const std::string& l, v1::Event& e,
                                                 std::string& err) {
    return OldParse(*format, l, e, err);
  });
  client::EventParser parser(*format, {});
  client::JsonEventParser json;  // what EventParser uses for jsonl, here to count its paths
  const Rate new_rate = Best(text, repeat, [&](const std::string& l, v1::Event& e,
                                                 std::string& err) {
    return *format == client::Format::kJsonl ? json.Parse(l, e, err) : parser.Parse(l, e, err);
  });
  const Rate arena_rate = Best(text, repeat, [&](const std::string& l, v1::Event& e,
                                                   std::string& err) {
    return *format == client::Format::kJsonl ? json.Parse(l, e, err) : parser.Parse(l, e, err);
  }, true);
  // The reader threads' rates: wall time, and CPU time of the whole process.
  std::vector<std::pair<int, Rate>> readers;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int workers : {0, 1, cores}) {
    if (workers == cores && cores == 1) break;
    Rate best;
    for (int r = 0; r < repeat; ++r) {
      const auto start = Clock::now();
      const double cpu_start = ProcessSeconds();
      const uint64_t n = RunReader(text, *format, workers);
      const double cpu = ProcessSeconds() - cpu_start;
      const double wall = std::chrono::duration<double>(Clock::now() - start).count();
      best.cpu = std::max(best.cpu, n / cpu);
      best.wall = std::max(best.wall, n / wall);
    }
    readers.emplace_back(workers, best);
  }
  std::printf("%s %s, events/s per CPU second (wall):\n", argv[1], argv[2]);
  std::printf("  old                 %9.0f (%9.0f)\n", old_rate.cpu, old_rate.wall);
  std::printf("  new                 %9.0f (%9.0f)  %.2fx\n", new_rate.cpu, new_rate.wall,
              new_rate.cpu / old_rate.cpu);
  std::printf("  new, Arena requests %9.0f (%9.0f)  %.2fx\n", arena_rate.cpu, arena_rate.wall,
              arena_rate.cpu / old_rate.cpu);
  for (const auto& [workers, rate] : readers) {
    std::printf("  ReplayReader, %d parsing threads: %9.0f per process CPU second; wall %9.0f  "
                "%.2fx old's wall\n", workers, rate.cpu, rate.wall, rate.wall / old_rate.wall);
  }
  if (*format == client::Format::kJsonl) {
    std::printf("  lines through protobuf's parser: %lu of %lu\n",
                static_cast<unsigned long>(json.fallback_lines()),
                static_cast<unsigned long>(json.fallback_lines() + json.fast_lines()));
  }
  return 0;
}
