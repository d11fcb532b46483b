#include "server/admin_service.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/grpc_status.h"

namespace streamrec::server {
namespace {

constexpr size_t kPieceBytes = 1 << 20;

// ExportReactor streams a snapshot export in pieces of about 1 MiB, reading the next one
// (on the storage thread) only after the previous one was written: one piece in memory.
class ExportReactor final : public grpc::ServerWriteReactor<v1::SnapshotData> {
 public:
  ExportReactor(ServerCore* core, std::optional<uint64_t> version) : core_(core) {
    if (absl::Status s = core_->BeginAdminStream(); !s.ok()) {
      Finish(ToGrpcStatus(s));
      return;
    }
    counted_ = true;
    core_->StartExport(version, [this](absl::StatusOr<ServerCore::Cursor> cursor) {
      if (!cursor.ok()) {
        Finish(ToGrpcStatus(cursor.status()));
        return;
      }
      cursor_ = *std::move(cursor);
      ReadNext();
    });
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "export write failed"));
      return;
    }
    ReadNext();
  }
  void OnDone() override {
    if (counted_) core_->EndAdminStream();
    delete this;
  }

 private:
  void ReadNext() {
    core_->ExportNext(cursor_, kPieceBytes, [this](absl::StatusOr<std::string> piece) {
      if (!piece.ok()) {
        Finish(ToGrpcStatus(piece.status()));
        return;
      }
      if (piece->empty()) {
        cursor_.reset();
        Finish(grpc::Status::OK);
        return;
      }
      piece_.set_data(*std::move(piece));
      StartWrite(&piece_);
    });
  }
  ServerCore* const core_;
  ServerCore::Cursor cursor_;
  v1::SnapshotData piece_;
  bool counted_ = false;
};

// ImportReactor hands each piece to the core (written on the storage thread) and reads
// the next only once it was consumed; at the end the core verifies and swaps it in.
class ImportReactor final : public grpc::ServerReadReactor<v1::SnapshotData> {
 public:
  ImportReactor(grpc::CallbackServerContext* context, ServerCore* core,
                v1::ImportSnapshotResponse* response)
      : context_(context), core_(core), response_(response) {
    if (absl::Status s = core_->BeginAdminStream(); !s.ok()) {
      Finish(ToGrpcStatus(s));
      return;
    }
    counted_ = true;
    absl::StatusOr<ServerCore::Session> session = core_->BeginImport();
    if (!session.ok()) {
      Finish(ToGrpcStatus(session.status()));
      return;
    }
    session_ = *std::move(session);
    StartRead(&piece_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      if (context_->IsCancelled()) {
        core_->ImportCancel(std::move(session_));
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "import cancelled"));
        return;
      }
      core_->ImportFinish(std::move(session_), [this](absl::StatusOr<uint64_t> v) {
        if (v.ok()) response_->set_model_version(*v);
        Finish(ToGrpcStatus(v.status()));
      });
      return;
    }
    core_->ImportFeed(session_, std::move(*piece_.mutable_data()), [this](const absl::Status& s) {
      if (!s.ok()) {
        Finish(ToGrpcStatus(s));
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
  grpc::CallbackServerContext* const context_;
  ServerCore* const core_;
  v1::ImportSnapshotResponse* const response_;
  v1::SnapshotData piece_;
  ServerCore::Session session_;
  bool counted_ = false;
};

}  // namespace

grpc::ServerUnaryReactor* AdminService::GetModelInfo(grpc::CallbackServerContext* context,
                                                     const v1::GetModelInfoRequest* request,
                                                     v1::ModelInfo* response) {
  core_->GetModelInfo(*response);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::GetStats(grpc::CallbackServerContext* context,
                                                 const v1::GetStatsRequest* request,
                                                 v1::Stats* response) {
  core_->GetStats(*response);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::ListSnapshots(grpc::CallbackServerContext* context,
                                                      const v1::ListSnapshotsRequest* request,
                                                      v1::ListSnapshotsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(core_->ListSnapshots(*response)));
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::SaveSnapshot(grpc::CallbackServerContext* context,
                                                     const v1::SaveSnapshotRequest* request,
                                                     v1::SaveSnapshotResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  core_->SaveSnapshot([reactor, response](absl::StatusOr<uint64_t> v) {
    if (v.ok()) response->set_model_version(*v);
    reactor->Finish(ToGrpcStatus(v.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::Rollback(grpc::CallbackServerContext* context,
                                                 const v1::RollbackRequest* request,
                                                 v1::RollbackResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!request->has_model_version()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "model_version: required (see ListSnapshots)"));
    return reactor;
  }
  core_->Rollback(request->model_version(), [reactor, response](absl::StatusOr<uint64_t> v) {
    if (v.ok()) response->set_model_version(*v);
    reactor->Finish(ToGrpcStatus(v.status()));
  });
  return reactor;
}

grpc::ServerWriteReactor<v1::SnapshotData>* AdminService::ExportSnapshot(
    grpc::CallbackServerContext* context, const v1::ExportSnapshotRequest* request) {
  return new ExportReactor(core_, request->has_model_version()
                                      ? std::optional<uint64_t>(request->model_version())
                                      : std::nullopt);
}

grpc::ServerReadReactor<v1::SnapshotData>* AdminService::ImportSnapshot(
    grpc::CallbackServerContext* context, v1::ImportSnapshotResponse* response) {
  return new ImportReactor(context, core_, response);
}

}  // namespace streamrec::server
