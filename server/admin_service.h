// AdminService: gRPC callback adapter for streamrec.v1.Admin over a ServerCore.
// Two instances serve one core: Surface::kServing on the serving port answers the
// read-only methods (GetModelInfo, GetStats, ListSnapshots) and refuses the ones that
// change or copy the model (SaveSnapshot, Rollback, ExportSnapshot, ImportSnapshot) with
// UNIMPLEMENTED, reason ADMIN_PORT_ONLY, naming --admin_listen; Surface::kAdminPort on
// --admin_listen answers every method. Each call is authorized first
// (server/security/token_auth.h: read-only methods any valid token, the others role
// admin), and every call of a model-changing method, allowed or refused, is audited
// (server/security/audit.h).
// Thread-safe; no handler blocks: snapshot operations finish from the core's callbacks.
#ifndef STREAMREC_SERVER_ADMIN_SERVICE_H_
#define STREAMREC_SERVER_ADMIN_SERVICE_H_

#include <string>

#include "server/security/audit.h"
#include "server/security/token_auth.h"
#include "server/server_core.h"
#include "streamrec/v1/admin.grpc.pb.h"

namespace streamrec::server {

class AdminService final : public v1::Admin::CallbackService {
 public:
  enum class Surface { kServing, kAdminPort };
  // `auth` outlives the service; `admin_address` names the admin port in the serving
  // port's refusals.
  AdminService(ServerCore* core, const security::Authorizer* auth, Surface surface,
               std::string admin_address)
      : core_(core), auth_(auth), surface_(surface), admin_address_(std::move(admin_address)) {}

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
  // Admit: OK when the call may go on; else the status to finish it with (audited).
  absl::Status Admit(grpc::CallbackServerContext* context, std::string_view method,
                     std::string_view action, security::AuditCaller* caller) const;

  ServerCore* const core_;
  const security::Authorizer* const auth_;
  const Surface surface_;
  const std::string admin_address_;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_ADMIN_SERVICE_H_
