#include "server/server_core.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "server/error_details.h"
#include "server/memory_limit.h"
#include "server/model_config_proto.h"
#include "server/persistence.h"
#include "server/ranker.h"
#include "server/recovery.h"
#include "server/snapshot_admin.h"
#include "server/stats_assembly.h"

namespace streamrec::server {
namespace {

absl::Status ValidateOptions(const CoreOptions& options) {
  if (options.queue_capacity == 0) {
    return absl::InvalidArgumentError("queue_capacity must be > 0");
  }
  if (options.limits.max_events_per_request > options.queue_capacity) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_events_per_request (", options.limits.max_events_per_request,
        ") exceeds queue_capacity (", options.queue_capacity, "): such a request never fits"));
  }
  if (options.queue_max_bytes / 8 < options.limits.max_message_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "queue_max_bytes (", options.queue_max_bytes, ") is below 8 x max_message_bytes (",
        options.limits.max_message_bytes, "): a large request would never fit"));
  }
  if (options.limits.max_candidates == 0 || options.limits.max_events_per_request == 0 ||
      options.limits.max_features_per_example == 0 || options.max_vector_fields == 0 ||
      options.limits.max_concurrent_streams == 0 || options.max_admin_streams <= 0) {
    return absl::InvalidArgumentError("request limits must be > 0");
  }
  if (options.updater.publish_interval_ms <= 0 || options.updater.publish_every_events == 0) {
    return absl::InvalidArgumentError("publish_interval_ms and publish_every_events must be > 0");
  }
  return model::Validate(options.model);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerCore>> ServerCore::Create(const CoreOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  // A model that cannot fit in memory is refused before a data dir stores its config.
  const MemoryLimit memory = ReadMemoryLimit();
  if (!options.model_from_data_dir) {
    if (absl::Status s = CheckModelFits(options.model, memory); !s.ok()) return s;
  }
  std::unique_ptr<ServerCore> core(new ServerCore(options));
  ServerCore* self = core.get();
  if (!options.storage.data_dir.empty()) {
    absl::StatusOr<std::unique_ptr<Persistence>> p =
        Persistence::Open(options.storage, options.model, options.model_from_data_dir,
                          options.dedup_window, [self] { self->ReportIngest(); });
    if (!p.ok()) return p.status();
    core->persistence_ = *std::move(p);
    core->model_config_ = core->persistence_->model_config();
  }
  // The model of the effective config (the stored one when resuming without a config),
  // refused before allocating when its tables cannot fit in this process's memory.
  if (absl::Status s = CheckModelFits(core->model_config_, memory); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::unique_ptr<model::Model>> model = model::CreateModel(core->model_config_);
  if (!model.ok()) return model.status();
  Persistence* persistence = core->persistence_.get();
  // A deep model's dense fields have the dimension its config declares, from the first
  // request on (Recover checks a data dir's registry against them).
  if (core->model_config_.kind != model::ModelKind::kLogisticRegression &&
      core->model_config_.kind != model::ModelKind::kFm) {
    for (const model::DnnDenseField& f : core->model_config_.dnn.dense_fields) {
      if (f.dim > options.limits.max_features_per_example) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model config: dnn.dense_fields ", f.name, ":", f.dim, " has more dimensions than "
            "an event may carry features (--max_features_per_example ",
            options.limits.max_features_per_example, ")"));
      }
    }
    core->converter_.DeclareDenseFields(core->model_config_.dnn.dense_fields);
  }
  core->converter_.SetMaxVectorFields(options.max_vector_fields);

  IngestOptions ingest;
  ingest.queue_max_bytes = options.queue_max_bytes;
  ingest.max_vector_fields = options.max_vector_fields;
  ingest.storage_retry = options.storage.recovery_interval;
  std::function<absl::Status()> storage_health;
  if (persistence != nullptr) {
    storage_health = [persistence] { return persistence->db().write_error(); };
  }
  core->ingest_ = std::make_unique<Ingest>(ingest, &core->converter_, &core->dims_, &core->ready_,
                                           std::move(storage_health),
                                           persistence ? &persistence->log() : nullptr);
  Ingest* in = core->ingest_.get();

  if (persistence == nullptr) {
    core->impressions_ = std::make_unique<storage::MemoryImpressionStore>();
  } else if (persistence->db().has_impressions()) {
    core->impressions_ = std::make_unique<storage::RocksImpressionStore>(&persistence->db());
  }
  JoinOptions join = options.join;
  join.sync = options.storage.durability == storage::Durability::kSync;
  core->join_ = std::make_unique<RewardJoin>(
      join, core->impressions_.get(),
      join.clock != nullptr          ? join.clock
      : options.updater.clock != nullptr ? options.updater.clock
                                         : core::RealClock());
  RewardJoin* rj = core->join_.get();
  if (options.join.log_by_default && core->impressions_ == nullptr) {
    log::Warning("--log_impressions: this data dir logs no impressions (kept readable by "
                 "older builds, --log_record_format=3); Predict answers impression_logged "
                 "false, counted in feedback.impressions_failed");
  }

  core::PipelineOptions p;
  p.queue_capacity = options.queue_capacity;
  p.queue_max_bytes = options.queue_max_bytes;
  p.updater = options.updater;
  p.writer.dedup_window = options.dedup_window;
  p.writer.admit = [in](core::EventBatch& b) { return in->Admit(b); };
  p.writer.group_done = [in](const absl::Status& s) { in->GroupDone(s); };
  p.writer.resolve = [rj](core::EventBatch& b) { return rj->Resolve(b); };
  p.writer.due = [rj] { return rj->TakeDue(); };
  core::AppendFn append;
  core::PersistFn persist;
  if (persistence != nullptr) {
    append = [in](const std::vector<core::EventBatch*>& group) { return in->Append(group); };
    persist = [persistence](model::Model& m, const core::Checkpoint& c,
                            std::shared_ptr<core::PersistTicket> t) {
      return persistence->Persist(m, c, std::move(t));
    };
  }
  core->pipeline_ =
      std::make_unique<core::Pipeline>(*std::move(model), p, std::move(append), std::move(persist));
  in->Attach(&core->pipeline_->queue(), rj);
  core->served_ = &core->pipeline_->slot();
  core->ranker_ = std::make_unique<Ranker>(&core->converter_, core->served_, rj,
                                           core->model_config_.exploration);
  core->admin_ = std::make_unique<SnapshotAdmin>(persistence, &core->pipeline_->updater(),
                                                 &core->ready_, options.max_admin_streams);
  return core;
}

