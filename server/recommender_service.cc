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
    absl::StatusOr<std::unique_ptr<core::EventBatch>> batch = core_->PrepareObserve(request_);
    if (!batch.ok()) {
      Finish(ToGrpcStatus(batch.status()));
      return;
    }
    pending_ = *std::move(batch);
    accepted_ = pending_->examples.size();
    // Acknowledge once logged (LogWriter thread); then read the next request.
    pending_->on_logged = [this](const absl::Status& s) {
      if (!s.ok()) {
        Finish(ToGrpcStatus(s));
        return;
      }
      response_.set_accepted(accepted_);
      StartWrite(&response_);
    };
    Enqueue();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream write failed"));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  // Enqueue pushes the pending batch, or parks until the updater frees room. Runs on a
  // gRPC thread, or on the updater thread when woken; never blocks.
  void Enqueue() {
    for (;;) {
      if (core_->TryEnqueue(pending_)) return;  // on_logged continues the stream
      if (core_->queue().AddSpaceWaiter(accepted_, [this] { Enqueue(); })) return;
    }
  }

  ServerCore* const core_;
  v1::ObserveRequest request_;
  v1::ObserveResponse response_;
  std::unique_ptr<core::EventBatch> pending_;
  size_t accepted_ = 0;
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
