// Connection: the CLI's channel and stubs to one server (plaintext, or TLS with the
// credentials of client/security.h), and the one place gRPC errors become messages and
// exit codes. Every context it makes carries the bearer token, if any. Thread-safe (gRPC
// stubs are).
#ifndef STREAMREC_CLIENT_CONNECTION_H_
#define STREAMREC_CLIENT_CONNECTION_H_

#include <memory>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "client/security.h"
#include "grpcpp/grpcpp.h"
#include "streamrec/v1/admin.grpc.pb.h"
#include "streamrec/v1/streamrec.grpc.pb.h"

namespace streamrec::client {

class Connection {
 public:
  Connection(const std::string& target, double timeout_seconds, const Security& security = {});

  // Context returns a client context with the configured deadline (none for streams
  // when seconds <= 0).
  std::unique_ptr<grpc::ClientContext> Context(double seconds) const;
  std::unique_ptr<grpc::ClientContext> Context() const { return Context(timeout_seconds_); }

  // NewChannel: another channel to the same target with the same credentials, on a
  // connection of its own (a local subchannel pool and a distinct `index` channel arg),
  // so that load over several channels spreads over several connections (the
  // load generator of `streamrec bench`). Calls on it need Context() for the token.
  std::shared_ptr<grpc::Channel> NewChannel(int index) const;

  v1::Recommender::Stub& recommender() { return *recommender_; }
  // ObserveStreamBytes: Recommender.ObserveStream writing requests already serialized
  // (`streamrec replay` serializes on its parsing threads); the responses are parsed as
  // usual. The same call as recommender().ObserveStream, through the factory the
  // generated stub uses.
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, v1::ObserveResponse>>
  ObserveStreamBytes(grpc::ClientContext* context);
  v1::Admin::Stub& admin() { return *admin_; }
  grpc::health::v1::Health::Stub& health() { return *health_; }
  const std::string& target() const { return target_; }

  // Fail prints "streamrec: <what>: <StatusText>" to stderr, e.g. "streamrec: observe:
  // INVALID_ARGUMENT: events[0].label: 2 is outside [0, 1]", and returns the exit code for
  // `status`: kExitConnection for UNAVAILABLE / DEADLINE_EXCEEDED, else kExitServer.
  // UNAVAILABLE says whether the server could be reached at all.
  int Fail(const std::string& what, const grpc::Status& status) const;

 private:
  // TlsHint: what to check when a connection failed with `message` ("" when unrelated).
  std::string TlsHint(const std::string& message) const;

  std::string target_;
  double timeout_seconds_;
  bool tls_;
  std::string token_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Recommender::Stub> recommender_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

// CodeName: the canonical name of a gRPC status code (e.g. "NOT_FOUND").
const char* CodeName(grpc::StatusCode code);
// StatusText: how the CLI names a status: "<CODE NAME>: <message>", e.g.
// "NOT_FOUND: no snapshot 7" (the code alone when the message is empty).
std::string StatusText(const grpc::Status& status);
// ToJson renders a message in the API's JSON mapping (proto field names, defaults shown);
// 64-bit integers as strings, or as numbers once SetJsonIntsAsNumbers(true)
// (--json_ints_as_numbers, client/json_ints.h).
std::string ToJson(const google::protobuf::Message& message);
// SetJsonIntsAsNumbers: set once by main before any command runs.
void SetJsonIntsAsNumbers(bool on);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_CONNECTION_H_
