#include "server/server_core.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/model_config_proto.h"
#include "storage/config_codec.h"
#include "storage/database.h"
#include "storage/event_log.h"
#include "storage/meta_store.h"
#include "storage/snapshot_export.h"
#include "storage/snapshot_store.h"

namespace streamrec::server {
namespace {

std::string RandomPrefix() {
  std::random_device rd;
  const uint64_t hi = (uint64_t{rd()} << 32) | rd();
  return absl::StrFormat("%016x", hi);
}

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

absl::Status Unavailable() {
  return absl::UnavailableError("the server is recovering (replaying its event log); retry");
}

// BatchBytes: the memory a converted batch holds, for the queue's byte budget.
size_t BatchBytes(const core::EventBatch& b) {
  size_t bytes = sizeof(core::EventBatch) + b.examples.capacity() * sizeof(model::Example) +
                 b.event_ids.capacity() * sizeof(std::string);
  for (const model::Example& e : b.examples) {
    bytes += e.features.capacity() * sizeof(model::HashedFeature);
  }
  for (const std::string& id : b.event_ids) bytes += id.capacity();
  for (const core::NewVectorDim& d : b.new_dims) bytes += sizeof(d) + d.field.size() + d.path.size();
  return bytes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerCore>> ServerCore::Create(const CoreOptions& options) {
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
      options.limits.max_concurrent_streams == 0 ||
      options.max_admin_streams <= 0) {
    return absl::InvalidArgumentError("request limits must be > 0");
  }
  if (options.updater.publish_interval_ms <= 0 || options.updater.publish_every_events == 0) {
    return absl::InvalidArgumentError("publish_interval_ms and publish_every_events must be > 0");
  }
  if (absl::Status s = model::Validate(options.model); !s.ok()) return s;
  std::unique_ptr<ServerCore> core(new ServerCore(options));
  absl::StatusOr<std::unique_ptr<model::Model>> model = model::CreateModel(options.model);
  if (!model.ok()) return model.status();
  core->import_target_ =
      std::make_unique<storage::ImportTarget>(storage::ImportTarget::Of(**model));
  if (!options.storage.data_dir.empty()) {
    if (absl::Status s = core->OpenStorage(); !s.ok()) return s;
  }
  core::PipelineOptions p;
  p.queue_capacity = options.queue_capacity;
  p.queue_max_bytes = options.queue_max_bytes;
  p.updater = options.updater;
  p.writer.dedup_window = options.dedup_window;
  ServerCore* self = core.get();
  p.writer.admit = [self](core::EventBatch& b) { return self->AdmitBatch(b); };
  p.writer.group_done = [self](const absl::Status& s) { self->GroupDone(s); };
  core::AppendFn append;
  core::PersistFn persist;
  if (core->db_) {
    append = [self](uint64_t first, const std::vector<core::EventBatch*>& group) {
      return self->AppendToLog(first, group);
    };
    persist = [self](model::Model& m, const core::Checkpoint& c,
                     std::shared_ptr<core::PersistTicket> t) {
      return self->Persist(m, c, std::move(t));
    };
  }
  core->pipeline_ =
      std::make_unique<core::Pipeline>(*std::move(model), p, std::move(append), std::move(persist));
  return core;
}

ServerCore::ServerCore(const CoreOptions& options)
    : options_(options),
      converter_(options.limits, &dims_),
      prediction_prefix_(RandomPrefix()),
      streams_(options.limits.max_concurrent_streams) {}

ServerCore::~ServerCore() { Stop(); }

absl::Status ServerCore::OpenStorage() {
  const StorageOptions& s = options_.storage;
  storage::DatabaseOptions db_options{s.data_dir, s.file_system};
  absl::StatusOr<std::unique_ptr<storage::Database>> db = storage::Database::Open(db_options);
  if (!db.ok()) return db.status();
  db_ = *std::move(db);
  meta_ = std::make_unique<storage::MetaStore>(db_.get());
  absl::StatusOr<std::optional<std::string>> stored = meta_->LoadEncodedConfig();
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) {
    absl::StatusOr<model::ModelConfig> config = storage::DecodeConfig(**stored);
    absl::Status compatible =
        config.ok() ? storage::CheckCompatible(*config, options_.model) : config.status();
    if (!compatible.ok()) {
      if (!s.start_fresh) {
        return absl::FailedPreconditionError(absl::StrCat(
            "--data_dir ", s.data_dir, " cannot be resumed: ", compatible.message(),
            ". Use the matching --model_config, another --data_dir, or --start_fresh to "
            "delete this data"));
      }
      std::fprintf(stderr, "streamrec-server: --start_fresh: deleting the data in %s (%s)\n",
                   s.data_dir.c_str(), std::string(compatible.message()).c_str());
      meta_.reset();
      db_.reset();
      if (absl::Status d = storage::Database::Destroy(s.data_dir); !d.ok()) return d;
      db = storage::Database::Open(db_options);
      if (!db.ok()) return db.status();
      db_ = *std::move(db);
      meta_ = std::make_unique<storage::MetaStore>(db_.get());
    }
  }
  if (absl::Status w = meta_->SaveConfig(options_.model); !w.ok()) return w;
  if (s.durability != Durability::kNone) log_ = std::make_unique<storage::EventLog>(db_.get());
  storage::SnapshotStoreOptions store_options;
  store_options.retain = s.snapshots_retained;
  store_options.accept_data_loss = s.accept_data_loss;
  store_ = std::make_unique<storage::SnapshotStore>(db_.get(), store_options);
  executor_ = std::make_unique<StorageExecutor>([this] { StorageTick(); }, s.recovery_interval);
  return absl::OkStatus();
}

void ServerCore::SetIngestListener(std::function<void(bool)> listener) {
  core::MutexLock lock(&ingest_mu_);
  ingest_listener_ = std::move(listener);
  ingest_reported_ = -1;
}

bool ServerCore::ingest_ready() const {
  return ready_.load() && !stopped_.load() && (db_ == nullptr || db_->writable());
}

void ServerCore::ReportIngest() {
  const bool serving = ingest_ready();
  core::MutexLock lock(&ingest_mu_);
  if (ingest_reported_ == static_cast<int>(serving)) return;
  ingest_reported_ = serving;
  if (ingest_listener_) ingest_listener_(serving);
}

void ServerCore::StorageTick() {
  if (!db_->writable()) {
    ReportIngest();
    if (absl::Status s = db_->TryRecover(); !s.ok()) {
      // Retried every recovery_interval; logged once a minute.
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_recovery_log_) {
        std::fprintf(stderr, "streamrec-server: storage still not writable (retrying): %s\n",
                     std::string(s.message()).c_str());
        next_recovery_log_ = now + std::chrono::minutes(1);
      }
    }
  } else {
    next_recovery_log_ = {};
  }
  // Chunks of failed snapshot writes and abandoned imports.
  if (db_->writable() && sweep_needed_.exchange(false)) {
    if (absl::StatusOr<uint64_t> n = store_->Sweep(); !n.ok()) {
      sweep_needed_.store(true);
    } else if (*n > 0) {
      std::fprintf(stderr, "streamrec-server: removed %lu chunks no snapshot references\n",
                   static_cast<unsigned long>(*n));
    }
  }
  ReportIngest();
}

