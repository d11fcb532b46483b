// streamrec-verify: offline check of a (stopped) server's data dir. Restores the newest
// snapshot into one model, replays the event log from sequence 1 up to that snapshot's
// last sequence number through a fresh model of the stored configuration, and compares
// every state table bit for bit. The log's flush markers cut a mini-batch model's
// partial batches where the server cut them (Model::FlushPending). Entries logged after
// the snapshot (a server stopped by a crash) are read and counted, not compared: a start
// replays them.
//   streamrec-verify --data_dir DIR [--event_ids FILE]
// Prints one JSON line: {"logged_events" (events, not markers), "first_seq", "last_seq"
// (sequence numbers count events and markers), "snapshot_version", "snapshot_last_seq",
// "snapshot_events_applied", "events_after_snapshot" (log entries after the snapshot),
// "flush_markers", "identical", "differences"}; writes every logged event id in log order
// to FILE. Exit 0 when
// identical, 1 when not, 2 when the check cannot be made (e.g. the log was truncated).
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "model/model.h"
#include "storage/config_codec.h"
#include "storage/database.h"
#include "storage/rocks_event_log.h"
#include "storage/meta_store.h"
#include "storage/snapshot_store.h"

using namespace streamrec;

int main(int argc, char** argv) {
  std::string dir, ids_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--data_dir") == 0) dir = argv[i + 1];
    if (std::strcmp(argv[i], "--event_ids") == 0) ids_path = argv[i + 1];
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: streamrec-verify --data_dir DIR [--event_ids FILE]\n");
    return 2;
  }
  auto fail = [](const std::string& what, const absl::Status& s) {
    std::fprintf(stderr, "streamrec-verify: %s: %s\n", what.c_str(), std::string(s.message()).c_str());
    return 2;
  };
  storage::DatabaseOptions db_options;
  db_options.dir = dir;
  db_options.create_if_missing = false;  // a mistyped path must not become a database
  auto db = storage::Database::Open(db_options);
  if (!db.ok()) return fail("open", db.status());
  auto stored = storage::MetaStore(db->get()).LoadEncodedConfig();
  if (!stored.ok() || !stored->has_value()) return fail("config", absl::NotFoundError("none stored"));
  auto config = storage::DecodeConfig(**stored);
  if (!config.ok()) return fail("config", config.status());

  storage::SnapshotStoreOptions store_options;
  store_options.retain = 1000000;
  store_options.sweep_on_open = false;  // a check must not change the data dir
  storage::SnapshotStore store(db->get(), store_options);
  if (absl::Status o = store.Open(); !o.ok()) return fail("snapshots", o);
  auto restored_model = model::CreateModel(*config);
  if (!restored_model.ok()) return fail("model", restored_model.status());
  auto restored = store.RestoreNewest(**restored_model);
  if (!restored.ok()) return fail("restore", restored.status());

  const uint64_t snapshot_last_seq = restored->meta.last_seq;

  auto replayed = model::CreateModel(*config);
  if (!replayed.ok()) return fail("model", replayed.status());
  storage::RocksEventLog log(db->get(), nullptr, /*sync=*/false);  // read only
  std::ofstream ids;
  if (!ids_path.empty()) ids.open(ids_path);
  // Sequence numbers count log entries: events and flush markers.
  uint64_t first_seq = 0, last_seq = 0, count = 0, entries = 0, markers = 0;
  bool gap = false;
  auto entry = [&](uint64_t seq) {
    if (entries == 0) first_seq = seq;
    gap |= entries > 0 && seq != last_seq + 1;
    last_seq = seq;
    ++entries;
  };
  absl::Status s = log.Replay(
      0,
      [&](uint64_t seq, model::Example& ex, std::string& id) {
        entry(seq);
        ++count;
        if (seq <= snapshot_last_seq) (*replayed)->Train(ex);
        if (ids) ids << id << '\n';
      },
      [&](uint64_t seq) {  // the partial batch the server cut here
        entry(seq);
        ++markers;
        if (seq <= snapshot_last_seq) (*replayed)->FlushPending();
      });
  if (!s.ok()) return fail("replay", s);
  if (entries > 0 && (first_seq != 1 || gap)) {
    std::fprintf(stderr, "streamrec-verify: the log does not start at sequence 1 (truncated)\n");
    return 2;
  }
  if (snapshot_last_seq > last_seq) {
    std::fprintf(stderr, "streamrec-verify: the newest snapshot ends at seq %lu, after the "
                 "log's last event (%lu): it cannot be the replay of this log\n",
                 static_cast<unsigned long>(snapshot_last_seq),
                 static_cast<unsigned long>(last_seq));
    return 2;
  }

  uint64_t differences = 0;
  auto a = (*replayed)->StateTables();
  auto b = (*restored_model)->StateTables();
  for (size_t t = 0; t < a.size(); ++t) {
    const auto& x = a[t].table->values();
    const auto& y = b[t].table->values();
    for (size_t i = 0; i < x.size(); ++i) {
      differences += std::memcmp(&x[i], &y[i], sizeof(float)) != 0;
    }
  }
  differences += (*replayed)->optimizer_step() != (*restored_model)->optimizer_step();
  const bool identical = differences == 0;
  std::printf("{\"logged_events\":%lu,\"first_seq\":%lu,\"last_seq\":%lu,\"snapshot_version\":%lu,"
              "\"snapshot_last_seq\":%lu,\"snapshot_events_applied\":%lu,"
              "\"events_after_snapshot\":%lu,\"flush_markers\":%lu,\"identical\":%s,"
              "\"differences\":%lu}\n",
              static_cast<unsigned long>(count), static_cast<unsigned long>(first_seq),
              static_cast<unsigned long>(last_seq),
              static_cast<unsigned long>(restored->meta.version),
              static_cast<unsigned long>(restored->meta.last_seq),
              static_cast<unsigned long>(restored->meta.events_applied),
              static_cast<unsigned long>(last_seq - snapshot_last_seq),
              static_cast<unsigned long>(markers), identical ? "true" : "false", static_cast<unsigned long>(differences));
  if (!identical) {
    std::fprintf(stderr,
                 "streamrec-verify: the newest snapshot is not the replay of the log. That is "
                 "expected after a rollback or an import since the log began (they replace the "
                 "model); otherwise the data dir is damaged.\n");
  }
  return identical ? 0 : 1;
}
