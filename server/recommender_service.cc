#include "server/recommender_service.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "server/error_details.h"
#include "server/grpc_status.h"
#include "server/observe_stream.h"
#include "server/raw_message.h"

namespace streamrec::server {

grpc::ServerUnaryReactor* RecommenderService::Predict(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (auto who = auth_->Authorize(*context, security::Access::kPredict, "Predict"); !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  // The call finishes inline: this thread's parser and its views are free again after.
  thread_local RequestBytes bytes;
  thread_local ParsedPredict parsed;
  if (absl::Status s = ParseInto(*request, bytes, parsed); !s.ok()) {
    core_->CountMalformedRequest();
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  google::protobuf::Arena arena;  // the response
  auto* out = google::protobuf::Arena::CreateMessage<v1::PredictResponse>(&arena);
  absl::Status s = core_->Predict(parsed, *out);
  parsed.ReleaseLarge();
  bytes.Release();
  if (s.ok()) s = SerializeResponse(*out, *response);
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

grpc::ServerUnaryReactor* RecommenderService::Observe(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (auto who = auth_->Authorize(*context, security::Access::kObserve, "Observe"); !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  // The request is converted before Observe returns (this thread's parser is free again
  // after); the response outlives the handler.
  thread_local RequestBytes bytes;
  thread_local ParsedObserve parsed;
  if (absl::Status s = ParseInto(*request, bytes, parsed); !s.ok()) {
    core_->CountMalformedRequest();
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  auto ack = std::make_shared<v1::ObserveResponse>();
  // Finished when the events are logged, from the log writer's thread.
  core_->Observe(parsed, *ack, [reactor, response, ack](const absl::Status& s) {
    reactor->Finish(ToGrpcStatus(s.ok() ? SerializeResponse(*ack, *response) : s));
  });
  parsed.ReleaseLarge();
  bytes.Release();
  return reactor;
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* RecommenderService::ObserveStream(
    grpc::CallbackServerContext* context) {
  if (auto who = auth_->Authorize(*context, security::Access::kObserve, "ObserveStream");
      !who.ok()) {
    return new RefusedStreamReactor(ToGrpcStatus(who.status()));
  }
  StreamAdmission& streams = core_->streams();
  if (!streams.TryAcquire()) {
    return new RefusedStreamReactor(ToGrpcStatus(WithReason(
        absl::ResourceExhaustedError(absl::StrCat(
            "too many ObserveStream calls open (", streams.limit(),
            ", --max_concurrent_streams); retry later, or send more events per stream")),
        kReasonStreamLimit, absl::Seconds(1))));
  }
  return new ObserveStreamReactor(core_, context);  // releases the slot when done
}

}  // namespace streamrec::server
