// AssembleStats (server/stats_assembly.h), a pure function: each figure lands in its own
// Stats field (distinct values, so a swapped pair fails), no Stats field is left unset,
// rejections appear under every reason's name (zeros included), and the storage fields
// of a server without a data dir.
#include "server/stats_assembly.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace streamrec::server {
namespace {

model::MetricValues Metrics(double base) {
  model::MetricValues m;
  m.events = static_cast<uint64_t>(base);
  m.weight_sum = base + 0.1;
  m.logloss = base + 0.2;
  m.accuracy = base + 0.3;
  m.auc = base + 0.4;
  m.normalized_entropy = base + 0.5;
  m.calibration = base + 0.6;
  m.mean_prediction = base + 0.7;
  m.mean_label = base + 0.8;
  return m;
}

// Figures: every figure a distinct, non-default value.
StatsFigures Figures() {
  StatsFigures f;
  f.ingest.received = 1001;
  f.ingest.accepted = 1002;
  for (int r = 0; r < static_cast<int>(Reject::kCount); ++r) f.ingest.rejected[r] = 11 + r;
  core::UpdaterStats& u = f.updater;
  u.events_applied = 2001;
  u.updates_skipped_nonfinite = 2002;
  u.publications = 2003;
  u.model_version = 2004;
  u.nonzero_parameters = 2005;
  u.last_publish_chunks = 2006;
  u.publish_micros_mean = 2007.5;
  u.last_seq = 2008;
  u.persists = 2009;
  u.persists_written = 2010;
  u.persist_failures = 2011;
  u.persisted_version = 2012;
  u.last_persist_ms = 2013.5;
  u.overall = Metrics(100);
  u.window = Metrics(200);
  u.ack_to_publish_p50_ms = 2014.5;
  u.ack_to_publish_p99_ms = 2015.5;
  f.metrics_window = 3001;
  f.queue_depth = 3002;
  f.queue_capacity = 3003;
  f.queue_bytes = 3004;
  f.queue_max_bytes = 3005;
  f.duplicates_dropped = 3006;
  f.requests_malformed = 3007;
  f.streams_rejected = 3008;
  f.streams_open = 3009;
  f.predict_requests = 3010;
  f.candidates_scored = 3011;
  f.vector_fields = 3012;
  f.storage_writable = false;
  f.storage_error = "No space left on device";
  f.storage_recoveries = 3013;
  f.wal_syncs = 3014;
  f.log_bytes = 3015;
  return f;
}

void ExpectMetrics(const v1::ProgressiveMetrics& p, double base) {
  EXPECT_EQ(p.events(), static_cast<uint64_t>(base));
  EXPECT_EQ(p.weight_sum(), base + 0.1);
  EXPECT_EQ(p.logloss(), base + 0.2);
  EXPECT_EQ(p.accuracy(), base + 0.3);
  EXPECT_EQ(p.auc(), base + 0.4);
  EXPECT_EQ(p.normalized_entropy(), base + 0.5);
  EXPECT_EQ(p.calibration(), base + 0.6);
  EXPECT_EQ(p.mean_prediction(), base + 0.7);
  EXPECT_EQ(p.mean_label(), base + 0.8);
}

TEST(StatsAssemblyTest, EachFigureLandsInItsOwnField) {
  v1::Stats s;
  AssembleStats(Figures(), s);
  EXPECT_EQ(s.events_received(), 1001u);
  EXPECT_EQ(s.events_accepted(), 1002u);
  EXPECT_EQ(s.events_applied(), 2001u);
  EXPECT_EQ(s.updates_skipped_nonfinite(), 2002u);
  EXPECT_EQ(s.publications(), 2003u);
  EXPECT_EQ(s.model_version(), 2004u);
  EXPECT_EQ(s.last_publish_chunks(), 2006u);
  EXPECT_EQ(s.publish_micros_mean(), 2007.5);
  EXPECT_EQ(s.last_seq(), 2008u);
  EXPECT_EQ(s.snapshots_persisted(), 2010u);  // written, not merely captured (2009)
  EXPECT_EQ(s.snapshot_failures(), 2011u);
  EXPECT_EQ(s.persisted_version(), 2012u);
  EXPECT_EQ(s.last_persist_ms(), 2013.5);
  EXPECT_EQ(s.ack_to_publish_p50_ms(), 2014.5);
  EXPECT_EQ(s.ack_to_publish_p99_ms(), 2015.5);
  ExpectMetrics(s.progressive(), 100);
  ExpectMetrics(s.progressive_window(), 200);
  EXPECT_EQ(s.metrics_window(), 3001u);
  EXPECT_EQ(s.queue_depth(), 3002u);
  EXPECT_EQ(s.queue_capacity(), 3003u);
  EXPECT_EQ(s.queue_bytes(), 3004u);
  EXPECT_EQ(s.queue_max_bytes(), 3005u);
  EXPECT_EQ(s.duplicates_dropped(), 3006u);
  EXPECT_EQ(s.requests_malformed(), 3007u);
  EXPECT_EQ(s.streams_rejected(), 3008u);
  EXPECT_EQ(s.streams_open(), 3009u);
  EXPECT_EQ(s.predict_requests(), 3010u);
  EXPECT_EQ(s.candidates_scored(), 3011u);
  EXPECT_EQ(s.vector_fields(), 3012u);
  EXPECT_FALSE(s.storage_writable());
  EXPECT_EQ(s.storage_error(), "No space left on device");
  EXPECT_EQ(s.storage_recoveries(), 3013u);
  EXPECT_EQ(s.wal_syncs(), 3014u);
  EXPECT_EQ(s.log_bytes(), 3015u);
}

// A field added to Stats (or ProgressiveMetrics) but not assembled stays at its default:
// with every figure non-default, no field may be.
TEST(StatsAssemblyTest, NoFieldIsLeftUnset) {
  v1::Stats s;
  AssembleStats(Figures(), s);
  const google::protobuf::Descriptor* d = s.GetDescriptor();
  const google::protobuf::Reflection* r = s.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = d->field(i);
    if (field->is_repeated()) {
      EXPECT_GT(r->FieldSize(s, field), 0) << field->name();
      continue;
    }
    if (field->name() == "storage_writable") continue;  // false is its unhealthy value
    EXPECT_TRUE(r->HasField(s, field)) << field->name() << " is not assembled";
  }
  for (const v1::ProgressiveMetrics* p : {&s.progressive(), &s.progressive_window()}) {
    const google::protobuf::Descriptor* pd = p->GetDescriptor();
    for (int i = 0; i < pd->field_count(); ++i) {
      EXPECT_TRUE(p->GetReflection()->HasField(*p, pd->field(i))) << pd->field(i)->name();
    }
  }
}

