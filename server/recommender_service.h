// RecommenderService: the gRPC callback adapter for streamrec.v1.Recommender over a
// ServerCore. Every method is registered raw (grpc::ByteBuffer) and parses its request
// itself (server/raw_message.h), so bytes that are not a valid request get
// INVALID_ARGUMENT naming the type, and are counted, instead of the generated handlers'
// UNIMPLEMENTED (unary) or silent OK (a stream). No handler blocks a thread: unary calls
// finish inline or from the log writer, and a stream whose batch does not fit in the
// queue parks (server/observe_stream.h). Each call is authorized first
// (server/security/token_auth.h: Predict open unless --predict_requires_auth, Observe
// and ObserveStream role observe or admin, once tokens are configured). Thread-safe.
#ifndef STREAMREC_SERVER_RECOMMENDER_SERVICE_H_
#define STREAMREC_SERVER_RECOMMENDER_SERVICE_H_

#include "server/security/token_auth.h"
#include "server/server_core.h"
#include "streamrec/v1/streamrec.grpc.pb.h"

namespace streamrec::server {

using RawRecommenderService = v1::Recommender::WithRawCallbackMethod_Predict<
    v1::Recommender::WithRawCallbackMethod_Observe<
        v1::Recommender::WithRawCallbackMethod_ObserveStream<v1::Recommender::Service>>>;

class RecommenderService final : public RawRecommenderService {
 public:
  // `auth` outlives the service.
  RecommenderService(ServerCore* core, const security::Authorizer* auth)
      : core_(core), auth_(auth) {}

  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* Observe(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* ObserveStream(
      grpc::CallbackServerContext* context) override;

 private:
  ServerCore* const core_;
  const security::Authorizer* const auth_;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_RECOMMENDER_SERVICE_H_
