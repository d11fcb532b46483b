// Ingest (server/ingest.h) without a server: refusals and their counters (not ready,
// storage unwritable, invalid, above the byte budget, queue full by events and by bytes),
// a prepared-again request counted once, the log writer's hooks (new vector fields
// pending until their group is logged, the field cap, Append's events, ids and fields in
// order), and acknowledgement through a real LogWriter: accepted, or rejected by reason
// when the log or Admit refuses. The EventLog is an in-memory fake of our interface.
#include "server/ingest.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "server/core/batch_inbox.h"
#include "server/core/log_writer.h"
#include "server/error_details.h"
#include "storage/event_log.h"

namespace streamrec::server {
namespace {

// MemoryLog: an EventLog keeping (seq, label, id) of what it is given; `fail` fails Append.
class MemoryLog final : public storage::EventLog {
 public:
  struct Logged { uint64_t seq; float label; std::string id; };  // NOLINT
  void StartAt(uint64_t next_seq) override { next_ = next_seq; }
  using storage::EventLog::Append;
  absl::StatusOr<uint64_t> Append(const std::vector<storage::LogEntry>& entries,
                                  const storage::VectorDimList& new_dims,
                                  const storage::StoreWrites&) override {
    std::lock_guard<std::mutex> lock(mu);
    if (!fail.ok()) return fail;
    const uint64_t first = next_;
    for (const storage::LogEntry& e : entries) {
      events.push_back({next_++, e.example->label, *e.event_id});
    }
    dims.insert(dims.end(), new_dims.begin(), new_dims.end());
    return first;
  }
  using storage::EventLog::Replay;
  absl::Status Replay(uint64_t, const storage::ReplayFn&, const storage::FlushFn&) override {
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> FirstSeq() override { return uint64_t{0}; }  // unused
  absl::StatusOr<uint64_t> LastSeq() override { return uint64_t{0}; }
  absl::Status TruncateBefore(uint64_t) override { return absl::OkStatus(); }
  uint64_t ApproximateBytes() override { return 0; }

  std::mutex mu;
  absl::Status fail;
  std::vector<Logged> events;
  storage::VectorDimList dims;

 private:
  uint64_t next_ = 1;
};

// Call: an Observe's response and the outcome its `done` reported (from any thread).
struct Call {
  v1::ObserveResponse response;
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  absl::Status status;
  size_t duplicates = 0;
  static size_t Duplicates(const LoggedCounts& c) { return c.duplicates; }
  // Done: for Observe (DoneFn) and PrepareObserve (LoggedFn, the duplicates kept).
  auto Done() {
    return [this](const absl::Status& s, auto... counts) {
      ((this->duplicates = Duplicates(counts)), ...);
      std::lock_guard<std::mutex> lock(mu);
      status = s;
      ++calls;
      cv.notify_all();
    };
  }
  bool Wait() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30), [this] { return calls > 0; });
  }
};

v1::ObserveRequest Events(int n, const std::string& id_prefix = "",
                          const std::string& vector_field = "", int dim = 0) {
  v1::ObserveRequest req;
  for (int i = 0; i < n; ++i) {
    v1::Event* e = req.add_events();
    auto& values = *e->mutable_context()->mutable_values();
    values["user"].set_category("u");
    for (int d = 0; d < dim; ++d) values[vector_field].mutable_vector()->add_values(0.5f);
    e->mutable_item()->set_id("i" + std::to_string(i));
    e->set_label(i % 2);
    if (!id_prefix.empty()) e->set_event_id(id_prefix + std::to_string(i));
  }
  return req;
}

class IngestTest : public ::testing::Test {
 protected:
  void Make(IngestOptions options = {}, size_t queue_events = 1000, size_t queue_bytes = SIZE_MAX) {
    queue_ = std::make_unique<core::EventQueue>(queue_events, queue_bytes);
    ingest_ = std::make_unique<Ingest>(
        options, &converter_, &dims_, &ready_, [this] { return storage_; }, &log_);
    ingest_->Attach(queue_.get(), nullptr);
  }
  std::unique_ptr<Call> Observe(const v1::ObserveRequest& req) {
    auto call = std::make_unique<Call>();
    ingest_->Observe(req, call->response, call->Done());
    return call;
  }
  uint64_t Rejected(Reject reason) {
    return ingest_->counters().rejected[static_cast<int>(reason)];
  }
  std::unique_ptr<core::EventBatch> Batch(const v1::ObserveRequest& req) {
    return converter_.ConvertObserve(req).value_or(nullptr);  // tests assert non-null
  }