absl::Status ServerCore::RecoverSnapshot(uint64_t& last_seq) {
  core::Updater& updater = pipeline_->updater();
  if (absl::Status s = store_->Open(); !s.ok()) return s;

  absl::StatusOr<storage::VectorDimList> dims = meta_->LoadVectorDims();
  if (!dims.ok()) return dims.status();
  for (const auto& [field, dim] : *dims) {
    if (absl::Status s = dims_.Register({{field, dim}}); !s.ok()) return s;
  }
  absl::StatusOr<storage::RestoredState> restored = store_->RestoreNewest(updater.model());
  if (restored.ok()) {
    core::Checkpoint c;
    c.version = restored->meta.version;
    c.last_seq = restored->meta.last_seq;
    c.events_applied = restored->meta.events_applied;
    c.updates_skipped = restored->meta.updates_skipped;
    c.metrics = restored->metrics;
    updater.Restore(c);
    last_seq = c.last_seq;
    std::fprintf(stderr, "streamrec-server: restored snapshot version %lu (events up to seq %lu)\n",
                 static_cast<unsigned long>(c.version), static_cast<unsigned long>(last_seq));
    return absl::OkStatus();
  }
  if (restored.status().code() != absl::StatusCode::kNotFound) return restored.status();
  if (const uint64_t newest = store_->NewestVersion(); newest > 0) {
    // The operator accepted the loss of every snapshot: an empty model, under versions
    // above every one the data dir has seen, that includes (as lost) every event before
    // the log's first, so the next start finds no gap.
    core::Checkpoint c;
    c.version = newest;
    if (log_) {
      absl::StatusOr<uint64_t> first = log_->FirstSeq();
      if (!first.ok()) return first.status();
      c.last_seq = *first > 0 ? *first - 1 : 0;
    }
    updater.Restore(c, /*persisted=*/false);
    last_seq = c.last_seq;
  }
  // A fresh data dir: the untrained model is snapshot 0, so the log can always be
  // replayed from an empty model while snapshot 0 is retained.
  absl::StatusOr<uint64_t> v = updater.PersistAndWait();
  return v.status();
}

