#include "server/recommender_service.h"

#include <memory>

#include "server/grpc_status.h"

namespace streamrec::server {
namespace {

// ObserveStreamReactor: reads one request, enqueues it (parking while the queue is
// full), writes its response, then reads the next: one request in flight, so the
// stream's order is kept and its memory bounded.
class ObserveStreamReactor final
    : public grpc::ServerBidiReactor<v1::ObserveRequest, v1::ObserveResponse> {
 public:
  explicit ObserveStreamReactor(ServerCore* core) : core_(core) { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {  // client half-closed (or the call was cancelled); nothing in flight
      Finish(grpc::Status::OK);
      return;
    }
    prepared_ = false;
    Enqueue();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream write failed"));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override {
    // A batch parked for event places still holds its share of the byte budget.
    if (pending_) core_->queue().ReleaseBytes(*pending_);
    delete this;
  }

 private:
  // Enqueue converts the request, reserves its bytes and pushes it, parking until the
  // updater frees room when the queue is full (by bytes: the converted batch is dropped
  // while waiting and converted again; by events: the batch waits, its bytes counted).
  // Runs on a gRPC thread, or on the updater thread when woken; never blocks.
  void Enqueue() {
    for (;;) {
      if (!pending_) {
        absl::StatusOr<std::unique_ptr<core::EventBatch>> batch = core_->PrepareObserve(
            request_, [this](const absl::Status& s) { OnLogged(s); }, /*count=*/!prepared_);
        prepared_ = true;
        if (!batch.ok()) {
          Finish(ToGrpcStatus(batch.status()));
          return;
        }
        pending_ = *std::move(batch);
        accepted_ = pending_->examples.size();
      }
      if (!core_->queue().ReserveBytes(*pending_)) {
        const size_t bytes = pending_->bytes;
        pending_.reset();
        if (core_->queue().AddSpaceWaiter(0, bytes, [this] { Enqueue(); })) return;
        continue;
      }
      if (core_->TryEnqueue(pending_)) return;  // OnLogged continues the stream
      if (core_->queue().AddSpaceWaiter(accepted_, 0, [this] { Enqueue(); })) return;
    }
  }

  // OnLogged acknowledges once logged (LogWriter thread); then the next request is read.
  void OnLogged(const absl::Status& s) {
    if (!s.ok()) {
      Finish(ToGrpcStatus(s));
      return;
    }
    response_.set_accepted(accepted_);
    StartWrite(&response_);
  }

  ServerCore* const core_;
  v1::ObserveRequest request_;
  v1::ObserveResponse response_;
  std::unique_ptr<core::EventBatch> pending_;
  size_t accepted_ = 0;
  bool prepared_ = false;  // the current request was counted once
};

}  // namespace

grpc::ServerUnaryReactor* RecommenderService::Predict(grpc::CallbackServerContext* context,
                                                      const v1::PredictRequest* request,
                                                      v1::PredictResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(core_->Predict(*request, *response)));
  return reactor;
}

grpc::ServerUnaryReactor* RecommenderService::Observe(grpc::CallbackServerContext* context,
                                                      const v1::ObserveRequest* request,
                                                      v1::ObserveResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Finished when the events are logged, from the log writer's thread.
  core_->Observe(*request, *response,
                 [reactor](const absl::Status& s) { reactor->Finish(ToGrpcStatus(s)); });
  return reactor;
}

grpc::ServerBidiReactor<v1::ObserveRequest, v1::ObserveResponse>*
RecommenderService::ObserveStream(grpc::CallbackServerContext* context) {
  return new ObserveStreamReactor(core_);
}

}  // namespace streamrec::server
