#include "client/bench_load.h"

#include <algorithm>
#include <deque>
#include <thread>

#include "grpcpp/impl/codegen/proto_utils.h"  // SerializationTraits for protobuf messages

namespace streamrec::client {
namespace {

using Clock = std::chrono::steady_clock;

int64_t Nanos(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// Shared state of one closed loop or set of streams: the stop flag, the call budget, the
// first error, and the count of slots still running.
class LoadControl {
 public:
  LoadControl(int active, uint64_t budget) : active_(active), budget_(budget) {}
  // Take: false once stopped or the budget is spent (which stops).
  bool Take() {
    if (stop_.load(std::memory_order_relaxed)) return false;
    if (budget_ > 0 && taken_.fetch_add(1, std::memory_order_relaxed) >= budget_) {
      stop_.store(true);
      return false;
    }
    return true;
  }
  void Stop() { stop_.store(true); }
  bool stopped() const { return stop_.load(std::memory_order_relaxed); }
  void Failed(const grpc::Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (first_error_.ok()) first_error_ = s;
  }
  grpc::Status first_error() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_error_;
  }
  void SlotDone() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--active_ == 0) cv_.notify_all();
  }
  // WaitAll: until every slot is done, or `deadline` (then returns false).
  bool WaitAll(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, deadline, [this] { return active_ == 0; });
  }
  void WaitAll() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return active_ == 0; });
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> taken_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  int active_;             // guarded by mu_
  const uint64_t budget_;  // constant
  grpc::Status first_error_;  // guarded by mu_
};

// Waits for a load that runs for `duration_s` after `start` (or until its budget ends,
// duration 0), then stops it and waits for its slots.
void Drive(LoadControl& control, Clock::time_point start, double duration_s) {
  if (duration_s > 0) {
    const Clock::time_point end =
        start + std::chrono::microseconds(static_cast<int64_t>(duration_s * 1e6));
    if (!control.WaitAll(end)) control.Stop();
  }
  control.WaitAll();
}

class ClosedLoop {
 public:
  ClosedLoop(const Connection& conn, ChannelSet& channels, const ClosedLoopOptions& o)
      : conn_(conn), channels_(channels), options_(o),
        control_(o.concurrency, o.max_calls), slots_(o.concurrency) {}

  LoadResult Run() {
    const Clock::time_point start = Clock::now();
    measure_from_ =
        start + std::chrono::microseconds(static_cast<int64_t>(options_.warmup_s * 1e6));
    for (size_t i = 0; i < slots_.size(); ++i) {
      slots_[i].index = i;
      slots_[i].next_request = i;
      slots_[i].latencies.reserve(1 << 14);
      Issue(slots_[i]);
    }
    Drive(control_, start, options_.duration_s > 0 ? options_.warmup_s + options_.duration_s : 0);
    LoadResult r;
    Clock::time_point last = measure_from_;
    for (Slot& s : slots_) {
      r.ok += s.ok;
      r.failed += s.failed;
      r.pushed_back += s.pushed_back;
      last = std::max(last, s.last_end);
      r.latencies_ns.insert(r.latencies_ns.end(), s.latencies.begin(), s.latencies.end());
    }
    r.first_error = control_.first_error();
    r.seconds = Nanos(last - measure_from_) / 1e9;
    return r;
  }

 private:
  // One call in flight at a time. Two contexts in turn: a call's context is replaced two
  // calls later, never inside its own completion.
  struct Slot {
    size_t index = 0, next_request = 0;
    std::unique_ptr<grpc::ClientContext> contexts[2];
    int turn = 0;
    grpc::ByteBuffer response;
    Clock::time_point start, last_end;
    std::vector<int64_t> latencies;
    uint64_t ok = 0, failed = 0, pushed_back = 0;
    int tries = 0;  // of the call in flight, when pushed back
  };

  void Issue(Slot& s) {
    if (!control_.Take()) {
      control_.SlotDone();
      return;
    }
    s.tries = 0;
    Send(s, s.next_request++);
  }