absl::Status ServerCore::ReplayLog(uint64_t& last_seq, std::vector<std::string>& recent_ids) {
  core::Updater& updater = pipeline_->updater();
  absl::StatusOr<uint64_t> log_first = log_->FirstSeq();
  if (!log_first.ok()) return log_first.status();
  absl::StatusOr<uint64_t> log_last = log_->LastSeq();
  if (!log_last.ok()) return log_last.status();
  if (*log_first > last_seq + 1 && !options_.storage.accept_data_loss) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the event log of ", options_.storage.data_dir, " starts at sequence ", *log_first,
        " but the restored snapshot ends at ", last_seq, ": events ", last_seq + 1, "..",
        *log_first - 1, " are missing. Restore the data dir from a backup, or start with "
        "--accept_data_loss to continue without them"));
  }
  const uint64_t replay_from = std::max(last_seq + 1, *log_first);
  const uint64_t to_replay = *log_last >= replay_from ? *log_last - replay_from + 1 : 0;
  if (to_replay > 0) {
    std::fprintf(stderr, "streamrec-server: replaying %lu logged events from seq %lu\n",
                 static_cast<unsigned long>(to_replay), static_cast<unsigned long>(replay_from));
  }
  // Read from far enough back to also seed the de-duplication window.
  const uint64_t window = options_.dedup_window;
  const uint64_t from = std::min(last_seq, *log_last > window ? *log_last - window : 0);
  core::EventBatch batch;
  uint64_t replayed = 0;
  bool cancelled = false;
  auto flush = [&] {
    if (batch.examples.empty()) return;
    updater.Replay(batch);
    replayed += batch.examples.size();
    if (replayed % 100000 < batch.examples.size()) {
      std::fprintf(stderr, "streamrec-server: replayed %lu of %lu events\n",
                   static_cast<unsigned long>(replayed), static_cast<unsigned long>(to_replay));
    }
    batch.examples.clear();
    cancelled = options_.cancel != nullptr && options_.cancel->load();
  };
  absl::Status s = log_->Replay(from, [&](uint64_t seq, model::Example& ex, std::string& id) {
    if (cancelled) return;
    if (window > 0 && seq + window > *log_last) recent_ids.push_back(id);
    if (seq <= last_seq) return;
    if (batch.examples.empty()) batch.first_seq = seq;
    batch.examples.push_back(std::move(ex));
    if (batch.examples.size() >= 4096) flush();
  });
  if (!cancelled) flush();
  if (cancelled) {
    return absl::CancelledError(absl::StrCat("after replaying ", replayed, " of ", to_replay,
                                             " events (the log keeps them)"));
  }
  if (!s.ok()) return s;
  last_seq = std::max(last_seq, *log_last);
  return absl::OkStatus();
}

absl::Status ServerCore::Recover() {
  uint64_t last_seq = 0;
  std::vector<std::string> recent_ids;
  if (store_) {
    if (absl::Status s = RecoverSnapshot(last_seq); !s.ok()) return s;
  }
  if (options_.cancel != nullptr && options_.cancel->load()) {
    return absl::CancelledError("before replaying the log");
  }
  if (log_) {
    if (absl::Status s = ReplayLog(last_seq, recent_ids); !s.ok()) return s;
  }
  pipeline_->Start(last_seq + 1, recent_ids);
  ready_.store(true);
  ReportIngest();
  return absl::OkStatus();
}

void ServerCore::Stop() {
  if (stopped_.exchange(true)) return;
  ready_.store(false);
  ReportIngest();
  if (pipeline_) pipeline_->Stop();  // persists the final snapshot and waits for it
  if (executor_) executor_->Stop();
}

absl::Status ServerCore::final_persist_status() const {
  return pipeline_ ? pipeline_->updater().final_persist_status() : absl::OkStatus();
}

