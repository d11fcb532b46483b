#include "server/admin_service.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/grpc_status.h"

namespace streamrec::server {
namespace {

constexpr size_t kPieceBytes = 1 << 20;
constexpr size_t kMaxImportBytes = size_t{4} << 30;

// ExportReactor streams one exported file in 1 MiB pieces.
class ExportReactor final : public grpc::ServerWriteReactor<v1::SnapshotData> {
 public:
  ExportReactor(ServerCore* core, uint64_t version) {
    core->ExportSnapshot(version, [this](absl::StatusOr<std::string> file) {
      if (!file.ok()) {
        Finish(ToGrpcStatus(file.status()));
        return;
      }
      file_ = *std::move(file);
      WriteNext();
    });
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "export write failed"));
      return;
    }
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    if (offset_ >= file_.size()) {
      Finish(grpc::Status::OK);
      return;
    }
    const size_t n = std::min(kPieceBytes, file_.size() - offset_);
    piece_.set_data(file_.substr(offset_, n));
    offset_ += n;
    StartWrite(&piece_);
  }
  std::string file_;
  size_t offset_ = 0;
  v1::SnapshotData piece_;
};

// ImportReactor collects the pieces, then hands the file to the core.
class ImportReactor final : public grpc::ServerReadReactor<v1::SnapshotData> {
 public:
  ImportReactor(ServerCore* core, v1::ImportSnapshotResponse* response)
      : core_(core), response_(response) {
    StartRead(&piece_);
  }
  void OnReadDone(bool ok) override {
    if (ok) {
      if (file_.size() + piece_.data().size() > kMaxImportBytes) {
        Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "snapshot file too large"));
        return;
      }
      file_ += piece_.data();
      StartRead(&piece_);
      return;
    }
    core_->ImportSnapshot(std::move(file_), [this](absl::StatusOr<uint64_t> v) {
      if (v.ok()) response_->set_model_version(*v);
      Finish(ToGrpcStatus(v.status()));
    });
  }
  void OnDone() override { delete this; }

 private:
  ServerCore* const core_;
  v1::ImportSnapshotResponse* const response_;
  v1::SnapshotData piece_;
  std::string file_;
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
  if (request->model_version() == 0) {
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
  return new ExportReactor(core_, request->model_version());
}

grpc::ServerReadReactor<v1::SnapshotData>* AdminService::ImportSnapshot(
    grpc::CallbackServerContext* context, v1::ImportSnapshotResponse* response) {
  return new ImportReactor(core_, response);
}

}  // namespace streamrec::server
