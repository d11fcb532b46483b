// Limits: request-size and stream-count limits enforced by the server, all settable by
// flags. A plain value, constant after start.
#ifndef STREAMREC_SERVER_LIMITS_H_
#define STREAMREC_SERVER_LIMITS_H_

#include <cstddef>

namespace streamrec::server {

struct Limits {
  // Candidates in one PredictRequest.
  size_t max_candidates = 1000;
  // Events in one ObserveRequest (also bounded by the queue capacity).
  size_t max_events_per_request = 10000;
  // Hashed features of one example: each category, list value, number and vector
  // dimension counts one.
  size_t max_features_per_example = 4096;
  // Largest request message in bytes (gRPC rejects larger ones with RESOURCE_EXHAUSTED).
  size_t max_message_bytes = 4 << 20;
  // ObserveStream calls open at once; one more is refused with RESOURCE_EXHAUSTED. Each
  // open stream holds a reactor, a request buffer and gRPC's per-call memory.
  size_t max_concurrent_streams = 1000;
  // Bytes of a feature name or an event id. Names of vector fields are kept (and stored)
  // for as long as the model, event ids for the de-duplication window: their length is
  // part of the server's memory bound.
  size_t max_name_bytes = 256;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_LIMITS_H_
