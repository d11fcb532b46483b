// Stats assembly: GetStats's answer (streamrec.v1.Stats) from the figures each part of
// the server keeps: ingest counters, the updater's counters and progressive metrics, the
// queue, the log writer, stream admission, Predict counts and storage health. Pure: the
// caller gathers the figures (each part's own accessors are thread-safe).
#ifndef STREAMREC_SERVER_STATS_ASSEMBLY_H_
#define STREAMREC_SERVER_STATS_ASSEMBLY_H_

#include <cstdint>
#include <string>

#include "server/core/updater.h"
#include "server/ingest.h"
#include "server/reward_join.h"
#include "streamrec/v1/admin.pb.h"

namespace streamrec::server {

struct StatsFigures {
  Ingest::Counters ingest;
  core::UpdaterStats updater;
  size_t metrics_window = 0;
  // Queue: events and bytes held, and their limits.
  uint64_t queue_depth = 0, queue_capacity = 0, queue_bytes = 0, queue_max_bytes = 0;
  uint64_t duplicates_dropped = 0;
  uint64_t requests_malformed = 0, streams_rejected = 0, streams_open = 0;
  uint64_t predict_requests = 0, candidates_scored = 0;
  uint64_t vector_fields = 0;
  RewardJoin::Counters feedback;
  // Storage (zeros and writable without a data dir).
  bool storage_writable = true;
  std::string storage_error;
  uint64_t storage_recoveries = 0, wal_syncs = 0, log_bytes = 0;
};

void AssembleStats(const StatsFigures& f, v1::Stats& stats);

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_STATS_ASSEMBLY_H_
