#include "server/observe_stream.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/server_context.h"
#include "server/error_details.h"
#include "server/grpc_status.h"
#include "server/raw_message.h"

namespace streamrec::server {
namespace {

// What a stream's parser keeps between requests: a stream may sit idle for long, and
// --max_concurrent_streams of them may be open.
constexpr size_t kStreamKeepBytes = 256 << 10;

}  // namespace

ObserveStreamReactor::ObserveStreamReactor(ServerCore* core,
                                           grpc::CallbackServerContext* context)
    : core_(core), context_(context) {
  // Not under mu_: StopAll calls StopReading (which takes mu_) with the registry's lock.
  registered_ = core_->open_streams().Add(this);
  core::MutexLock lock(&mu_);
  if (!registered_) {
    FinishStoppedLocked();  // the stop has begun: nothing read, nothing acknowledged
    return;
  }
  if (phase_ == Phase::kReading) StartRead(&raw_request_);  // else StopReading finished it
}

void ObserveStreamReactor::StopReading() {
  core::MutexLock lock(&mu_);
  stopping_ = true;
  // Between requests: end now (the outstanding read completes, and is ignored). With a
  // request in flight: OnWriteDone (or its refusal) ends the stream; a read ahead
  // outstanding is ignored, a request prepared ahead refused.
  if (phase_ == Phase::kReading) FinishStoppedLocked();
}

void ObserveStreamReactor::FinishLocked(const grpc::Status& status) {
  phase_ = Phase::kFinished;
  if (next_) {  // prepared ahead, never enqueued
    core_->Abandon(*next_);
    next_.reset();
  }
  Finish(status);
}

void ObserveStreamReactor::FinishStoppedLocked() {
  context_->AddTrailingMetadata(kAcknowledgedRequestsKey, std::to_string(acked_requests_));
  context_->AddTrailingMetadata(kAcknowledgedEventsKey, std::to_string(acked_events_));
  if (registered_) core_->open_streams().CountEnded(acked_requests_, acked_events_);
  FinishLocked(ToGrpcStatus(ShuttingDownError(absl::StrCat(
      acked_requests_, acked_requests_ == 1 ? " request (" : " requests (", acked_events_,
      acked_events_ == 1 ? " event)" : " events)",
      " of this stream ", acked_requests_ == 1 ? "was" : "were",
      " acknowledged; nothing after ", acked_requests_ == 1 ? "it" : "them", " was accepted"))));
}

void ObserveStreamReactor::End(const grpc::Status& status) {
  core::MutexLock lock(&mu_);
  FinishLocked(status);
}

void ObserveStreamReactor::OnReadDone(bool ok) {
  bool ahead = false;  // this is the request read ahead, not the one in flight
  {
    core::MutexLock lock(&mu_);
    if (phase_ == Phase::kFinished) return;  // the stop ended the stream during the read
    if (phase_ == Phase::kBusy) {  // the read ahead, with a request in flight
      if (!ok) {  // the client is done: finish once the one in flight is acknowledged
        ahead_ = Ahead::kNone;
        half_closed_ = true;
        return;
      }
      if (stopping_) {  // read after the stop began: refused, not logged
        ahead_ = Ahead::kNone;
        return;
      }
      ahead_ = Ahead::kPreparing;
      ahead = true;
    } else {
      if (!ok) {  // client half-closed (or the call was cancelled); nothing in flight
        FinishLocked(grpc::Status::OK);
        return;
      }
      if (stopping_) {  // read after the stop began: refused, not logged
        FinishStoppedLocked();
        return;
      }
      phase_ = Phase::kBusy;
      ahead_ = Ahead::kNone;
    }
  }
  if (ahead) {
    ReadAhead();
    return;
  }
  // The previous request is no longer referenced: its bytes and views are reused.
  absl::Status parsed = ParseInto(raw_request_, bytes_, request_);
  raw_request_.Clear();  // bytes_ holds its own reference to the slices
  if (!parsed.ok()) {
    core_->CountMalformedRequest();
    End(ToGrpcStatus(parsed));
    return;
  }
  prepared_ = false;
  Enqueue();
}

void ObserveStreamReactor::ReadAhead() {
  // The request in flight is converted and holds its bytes' share: request_ is free.
  std::unique_ptr<core::EventBatch> batch;
  grpc::Status error;
  absl::Status parsed = ParseInto(raw_request_, bytes_, request_);
  raw_request_.Clear();
  if (!parsed.ok()) {
    core_->CountMalformedRequest();
    error = ToGrpcStatus(parsed);
  } else if (absl::StatusOr<std::unique_ptr<core::EventBatch>> b = Prepare(/*count=*/true);
             b.ok()) {
    batch = *std::move(b);
  } else {
    error = ToGrpcStatus(b.status());
  }
  {
    core::MutexLock lock(&mu_);
    if (phase_ == Phase::kFinished) {  // the one in flight failed meanwhile
      if (batch) core_->Abandon(*batch);
      ahead_ = Ahead::kNone;
      return;
    }
    next_ = std::move(batch);
    next_error_ = error;
    ahead_ = Ahead::kHeld;
    if (!acked_) return;  // OnWriteDone advances
  }
  Advance();  // the one before was acknowledged while this one was prepared
}

void ObserveStreamReactor::StartReadAhead() {
  {
    core::MutexLock lock(&mu_);
    if (phase_ != Phase::kBusy || stopping_ || half_closed_ || ahead_ != Ahead::kNone) return;
    ahead_ = Ahead::kReading;  // once per request in flight
  }
  // The request in flight no longer needs its bytes or arrays (an idle stream keeps no
  // frame). Nothing can end the stream before it is enqueued, so no lock for the read.
  bytes_.Release();
  request_.ReleaseLarge(kStreamKeepBytes);
  StartRead(&raw_request_);
}

void ObserveStreamReactor::Advance() {
  grpc::Status error;
  {
    core::MutexLock lock(&mu_);
    acked_ = false;
    ahead_ = Ahead::kNone;
    if (phase_ == Phase::kFinished) return;
    if (stopping_) {  // refused unlogged (FinishLocked counts it)
      FinishStoppedLocked();
      return;
    }
    error = next_error_;
    next_error_ = grpc::Status::OK;
    pending_ = std::move(next_);  // now the request in flight
  }
  if (!error.ok()) {
    End(error);
    return;
  }
  accepted_ = pending_->examples.size();
  prepared_ = true;
  Enqueue();
}

absl::StatusOr<std::unique_ptr<core::EventBatch>> ObserveStreamReactor::Prepare(bool count) {
  return core_->PrepareObserve(
      request_, [this](const absl::Status& s, const LoggedCounts& c) { OnLogged(s, c); },
      count);
}

void ObserveStreamReactor::OnLogged(const absl::Status& s, const LoggedCounts& counts) {
  v1::ObserveResponse response;
  response.set_accepted(accepted_);
  response.set_duplicates(counts.duplicates);
  response.set_rewards_joined(counts.rewards_joined);
  response.set_rewards_dropped(counts.rewards_dropped);
  absl::Status out = s.ok() ? SerializeResponse(response, raw_response_) : s;
  if (!out.ok()) {
    End(ToGrpcStatus(out));
    return;
  }
  StartWrite(&raw_response_);
}

void ObserveStreamReactor::OnDone() {
  // A batch parked for event places still holds its share of the byte budget.
  if (pending_) core_->queue().ReleaseBytes(*pending_);
  if (registered_) core_->open_streams().Remove(this);
  core_->streams().Release();
  delete this;
}

void ObserveStreamReactor::OnWriteDone(bool ok) {
  if (!ok) {
    End(ToGrpcStatus(absl::CancelledError("stream write failed")));
    return;
  }
  {
    core::MutexLock lock(&mu_);
    ++acked_requests_;
    acked_events_ += accepted_;
    if (stopping_) {
      FinishStoppedLocked();
      return;
    }
    if (half_closed_) {
      FinishLocked(grpc::Status::OK);
      return;
    }
    switch (ahead_) {
      case Ahead::kNone:  // nothing read ahead: read the next request now
        phase_ = Phase::kReading;
        StartRead(&raw_request_);
        return;
      case Ahead::kReading:  // its read completes as the next request's
        phase_ = Phase::kReading;
        ahead_ = Ahead::kNone;
        return;
      case Ahead::kPreparing:  // ReadAhead advances once it is prepared
        acked_ = true;
        return;
      case Ahead::kHeld:
        break;
    }
  }
  Advance();
}

void ObserveStreamReactor::Enqueue() {
  for (;;) {
    if (!pending_) {
      absl::StatusOr<std::unique_ptr<core::EventBatch>> batch = Prepare(/*count=*/!prepared_);
      prepared_ = true;
      if (!batch.ok()) {
        End(ToGrpcStatus(batch.status()));
        return;
      }
      pending_ = *std::move(batch);
      accepted_ = pending_->examples.size();
    }
    if (!core_->queue().ReserveBytes(*pending_)) {
      // Waiting for bytes: drop the converted batch (the request stays parsed) and
      // convert again when room is freed.
      const size_t bytes = pending_->bytes;
      pending_.reset();
      if (core_->queue().AddSpaceWaiter(0, bytes, [this] { Enqueue(); })) return;
      continue;
    }
    // Converted for good (never again from request_): read the next request meanwhile.
    // Before TryEnqueue: once enqueued, this request may be acknowledged and the stream
    // end at any moment.
    StartReadAhead();
    if (core_->TryEnqueue(pending_)) return;  // OnLogged continues the stream
    if (core_->queue().AddSpaceWaiter(accepted_, 0, [this] { Enqueue(); })) return;
  }
}

}  // namespace streamrec::server
