#include "server/raw_message.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/impl/codegen/proto_utils.h"  // SerializationTraits for protobuf messages
#include "grpcpp/support/proto_buffer_reader.h"
#include "server/error_details.h"

namespace streamrec::server {

std::string PublicTypeName(const google::protobuf::Message& message) {
  // streamrec.internal.ObserveRequestView -> streamrec.v1.ObserveRequest
  static const std::string kInternal = "streamrec.internal.", kView = "View";
  const std::string name = message.GetTypeName();
  if (name.size() > kInternal.size() + kView.size() && name.rfind(kInternal, 0) == 0 &&
      name.compare(name.size() - kView.size(), kView.size(), kView) == 0) {
    return "streamrec.v1." +
           name.substr(kInternal.size(), name.size() - kInternal.size() - kView.size());
  }
  return name;
}

absl::Status ParseInto(const grpc::ByteBuffer& raw, google::protobuf::Message& message) {
  message.Clear();
  if (!raw.Valid()) return absl::OkStatus();  // no payload: the empty message
  grpc::ByteBuffer shared(raw);  // references the same slices
  const size_t size = shared.Length();
  bool parsed = false;
  {
    grpc::ProtoBufferReader reader(&shared);
    parsed = reader.status().ok() && message.ParseFromZeroCopyStream(&reader);
  }
  if (parsed) return absl::OkStatus();
  return WithReason(absl::InvalidArgumentError(absl::StrCat(
                        "request is not a valid ", PublicTypeName(message), " (", size,
                        " bytes)")),
                    kReasonMalformedRequest);
}

absl::Status SerializeResponse(const google::protobuf::Message& message, grpc::ByteBuffer& raw) {
  bool own_buffer = false;
  const grpc::Status s =
      grpc::SerializationTraits<google::protobuf::Message>::Serialize(message, &raw, &own_buffer);
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("cannot serialize the ", message.GetTypeName(),
                                          " response: ", s.error_message()));
}

}  // namespace streamrec::server
