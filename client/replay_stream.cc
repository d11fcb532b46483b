#include "client/replay_stream.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

namespace streamrec::client {
namespace {

// The trailing metadata of a stream the server ended because it stops: the events it
// acknowledged on that stream (server/observe_stream.h).
constexpr char kAcknowledgedEventsKey[] = "streamrec-acknowledged-events";

// EventIndex: i when `message` starts with "events[i]".
std::optional<int> EventIndex(const std::string& message) {
  constexpr char kPrefix[] = "events[";
  if (message.rfind(kPrefix, 0) != 0) return std::nullopt;
  const size_t close = message.find(']');
  const std::string digits = message.substr(sizeof(kPrefix) - 1, close - (sizeof(kPrefix) - 1));
  if (close == std::string::npos || digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoi(digits);
}

}  // namespace

ReplayBatch ReplayBatch::New(int events) {
  // A 40-feature event takes about 4 KB; blocks of up to 1 MB.
  google::protobuf::ArenaOptions options;
  options.start_block_size = std::clamp<size_t>(static_cast<size_t>(events) << 12, 4 << 10, 64 << 10);
  options.max_block_size = 1 << 20;
  ReplayBatch b;
  b.arena = std::make_unique<google::protobuf::Arena>(options);
  b.request = google::protobuf::Arena::CreateMessage<v1::ObserveRequest>(b.arena.get());
  return b;
}

void ReplayBatch::Seal() {
  if (request == nullptr || request->events_size() == 0) return;
  grpc::Slice slice(request->ByteSizeLong());
  request->SerializeWithCachedSizesToArray(const_cast<uint8_t*>(slice.begin()));
  wire = grpc::ByteBuffer(&slice, 1);
  sealed_events = request->events_size();
  request = nullptr;
  arena.reset();
}

ReplayBatch ReplayBatch::FromEvents(const std::vector<std::string_view>& events,
                                    std::vector<uint64_t> lines) {
  size_t n = 0;
  for (std::string_view e : events) n += e.size();
  grpc::Slice slice(n);
  char* out = reinterpret_cast<char*>(const_cast<uint8_t*>(slice.begin()));
  for (std::string_view e : events) {
    std::memcpy(out, e.data(), e.size());
    out += e.size();
  }
  ReplayBatch b;
  b.wire = grpc::ByteBuffer(&slice, 1);
  b.sealed_events = static_cast<int>(events.size());
  b.lines = std::move(lines);
  return b;
}

ReplayBatch ReplayBatch::FromBytes(std::string bytes, int events, std::vector<uint64_t> lines) {
  auto* owned = new std::string(std::move(bytes));
  grpc::Slice slice(owned->data(), owned->size(),
                    [](void* p) { delete static_cast<std::string*>(p); }, owned);
  ReplayBatch b;
  b.wire = grpc::ByteBuffer(&slice, 1);
  b.sealed_events = events;
  b.lines = std::move(lines);
  return b;
}

std::vector<std::string_view> ReplayBatch::EventBytes(grpc::Slice& hold) const {
  std::vector<std::string_view> events;
  if (request != nullptr || sealed_events == 0 || !wire.DumpToSingleSlice(&hold).ok()) {
    return events;
  }
  const std::string_view all(reinterpret_cast<const char*>(hold.begin()), hold.size());
  size_t at = 0;
  while (at < all.size()) {
    // Tag 0x0a (field 1, length-delimited), then the length as a varint.
    size_t p = at + 1;
    uint64_t len = 0;
    for (int shift = 0; p < all.size(); shift += 7) {
      const uint8_t byte = static_cast<uint8_t>(all[p++]);
      len |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
    }
    const size_t end = std::min<size_t>(all.size(), p + len);
    events.push_back(all.substr(at, end - at));
    at = end;
  }
  return events;
}

ReplayStream::ReplayStream(Connection& conn, Options options)
    : conn_(conn), options_(std::move(options)), next_point_(options_.report_every) {
  Open();
}

ReplayStream::~ReplayStream() {
  if (open_) End();
}

void ReplayStream::Open() {
  context_ = conn_.Context(0);  // a replay may take hours: no deadline on the stream
  stream_acked_ = 0;
  stream_ = conn_.ObserveStreamBytes(context_.get());
  reader_ = std::thread([this] { ReadAcknowledgements(); });
  open_ = true;
}

grpc::Status ReplayStream::End() {
  stream_->WritesDone();
  reader_.join();
  open_ = false;
  const grpc::Status s = stream_->Finish();
  server_acknowledged_.reset();
  const auto& trailers = context_->GetServerTrailingMetadata();
  if (auto it = trailers.find(kAcknowledgedEventsKey); it != trailers.end()) {
    const std::string value(it->second.data(), it->second.size());
    if (!value.empty() && value.size() <= 19 &&
        value.find_first_not_of("0123456789") == std::string::npos) {
      server_acknowledged_ = std::stoull(value);
    }
  }
  return s;
}

void ReplayStream::ReadAcknowledgements() {
  v1::ObserveResponse resp;
  while (stream_->Read(&resp)) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pending_.empty()) pending_.pop_front();  // one response per request, in order
    }
    stream_acked_ += resp.accepted();
    duplicates_ += resp.duplicates();
    const uint64_t a = acked_.fetch_add(resp.accepted()) + resp.accepted();
    if (options_.report_every > 0 && a >= next_point_) {
      CurvePoint p;
      p.acknowledged = a;
      if (conn_.admin().GetStats(conn_.Context().get(), v1::GetStatsRequest(), &p.stats).ok()) {
        curve_.push_back(std::move(p));
      }
      while (next_point_ <= a) next_point_ += options_.report_every;
    }
  }
}