  // Send sends requests[n % size] on the slot (a new call, or a pushed-back one again).
  void Send(Slot& s, size_t n) {
    s.turn ^= 1;
    s.contexts[s.turn] = conn_.Context();
    const std::vector<grpc::ByteBuffer>& requests = *options_.requests;
    const grpc::ByteBuffer* request = &requests[n % requests.size()];
    s.start = Clock::now();
    channels_.stub(s.index).UnaryCall(s.contexts[s.turn].get(), options_.method,
                                      grpc::StubOptions(), request, &s.response,
                                      [this, &s](grpc::Status status) { Done(s, status); });
  }

  void Done(Slot& s, const grpc::Status& status) {
    const Clock::time_point end = Clock::now();
    if (status.ok()) {
      ++s.ok;
      if (s.start >= measure_from_) {
        s.latencies.push_back(Nanos(end - s.start));
        s.last_end = end;
      }
    } else if (options_.retry_pushback &&
               status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
               ++s.tries < 10000) {
      // Sent again unless the measured time is over (a call budget is still owed).
      if (control_.stopped() && options_.duration_s > 0) {
        control_.SlotDone();
        return;
      }
      ++s.pushed_back;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      Send(s, s.next_request - 1);
      return;
    } else {
      ++s.failed;
      control_.Failed(status);
      if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) control_.Stop();
    }
    Issue(s);
  }

  const Connection& conn_;
  ChannelSet& channels_;
  const ClosedLoopOptions options_;
  LoadControl control_;
  Clock::time_point measure_from_;  // constant once Run starts the calls
  std::vector<Slot> slots_;         // each used by one call chain at a time
};

class StreamCall : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamCall(const Connection& conn, grpc::GenericStub& stub, const StreamOptions& options,
             LoadControl& control, size_t index)
      : conn_(conn), stub_(stub), options_(options), control_(control), next_(index) {}

  void Start(double deadline_s) {
    context_ = conn_.Context(deadline_s);
    stub_.PrepareBidiStreamingCall(context_.get(), options_.method, grpc::StubOptions(), this);
    StartRead(&ack_);
    Pump();
    StartCall();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      if (!ok) broken_ = true;
    }
    Pump();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended; OnDone follows
    const Clock::time_point now = Clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!sent_.empty()) {
        latencies_.push_back(Nanos(now - sent_.front()));
        sent_.pop_front();
      }
      ++acked_;
      last_ack_ = now;
    }
    StartRead(&ack_);
    Pump();
  }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    control_.SlotDone();
  }

  // After the stream is done:
  const grpc::Status& status() const { return status_; }
  uint64_t acked() const { return acked_; }
  Clock::time_point last_ack() const { return last_ack_; }
  std::vector<int64_t>& latencies() { return latencies_; }

 private:
  // Pump writes the next request while the window has room, or half-closes once the
  // load is over. Decided under mu_, done outside it.
  void Pump() {
    const grpc::ByteBuffer* request = nullptr;
    bool close = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (writing_ || closed_) return;
      if (broken_ || control_.stopped()) {
        close = true;
      } else if (sent_.size() < static_cast<size_t>(options_.window)) {
        if (control_.Take()) {
          const std::vector<grpc::ByteBuffer>& requests = *options_.requests;
          request = &requests[next_++ % requests.size()];
          sent_.push_back(Clock::now());
          writing_ = true;
        } else {
          close = true;
        }
      }
      if (close) closed_ = true;
    }
    if (request) StartWrite(request);
    if (close) StartWritesDone();
  }

  const Connection& conn_;
  grpc::GenericStub& stub_;
  const StreamOptions& options_;
  LoadControl& control_;
  std::unique_ptr<grpc::ClientContext> context_;
  grpc::ByteBuffer ack_;  // one read at a time
  std::mutex mu_;
  size_t next_;                         // guarded by mu_
  bool writing_ = false, closed_ = false, broken_ = false;  // guarded by mu_
  std::deque<Clock::time_point> sent_;  // guarded by mu_: unacknowledged writes
  std::vector<int64_t> latencies_;      // guarded by mu_
  uint64_t acked_ = 0;                  // guarded by mu_
  Clock::time_point last_ack_;          // guarded by mu_
  grpc::Status status_;                 // written once by OnDone
};

}  // namespace

