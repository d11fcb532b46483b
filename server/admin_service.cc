#include "server/admin_service.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/error_details.h"
#include "server/grpc_status.h"
#include "server/security/audit.h"

namespace streamrec::server {
namespace {

constexpr size_t kPieceBytes = 1 << 20;

// ExportReactor streams a snapshot export in pieces of about 1 MiB, reading the next one
// (on the storage thread) only after the previous one was written: one piece in memory.
class ExportReactor final : public grpc::ServerWriteReactor<v1::SnapshotData> {
 public:
  ExportReactor(ServerCore* core, std::optional<uint64_t> version,
                security::AuditCaller caller)
      : core_(core), caller_(std::move(caller)),
        detail_(version ? absl::StrCat("snapshot ", *version) : "a snapshot saved now") {
    if (absl::Status s = core_->BeginAdminStream(); !s.ok()) {
      End(s);
      return;
    }
    counted_ = true;
    core_->StartExport(version, [this](absl::StatusOr<ServerCore::Cursor> cursor) {
      if (!cursor.ok()) {
        End(cursor.status());
        return;
      }
      cursor_ = *std::move(cursor);
      ReadNext();
    });
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      End(absl::CancelledError("export write failed"));
      return;
    }
    ReadNext();
  }
  void OnDone() override {
    if (counted_) core_->EndAdminStream();
    delete this;
  }

 private:
  // End audits the export's outcome and finishes the call with it.
  void End(const absl::Status& s) {
    security::Audit("export_snapshot", caller_, s, detail_);
    Finish(ToGrpcStatus(s));
  }
  void ReadNext() {
    core_->ExportNext(cursor_, kPieceBytes, [this](absl::StatusOr<std::string> piece) {
      if (!piece.ok()) {
        End(piece.status());
        return;
      }
      if (piece->empty()) {
        cursor_.reset();
        End(absl::OkStatus());
        return;
      }
      piece_.set_data(*std::move(piece));
      StartWrite(&piece_);
    });
  }
  ServerCore* const core_;
  const security::AuditCaller caller_;
  const std::string detail_;
  ServerCore::Cursor cursor_;
  v1::SnapshotData piece_;
  bool counted_ = false;
};

// ImportReactor hands each piece to the core (written on the storage thread) and reads
// the next only once it was consumed; at the end the core verifies and swaps it in.
class ImportReactor final : public grpc::ServerReadReactor<v1::SnapshotData> {
 public:
  ImportReactor(grpc::CallbackServerContext* context, ServerCore* core,
                v1::ImportSnapshotResponse* response, security::AuditCaller caller)
      : context_(context), core_(core), response_(response), caller_(std::move(caller)) {
    if (absl::Status s = core_->BeginAdminStream(); !s.ok()) {
      End(s);
      return;
    }
    counted_ = true;
    absl::StatusOr<ServerCore::Session> session = core_->BeginImport();
    if (!session.ok()) {
      End(session.status());
      return;
    }
    session_ = *std::move(session);
    StartRead(&piece_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      if (context_->IsCancelled()) {
        core_->ImportCancel(std::move(session_));
        End(absl::CancelledError("import cancelled"));
        return;
      }
      core_->ImportFinish(std::move(session_), [this](absl::StatusOr<uint64_t> v) {
        if (v.ok()) response_->set_model_version(*v);
        End(v.status(), v.ok() ? *v : 0);
      });
      return;
    }
    core_->ImportFeed(session_, std::move(*piece_.mutable_data()), [this](const absl::Status& s) {
      if (!s.ok()) {
        End(s);
        return;
      }
      StartRead(&piece_);
    });
  }
  void OnDone() override {
    if (session_) core_->ImportCancel(std::move(session_));
    if (counted_) core_->EndAdminStream();
    delete this;
  }

 private:
  // End audits the import's outcome and finishes the call with it.
  void End(const absl::Status& s, uint64_t version = 0) {
    security::Audit("import_snapshot", caller_, s, "imported", version);
    Finish(ToGrpcStatus(s));
  }

  grpc::CallbackServerContext* const context_;
  ServerCore* const core_;
  v1::ImportSnapshotResponse* const response_;
  const security::AuditCaller caller_;
  v1::SnapshotData piece_;
  ServerCore::Session session_;
  bool counted_ = false;
};

// Refused streams: finish at once with a status, reading or writing nothing.
class RefusedExport final : public grpc::ServerWriteReactor<v1::SnapshotData> {
 public:
  explicit RefusedExport(const grpc::Status& s) { Finish(s); }
  void OnDone() override { delete this; }
};
class RefusedImport final : public grpc::ServerReadReactor<v1::SnapshotData> {
 public:
  explicit RefusedImport(const grpc::Status& s) { Finish(s); }
  void OnDone() override { delete this; }
};

}  // namespace

