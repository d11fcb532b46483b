#include "server/ingest.h"

#include "absl/strings/str_cat.h"
#include "server/error_details.h"
#include "server/reward_join.h"
#include "storage/event_log.h"

namespace streamrec::server {
namespace {

// How long a client refused by a full queue is told to wait (RetryInfo): about the time
// the updater takes to drain a few thousand events.
constexpr absl::Duration kQueueRetry = absl::Milliseconds(100);

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

const char* RejectName(Reject reason) {
  switch (reason) {
    case Reject::kInvalid: return "invalid_argument";
    case Reject::kQueueFull: return "queue_full";
    case Reject::kQueueBytesFull: return "queue_bytes_full";
    case Reject::kUnavailable: return "unavailable";
    case Reject::kStorage: return "storage_unavailable";
    case Reject::kCount: break;
  }
  return "?";
}

Ingest::Ingest(const IngestOptions& options, const RequestConverter* converter,
               VectorDims* dims, const std::atomic<bool>* ready,
               std::function<absl::Status()> storage, storage::EventLog* log)
    : options_(options),
      converter_(converter),
      dims_(dims),
      ready_(ready),
      storage_(std::move(storage)),
      log_(log) {}

void Ingest::CountRejected(Reject reason, size_t events) {
  rejected_[static_cast<int>(reason)].fetch_add(events, std::memory_order_relaxed);
}

Ingest::Counters Ingest::counters() const {
  Counters c;
  c.received = received_.load(std::memory_order_relaxed);
  c.accepted = accepted_.load(std::memory_order_relaxed);
  for (int r = 0; r < static_cast<int>(Reject::kCount); ++r) c.rejected[r] = rejected_[r].load();
  return c;
}

absl::StatusOr<std::unique_ptr<core::EventBatch>> Ingest::PrepareObserve(
    const v1::ObserveRequest& request, LoggedFn logged, bool count) {
  ParsedObserve parsed;
  if (absl::Status s = ParseV1(request, parsed); !s.ok()) return s;
  return PrepareObserve(parsed, std::move(logged), count);
}

void Ingest::Observe(const v1::ObserveRequest& request, v1::ObserveResponse& response,
                     DoneFn done) {
  ParsedObserve parsed;  // converted before Observe returns
  if (absl::Status s = ParseV1(request, parsed); !s.ok()) {
    done(s);
    return;
  }
  Observe(parsed, response, std::move(done));
}

absl::StatusOr<std::unique_ptr<core::EventBatch>> Ingest::PrepareObserve(
    const ParsedObserve& request, LoggedFn logged, bool count) {
  const size_t n = request.events.size();
  if (count) received_.fetch_add(n, std::memory_order_relaxed);
  if (!ready_->load()) {
    if (count) CountRejected(Reject::kUnavailable, n);
    return RecoveringError();
  }
  if (storage_) {
    if (absl::Status s = storage_(); !s.ok()) {
      if (count) CountRejected(Reject::kStorage, n);
      return WithReason(absl::UnavailableError(absl::StrCat(
                            s.message(), "; the server retries every ",
                            options_.storage_retry.count(),
                            " ms by itself and resumes once the disk takes writes again")),
                        kReasonStorageUnavailable, absl::Milliseconds(options_.storage_retry.count()));
    }
  }
  absl::StatusOr<std::unique_ptr<core::EventBatch>> batch = converter_->ConvertObserve(request);
  if (!batch.ok()) {
    if (count) CountRejected(Reject::kInvalid, n);
    return batch;
  }
  core::EventBatch& b = **batch;
  b.event_ids.reserve(n);
  for (const ParsedEvent& e : request.events) b.event_ids.emplace_back(e.event_id);
  b.bytes = BatchBytes(b);
  if (b.bytes > options_.queue_max_bytes) {
    if (count) CountRejected(Reject::kInvalid, n);
    return absl::InvalidArgumentError(absl::StrCat(
        "events: the request converts to ", b.bytes, " bytes, more than --queue_max_bytes (",
        options_.queue_max_bytes, "); send it in smaller requests"));
  }
  // Counted once logged: acknowledged events are accepted, refused ones rejected.
  // The callback lives in the batch and runs while the log writer holds it.
  b.on_logged = [this, n, self = &b, logged = std::move(logged)](const absl::Status& s) {
    if (s.ok()) {
      accepted_.fetch_add(n, std::memory_order_relaxed);
    } else {
      CountRejected(absl::IsInvalidArgument(s) ? Reject::kInvalid : Reject::kStorage, n);
    }
    LoggedCounts counts;
    if (s.ok()) {
      counts.duplicates = self->duplicates;
      counts.rewards_joined = self->rewards_joined;
      counts.rewards_dropped = self->rewards_dropped;
    }
    logged(s, counts);
  };
  return batch;
}

void Ingest::Observe(const ParsedObserve& request,
                     v1::ObserveResponse& response, DoneFn done) {
  const size_t n = request.events.size();
  if (stopping_.load()) {
    received_.fetch_add(n, std::memory_order_relaxed);
    CountRejected(Reject::kUnavailable, n);
    done(ShuttingDownError("this request was not accepted; send it again once the server "
                           "is back (or to another one)"));
    return;
  }
  absl::StatusOr<std::unique_ptr<core::EventBatch>> batch =
      PrepareObserve(request, [&response, n, done](const absl::Status& s, const LoggedCounts& c) {
        if (s.ok()) {
          response.set_accepted(n);
          response.set_duplicates(c.duplicates);
          response.set_rewards_joined(c.rewards_joined);
          response.set_rewards_dropped(c.rewards_dropped);
        }
        done(s);
      });
  if (!batch.ok()) {
    done(batch.status());
    return;
  }
  if (!queue_->ReserveBytes(**batch)) {
    CountRejected(Reject::kQueueBytesFull, n);
    done(WithReason(absl::ResourceExhaustedError(absl::StrCat(
                        "event queue full: ", queue_->bytes_used(), " of ",
                        queue_->capacity_bytes(),
                        " bytes held by waiting events (--queue_max_bytes); retry with "
                        "backoff, or use ObserveStream for flow control")),
                    kReasonQueueBytesFull, kQueueRetry));
    return;
  }
  if (!TryEnqueue(*batch)) {
    queue_->ReleaseBytes(**batch);
    CountRejected(Reject::kQueueFull, n);
    done(WithReason(absl::ResourceExhaustedError(absl::StrCat(
                        "event queue full (", queue_->depth(), " of ", queue_->capacity(),
                        " events waiting); retry with backoff, or use ObserveStream for flow "
                        "control")),
                    kReasonQueueFull, kQueueRetry));
  }
}

absl::Status Ingest::Admit(core::EventBatch& batch) {
  if (batch.new_dims.empty()) return absl::OkStatus();
  std::vector<core::NewVectorDim> unknown;
  for (core::NewVectorDim& d : batch.new_dims) {
    std::optional<uint32_t> known = dims_->Find(d.field);
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
      dims_->size() + pending_dims_.size() + unknown.size() > options_.max_vector_fields) {
    return absl::InvalidArgumentError(absl::StrCat(
        unknown.front().path, ": a new vector field would exceed the limit of ",
        options_.max_vector_fields, " distinct vector fields (--max_vector_fields)"));
  }
  for (const core::NewVectorDim& d : unknown) pending_dims_[d.field] = d.dim;
  batch.new_dims = std::move(unknown);  // what the append records
  return absl::OkStatus();
}

void Ingest::GroupDone(const absl::Status& status) {
  if (status.ok() && !pending_dims_.empty()) {
    std::vector<std::pair<std::string, uint32_t>> added(pending_dims_.begin(), pending_dims_.end());
    dims_->Register(added).IgnoreError();  // only this thread registers: no conflict
  }
  pending_dims_.clear();
  if (join_ != nullptr) join_->GroupDone(status);
}

absl::StatusOr<uint64_t> Ingest::Append(const std::vector<core::EventBatch*>& group) {
  static const std::string kNoId;
  storage::VectorDimList dims;
  std::vector<storage::LogEntry> entries;
  for (core::EventBatch* b : group) {
    if (b->flush) {
      entries.push_back(storage::LogEntry::FlushMarker());
      continue;
    }
    for (const core::NewVectorDim& d : b->new_dims) dims.emplace_back(d.field, d.dim);
    for (size_t i = 0; i < b->examples.size(); ++i) {
      entries.push_back({&b->examples[i], i < b->event_ids.size() ? &b->event_ids[i] : &kNoId});
    }
  }
  if (join_ != nullptr) return log_->Append(entries, dims, join_->TakeWrites());
  return log_->Append(entries, dims);
}

}  // namespace streamrec::server