bool ReplayStream::Send(ReplayBatch batch) {
  if (failed_) return false;
  batch.Seal();
  const int events = batch.size();
  const grpc::ByteBuffer wire = batch.wire;  // shares the slices
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(std::move(batch));  // popped only once acknowledged
  }
  sent_ += events;
  if (stream_->Write(wire)) return true;
  const grpc::Status s = End();
  if (s.ok() && pending_.empty()) {  // ended with OK, every event acknowledged: go on
    Open();
    return true;
  }
  return Retry(s);
}

bool ReplayStream::Finish() {
  if (failed_) return false;
  for (;;) {
    const grpc::Status s = End();
    if (s.ok() && pending_.empty()) return true;
    if (!Retry(s)) return false;
  }
}

bool ReplayStream::Retry(grpc::Status s) {
  for (;;) {
    if (!options_.skip_bad || s.error_code() != grpc::StatusCode::INVALID_ARGUMENT ||
        pending_.empty()) {
      return Fail(s);
    }
    Pending& p = pending_.front();
    grpc::Slice hold;
    std::vector<std::string_view> events = p.EventBytes(hold);  // sealed by Send
    const std::optional<int> i = EventIndex(s.error_message());
    const int n = static_cast<int>(events.size());
    if ((i && *i < n) || n == 1) {
      const int k = i && *i < n ? *i : 0;
      Reject(Named(s).error_message());
      events.erase(events.begin() + k);
      std::vector<uint64_t> lines = std::move(p.lines);
      lines.erase(lines.begin() + k);
      if (events.empty()) {
        pending_.pop_front();
      } else {
        p = ReplayBatch::FromEvents(events, std::move(lines));
      }
    } else {
      // Rejected as a whole: one request per event, to find the one.
      Pending whole = std::move(p);
      pending_.pop_front();
      for (int e = n - 1; e >= 0; --e) {
        pending_.push_front(ReplayBatch::FromEvents({events[e]}, {whole.lines[e]}));
      }
    }
    std::vector<grpc::ByteBuffer> requests;  // shares the slices
    for (const Pending& q : pending_) requests.push_back(q.wire);
    Open();
    bool written = true;
    for (size_t r = 0; written && r < requests.size(); ++r) written = stream_->Write(requests[r]);
    if (written) return true;
    s = End();
    if (s.ok() && pending_.empty()) {
      Open();
      return true;
    }
  }
}

void ReplayStream::Reject(const std::string& reason) {
  ++rejected_;
  if (rejected_examples_.size() < 5) rejected_examples_.push_back(reason);
}

bool ReplayStream::Fail(const grpc::Status& s) {
  failed_ = true;
  shutting_down_ =
      s.error_code() == grpc::StatusCode::UNAVAILABLE && server_acknowledged_.has_value();
  status_ = shutting_down_ ? s : Named(s);  // a stop names no event
  return false;
}

grpc::Status ReplayStream::Named(const grpc::Status& s) const {
  const std::string& message = s.error_message();
  const std::optional<int> i = EventIndex(message);
  if (pending_.empty()) return s;
  const Pending& p = pending_.front();
  if (!i || *i >= p.size()) {
    if (p.size() != 1) return s;
    // A one-event request: its line is the event's.
    return grpc::Status(s.error_code(), options_.source + ":" + std::to_string(p.lines[0]) +
                                            ": " + message);
  }
  std::string rest = message.substr(message.find(']') + 1);
  if (!rest.empty() && rest[0] == '.') rest = ": " + rest.substr(1);
  return grpc::Status(s.error_code(),
                      options_.source + ":" + std::to_string(p.lines[*i]) + rest);
}

std::optional<uint64_t> ReplayStream::first_unacknowledged_line() const {
  if (pending_.empty() || pending_.front().lines.empty()) return std::nullopt;
  return pending_.front().lines.front();
}

}  // namespace streamrec::client
