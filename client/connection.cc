#include "client/connection.h"

#include <chrono>
#include <cstdio>

#include "client/exit_codes.h"
#include "client/json_ints.h"
#include "google/protobuf/util/json_util.h"

namespace streamrec::client {

Connection::Connection(const std::string& target, double timeout_seconds,
                       const Security& security)
    : target_(target), timeout_seconds_(timeout_seconds), tls_(security.tls),
      token_(security.token) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  credentials_ = grpc::InsecureChannelCredentials();
  if (security.tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = security.root_certs;
    ssl.pem_cert_chain = security.cert_chain;
    ssl.pem_private_key = security.private_key;
    credentials_ = grpc::SslCredentials(ssl);
  }
  channel_ = grpc::CreateCustomChannel(target, credentials_, args);
  recommender_ = v1::Recommender::NewStub(channel_);
  admin_ = v1::Admin::NewStub(channel_);
  health_ = grpc::health::v1::Health::NewStub(channel_);
}

std::shared_ptr<grpc::Channel> Connection::NewChannel(int index) const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("streamrec.channel_index", index);
  return grpc::CreateCustomChannel(target_, credentials_, args);
}

std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, v1::ObserveResponse>>
Connection::ObserveStreamBytes(grpc::ClientContext* context) {
  static const grpc::internal::RpcMethod::RpcType kType =
      grpc::internal::RpcMethod::BIDI_STREAMING;
  const grpc::internal::RpcMethod method("/streamrec.v1.Recommender/ObserveStream", kType,
                                         channel_);
  return std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, v1::ObserveResponse>>(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, v1::ObserveResponse>::Create(
          channel_.get(), method, context));
}

std::unique_ptr<grpc::ClientContext> Connection::Context(double seconds) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token_.empty()) ctx->AddMetadata("authorization", "Bearer " + token_);
  if (seconds > 0) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)));
  }
  return ctx;
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "?";
  }
}

std::string StatusText(const grpc::Status& status) {
  std::string out = CodeName(status.error_code());
  if (out == "?") out = "status " + std::to_string(static_cast<int>(status.error_code()));
  if (!status.error_message().empty()) out += ": " + status.error_message();
  return out;
}

std::string Connection::TlsHint(const std::string& message) const {
  const bool tls_failed = message.find("andshake") != std::string::npos ||
                          message.find("SSL") != std::string::npos ||
                          message.find("Ssl") != std::string::npos;
  if (tls_ && tls_failed) return "; TLS: check --ca (and --cert, --key for mutual TLS)";
  if (!tls_ && message.find("Socket closed") != std::string::npos) {
    return "; a TLS server needs --tls (and --ca)";
  }
  return "";
}

int Connection::Fail(const std::string& what, const grpc::Status& status) const {
  std::string text;
  int code = kExitServer;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      // Connected: the server answered that it cannot serve this now (recovering, disk
      // full, shutting down); otherwise it could not be reached at all. A server that is
      // shutting down says so in its details (ErrorInfo SHUTTING_DOWN), whatever the
      // channel's state once it has gone.
      text = status.error_details().find("SHUTTING_DOWN") != std::string::npos
                 ? "the server at " + target_ + " is shutting down, retry once it is back: " +
                       status.error_message()
             : channel_->GetState(false) == GRPC_CHANNEL_READY
                 ? "the server at " + target_ + " is unavailable, retry later: " +
                       status.error_message()
                 : "cannot reach the server at " + target_ + " (" + status.error_message() + ")" +
                       TlsHint(status.error_message());
      text = StatusText(grpc::Status(status.error_code(), text));
      code = kExitConnection;
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      text = StatusText(grpc::Status(status.error_code(), "no answer from " + target_ +
                                                              " before the deadline (--timeout)"));
      code = kExitConnection;
      break;
    default:
      text = StatusText(status);
  }
  std::fprintf(stderr, "streamrec: %s: %s\n", what.c_str(), text.c_str());
  return code;
}

namespace {
bool json_ints_as_numbers = false;  // written by main before any thread starts
}  // namespace

void SetJsonIntsAsNumbers(bool on) { json_ints_as_numbers = on; }

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  google::protobuf::util::MessageToJsonString(message, &out, options);
  return json_ints_as_numbers ? JsonIntsAsNumbers(out, message.GetDescriptor()) : out;
}

}  // namespace streamrec::client