TEST(StatsAssemblyTest, RejectionsAreReportedUnderEveryReasonsName) {
  v1::Stats s;
  AssembleStats(Figures(), s);
  const auto& rejected = s.events_rejected();
  ASSERT_EQ(rejected.size(), static_cast<size_t>(Reject::kCount));
  EXPECT_EQ(rejected.at("invalid_argument"), 11u);
  EXPECT_EQ(rejected.at("queue_full"), 12u);
  EXPECT_EQ(rejected.at("queue_bytes_full"), 13u);
  EXPECT_EQ(rejected.at("unavailable"), 14u);
  EXPECT_EQ(rejected.at("storage_unavailable"), 15u);
  // Names are distinct and none is the fallback.
  std::set<std::string> names;
  for (int r = 0; r < static_cast<int>(Reject::kCount); ++r) {
    names.insert(RejectName(static_cast<Reject>(r)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(Reject::kCount));
  EXPECT_EQ(names.count("?"), 0u);
  EXPECT_STREQ(RejectName(Reject::kCount), "?");

  // A reason nothing was rejected for is still reported, as zero.
  v1::Stats empty;
  AssembleStats(StatsFigures{}, empty);
  ASSERT_EQ(empty.events_rejected().size(), static_cast<size_t>(Reject::kCount));
  for (const auto& [name, count] : empty.events_rejected()) EXPECT_EQ(count, 0u) << name;
}

TEST(StatsAssemblyTest, WithoutADataDirStorageIsWritableAndEmpty) {
  v1::Stats s;
  AssembleStats(StatsFigures{}, s);
  EXPECT_TRUE(s.storage_writable());
  EXPECT_EQ(s.storage_error(), "");
  EXPECT_EQ(s.storage_recoveries(), 0u);
  EXPECT_EQ(s.wal_syncs(), 0u);
  EXPECT_EQ(s.log_bytes(), 0u);
  EXPECT_EQ(s.events_received(), 0u);
  EXPECT_EQ(s.progressive().auc(), 0.5);  // MetricValues' default: no information
}

}  // namespace
}  // namespace streamrec::server
