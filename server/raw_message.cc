#include "server/raw_message.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/impl/codegen/proto_utils.h"  // SerializationTraits for protobuf messages
#include "grpcpp/support/proto_buffer_reader.h"
#include "server/error_details.h"

namespace streamrec::server {

namespace {

template <typename Parsed>
absl::Status ParseParsed(const grpc::ByteBuffer& raw, RequestBytes& bytes, Parsed& out,
                         const std::string& type) {
  if (absl::Status s = bytes.Take(raw); !s.ok()) return s;
  if (out.Parse(bytes.bytes())) return absl::OkStatus();
  return MalformedRequestError(type, bytes.bytes().size());
}

}  // namespace

absl::Status RequestBytes::Take(const grpc::ByteBuffer& raw) {
  slices_.clear();
  bytes_ = {};
  if (!raw.Valid()) return absl::OkStatus();  // no payload: the empty message
  if (!raw.Dump(&slices_).ok()) return MalformedRequestError("message", raw.Length());
  if (slices_.size() == 1) {
    bytes_ = std::string_view(reinterpret_cast<const char*>(slices_[0].begin()),
                              slices_[0].size());
    return absl::OkStatus();
  }
  size_t total = 0;
  for (const grpc::Slice& s : slices_) total += s.size();
  copy_.clear();
  copy_.reserve(total);
  for (const grpc::Slice& s : slices_) {
    copy_.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  slices_.clear();
  bytes_ = copy_;
  return absl::OkStatus();
}

void RequestBytes::Release() {
  slices_.clear();
  bytes_ = {};
  if (copy_.capacity() > (size_t{1} << 20)) std::string().swap(copy_);
}

absl::Status ParseInto(const grpc::ByteBuffer& raw, RequestBytes& bytes, ParsedPredict& out) {
  return ParseParsed(raw, bytes, out, "streamrec.v1.PredictRequest");
}

absl::Status ParseInto(const grpc::ByteBuffer& raw, RequestBytes& bytes, ParsedObserve& out) {
  return ParseParsed(raw, bytes, out, "streamrec.v1.ObserveRequest");
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
  return MalformedRequestError(message.GetTypeName(), size);
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
