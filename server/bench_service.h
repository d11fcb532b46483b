// BenchService: the gRPC callback adapter for streamrec.v1.Bench (proto/streamrec/v1/
// bench.proto), a benchmark-only no-op: Echo answers a payload of the requested size and
// touches nothing else, so `streamrec bench predict` can measure gRPC's own cost for a
// Predict's request and response sizes. Registered raw (grpc::ByteBuffer, like
// server/recommender_service.h) and only with --bench_service (ServerOptions::
// bench_service); without it the method is UNIMPLEMENTED. Each call is authorized like
// Predict (Access::kPredict). Thread-safe.
#ifndef STREAMREC_SERVER_BENCH_SERVICE_H_
#define STREAMREC_SERVER_BENCH_SERVICE_H_

#include <cstddef>

#include "server/security/token_auth.h"
#include "streamrec/v1/bench.grpc.pb.h"

namespace streamrec::server {

using RawBenchService = v1::Bench::WithRawCallbackMethod_Echo<v1::Bench::Service>;

class BenchService final : public RawBenchService {
 public:
  // `auth` outlives the service. A response's payload is at most `max_payload_bytes`.
  BenchService(const security::Authorizer* auth, size_t max_payload_bytes)
      : auth_(auth), max_payload_bytes_(max_payload_bytes) {}

  // Echo: OK with EchoResponse.payload of min(response_bytes, max_payload_bytes) zero
  // bytes; INVALID_ARGUMENT when the request is not a valid EchoRequest; the
  // Authorizer's status when the call may not Predict.
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* response) override;

 private:
  const security::Authorizer* const auth_;
  const size_t max_payload_bytes_;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_BENCH_SERVICE_H_
