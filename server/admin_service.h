// AdminService: gRPC callback adapter for streamrec.v1.Admin over a ServerCore.
// Thread-safe; no handler blocks: snapshot operations finish from the core's callbacks.
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
                                         v1::ModelInfo* response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::Stats* response) override;
  grpc::ServerUnaryReactor* ListSnapshots(grpc::CallbackServerContext* context,
                                          const v1::ListSnapshotsRequest* request,
                                          v1::ListSnapshotsResponse* response) override;
  grpc::ServerUnaryReactor* SaveSnapshot(grpc::CallbackServerContext* context,
                                         const v1::SaveSnapshotRequest* request,
                                         v1::SaveSnapshotResponse* response) override;
  grpc::ServerUnaryReactor* Rollback(grpc::CallbackServerContext* context,
                                     const v1::RollbackRequest* request,
                                     v1::RollbackResponse* response) override;
  grpc::ServerWriteReactor<v1::SnapshotData>* ExportSnapshot(
      grpc::CallbackServerContext* context, const v1::ExportSnapshotRequest* request) override;
  grpc::ServerReadReactor<v1::SnapshotData>* ImportSnapshot(
      grpc::CallbackServerContext* context, v1::ImportSnapshotResponse* response) override;

 private:
  ServerCore* const core_;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_ADMIN_SERVICE_H_
