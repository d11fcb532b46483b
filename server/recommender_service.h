// RecommenderService: the gRPC callback adapter for streamrec.v1.Recommender over a
// ServerCore. No handler blocks a thread: unary calls finish inline, and a stream whose
// batch does not fit in the queue parks (registers a space waiter) instead of waiting,
// and resumes reading when the updater frees room. Thread-safe.
#ifndef STREAMREC_SERVER_RECOMMENDER_SERVICE_H_
#define STREAMREC_SERVER_RECOMMENDER_SERVICE_H_

#include "server/server_core.h"
#include "streamrec/v1/streamrec.grpc.pb.h"

namespace streamrec::server {

class RecommenderService final : public v1::Recommender::CallbackService {
 public:
  explicit RecommenderService(ServerCore* core) : core_(core) {}

  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* context,
                                    const v1::PredictRequest* request,
                                    v1::PredictResponse* response) override;
  grpc::ServerUnaryReactor* Observe(grpc::CallbackServerContext* context,
                                    const v1::ObserveRequest* request,
                                    v1::ObserveResponse* response) override;
  grpc::ServerBidiReactor<v1::ObserveRequest, v1::ObserveResponse>* ObserveStream(
      grpc::CallbackServerContext* context) override;

 private:
  ServerCore* const core_;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_RECOMMENDER_SERVICE_H_
