// RequestConverter: validates Predict and Observe requests and turns them into hashed
// model input. Every rule of the API lives here; any violation is InvalidArgument with
// the path of the offending field (e.g. `events[3].label`), and nothing of an invalid
// request reaches the model. The gRPC handlers read requests straight from their bytes
// (server/parsed_request.h: features as a list of entries, not a hash map); this is where
// a map's parsing rules are kept for them: a repeated feature name keeps its last entry.
// The v1 overloads (in-process callers, tests) go through the same parser, so both
// convert alike. No string is built on the success path
// (error paths are named only once an error is found). Thread-safe (VectorDims is);
// called from gRPC handlers.
#ifndef STREAMREC_SERVER_REQUEST_CONVERTER_H_
#define STREAMREC_SERVER_REQUEST_CONVERTER_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "model/example.h"
#include "model/model_config.h"
#include "server/core/event_queue.h"
#include "server/limits.h"
#include "server/vector_dims.h"
#include "server/parsed_request.h"
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

// ParseV1: an in-process caller's v1 request read by the gRPC handlers' parser (through
// its serialized bytes, kept by `out`), so both paths convert alike. InvalidArgument when
// the message would not parse on the wire (e.g. a string that is not UTF-8).
absl::Status ParseV1(const v1::PredictRequest& request, ParsedPredict& out);
absl::Status ParseV1(const v1::ObserveRequest& request, ParsedObserve& out);

class RequestConverter {
 public:
  RequestConverter(const Limits& limits, VectorDims* dims) : limits_(limits), dims_(dims) {}

  // DeclareDenseFields: fields a deep model takes raw (dnn.dense_fields): a field of
  // dimension 1 must be a number, a wider one a vector of exactly that dimension. Call
  // before any request (not thread-safe).
  void DeclareDenseFields(const std::vector<model::DnnDenseField>& fields) {
    for (const model::DnnDenseField& f : fields) dense_[f.name] = f.dim;
  }
  const std::map<std::string, uint32_t, std::less<>>& dense_fields() const { return dense_; }
  // SetMaxVectorFields: --max_vector_fields, so that a request with more new vector
  // fields than the limit stops converting at the first one over it (the log writer
  // decides against what is registered by then). Call before any request.
  void SetMaxVectorFields(size_t n) { max_vector_fields_ = n; }

  absl::Status ConvertPredict(const ParsedPredict& request, PredictInput& out) const;
  absl::Status ConvertPredict(const v1::PredictRequest& request, PredictInput& out) const;

  // ConvertObserve returns the request's events as one batch, in order, with the vector
  // fields whose dimension is not registered yet in batch->new_dims (registered by the
  // log writer once the request is accepted and logged). Invalid events refuse the
  // request with one INVALID_ARGUMENT naming the first and counting the rest; its
  // BadRequest detail (server/error_details.h) lists up to kMaxFieldViolations of them.
  absl::StatusOr<std::unique_ptr<core::EventBatch>> ConvertObserve(
      const ParsedObserve& request) const;
  absl::StatusOr<std::unique_ptr<core::EventBatch>> ConvertObserve(
      const v1::ObserveRequest& request) const;

  // A feature of a request: its name and value, in name order (Entries below).
  struct Entry {
    uint64_t prefix;  // the name's first 8 bytes, big-endian, zero-padded: sorts fast
    std::string_view name;
    const ParsedValue* value;
    uint32_t order;  // position in the request: of two equal names the later one wins
  };
  // Path names a part of a request in an error, built only when there is one:
  // {"events", 3, ".item", ".features"} is events[3].item.features.
  struct Path {
    explicit Path(std::string_view list, int index = -1, std::string_view part = {},
                  std::string_view subpart = {})
        : list(list), index(index), part(part), subpart(subpart) {}
    std::string_view list;
    int index;  // -1: `list` is not indexed
    std::string_view part;
    std::string_view subpart;
    std::string str() const;
  };

 private:
  using NewDims = std::vector<core::NewVectorDim>;
  // AppendFeatures validates `features` (sorted, unique names, see Entries) and appends
  // their hashes to out. `other` is the other side of the example (context vs item,
  // sorted): a name in both is an error. New vector dimensions go to new_dims when
  // non-null (training); unknown dimensions are accepted without registering when it is
  // null (serving).
  absl::Status AppendFeatures(const ParsedRequest& request,
                              const std::vector<Entry>& features, const Path& path,
                              const std::vector<Entry>* other, NewDims* new_dims,
                              model::FeatureVector& out) const;
  absl::Status AppendItem(const ParsedRequest& request, const ParsedItem& item,
                          const Path& path,
                          const std::vector<Entry>& context, NewDims* new_dims,
                          model::FeatureVector& out) const;
  // ConvertEvent validates events[i] and fills `ex`.
  absl::Status ConvertEvent(const ParsedObserve& request, const ParsedEvent& event, int i,
                            int64_t now_unix_ms,
                            NewDims& new_dims, model::Example& ex) const;

  const Limits limits_;
  VectorDims* const dims_;
  std::map<std::string, uint32_t, std::less<>> dense_;  // constant once requests arrive
  size_t max_vector_fields_ = 10000;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_REQUEST_CONVERTER_H_