ServerCore::ServerCore(const CoreOptions& options)
    : options_(options),
      model_config_(options.model),
      converter_(options.limits, &dims_),
      streams_(options.limits.max_concurrent_streams) {}

ServerCore::~ServerCore() { Stop(); }

void ServerCore::SetIngestListener(std::function<void(bool)> listener) {
  core::MutexLock lock(&ingest_mu_);
  ingest_listener_ = std::move(listener);
  ingest_reported_ = -1;
}

bool ServerCore::ingest_ready() const {
  return ready_.load() && !stopped_.load() && !stopping_.load() && (!persistence_ || persistence_->writable());
}

void ServerCore::ReportIngest() {
  const bool serving = ingest_ready();
  core::MutexLock lock(&ingest_mu_);
  if (ingest_reported_ == static_cast<int>(serving)) return;
  ingest_reported_ = serving;
  if (ingest_listener_) ingest_listener_(serving);
}

absl::Status ServerCore::Recover() {
  Recovered recovered;
  if (persistence_) {
    RecoveryOptions options;
    options.dedup_window = options_.dedup_window;
    options.cancel = options_.cancel;
    absl::StatusOr<Recovered> r =
        server::Recover(*persistence_, pipeline_->updater(), dims_, options);
    if (!r.ok()) return r.status();
    recovered = *std::move(r);
  }
  // Declared dense vector fields are known from the start (not persisted: the config is).
  for (const auto& [name, dim] : converter_.dense_fields()) {
    if (dim < 2) continue;
    if (std::optional<uint32_t> known = dims_.Find(name); known && *known != dim) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the data dir holds vector field ", name, " with dimension ", *known,
          ", the config's dnn.dense_fields says ", dim));
    }
    if (absl::Status s = dims_.Register({{name, dim}}); !s.ok()) return s;
  }
  if (absl::Status s = join_->Start(); !s.ok()) return s;
  pipeline_->Start(recovered.next_seq, recovered.recent_ids);
  ready_.store(true);
  ReportIngest();
  return absl::OkStatus();
}

void ServerCore::BeginStop() {
  if (stopping_.exchange(true)) return;
  ingest_->SetStopping();
  ReportIngest();
  open_streams_.StopAll();
}

void ServerCore::Stop() {
  if (stopped_.exchange(true)) return;
  ready_.store(false);
  ReportIngest();
  if (pipeline_) pipeline_->Stop();  // persists the final snapshot and waits for it
  if (persistence_) persistence_->Stop();
}

absl::Status ServerCore::final_persist_status() const {
  return pipeline_ ? pipeline_->updater().final_persist_status() : absl::OkStatus();
}

absl::Status ServerCore::Predict(const ParsedPredict& request,
                                 v1::PredictResponse& response) {
  if (!ready_.load()) {
    return RecoveringError();
  }
  return ranker_->Predict(request, response);
}