grpc::ByteBuffer ToByteBuffer(const google::protobuf::Message& message) {
  grpc::ByteBuffer out;
  bool own = false;
  grpc::SerializationTraits<google::protobuf::Message>::Serialize(message, &out, &own);
  return out;
}

ChannelSet::ChannelSet(const Connection& conn, int n) {
  for (int i = 0; i < std::max(1, n); ++i) {
    channels_.push_back(conn.NewChannel(i));
    stubs_.push_back(std::make_unique<grpc::GenericStub>(channels_.back()));
  }
}

LoadResult RunClosedLoop(const Connection& conn, ChannelSet& channels,
                         const ClosedLoopOptions& options) {
  ClosedLoop loop(conn, channels, options);
  return loop.Run();
}

LoadResult RunStreams(const Connection& conn, ChannelSet& channels, const StreamOptions& options) {
  LoadControl control(options.streams, options.max_requests);
  std::vector<std::unique_ptr<StreamCall>> calls;
  for (int i = 0; i < options.streams; ++i) {
    calls.push_back(std::make_unique<StreamCall>(conn, channels.stub(i), options, control, i));
  }
  const Clock::time_point start = Clock::now();
  // A deadline well past the load's end: a server that stops answering fails the streams.
  const double deadline_s = (options.duration_s > 0 ? options.duration_s : 600) + 120;
  for (auto& c : calls) c->Start(deadline_s);
  Drive(control, start, options.duration_s);
  LoadResult r;
  Clock::time_point last = start;
  for (auto& c : calls) {
    r.ok += c->acked();
    if (!c->status().ok()) {
      ++r.failed;
      if (r.first_error.ok()) r.first_error = c->status();
    }
    last = std::max(last, c->last_ack());
    r.latencies_ns.insert(r.latencies_ns.end(), c->latencies().begin(), c->latencies().end());
  }
  r.seconds = Nanos(last - start) / 1e9;
  return r;
}

PacedLoad::PacedLoad(const Connection& conn, ChannelSet& channels, std::string method,
                     const std::vector<grpc::ByteBuffer>* requests, double calls_per_second,
                     int max_in_flight)
    : conn_(conn), channels_(channels), method_(std::move(method)), requests_(requests),
      calls_per_second_(calls_per_second), slots_(std::max(1, max_in_flight)) {
  for (size_t i = 0; i < slots_.size(); ++i) free_.push_back(i);
  if (calls_per_second_ > 0) thread_ = std::thread([this] { Loop(); });
}

void PacedLoad::Loop() {
  const auto interval = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / calls_per_second_));
  Clock::time_point due = start_;
  for (uint64_t n = 0; !stop_.load(); ++n) {
    std::this_thread::sleep_until(due);
    due += interval;
    size_t slot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (free_.empty()) {
        skipped_.fetch_add(1);
        continue;
      }
      slot = free_.back();
      free_.pop_back();
    }
    // The slot's previous call is complete: its context can go.
    Slot& s = slots_[slot];
    s.context = conn_.Context();
    channels_.stub(n).UnaryCall(s.context.get(), method_, grpc::StubOptions(),
                                &(*requests_)[n % requests_->size()], &s.response,
                                [this, slot](grpc::Status status) {
                                  status.ok() ? ok_.fetch_add(1) : failed_.fetch_add(1);
                                  std::lock_guard<std::mutex> lock(mu_);
                                  if (!status.ok() && first_error_.ok()) first_error_ = status;
                                  free_.push_back(slot);
                                  cv_.notify_all();
                                });
  }
}

void PacedLoad::Stop() {
  if (stop_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  std::unique_lock<std::mutex> lock(mu_);
  end_ = Clock::now();
  cv_.wait(lock, [this] { return free_.size() == slots_.size(); });
}

double PacedLoad::seconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  const Clock::time_point end = stop_.load() ? end_ : Clock::now();
  return Nanos(end - start_) / 1e9;
}

grpc::Status PacedLoad::first_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_error_;
}

}  // namespace streamrec::client