  const LoggedFn ignore_ = [](const absl::Status&, const LoggedCounts&) {};
  Limits limits_;
  VectorDims dims_;
  RequestConverter converter_{limits_, &dims_};
  std::atomic<bool> ready_{true};
  absl::Status storage_;
  MemoryLog log_;
  std::unique_ptr<core::EventQueue> queue_;
  std::unique_ptr<Ingest> ingest_;
};

TEST_F(IngestTest, RefusesWhileNotReadyOrStorageIsNotWritable) {
  IngestOptions options;
  options.storage_retry = std::chrono::milliseconds(250);
  Make(options);
  ready_ = false;
  storage_ = absl::UnavailableError("the data dir is not writable: No space left on device");
  auto call = Observe(Events(3));  // readiness is checked first
  EXPECT_EQ(call->calls, 1);       // answered at once
  EXPECT_EQ(call->status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(call->status.message().find("recovering"), std::string::npos) << call->status;
  EXPECT_EQ(ErrorReason(call->status), "RECOVERING");
  EXPECT_EQ(call->response.accepted(), 0u);
  EXPECT_EQ(Rejected(Reject::kUnavailable), 3u);
  ready_ = true;
  call = Observe(Events(4));
  EXPECT_EQ(call->calls, 1);
  EXPECT_EQ(call->status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(call->status.message().find("No space left on device"), std::string::npos);
  EXPECT_NE(call->status.message().find("every 250 ms"), std::string::npos) << call->status;
  EXPECT_EQ(ErrorReason(call->status), "STORAGE_UNAVAILABLE");
  EXPECT_EQ(Rejected(Reject::kStorage), 4u);
  EXPECT_EQ(queue_->depth(), 0u);
  storage_ = absl::OkStatus();  // writable again: into the queue, answered once logged
  EXPECT_EQ(Observe(Events(5))->calls, 0);
  EXPECT_EQ(queue_->depth(), 5u);
  Ingest::Counters c = ingest_->counters();
  EXPECT_EQ(c.received, 12u);
  EXPECT_EQ(c.accepted, 0u);  // not yet logged
  EXPECT_EQ(Rejected(Reject::kUnavailable), 3u);
}

TEST_F(IngestTest, RefusesInvalidRequestsAndBatchesAboveTheByteBudget) {
  IngestOptions options;
  options.queue_max_bytes = 4096;
  Make(options);
  v1::ObserveRequest no_label = Events(2);
  no_label.mutable_events(1)->clear_label();
  auto call = Observe(no_label);
  EXPECT_EQ(call->status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(call->status.message().find("events[1].label"), std::string::npos);
  EXPECT_EQ(Observe(v1::ObserveRequest())->status.code(), absl::StatusCode::kInvalidArgument);
  auto big = Observe(Events(100));  // valid, but converts to more than 4096 bytes
  EXPECT_EQ(big->status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(big->status.message().find("--queue_max_bytes"), std::string::npos) << big->status;
  EXPECT_EQ(Rejected(Reject::kInvalid), 102u);
  EXPECT_EQ(ingest_->counters().received, 102u);
  EXPECT_EQ(queue_->depth(), 0u);
  EXPECT_EQ(queue_->bytes_used(), 0u);
}

// A full queue, by events or by bytes, refuses the whole request, each with its reason.
TEST_F(IngestTest, AFullQueueRefusesTheWholeRequest) {
  Make();
  auto probe = ingest_->PrepareObserve(Events(2), ignore_, /*count=*/false);
  ASSERT_TRUE(probe.ok());
  const size_t bytes = (*probe)->bytes;  // of any 2-event request of Events()
  Make({}, /*queue_events=*/5, /*queue_bytes=*/3 * bytes + bytes / 2);
  EXPECT_EQ(Observe(Events(2))->calls, 0);
  EXPECT_EQ(Observe(Events(2))->calls, 0);
  auto events = Observe(Events(2));  // 4 + 2 events > 5: nothing of it enters
  EXPECT_EQ(events->status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(events->status.message().find("4 of 5 events"), std::string::npos) << events->status;
  EXPECT_EQ(ErrorReason(events->status), "QUEUE_FULL");
  EXPECT_EQ(queue_->bytes_used(), 2 * bytes);  // its reservation was returned
  EXPECT_EQ(Rejected(Reject::kQueueFull), 2u);
  ASSERT_EQ(Observe(Events(1))->calls, 0);  // 5 events, about 2.5 requests' bytes
  auto full = Observe(Events(2));           // bytes run out first now
  EXPECT_EQ(full->status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full->status.message().find("--queue_max_bytes"), std::string::npos) << full->status;
  EXPECT_EQ(ErrorReason(full->status), "QUEUE_BYTES_FULL");
  EXPECT_EQ(Rejected(Reject::kQueueBytesFull), 2u);
  EXPECT_EQ(Rejected(Reject::kQueueFull), 2u);
  EXPECT_EQ(queue_->depth(), 5u);
}

// A stream prepares a request again after waiting for room: received once, and the
// retry's refusals are not counted again.
TEST_F(IngestTest, APreparedAgainRequestIsCountedOnce) {
  Make();
  ASSERT_TRUE(ingest_->PrepareObserve(Events(3), ignore_).ok());  // dropped: no room, say
  ready_ = false;
  EXPECT_FALSE(ingest_->PrepareObserve(Events(3), ignore_, false).ok());
  ready_ = true;
  absl::Status logged = absl::UnknownError("not called");
  auto again = ingest_->PrepareObserve(
      Events(3), [&](const absl::Status& s, const LoggedCounts&) { logged = s; }, false);
  ASSERT_TRUE(again.ok());
  (*again)->on_logged(absl::OkStatus());
  EXPECT_TRUE(logged.ok());
  Ingest::Counters c = ingest_->counters();
  EXPECT_EQ(c.received, 3u);
  EXPECT_EQ(c.accepted, 3u);
  EXPECT_EQ(Rejected(Reject::kUnavailable), 0u);
}

TEST_F(IngestTest, NewVectorFieldsAreRegisteredOnlyWhenTheirGroupIsLogged) {
  Make();
  auto a = Batch(Events(1, "", "emb", 3));
  auto b = Batch(Events(1, "", "emb", 4));
  auto c = Batch(Events(1, "", "emb", 3));
  auto late = Batch(Events(1, "", "emb", 3));  // converted before any registration
  ASSERT_TRUE(a && b && c && late);
  ASSERT_TRUE(ingest_->Admit(*a).ok());
  EXPECT_FALSE(dims_.Find("emb"));  // pending
  absl::Status s = ingest_->Admit(*b);  // conflicts with the pending dimension
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("dimension 4 differs from 3"), std::string::npos) << s;
  ASSERT_TRUE(ingest_->Admit(*c).ok());
  EXPECT_TRUE(c->new_dims.empty());  // the group records the field once, with `a`
  ingest_->GroupDone(absl::UnavailableError("the append failed"));
  EXPECT_EQ(dims_.size(), 0u);  // nothing registered, nothing pending
  auto d = Batch(Events(1, "", "emb", 4));
  ASSERT_TRUE(d && ingest_->Admit(*d).ok());
  ingest_->GroupDone(absl::OkStatus());
  EXPECT_EQ(dims_.Find("emb"), 4u);
  s = ingest_->Admit(*late);  // against the registered dimension now
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("dimension 3 differs from 4"), std::string::npos) << s;
}

TEST_F(IngestTest, DistinctVectorFieldsAreCapped) {
  IngestOptions options;
  options.max_vector_fields = 2;
  Make(options);
  auto f1 = Batch(Events(1, "", "f1", 2));
  auto f2 = Batch(Events(1, "", "f2", 2));
  auto f3 = Batch(Events(1, "", "f3", 2));
  auto known = Batch(Events(1, "", "f2", 2));
  ASSERT_TRUE(f1 && f2 && f3 && known);
  ASSERT_TRUE(ingest_->Admit(*f1).ok());
  ingest_->GroupDone(absl::OkStatus());
  ASSERT_TRUE(ingest_->Admit(*f2).ok());  // pending counts toward the cap
  absl::Status s = ingest_->Admit(*f3);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--max_vector_fields"), std::string::npos) << s;
  EXPECT_TRUE(ingest_->Admit(*known).ok());  // no new field
  ingest_->GroupDone(absl::OkStatus());
  EXPECT_EQ(dims_.size(), 2u);
  EXPECT_FALSE(dims_.Find("f3"));
}

// The hooks as a real LogWriter runs them: Append hands the log the events in order,
// acknowledged once logged (accepted); refused by the log (storage_unavailable) or by
// Admit (invalid_argument).
TEST_F(IngestTest, AcknowledgesThroughTheLogWriter) {
  Make();
  core::BatchInbox inbox;
  core::LogWriterOptions options;
  Ingest* in = ingest_.get();
  options.admit = [in](core::EventBatch& b) { return in->Admit(b); };
  options.group_done = [in](const absl::Status& s) { in->GroupDone(s); };
  core::LogWriter writer(
      queue_.get(), &inbox, [in](const std::vector<core::EventBatch*>& g) { return in->Append(g); },
      options, 1);
  writer.Start();
  auto a = Observe(Events(3, "a"));
  auto b = Observe(Events(2, "b", "emb", 5));
  ASSERT_TRUE(a->Wait() && b->Wait());
  EXPECT_TRUE(a->status.ok() && b->status.ok()) << a->status << b->status;
  EXPECT_EQ(a->response.accepted(), 3u);
  EXPECT_EQ(b->response.accepted(), 2u);
  EXPECT_EQ(dims_.Find("emb"), 5u);
  {  // Append handed the log the events in order, with their ids, and the new field.
    std::lock_guard<std::mutex> lock(log_.mu);
    ASSERT_EQ(log_.events.size(), 5u);
    const std::vector<std::string> ids = {"a0", "a1", "a2", "b0", "b1"};
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(log_.events[i].seq, i + 1);
      EXPECT_EQ(log_.events[i].id, ids[i]);
      EXPECT_EQ(log_.events[i].label, i == 1 || i == 4 ? 1 : 0);
    }
    EXPECT_EQ(log_.dims, (storage::VectorDimList{{"emb", 5}}));
    log_.fail = absl::UnavailableError("disk full");
  }
  auto refused = Observe(Events(4, "c"));
  ASSERT_TRUE(refused->Wait());
  EXPECT_EQ(refused->status.code(), absl::StatusCode::kUnavailable);
  {
    std::lock_guard<std::mutex> lock(log_.mu);
    log_.fail = absl::OkStatus();
  }
  // Two requests converted while "vec" is unknown, with different dimensions: the
  // second is refused by Admit, on the writer's thread.
  Call first, second;
  auto p1 = ingest_->PrepareObserve(Events(2, "e", "vec", 3), first.Done());
  auto p2 = ingest_->PrepareObserve(Events(6, "f", "vec", 7), second.Done());
  ASSERT_TRUE(p1.ok() && p2.ok());
  for (auto* p : {&*p1, &*p2}) {
    ASSERT_TRUE(queue_->ReserveBytes(**p));
    ASSERT_TRUE(ingest_->TryEnqueue(*p));
  }
  ASSERT_TRUE(first.Wait() && second.Wait());
  EXPECT_TRUE(first.status.ok()) << first.status;
  EXPECT_EQ(second.status.code(), absl::StatusCode::kInvalidArgument) << second.status;
  EXPECT_EQ(dims_.Find("vec"), 3u);
  writer.Stop();
  EXPECT_EQ(a->calls + b->calls + refused->calls + first.calls + second.calls, 5);  // once
  Ingest::Counters c = ingest_->counters();
  EXPECT_EQ(c.received, 17u);
  EXPECT_EQ(c.accepted, 7u);
  EXPECT_EQ(Rejected(Reject::kStorage), 4u);
  EXPECT_EQ(Rejected(Reject::kInvalid), 6u);
  EXPECT_EQ(queue_->depth(), 7u);  // refused batches returned their places
}

}  // namespace
}  // namespace streamrec::server
