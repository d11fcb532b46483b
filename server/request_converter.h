// RequestConverter: validates Predict and Observe requests and turns them into hashed
// model input. Every rule of the API lives here; any violation is InvalidArgument with
// the path of the offending field (e.g. `events[3].label`), and nothing of an invalid
// request reaches the model. Thread-safe (VectorDims is); called from gRPC handlers.
#ifndef STREAMREC_SERVER_REQUEST_CONVERTER_H_
#define STREAMREC_SERVER_REQUEST_CONVERTER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/example.h"
#include "model/model_config.h"
#include "server/core/event_queue.h"
#include "server/limits.h"
#include "server/vector_dims.h"
#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::server {

// The largest importance weight an event may carry (larger ones overflow an update).
inline constexpr double kMaxWeight = 1e6;

// The categorical feature the server adds for Item.id; clients may not set it.
inline constexpr char kItemIdField[] = "item_id";

// PredictInput: the hashed context (once) and each candidate's hashed features
// (including item_id), in candidate order.
struct PredictInput {
  model::FeatureVector context;
  std::vector<model::FeatureVector> items;
};

class RequestConverter {
 public:
  RequestConverter(const Limits& limits, VectorDims* dims) : limits_(limits), dims_(dims) {}

  // DeclareDenseFields: fields a deep model takes raw (dnn.dense_fields): a field of
  // dimension 1 must be a number, a wider one a vector of exactly that dimension. Call
  // before any request (not thread-safe).
  void DeclareDenseFields(const std::vector<model::DnnDenseField>& fields) {
    for (const model::DnnDenseField& f : fields) dense_[f.name] = f.dim;
  }
  const std::map<std::string, uint32_t>& dense_fields() const { return dense_; }

  absl::Status ConvertPredict(const v1::PredictRequest& request, PredictInput& out) const;

  // ConvertObserve returns the request's events as one batch, in order, with the vector
  // fields whose dimension is not registered yet in batch->new_dims (registered by the
  // log writer once the request is accepted and logged). Invalid events refuse the
  // request with one INVALID_ARGUMENT naming the first and counting the rest; its
  // BadRequest detail (server/error_details.h) lists up to kMaxFieldViolations of them.
  absl::StatusOr<std::unique_ptr<core::EventBatch>> ConvertObserve(
      const v1::ObserveRequest& request) const;

 private:
  using NewDims = std::vector<core::NewVectorDim>;
  // AppendFeatures validates `features` (path names it in errors) and appends their
  // hashes to out. `other` is the other side of the example (context vs item): a name
  // in both is an error. New vector dimensions go to new_dims when non-null (training);
  // unknown dimensions are accepted without registering when it is null (serving).
  absl::Status AppendFeatures(const v1::Features& features, const std::string& path,
                              const v1::Features* other, NewDims* new_dims,
                              model::FeatureVector& out) const;
  absl::Status AppendItem(const v1::Item& item, const std::string& path,
                          const v1::Features& context, NewDims* new_dims,
                          model::FeatureVector& out) const;
  // ConvertEvent validates events[i] and fills `ex`.
  absl::Status ConvertEvent(const v1::Event& event, int i, int64_t now_unix_ms,
                            NewDims& new_dims, model::Example& ex) const;

  const Limits limits_;
  VectorDims* const dims_;
  std::map<std::string, uint32_t> dense_;  // constant once requests arrive
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_REQUEST_CONVERTER_H_
