#include "server/observe_stream.h"

#include "server/grpc_status.h"
#include "server/raw_message.h"

namespace streamrec::server {

ObserveStreamReactor::ObserveStreamReactor(ServerCore* core) : core_(core) {
  StartRead(&raw_request_);
}

void ObserveStreamReactor::OnReadDone(bool ok) {
  if (!ok) {  // client half-closed (or the call was cancelled); nothing in flight
    Finish(grpc::Status::OK);
    return;
  }
  arena_.Reset();  // the previous request is no longer referenced
  absl::StatusOr<v1::ObserveRequest*> request =
      ParseRequest<v1::ObserveRequest>(raw_request_, arena_);
  raw_request_.Clear();
  if (!request.ok()) {
    core_->CountMalformedRequest();
    Finish(ToGrpcStatus(request.status()));
    return;
  }
  request_ = *request;
  prepared_ = false;
  Enqueue();
}

void ObserveStreamReactor::OnLogged(const absl::Status& s, size_t duplicates) {
  v1::ObserveResponse response;
  response.set_accepted(accepted_);
  response.set_duplicates(duplicates);
  absl::Status out = s.ok() ? SerializeResponse(response, raw_response_) : s;
  if (!out.ok()) {
    Finish(ToGrpcStatus(out));
    return;
  }
  StartWrite(&raw_response_);
}

void ObserveStreamReactor::OnDone() {
  // A batch parked for event places still holds its share of the byte budget.
  if (pending_) core_->queue().ReleaseBytes(*pending_);
  core_->streams().Release();
  delete this;
}

void ObserveStreamReactor::OnWriteDone(bool ok) {
  if (!ok) {
    Finish(ToGrpcStatus(absl::CancelledError("stream write failed")));
    return;
  }
  StartRead(&raw_request_);
}

void ObserveStreamReactor::Enqueue() {
  for (;;) {
    if (!pending_) {
      absl::StatusOr<std::unique_ptr<core::EventBatch>> batch = core_->PrepareObserve(
          *request_,
          [this](const absl::Status& s, size_t duplicates) { OnLogged(s, duplicates); },
          /*count=*/!prepared_);
      prepared_ = true;
      if (!batch.ok()) {
        Finish(ToGrpcStatus(batch.status()));
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
    if (core_->TryEnqueue(pending_)) return;  // OnLogged continues the stream
    if (core_->queue().AddSpaceWaiter(accepted_, 0, [this] { Enqueue(); })) return;
  }
}

}  // namespace streamrec::server