absl::Status ServerCore::AdmitBatch(core::EventBatch& batch) {
  if (batch.new_dims.empty()) return absl::OkStatus();
  std::vector<core::NewVectorDim> unknown;
  for (core::NewVectorDim& d : batch.new_dims) {
    std::optional<uint32_t> known = dims_.Find(d.field);
    if (!known) {
      auto it = pending_dims_.find(d.field);
      if (it != pending_dims_.end()) known = it->second;
    }
    if (known) {
      if (*known != d.dim) {
        return absl::InvalidArgumentError(absl::StrCat(
            d.path, ": dimension ", d.dim, " differs from ", *known,
            ", the dimension the model first saw"));
      }
      continue;
    }
    unknown.push_back(d);
  }
  if (!unknown.empty() &&
      dims_.size() + pending_dims_.size() + unknown.size() > options_.max_vector_fields) {
    return absl::InvalidArgumentError(absl::StrCat(
        unknown.front().path, ": a new vector field would exceed the limit of ",
        options_.max_vector_fields, " distinct vector fields (--max_vector_fields)"));
  }
  for (const core::NewVectorDim& d : unknown) pending_dims_[d.field] = d.dim;
  batch.new_dims = std::move(unknown);  // what the append records
  return absl::OkStatus();
}

void ServerCore::GroupDone(const absl::Status& status) {
  if (status.ok() && !pending_dims_.empty()) {
    std::vector<std::pair<std::string, uint32_t>> added(pending_dims_.begin(), pending_dims_.end());
    dims_.Register(added).IgnoreError();  // only this thread registers: no conflict
  }
  pending_dims_.clear();
}

absl::Status ServerCore::AppendToLog(uint64_t first_seq,
                                     const std::vector<core::EventBatch*>& group) {
  static const std::string kNoId;
  rocksdb::WriteBatch batch;
  storage::VectorDimList dims;
  std::vector<storage::LogEntry> entries;
  for (core::EventBatch* b : group) {
    for (const core::NewVectorDim& d : b->new_dims) dims.emplace_back(d.field, d.dim);
    if (!log_) continue;
    for (size_t i = 0; i < b->examples.size(); ++i) {
      entries.push_back({&b->examples[i], i < b->event_ids.size() ? &b->event_ids[i] : &kNoId});
    }
  }
  if (!entries.empty()) log_->AddRecord(first_seq, entries, batch);
  if (!dims.empty()) meta_->AddVectorDims(dims, batch);
  if (batch.Count() == 0) return absl::OkStatus();
  return db_->Write(batch, options_.storage.durability == Durability::kSync);
}

absl::Status ServerCore::Persist(model::Model& model, const core::Checkpoint& c,
                                 std::shared_ptr<core::PersistTicket> ticket) {
  storage::SnapshotMeta meta;
  meta.version = c.version;
  meta.time_unix_ms = absl::ToUnixMillis(absl::Now());
  meta.last_seq = c.last_seq;
  meta.events_applied = c.events_applied;
  meta.updates_skipped = c.updates_skipped;
  // Capture on the updater thread (a copy of the changed chunks), write on the storage
  // thread. Back-pressure: if the disk is two snapshots behind, wait here.
  auto pending = std::make_shared<storage::SnapshotStore::Pending>(
      store_->Capture(model, meta, c.metrics));
  executor_->BeginWrite([this, pending, ticket, last_seq = c.last_seq] {
    absl::StatusOr<uint64_t> written =
        store_->Write(std::move(*pending), options_.storage.testing_before_manifest);
    if (written.ok()) {
      // The log is needed after the oldest retained snapshot, and for its last
      // --dedup_window events (the window is rebuilt from them at start).
      uint64_t keep_from = store_->OldestLastSeq() + 1;
      if (const uint64_t window = options_.dedup_window; window > 0) {
        keep_from = std::min(keep_from, last_seq >= window ? last_seq + 1 - window : 1);
      }
      if (log_) {
        if (absl::Status t = log_->TruncateBefore(keep_from); !t.ok()) {
          std::fprintf(stderr, "streamrec-server: truncating the event log failed: %s\n",
                       std::string(t.message()).c_str());
        }
      }
    } else {
      sweep_needed_.store(true);  // its chunks are orphans now
    }
    ticket->Complete(written.status());
  });
  return absl::OkStatus();
}

std::string ServerCore::NextPredictionId() {
  return absl::StrFormat("%s-%x", prediction_prefix_,
                         prediction_counter_.fetch_add(1, std::memory_order_relaxed));
}

