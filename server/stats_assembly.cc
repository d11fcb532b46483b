#include "server/stats_assembly.h"

namespace streamrec::server {
namespace {

void FillMetrics(const model::MetricValues& m, v1::ProgressiveMetrics& p) {
  p.set_events(m.events);
  p.set_weight_sum(m.weight_sum);
  p.set_logloss(m.logloss);
  p.set_accuracy(m.accuracy);
  p.set_mean_prediction(m.mean_prediction);
  p.set_mean_label(m.mean_label);
  p.set_auc(m.auc);
  p.set_normalized_entropy(m.normalized_entropy);
  p.set_calibration(m.calibration);
}

}  // namespace

void AssembleStats(const StatsFigures& f, v1::Stats& stats) {
  const core::UpdaterStats& u = f.updater;
  stats.set_events_received(f.ingest.received);
  stats.set_events_accepted(f.ingest.accepted);
  stats.set_events_applied(u.events_applied);
  auto& rejected = *stats.mutable_events_rejected();
  for (int r = 0; r < static_cast<int>(Reject::kCount); ++r) {
    rejected[RejectName(static_cast<Reject>(r))] = f.ingest.rejected[r];
  }
  stats.set_queue_depth(f.queue_depth);
  stats.set_queue_capacity(f.queue_capacity);
  stats.set_queue_bytes(f.queue_bytes);
  stats.set_queue_max_bytes(f.queue_max_bytes);
  stats.set_publications(u.publications);
  stats.set_model_version(u.model_version);
  stats.set_updates_skipped_nonfinite(u.updates_skipped_nonfinite);
  stats.set_predict_requests(f.predict_requests);
  stats.set_candidates_scored(f.candidates_scored);
  stats.set_requests_malformed(f.requests_malformed);
  stats.set_streams_rejected(f.streams_rejected);
  stats.set_streams_open(f.streams_open);
  FillMetrics(u.overall, *stats.mutable_progressive());
  FillMetrics(u.window, *stats.mutable_progressive_window());
  stats.set_metrics_window(f.metrics_window);
  stats.set_publish_micros_mean(u.publish_micros_mean);
  stats.set_last_publish_chunks(u.last_publish_chunks);
  stats.set_ack_to_publish_p50_ms(u.ack_to_publish_p50_ms);
  stats.set_ack_to_publish_p99_ms(u.ack_to_publish_p99_ms);
  stats.set_last_seq(u.last_seq);
  stats.set_persisted_version(u.persisted_version);
  stats.set_snapshots_persisted(u.persists_written);
  stats.set_snapshot_failures(u.persist_failures);
  stats.set_last_persist_ms(u.last_persist_ms);
  stats.set_vector_fields(f.vector_fields);
  stats.set_log_bytes(f.log_bytes);
  stats.set_duplicates_dropped(f.duplicates_dropped);
  v1::FeedbackStats& fb = *stats.mutable_feedback();
  fb.set_impressions_logged(f.feedback.impressions_logged);
  fb.set_impressions_failed(f.feedback.impressions_failed);
  fb.set_impressions_live(f.feedback.impressions_live);
  fb.set_rewards_joined(f.feedback.rewards_joined);
  for (int d = 0; d < RewardJoin::kDropCount; ++d) {
    (*fb.mutable_rewards_dropped())[RewardJoin::DropName(static_cast<RewardJoin::Drop>(d))] =
        f.feedback.rewards_dropped[d];
  }
  fb.set_defaults_emitted(f.feedback.defaults_emitted);
  fb.set_impressions_closed(f.feedback.impressions_closed);
  fb.set_join_latency_mean_ms(
      f.feedback.rewards_joined == 0
          ? 0.0
          : static_cast<double>(f.feedback.join_latency_ms_sum) / f.feedback.rewards_joined);
  fb.set_join_latency_max_ms(f.feedback.join_latency_ms_max);
  stats.set_storage_writable(f.storage_writable);
  stats.set_storage_error(f.storage_error);
  stats.set_storage_recoveries(f.storage_recoveries);
  stats.set_wal_syncs(f.wal_syncs);
}

}  // namespace streamrec::server
