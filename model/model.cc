#include "model/model.h"

#include <new>

#include "absl/strings/str_cat.h"

#include "model/dnn_model.h"
#include "model/fm_model.h"
#include "model/linear_model.h"

namespace streamrec::model {
namespace {

absl::StatusOr<std::unique_ptr<Model>> Build(const ModelConfig& config) {
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

}  // namespace

absl::StatusOr<std::unique_ptr<Model>> CreateModel(const ModelConfig& config) {
  if (absl::Status s = Validate(config); !s.ok()) return s;
  try {
    return Build(config);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "model config: cannot allocate the model's tables (about ",
        ModelMemoryBytes(config) >> 20, " MiB for hash_bits ", config.hash_bits,
        "); lower hash_bits"));
  }
}

}  // namespace streamrec::model