absl::Status ServerCore::Predict(const v1::PredictRequest& request,
                                 v1::PredictResponse& response) {
  if (!ready_.load()) return Unavailable();
  thread_local PredictInput input;
  if (absl::Status s = converter_.ConvertPredict(request, input); !s.ok()) return s;
  const std::shared_ptr<const model::Snapshot> snapshot = pipeline_->slot().Get();
  const model::ContextScore context = snapshot->ScoreContext(input.context);
  const size_t n = input.items.size();
  thread_local std::vector<double> scores;
  thread_local std::vector<uint32_t> order;
  scores.resize(n);
  order.resize(n);
  for (size_t i = 0; i < n; ++i) scores[i] = snapshot->ScoreItem(context, input.items[i]);
  std::iota(order.begin(), order.end(), 0);
  const size_t k = request.top_k() == 0 ? n : std::min<size_t>(request.top_k(), n);
  auto better = [](uint32_t a, uint32_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  };
  std::partial_sort(order.begin(), order.begin() + k, order.end(), better);
  response.mutable_items()->Reserve(static_cast<int>(k));
  for (size_t r = 0; r < k; ++r) {
    v1::ScoredItem* item = response.add_items();
    item->set_id(request.candidates(order[r]).id());
    item->set_score(scores[order[r]]);
    item->set_index(order[r]);
  }
  response.set_model_version(snapshot->version());
  response.set_prediction_id(NextPredictionId());
  predict_requests_.fetch_add(1, std::memory_order_relaxed);
  candidates_scored_.fetch_add(n, std::memory_order_relaxed);
  return absl::OkStatus();
}

void ServerCore::CountRejected(Reject reason, size_t events) {
  rejected_[static_cast<int>(reason)].fetch_add(events, std::memory_order_relaxed);
}

absl::StatusOr<std::unique_ptr<core::EventBatch>> ServerCore::PrepareObserve(
    const v1::ObserveRequest& request, DoneFn logged, bool count) {
  const size_t n = request.events_size();
  if (count) events_received_.fetch_add(n, std::memory_order_relaxed);
  if (!ready_.load()) {
    if (count) CountRejected(Reject::kUnavailable, n);
    return Unavailable();
  }
  if (db_ != nullptr && !db_->writable()) {
    if (count) CountRejected(Reject::kStorage, n);
    return absl::UnavailableError(absl::StrCat(
        db_->write_error().message(), "; the server retries every ",
        options_.storage.recovery_interval.count(), " ms by itself and resumes once the disk "
        "takes writes again"));
  }
  absl::StatusOr<std::unique_ptr<core::EventBatch>> batch = converter_.ConvertObserve(request);
  if (!batch.ok()) {
    if (count) CountRejected(Reject::kInvalid, n);
    return batch;
  }
  core::EventBatch& b = **batch;
  b.event_ids.reserve(n);
  for (const v1::Event& e : request.events()) b.event_ids.push_back(e.event_id());
  b.bytes = BatchBytes(b);
  if (b.bytes > options_.queue_max_bytes) {
    if (count) CountRejected(Reject::kInvalid, n);
    return absl::InvalidArgumentError(absl::StrCat(
        "events: the request converts to ", b.bytes, " bytes, more than --queue_max_bytes (",
        options_.queue_max_bytes, "); send it in smaller requests"));
  }
  // Counted once logged: acknowledged events are accepted, refused ones rejected.
  b.on_logged = [this, n, logged = std::move(logged)](const absl::Status& s) {
    if (s.ok()) {
      events_accepted_.fetch_add(n, std::memory_order_relaxed);
    } else {
      CountRejected(absl::IsInvalidArgument(s) ? Reject::kInvalid : Reject::kStorage, n);
    }
    logged(s);
  };
  return batch;
}

bool ServerCore::TryEnqueue(std::unique_ptr<core::EventBatch>& batch) {
  return pipeline_->queue().TryPush(batch);
}