absl::Status ServerCore::Predict(const v1::PredictRequest& request,
                                 v1::PredictResponse& response) {
  ParsedPredict parsed;
  if (absl::Status s = ParseV1(request, parsed); !s.ok()) return s;
  return Predict(parsed, response);
}

void ServerCore::Observe(const ParsedObserve& request,
                         v1::ObserveResponse& response, DoneFn done) {
  ingest_->Observe(request, response, std::move(done));
}

void ServerCore::Observe(const v1::ObserveRequest& request, v1::ObserveResponse& response,
                         DoneFn done) {
  ingest_->Observe(request, response, std::move(done));
}

absl::StatusOr<std::unique_ptr<core::EventBatch>> ServerCore::PrepareObserve(
    const ParsedObserve& request, LoggedFn logged, bool count) {
  return ingest_->PrepareObserve(request, std::move(logged), count);
}

bool ServerCore::TryEnqueue(std::unique_ptr<core::EventBatch>& batch) {
  return ingest_->TryEnqueue(batch);
}

bool ServerCore::model_config_from_data_dir() const {
  return persistence_ != nullptr && persistence_->resumed_stored_config();
}

void ServerCore::GetModelInfo(v1::ModelInfo& info) const {
  const std::shared_ptr<const model::Snapshot> snapshot = served_->Get();
  *info.mutable_config() = ModelConfigToProto(model_config_);
  info.set_model_version(snapshot->version());
  info.set_events_applied(snapshot->events_applied());
  info.set_parameter_count(snapshot->parameter_count());
  info.set_parameter_bytes(snapshot->parameter_count() * sizeof(float));
  info.set_nonzero_parameters(pipeline_->updater().Counters().nonzero_parameters);
}

void ServerCore::GetStats(v1::Stats& stats) const {
  StatsFigures f;
  f.ingest = ingest_->counters();
  f.updater = pipeline_->updater().Stats();
  f.metrics_window = options_.updater.metrics_window;
  const core::EventQueue& queue = pipeline_->queue();
  f.queue_depth = queue.depth();
  f.queue_capacity = queue.capacity();
  f.queue_bytes = queue.bytes_used();
  f.queue_max_bytes = queue.capacity_bytes();
  if (const core::LogWriter* w = pipeline_->writer()) f.duplicates_dropped = w->duplicates_dropped();
  f.requests_malformed = requests_malformed_.load(std::memory_order_relaxed);
  f.streams_rejected = streams_.rejected();
  f.streams_open = streams_.open();
  f.predict_requests = ranker_->requests();
  f.candidates_scored = ranker_->candidates();
  f.vector_fields = dims_.size();
  f.feedback = join_->counters();
  if (persistence_) {
    storage::Database& db = persistence_->db();
    f.storage_writable = db.writable();
    f.storage_error = std::string(db.write_error().message());
    f.storage_recoveries = db.recoveries();
    f.wal_syncs = db.wal_syncs();
    f.log_bytes = persistence_->log().ApproximateBytes();
  }
  AssembleStats(f, stats);
}

absl::Status ServerCore::ListSnapshots(v1::ListSnapshotsResponse& response) const {
  return admin_->ListSnapshots(response);
}
void ServerCore::SaveSnapshot(std::function<void(absl::StatusOr<uint64_t>)> done) {
  admin_->SaveSnapshot(std::move(done));
}
void ServerCore::Rollback(uint64_t version, std::function<void(absl::StatusOr<uint64_t>)> done) {
  admin_->Rollback(version, std::move(done));
}
absl::Status ServerCore::BeginAdminStream() { return admin_->BeginStream(); }
void ServerCore::EndAdminStream() { admin_->EndStream(); }
void ServerCore::StartExport(std::optional<uint64_t> version,
                             std::function<void(absl::StatusOr<Cursor>)> done) {
  admin_->StartExport(version, std::move(done));
}
void ServerCore::ExportNext(Cursor cursor, size_t max_bytes,
                            std::function<void(absl::StatusOr<std::string>)> done) {
  admin_->ExportNext(std::move(cursor), max_bytes, std::move(done));
}
absl::StatusOr<ServerCore::Session> ServerCore::BeginImport() { return admin_->BeginImport(); }
void ServerCore::ImportFeed(Session session, std::string piece, DoneFn done) {
  admin_->ImportFeed(std::move(session), std::move(piece), std::move(done));
}
void ServerCore::ImportFinish(Session session,
                              std::function<void(absl::StatusOr<uint64_t>)> done) {
  admin_->ImportFinish(std::move(session), std::move(done));
}
void ServerCore::ImportCancel(Session session) { admin_->ImportCancel(std::move(session)); }

}  // namespace streamrec::server
