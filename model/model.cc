#include "model/model.h"

#include "model/dnn_model.h"
#include "model/fm_model.h"
#include "model/linear_model.h"

namespace streamrec::model {

absl::StatusOr<std::unique_ptr<Model>> CreateModel(const ModelConfig& config) {
  if (absl::Status s = Validate(config); !s.ok()) return s;
  switch (config.kind) {
    case ModelKind::kLogisticRegression:
      return std::make_unique<LinearModel>(config);
    case ModelKind::kFm:
      return std::make_unique<FmModel>(config);
    case ModelKind::kDnn:
    case ModelKind::kDeepFm:
      return std::make_unique<DnnModel>(config);
  }
  return absl::InvalidArgumentError("model config: unknown model kind");
}

}  // namespace streamrec::model
