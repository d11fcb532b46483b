// AdminService: gRPC callback adapter for streamrec.v1.Admin over a ServerCore.
// Thread-safe.
#ifndef STREAMREC_SERVER_ADMIN_SERVICE_H_
#define STREAMREC_SERVER_ADMIN_SERVICE_H_

#include "server/server_core.h"
#include "streamrec/v1/admin.grpc.pb.h"

namespace streamrec::server {

class AdminService final : public v1::Admin::CallbackService {
 public:
  explicit AdminService(ServerCore* core) : core_(core) {}

  grpc::ServerUnaryReactor* GetModelInfo(grpc::CallbackServerContext* context,
                                         const v1::GetModelInfoRequest* request,
                                         v1::ModelInfo* response) override {
    core_->GetModelInfo(*response);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::Stats* response) override {
    core_->GetStats(*response);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  ServerCore* const core_;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_ADMIN_SERVICE_H_
