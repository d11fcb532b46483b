// BenchService through a real server on loopback: Echo is UNIMPLEMENTED unless the server
// runs with bench_service (--bench_service), answers response_bytes bytes with it (capped
// to max_message_bytes), refuses bytes that are not an EchoRequest, and is authorized
// like Predict.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "streamrec/v1/bench.grpc.pb.h"
#include "tests/testing/raw_call.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/temp_dir.h"

namespace streamrec {
namespace {

class BenchServiceTest : public testing::ServerFixture {
 protected:
  void SetUp() override {}  // each test starts its own server
  grpc::Status Echo(uint32_t response_bytes, const std::string& payload,
                    v1::EchoResponse* resp, const std::string& token = "") {
    v1::EchoRequest req;
    req.set_response_bytes(response_bytes);
    req.set_payload(payload);
    auto ctx = Ctx();
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    return v1::Bench::NewStub(channel_)->Echo(ctx.get(), req, resp);
  }
};

TEST_F(BenchServiceTest, EchoIsUnimplementedWithoutTheFlag) {
  StartServer();
  v1::EchoResponse resp;
  EXPECT_EQ(Echo(100, "x", &resp).error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(BenchServiceTest, EchoAnswersTheRequestedBytes) {
  server::ServerOptions o = testing::TestServerOptions();
  o.bench_service = true;
  o.core.limits.max_message_bytes = 1 << 16;
  StartServer(o);
  for (uint32_t n : {0u, 1u, 2500u, 60000u}) {
    v1::EchoResponse resp;
    ASSERT_TRUE(Echo(n, std::string(3000, 'p'), &resp).ok()) << n;
    EXPECT_EQ(resp.payload().size(), n);
  }
  // Capped to the server's message limit, whatever the client asks.
  v1::EchoResponse resp;
  ASSERT_TRUE(Echo(1u << 30, "", &resp).ok());
  EXPECT_EQ(resp.payload().size(), size_t{1} << 16);
  // Bytes that are not an EchoRequest.
  grpc::Status s = testing::RawUnary(channel_, "/streamrec.v1.Bench/Echo",
                                     std::string("\xff\xff\xff\xff\xff", 5));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("streamrec.v1.EchoRequest"), std::string::npos);
  // A no-op: nothing is counted as a prediction.
  EXPECT_EQ(Stats().predict_requests(), 0u);
}

TEST_F(BenchServiceTest, EchoIsAuthorizedLikePredict) {
  testing::TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  std::FILE* f = std::fopen(tokens.c_str(), "w");
  std::fputs("predict-token-0123456789 predict\n", f);
  std::fclose(f);
  server::ServerOptions o = testing::TestServerOptions();
  o.bench_service = true;
  o.auth = {tokens, /*predict_requires_auth=*/true};
  StartServer(o);
  v1::EchoResponse resp;
  EXPECT_EQ(Echo(10, "", &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Echo(10, "", &resp, "wrong-token-0123456789ab").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(Echo(10, "", &resp, "predict-token-0123456789").ok());
  EXPECT_EQ(resp.payload().size(), 10u);
}

}  // namespace
}  // namespace streamrec
