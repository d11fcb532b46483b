// RecommenderService at the byte boundary: requests whose bytes are not a valid message,
// sent through a generic stub to a real server on loopback.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/testing/raw_call.h"
#include "tests/testing/server_fixture.h"

namespace streamrec {
namespace {

using testing::MakeEvent;
using testing::RawStream;
using testing::RawUnary;

constexpr char kPredict[] = "/streamrec.v1.Recommender/Predict";
constexpr char kObserve[] = "/streamrec.v1.Recommender/Observe";
constexpr char kObserveStream[] = "/streamrec.v1.Recommender/ObserveStream";

// Bytes that are not a valid message of the method's request type: broken wire format,
// and a string field that is not UTF-8 (what a client serializing such a string sends).
std::vector<std::string> Garbage(const std::string& method) {
  std::vector<std::string> garbage = {
      std::string("\xff\xff\xff\xff\xff", 5),  // a field tag that never ends
      std::string("\x0a\x10" "abc", 5),        // field 1 claims 16 bytes, 3 follow
  };
  if (method == kPredict) {
    garbage.push_back(std::string("\x12\x03\x0a\x01\xff", 5));  // candidates[0].id
  } else {
    garbage.push_back(std::string("\x0a\x05\x12\x03\x0a\x01\xff", 7));  // events[0].item.id
  }
  return garbage;
}

std::string ObserveBytes(const std::string& item) {
  v1::ObserveRequest req;
  *req.add_events() = MakeEvent("u", item, 1);
  return req.SerializeAsString();
}

class RecommenderServiceTest : public testing::ServerFixture {};

TEST_F(RecommenderServiceTest, UnparseableUnaryRequestIsInvalidArgumentNamingTheType) {
  uint64_t sent = 0;
  for (const auto& [method, type] : {std::pair{kObserve, "streamrec.v1.ObserveRequest"},
                                     std::pair{kPredict, "streamrec.v1.PredictRequest"}}) {
    for (const std::string& bytes : Garbage(method)) {
      grpc::Status s = RawUnary(channel_, method, bytes);
      ++sent;
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method << " " << bytes;
      EXPECT_EQ(s.error_message(), absl::StrCat("request is not a valid ", type, " (",
                                                bytes.size(), " bytes)"));
    }
  }
  const v1::Stats stats = Stats();
  EXPECT_EQ(stats.requests_malformed(), sent);
  EXPECT_EQ(stats.events_received(), 0u);
  EXPECT_EQ(stats.predict_requests(), 0u);

  // Valid bytes on the same raw path are served as before.
  std::string raw;
  ASSERT_TRUE(RawUnary(channel_, kObserve, ObserveBytes("A"), &raw).ok());
  v1::ObserveResponse ack;
  ASSERT_TRUE(ack.ParseFromString(raw));
  EXPECT_EQ(ack.accepted(), 1u);
  v1::PredictRequest predict;
  predict.add_candidates()->set_id("A");
  ASSERT_TRUE(RawUnary(channel_, kPredict, predict.SerializeAsString(), &raw).ok());
  v1::PredictResponse scored;
  ASSERT_TRUE(scored.ParseFromString(raw));
  ASSERT_EQ(scored.items_size(), 1);
  EXPECT_EQ(scored.items(0).id(), "A");
  EXPECT_EQ(Stats().requests_malformed(), sent);
}

TEST_F(RecommenderServiceTest, UnparseableFrameEndsTheStreamWithInvalidArgument) {
  uint64_t accepted = 0;
  for (const std::string& bad : Garbage(kObserveStream)) {
    RawStream stream(channel_, kObserveStream);
    ASSERT_TRUE(stream.Write(ObserveBytes("first")));
    std::string raw;
    ASSERT_TRUE(stream.Read(&raw));
    v1::ObserveResponse ack;
    ASSERT_TRUE(ack.ParseFromString(raw));
    EXPECT_EQ(ack.accepted(), 1u);
    ++accepted;
    stream.Write(bad);
    stream.Write(ObserveBytes("third"));  // may fail: the server may have ended the call
    EXPECT_FALSE(stream.Read(&raw));
    const grpc::Status s = stream.Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_EQ(s.error_message(), absl::StrCat("request is not a valid "
                                              "streamrec.v1.ObserveRequest (", bad.size(),
                                              " bytes)"));
  }
  ASSERT_TRUE(WaitApplied(accepted));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const v1::Stats stats = Stats();
  // Each stream's first request stays accepted; nothing after the bad frame arrives.
  EXPECT_EQ(stats.events_received(), accepted);
  EXPECT_EQ(stats.events_accepted(), accepted);
  EXPECT_EQ(stats.events_applied(), accepted);
  EXPECT_EQ(stats.requests_malformed(), Garbage(kObserveStream).size());
}

using Stream = grpc::ClientReaderWriter<v1::ObserveRequest, v1::ObserveResponse>;

struct OpenStream {
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<Stream> stream;
};

TEST_F(RecommenderServiceTest, StreamsBeyondTheCapAreRefusedUntilOneCloses) {
  server_->Shutdown();
  server::ServerOptions o = testing::TestServerOptions();
  o.core.limits.max_concurrent_streams = 3;
  StartServer(o);
  v1::ObserveRequest one;
  *one.add_events() = MakeEvent("u", "A", 1);
  auto open = [&] {
    OpenStream s{Ctx(), nullptr};
    s.stream = recommender_->ObserveStream(s.ctx.get());
    return s;
  };
  // Each stream is acknowledged once, so the server holds it open.
  auto open_and_use = [&] {
    OpenStream s = open();
    v1::ObserveResponse ack;
    EXPECT_TRUE(s.stream->Write(one));
    EXPECT_TRUE(s.stream->Read(&ack));
    EXPECT_EQ(ack.accepted(), 1u);
    return s;
  };
  std::vector<OpenStream> streams;
  for (int i = 0; i < 3; ++i) streams.push_back(open_and_use());
  EXPECT_EQ(Stats().streams_open(), 3u);

  OpenStream refused = open();
  refused.stream->Write(one);  // may fail: the server ends the call at once
  v1::ObserveResponse ack;
  EXPECT_FALSE(refused.stream->Read(&ack));
  const grpc::Status s = refused.stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_NE(s.error_message().find("--max_concurrent_streams"), std::string::npos)
      << s.error_message();
  v1::Stats stats = Stats();
  EXPECT_EQ(stats.streams_rejected(), 1u);
  EXPECT_EQ(stats.events_received(), 3u);  // nothing of the refused stream was read

  // Closing one makes room (once the server has released the call).
  streams[0].stream->WritesDone();
  EXPECT_TRUE(streams[0].stream->Finish().ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Stats().streams_open() > 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(Stats().streams_open(), 2u);
  streams[0] = open_and_use();
  for (OpenStream& open_stream : streams) {
    open_stream.stream->WritesDone();
    EXPECT_TRUE(open_stream.stream->Finish().ok());
  }
  ASSERT_TRUE(WaitApplied(4));
  stats = Stats();
  EXPECT_EQ(stats.events_accepted(), 4u);
  EXPECT_EQ(stats.streams_rejected(), 1u);
}

}  // namespace
}  // namespace streamrec