void ServerCore::Observe(const v1::ObserveRequest& request, v1::ObserveResponse& response,
                         DoneFn done) {
  const size_t n = request.events_size();
  absl::StatusOr<std::unique_ptr<core::EventBatch>> batch =
      PrepareObserve(request, [&response, n, done](const absl::Status& s) {
        if (s.ok()) response.set_accepted(n);
        done(s);
      });
  if (!batch.ok()) {
    done(batch.status());
    return;
  }
  core::EventQueue& queue = pipeline_->queue();
  if (!queue.ReserveBytes(**batch)) {
    CountRejected(Reject::kQueueBytesFull, n);
    done(absl::ResourceExhaustedError(absl::StrCat(
        "event queue full: ", queue.bytes_used(), " of ", queue.capacity_bytes(),
        " bytes held by waiting events (--queue_max_bytes); retry with backoff, or use "
        "ObserveStream for flow control")));
    return;
  }
  if (!TryEnqueue(*batch)) {
    queue.ReleaseBytes(**batch);
    CountRejected(Reject::kQueueFull, n);
    done(absl::ResourceExhaustedError(absl::StrCat(
        "event queue full (", queue.depth(), " of ", queue.capacity(),
        " events waiting); retry with backoff, or use ObserveStream for flow control")));
  }
}

void ServerCore::GetModelInfo(v1::ModelInfo& info) const {
  const std::shared_ptr<const model::Snapshot> snapshot = pipeline_->slot().Get();
  *info.mutable_config() = ModelConfigToProto(options_.model);
  info.set_model_version(snapshot->version());
  info.set_events_applied(snapshot->events_applied());
  info.set_parameter_count(snapshot->parameter_count());
  info.set_parameter_bytes(snapshot->parameter_count() * sizeof(float));
  info.set_nonzero_parameters(pipeline_->updater().Counters().nonzero_parameters);
}

void ServerCore::GetStats(v1::Stats& stats) const {
  const core::UpdaterStats u = pipeline_->updater().Stats();
  stats.set_events_received(events_received_.load(std::memory_order_relaxed));
  stats.set_events_accepted(events_accepted_.load(std::memory_order_relaxed));
  stats.set_events_applied(u.events_applied);
  auto& rejected = *stats.mutable_events_rejected();
  rejected["invalid_argument"] = rejected_[static_cast<int>(Reject::kInvalid)].load();
  rejected["queue_full"] = rejected_[static_cast<int>(Reject::kQueueFull)].load();
  rejected["queue_bytes_full"] = rejected_[static_cast<int>(Reject::kQueueBytesFull)].load();
  rejected["unavailable"] = rejected_[static_cast<int>(Reject::kUnavailable)].load();
  rejected["storage_unavailable"] = rejected_[static_cast<int>(Reject::kStorage)].load();
  const core::EventQueue& queue = pipeline_->queue();
  stats.set_queue_depth(queue.depth());
  stats.set_queue_capacity(queue.capacity());
  stats.set_queue_bytes(queue.bytes_used());
  stats.set_queue_max_bytes(queue.capacity_bytes());
  stats.set_publications(u.publications);
  stats.set_model_version(u.model_version);
  stats.set_updates_skipped_nonfinite(u.updates_skipped_nonfinite);
  stats.set_predict_requests(predict_requests_.load(std::memory_order_relaxed));
  stats.set_candidates_scored(candidates_scored_.load(std::memory_order_relaxed));
  stats.set_requests_malformed(requests_malformed_.load(std::memory_order_relaxed));
  stats.set_streams_rejected(streams_.rejected());
  stats.set_streams_open(streams_.open());
  FillMetrics(u.overall, *stats.mutable_progressive());
  FillMetrics(u.window, *stats.mutable_progressive_window());
  stats.set_metrics_window(options_.updater.metrics_window);
  stats.set_publish_micros_mean(u.publish_micros_mean);
  stats.set_last_publish_chunks(u.last_publish_chunks);
  stats.set_ack_to_publish_p50_ms(u.ack_to_publish_p50_ms);
  stats.set_ack_to_publish_p99_ms(u.ack_to_publish_p99_ms);
  stats.set_last_seq(u.last_seq);
  stats.set_persisted_version(u.persisted_version);
  stats.set_snapshots_persisted(u.persists_written);
  stats.set_snapshot_failures(u.persist_failures);
  stats.set_last_persist_ms(u.last_persist_ms);
  stats.set_vector_fields(dims_.size());
  if (log_) stats.set_log_bytes(log_->ApproximateBytes());
  if (const core::LogWriter* w = pipeline_->writer()) {
    stats.set_duplicates_dropped(w->duplicates_dropped());
  }
  stats.set_storage_writable(db_ == nullptr || db_->writable());
  if (db_) {
    stats.set_storage_error(std::string(db_->write_error().message()));
    stats.set_storage_recoveries(db_->recoveries());
    stats.set_wal_syncs(db_->wal_syncs());
  }
}

}  // namespace streamrec::server
