// ReplayStream: the events of one `streamrec replay`, in order, on ObserveStream.
// Requests written and not yet acknowledged are kept, each event with its input line, so
// that:
//   - an event the server rejects (INVALID_ARGUMENT naming `events[i]`) is reported by
//     its line, "clicks.jsonl:17: label: 3 is outside [0, 1]", not its index in a batch;
//   - a failed replay names the first line not acknowledged (where to resume);
//   - with skip_bad, a rejected event is dropped and counted: the server ended the stream
//     at its request, so a new stream carries that request without it and every request
//     after it again. A request rejected without an event's index (e.g. not a valid
//     message: a string that is not UTF-8) is split into one-event requests to find it.
// Only INVALID_ARGUMENT is skipped; any other status, or a stream the server ends with OK
// before acknowledging everything, fails the replay. A server that shuts down ends the
// stream with UNAVAILABLE and the trailing metadata streamrec-acknowledged-events (what
// it acknowledged on this stream): shutting_down() then, and every event not
// acknowledged was not accepted, so resuming at first_unacknowledged_line() is exact.
//
// Threads: Send and Finish on one thread; per stream, a reader thread counts
// acknowledgements and samples the curve. sent() and acked() may be read on any thread;
// the rest after Finish (or a failed Send).
#ifndef STREAMREC_CLIENT_REPLAY_STREAM_H_
#define STREAMREC_CLIENT_REPLAY_STREAM_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "client/connection.h"
#include "google/protobuf/arena.h"

namespace streamrec::client {

// ReplayBatch: one ObserveRequest and each event's input line. Built on its own protobuf
// Arena (its events and their maps cost no malloc each), then sealed: serialized (by the
// thread that parsed it, not the one that writes), the message and its arena freed, so
// that only the bytes wait for the acknowledgement. Sealed requests are edited as bytes:
// an ObserveRequest is its events' serializations, each behind the tag of field 1 and its
// length, so events are moved, dropped and split without parsing them again (a criteo
// category that is not UTF-8 would not parse). Move-only.
struct ReplayBatch {
  // New: an empty request on a fresh arena sized for about `events` events.
  static ReplayBatch New(int events = 500);
  // FromEvents: a sealed request of the serialized events `events` (each with its tag
  // and length, as EventBytes gives them) and their lines.
  static ReplayBatch FromEvents(const std::vector<std::string_view>& events,
                                std::vector<uint64_t> lines);
  // FromBytes: a sealed request of `events` events from its serialization (taken over).
  static ReplayBatch FromBytes(std::string bytes, int events, std::vector<uint64_t> lines);
  int size() const { return request != nullptr ? request->events_size() : sealed_events; }
  bool sealed() const { return request == nullptr && sealed_events > 0; }
  // Seal: `wire` from the request; the message is dropped. An empty batch stays as it is.
  void Seal();
  // EventBytes: a sealed request's events, each with its tag and length; the views point
  // into `hold`. Empty for a request that is not sealed.
  std::vector<std::string_view> EventBytes(grpc::Slice& hold) const;

  std::unique_ptr<google::protobuf::Arena> arena;
  v1::ObserveRequest* request = nullptr;  // on `arena`; null once sealed
  std::vector<uint64_t> lines;
  grpc::ByteBuffer wire;                  // the serialized request, once sealed
  int sealed_events = 0;
};

class ReplayStream {
 public:
  struct Options {
    std::string source;         // the input's name in messages: a path or "<stdin>"
    bool skip_bad = false;      // drop events the server rejects
    uint64_t report_every = 0;  // sample the server's stats every N acknowledged events
  };
  // CurvePoint: the server's stats after `acknowledged` events.
  struct CurvePoint {
    uint64_t acknowledged = 0;
    v1::Stats stats;
  };

  ReplayStream(Connection& conn, Options options);
  ~ReplayStream();

  // Send writes one request (batch.lines: each event's input line), sealing it first if
  // it is not. False once the replay has failed (see status()).
  bool Send(ReplayBatch batch);
  // Finish ends the stream and waits for every acknowledgement; false if the replay
  // failed.
  bool Finish();

  // Events written (a resent event counts once), acknowledged, and rejected and skipped.
  uint64_t sent() const { return sent_.load(); }
  uint64_t acked() const { return acked_.load(); }
  // Of the acknowledged events, those the server dropped as duplicates (their event_id
  // was logged before: ObserveResponse.duplicates).
  uint64_t duplicates() const { return duplicates_.load(); }
  uint64_t rejected() const { return rejected_; }
  // The first rejections skipped, "FILE:LINE: reason" (at most five).
  const std::vector<std::string>& rejected_examples() const { return rejected_examples_; }

  // After a failure: the server's status, an event named by its line (OK when the server
  // ended the stream early without an error), and the first line not acknowledged (none
  // when every event written was).
  const grpc::Status& status() const { return status_; }
  // shutting_down: the failure was the server ending the stream because it stops; then
  // server_acknowledged() is what it says it acknowledged on the last stream and
  // stream_acknowledged() what this client received on it (the same, unless a response
  // was lost).
  bool shutting_down() const { return shutting_down_; }
  std::optional<uint64_t> server_acknowledged() const { return server_acknowledged_; }
  uint64_t stream_acknowledged() const { return stream_acked_.load(); }
  std::optional<uint64_t> first_unacknowledged_line() const;
  // The sampled curve, after Finish.
  const std::vector<CurvePoint>& curve() const { return curve_; }

 private:
  using Pending = ReplayBatch;

  void Open();
  // End closes the writes, joins the reader and returns the stream's status.
  grpc::Status End();
  void ReadAcknowledgements();
  // Retry drops or splits the rejected request (pending_.front()) and writes every
  // pending request on a new stream; false when `s` cannot be skipped (the replay fails).
  bool Retry(grpc::Status s);
  void Reject(const std::string& reason);
  bool Fail(const grpc::Status& s);
  // Named: `s` with a leading "events[i]" replaced by the event's FILE:LINE.
  grpc::Status Named(const grpc::Status& s) const;

  Connection& conn_;
  const Options options_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, v1::ObserveResponse>> stream_;
  std::thread reader_;
  std::mutex mu_;
  std::deque<Pending> pending_;  // guarded by mu_ while a reader runs
  std::atomic<uint64_t> sent_{0}, acked_{0}, duplicates_{0};
  std::atomic<uint64_t> stream_acked_{0};  // on the current stream
  uint64_t next_point_ = 0;  // reader only
  std::vector<CurvePoint> curve_;  // reader only
  uint64_t rejected_ = 0;
  std::vector<std::string> rejected_examples_;
  bool open_ = false;
  bool failed_ = false;
  grpc::Status status_;
  bool shutting_down_ = false;
  std::optional<uint64_t> server_acknowledged_;  // trailer of the last stream ended
};

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_REPLAY_STREAM_H_
