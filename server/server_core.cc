#include "server/server_core.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/model_config_proto.h"
#include "storage/config_codec.h"
#include "storage/encoding.h"

namespace streamrec::server {
namespace {

constexpr char kConfigKey[] = "config";
constexpr char kVectorDimsKey[] = "vector_dims";

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
  if (options.limits.max_candidates == 0 || options.limits.max_events_per_request == 0 ||
      options.limits.max_features_per_example == 0 ||
      options.limits.max_concurrent_streams == 0) {
    return absl::InvalidArgumentError("request limits must be > 0");
  }
  if (options.updater.publish_interval_ms <= 0 || options.updater.publish_every_events == 0) {
    return absl::InvalidArgumentError("publish_interval_ms and publish_every_events must be > 0");
  }
  if (absl::Status s = model::Validate(options.model); !s.ok()) return s;
  std::unique_ptr<ServerCore> core(new ServerCore(options));
  if (!options.storage.data_dir.empty()) {
    if (absl::Status s = core->OpenStorage(); !s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<model::Model>> model = model::CreateModel(options.model);
  if (!model.ok()) return model.status();
  core::PipelineOptions p;
  p.queue_capacity = options.queue_capacity;
  p.updater = options.updater;
  p.writer.dedup_window = options.dedup_window;
  core::AppendFn append;
  core::PersistFn persist;
  ServerCore* self = core.get();
  if (core->log_) {
    append = [self](uint64_t first, const std::vector<core::EventBatch*>& group) {
      return self->AppendToLog(first, group);
    };
  }
  if (core->store_) {
    persist = [self](model::Model& m, const core::Checkpoint& c) { return self->Persist(m, c); };
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
  absl::StatusOr<std::unique_ptr<storage::Database>> db = storage::Database::Open(s.data_dir);
  if (!db.ok()) return db.status();
  db_ = *std::move(db);
  absl::StatusOr<std::optional<std::string>> stored = db_->Get(db_->meta(), kConfigKey);
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
      db_.reset();
      if (absl::Status d = storage::Database::Destroy(s.data_dir); !d.ok()) return d;
      db = storage::Database::Open(s.data_dir);
      if (!db.ok()) return db.status();
      db_ = *std::move(db);
    }
  }
  rocksdb::WriteBatch batch;
  batch.Put(db_->meta(), kConfigKey, storage::EncodeConfig(options_.model));
  if (absl::Status w = db_->Write(batch, true); !w.ok()) return w;
  if (s.durability != Durability::kNone) log_ = std::make_unique<storage::EventLog>(db_.get());
  store_ = std::make_unique<storage::SnapshotStore>(db_.get(), s.snapshots_retained);
  storage_thread_ = std::thread([this] { RunStorageThread(); });
  return absl::OkStatus();
}

absl::Status ServerCore::Recover() {
  core::Updater& updater = pipeline_->updater();
  uint64_t last_seq = 0;
  std::vector<std::string> recent_ids;
  if (store_) {
    if (absl::Status s = store_->Open(); !s.ok()) return s;
    absl::StatusOr<std::optional<std::string>> dims = db_->Get(db_->meta(), kVectorDimsKey);
    if (!dims.ok()) return dims.status();
    if (dims->has_value()) {
      storage::Reader r(**dims);
      uint32_t n = 0;
      r.GetU32(n);
      std::vector<std::pair<std::string, uint32_t>> all(r.ok() ? n : 0);
      for (auto& [field, dim] : all) {
        r.GetString(field);
        r.GetU32(dim);
      }
      if (r.ok()) dims_.Register(all).IgnoreError();
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
    } else if (restored.status().code() != absl::StatusCode::kNotFound) {
      return restored.status();
    } else if (absl::StatusOr<uint64_t> v = updater.PersistNow(); !v.ok()) {
      // A fresh data dir: the untrained model is snapshot 0, so the log can always be
      // replayed from an empty model while snapshot 0 is retained.
      return v.status();
    }
  }
  if (log_) {
    absl::StatusOr<uint64_t> log_last = log_->LastSeq();
    if (!log_last.ok()) return log_last.status();
    const uint64_t to_replay = *log_last > last_seq ? *log_last - last_seq : 0;
    if (to_replay > 0) {
      std::fprintf(stderr, "streamrec-server: replaying %lu logged events after seq %lu\n",
                   static_cast<unsigned long>(to_replay), static_cast<unsigned long>(last_seq));
    }
    // Read from far enough back to also seed the de-duplication window.
    const uint64_t window = options_.dedup_window;
    const uint64_t from = std::min(last_seq, *log_last > window ? *log_last - window : 0);
    core::EventBatch batch;
    uint64_t replayed = 0;
    auto flush = [&] {
      if (batch.examples.empty()) return;
      updater.Replay(batch);
      replayed += batch.examples.size();
      if (replayed % 100000 < batch.examples.size()) {
        std::fprintf(stderr, "streamrec-server: replayed %lu of %lu events\n",
                     static_cast<unsigned long>(replayed), static_cast<unsigned long>(to_replay));
      }
      batch.examples.clear();
    };
    absl::Status s = log_->Replay(from, [&](uint64_t seq, model::Example& ex, std::string& id) {
      if (window > 0 && seq + window > *log_last) recent_ids.push_back(id);
      if (seq <= last_seq) return;
      if (batch.examples.empty()) batch.first_seq = seq;
      batch.examples.push_back(std::move(ex));
      if (batch.examples.size() >= 4096) flush();
    });
    flush();
    if (!s.ok()) return s;
    last_seq = std::max(last_seq, *log_last);
  }
  pipeline_->Start(last_seq + 1, recent_ids);
  ready_.store(true);
  return absl::OkStatus();
}

void ServerCore::Stop() {
  if (stopped_.exchange(true)) return;
  ready_.store(false);
  if (pipeline_) pipeline_->Stop();  // captures the final snapshot
  if (storage_thread_.joinable()) {
    {
      core::MutexLock lock(&storage_mu_);
      storage_stop_ = true;
    }
    storage_cv_.notify_all();
    storage_thread_.join();  // writes everything queued first
  }
}

absl::Status ServerCore::AppendToLog(uint64_t first_seq,
                                     const std::vector<core::EventBatch*>& group) {
  static const std::string kNoId;
  std::vector<storage::LogEntry> entries;
  for (core::EventBatch* b : group) {
    for (size_t i = 0; i < b->examples.size(); ++i) {
      entries.push_back({&b->examples[i], i < b->event_ids.size() ? &b->event_ids[i] : &kNoId});
    }
  }
  return log_->Append(first_seq, entries, options_.storage.durability == Durability::kSync);
}

absl::Status ServerCore::Persist(model::Model& model, const core::Checkpoint& c) {
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
  std::unique_lock<core::Mutex> lock(storage_mu_);
  storage_cv_.wait(lock, [this] { return pending_writes_ < 2; });
  ++pending_writes_;
  storage_tasks_.push_back([this, pending] {
    const uint64_t version = pending->manifest.meta.version;
    absl::StatusOr<uint64_t> written =
        store_->Write(std::move(*pending), options_.storage.testing_before_manifest);
    if (written.ok()) {
      written_version_.store(version);
      snapshots_written_.fetch_add(1);
      // The log is needed only after the oldest retained snapshot.
      if (log_) {
        if (absl::Status t = log_->TruncateBefore(store_->OldestLastSeq() + 1); !t.ok()) {
          std::fprintf(stderr, "streamrec-server: truncating the event log failed: %s\n",
                       std::string(t.message()).c_str());
        }
      }
    } else {
      snapshot_write_failures_.fetch_add(1);
      std::fprintf(stderr, "streamrec-server: writing a snapshot failed (the next one will be "
                   "complete): %s\n", std::string(written.status().message()).c_str());
    }
    core::MutexLock done(&storage_mu_);
    last_write_status_ = written.status();
    --pending_writes_;
  });
  storage_cv_.notify_all();
  return absl::OkStatus();
}

void ServerCore::EnqueueStorageTask(std::function<void()> task) {
  {
    core::MutexLock lock(&storage_mu_);
    storage_tasks_.push_back(std::move(task));
  }
  storage_cv_.notify_all();
}

void ServerCore::WaitStorageIdle() {
  std::unique_lock<core::Mutex> lock(storage_mu_);
  storage_cv_.wait(lock, [this] { return storage_tasks_.empty() && !storage_busy_; });
}

void ServerCore::RunStorageThread() {
  std::unique_lock<core::Mutex> lock(storage_mu_);
  for (;;) {
    storage_cv_.wait(lock, [this] { return storage_stop_ || !storage_tasks_.empty(); });
    if (storage_tasks_.empty()) return;  // stopping, and everything ran
    std::function<void()> task = std::move(storage_tasks_.front());
    storage_tasks_.pop_front();
    storage_busy_ = true;
    lock.unlock();
    task();
    lock.lock();
    storage_busy_ = false;
    storage_cv_.notify_all();
  }
}

absl::Status ServerCore::SaveVectorDims() {
  if (!db_) return absl::OkStatus();
  core::MutexLock lock(&dims_save_mu_);  // rare: only when a new field appears
  std::string value;
  const auto all = dims_.All();
  storage::PutU32(value, static_cast<uint32_t>(all.size()));
  for (const auto& [field, dim] : all) {
    storage::PutString(value, field);
    storage::PutU32(value, dim);
  }
  rocksdb::WriteBatch batch;
  batch.Put(db_->meta(), kVectorDimsKey, value);
  return db_->Write(batch, options_.storage.durability == Durability::kSync);
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

void ServerCore::CountRejected(const absl::Status& status, size_t events) {
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:
      rejected_queue_full_.fetch_add(events, std::memory_order_relaxed);
      break;
    case absl::StatusCode::kInvalidArgument:
      rejected_invalid_.fetch_add(events, std::memory_order_relaxed);
      break;
    default:
      rejected_unavailable_.fetch_add(events, std::memory_order_relaxed);
  }
}

absl::StatusOr<std::unique_ptr<core::EventBatch>> ServerCore::PrepareObserve(
    const v1::ObserveRequest& request) {
  const size_t n = request.events_size();
  events_received_.fetch_add(n, std::memory_order_relaxed);
  if (!ready_.load()) {
    CountRejected(Unavailable(), n);
    return Unavailable();
  }
  const uint64_t generation = dims_.generation();
  absl::StatusOr<std::unique_ptr<core::EventBatch>> batch = converter_.ConvertObserve(request);
  if (!batch.ok()) {
    CountRejected(batch.status(), n);
    return batch;
  }
  if (dims_.generation() != generation) {
    if (absl::Status s = SaveVectorDims(); !s.ok()) return s;
  }
  (*batch)->event_ids.reserve(n);
  for (const v1::Event& e : request.events()) (*batch)->event_ids.push_back(e.event_id());
  return batch;
}

bool ServerCore::TryEnqueue(std::unique_ptr<core::EventBatch>& batch) {
  const size_t n = batch->examples.size();
  if (!pipeline_->queue().TryPush(batch)) return false;
  events_accepted_.fetch_add(n, std::memory_order_relaxed);
  return true;
}

void ServerCore::Observe(const v1::ObserveRequest& request, v1::ObserveResponse& response,
                         DoneFn done) {
  absl::StatusOr<std::unique_ptr<core::EventBatch>> batch = PrepareObserve(request);
  if (!batch.ok()) {
    done(batch.status());
    return;
  }
  const size_t n = (*batch)->examples.size();
  (*batch)->on_logged = [&response, n, done](const absl::Status& s) {
    if (s.ok()) response.set_accepted(n);
    done(s);
  };
  if (!TryEnqueue(*batch)) {
    absl::Status full = absl::ResourceExhaustedError(absl::StrCat(
        "event queue full (", pipeline_->queue().depth(), " of ",
        pipeline_->queue().capacity(),
        " events waiting); retry with backoff, or use ObserveStream for flow control"));
    CountRejected(full, n);
    done(full);
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
  (*stats.mutable_events_rejected())["invalid_argument"] = rejected_invalid_.load();
  (*stats.mutable_events_rejected())["queue_full"] = rejected_queue_full_.load();
  (*stats.mutable_events_rejected())["unavailable"] = rejected_unavailable_.load();
  stats.set_queue_depth(pipeline_->queue().depth());
  stats.set_queue_capacity(pipeline_->queue().capacity());
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
  stats.set_persisted_version(written_version_.load());
  stats.set_snapshots_persisted(snapshots_written_.load());
  stats.set_snapshot_failures(snapshot_write_failures_.load() + u.persist_failures);
  stats.set_last_persist_ms(u.last_persist_ms);
  if (log_) stats.set_log_bytes(log_->ApproximateBytes());
  if (const core::LogWriter* w = pipeline_->writer()) {
    stats.set_duplicates_dropped(w->duplicates_dropped());
  }
}

absl::Status ServerCore::ListSnapshots(v1::ListSnapshotsResponse& response) const {
  if (!store_) return absl::FailedPreconditionError("the server runs without --data_dir");
  for (const storage::SnapshotInfo& s : store_->List()) {
    v1::SnapshotInfo* out = response.add_snapshots();
    out->set_model_version(s.meta.version);
    out->set_time_unix_ms(s.meta.time_unix_ms);
    out->set_last_seq(s.meta.last_seq);
    out->set_bytes(s.bytes);
    out->set_events_applied(s.meta.events_applied);
  }
  return absl::OkStatus();
}

void ServerCore::SaveSnapshot(std::function<void(absl::StatusOr<uint64_t>)> done) {
  if (!store_) return done(absl::FailedPreconditionError("the server runs without --data_dir"));
  if (!ready_.load()) return done(Unavailable());
  core::Updater* u = &pipeline_->updater();
  u->Post([this, u, done] { AfterWrite(u->PersistNow(), done); });
}

void ServerCore::AfterWrite(absl::StatusOr<uint64_t> version,
                            std::function<void(absl::StatusOr<uint64_t>)> done) {
  if (!version.ok()) return done(version.status());
  // Runs after the write that PersistNow queued (the storage thread is FIFO).
  EnqueueStorageTask([this, v = *version, done] {
    absl::Status written;
    {
      core::MutexLock lock(&storage_mu_);
      written = last_write_status_;
    }
    if (written.ok()) {
      done(v);
    } else {
      done(written);
    }
  });
}

void ServerCore::Rollback(uint64_t version, std::function<void(absl::StatusOr<uint64_t>)> done) {
  if (!store_) return done(absl::FailedPreconditionError("the server runs without --data_dir"));
  if (!ready_.load()) return done(Unavailable());
  core::Updater* u = &pipeline_->updater();
  u->Post([this, u, version, done] {
    // Retention in a pending write could delete the chunks being restored: let the
    // writes finish first (an administrative pause of training).
    WaitStorageIdle();
    absl::StatusOr<std::unique_ptr<model::Model>> scratch = model::CreateModel(options_.model);
    if (!scratch.ok()) return done(scratch.status());
    absl::StatusOr<storage::RestoredState> r = store_->Restore(version, **scratch);
    if (!r.ok()) return done(r.status());
    u->SwapModel(*std::move(scratch));
    AfterWrite(u->PersistNow(), done);  // records the rollback, so a restart keeps it
  });
}

void ServerCore::ExportSnapshot(uint64_t version,
                                std::function<void(absl::StatusOr<std::string>)> done) {
  if (!store_) return done(absl::FailedPreconditionError("the server runs without --data_dir"));
  // Reading a whole snapshot is I/O: on the storage thread, never a gRPC or the updater's.
  auto read = [this, done](uint64_t v) { EnqueueStorageTask([this, done, v] { done(store_->Export(v)); }); };
  if (version != 0) return read(version);
  if (!ready_.load()) return done(Unavailable());
  core::Updater* u = &pipeline_->updater();
  u->Post([this, u, read, done] {
    AfterWrite(u->PersistNow(), [read, done](absl::StatusOr<uint64_t> v) {
      if (!v.ok()) return done(v.status());
      read(*v);
    });
  });
}

void ServerCore::ImportSnapshot(std::string file,
                                std::function<void(absl::StatusOr<uint64_t>)> done) {
  if (!store_) return done(absl::FailedPreconditionError("the server runs without --data_dir"));
  if (!ready_.load()) return done(Unavailable());
  core::Updater* u = &pipeline_->updater();
  u->Post([this, u, file = std::move(file), done] {
    absl::StatusOr<std::unique_ptr<model::Model>> scratch = model::CreateModel(options_.model);
    if (!scratch.ok()) return done(scratch.status());
    absl::StatusOr<storage::RestoredState> r = storage::SnapshotStore::Import(file, **scratch);
    if (!r.ok()) return done(r.status());
    u->SwapModel(*std::move(scratch));
    AfterWrite(u->PersistNow(), done);
  });
}

}  // namespace streamrec::server