absl::Status AdminService::Admit(grpc::CallbackServerContext* context, std::string_view method,
                                 std::string_view action, security::AuditCaller* caller) const {
  if (surface_ == Surface::kServing) {
    return WithReason(
        absl::UnimplementedError(absl::StrCat(
            std::string(method), " is not served on this port: the methods that change or "
            "copy the model are on the admin port (--admin_listen",
            admin_address_.empty() ? ", which this server does not open"
                                   : absl::StrCat(", port ", admin_address_.substr(
                                                                 admin_address_.rfind(':') + 1)),
            "); the CLI sends them to --admin_server")),
        kReasonAdminPortOnly);
  }
  absl::StatusOr<std::optional<security::Role>> who =
      auth_->Authorize(*context, security::Access::kAdmin, method);
  if (!who.ok()) {
    *caller = security::Caller(*context, std::nullopt, /*refused=*/true);
    security::Audit(action, *caller, who.status(), "");
    return who.status();
  }
  *caller = security::Caller(*context, *who);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminService::GetModelInfo(grpc::CallbackServerContext* context,
                                                     const v1::GetModelInfoRequest* request,
                                                     v1::ModelInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (auto who = auth_->Authorize(*context, security::Access::kRead, "GetModelInfo"); !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  core_->GetModelInfo(*response);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::GetStats(grpc::CallbackServerContext* context,
                                                 const v1::GetStatsRequest* request,
                                                 v1::Stats* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (auto who = auth_->Authorize(*context, security::Access::kRead, "GetStats"); !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  core_->GetStats(*response);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::ListSnapshots(grpc::CallbackServerContext* context,
                                                      const v1::ListSnapshotsRequest* request,
                                                      v1::ListSnapshotsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (auto who = auth_->Authorize(*context, security::Access::kRead, "ListSnapshots");
      !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  reactor->Finish(ToGrpcStatus(core_->ListSnapshots(*response)));
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::SaveSnapshot(grpc::CallbackServerContext* context,
                                                     const v1::SaveSnapshotRequest* request,
                                                     v1::SaveSnapshotResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  security::AuditCaller caller;
  if (absl::Status a = Admit(context, "SaveSnapshot", "save_snapshot", &caller); !a.ok()) {
    reactor->Finish(ToGrpcStatus(a));
    return reactor;
  }
  core_->SaveSnapshot([reactor, response, caller](absl::StatusOr<uint64_t> v) {
    if (v.ok()) response->set_model_version(*v);
    security::Audit("save_snapshot", caller, v.status(), "saved", v.ok() ? *v : 0);
    reactor->Finish(ToGrpcStatus(v.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::Rollback(grpc::CallbackServerContext* context,
                                                 const v1::RollbackRequest* request,
                                                 v1::RollbackResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  security::AuditCaller caller;
  if (absl::Status a = Admit(context, "Rollback", "rollback", &caller); !a.ok()) {
    reactor->Finish(ToGrpcStatus(a));
    return reactor;
  }
  if (!request->has_model_version()) {
    const absl::Status s = absl::InvalidArgumentError("model_version: required (see ListSnapshots)");
    security::Audit("rollback", caller, s, "");
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  const uint64_t target = request->model_version();
  core_->Rollback(target, [reactor, response, caller, target](absl::StatusOr<uint64_t> v) {
    if (v.ok()) response->set_model_version(*v);
    security::Audit("rollback", caller, v.status(), absl::StrCat("to snapshot ", target),
                    v.ok() ? *v : 0);
    reactor->Finish(ToGrpcStatus(v.status()));
  });
  return reactor;
}

grpc::ServerWriteReactor<v1::SnapshotData>* AdminService::ExportSnapshot(
    grpc::CallbackServerContext* context, const v1::ExportSnapshotRequest* request) {
  security::AuditCaller caller;
  if (absl::Status a = Admit(context, "ExportSnapshot", "export_snapshot", &caller); !a.ok()) {
    return new RefusedExport(ToGrpcStatus(a));
  }
  return new ExportReactor(core_,
                           request->has_model_version()
                               ? std::optional<uint64_t>(request->model_version())
                               : std::nullopt,
                           std::move(caller));
}

grpc::ServerReadReactor<v1::SnapshotData>* AdminService::ImportSnapshot(
    grpc::CallbackServerContext* context, v1::ImportSnapshotResponse* response) {
  security::AuditCaller caller;
  if (absl::Status a = Admit(context, "ImportSnapshot", "import_snapshot", &caller); !a.ok()) {
    return new RefusedImport(ToGrpcStatus(a));
  }
  return new ImportReactor(context, core_, response, std::move(caller));
}

}  // namespace streamrec::server
