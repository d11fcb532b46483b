// MetricsEndpoint in a real GrpcServer on loopback: the "metrics" listener with the
// port the OS chose, GET /metrics counting the calls made by method and code (the
// interceptor), 404 elsewhere, no endpoint without an address, refused addresses, and
// address parsing. (tests/python/metrics_test.py parses the whole page with a real
// exposition-format parser.)
#include "server/metrics/http_endpoint.h"

#include <gtest/gtest.h>

#include "httplib.h"
#include "tests/testing/server_fixture.h"

namespace streamrec::server::metrics {
namespace {

std::string MetricsAddress(const GrpcServer& server) {
  for (const GrpcServer::Listener& l : server.listeners()) {
    if (l.name == "metrics") return l.address;
  }
  return "";
}

httplib::Result Get(const std::string& address, const std::string& path) {
  std::string host;
  int port = 0;
  EXPECT_TRUE(SplitHostPort(address, &host, &port)) << address;
  httplib::Client client(host, port);
  return client.Get(path);
}

class HttpEndpointTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    ServerOptions o = testing::TestServerOptions();
    o.metrics_listen = "127.0.0.1:0";
    StartServer(o);
  }
};

TEST_F(HttpEndpointTest, CountsCallsByMethodAndCode) {
  const std::string address = MetricsAddress(*server_);
  ASSERT_FALSE(address.empty());
  EXPECT_NE(address, "127.0.0.1:0");
  v1::PredictRequest request;
  request.add_candidates()->set_id("a");
  v1::PredictResponse response;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Predict(request, &response).ok());
  EXPECT_EQ(Predict(v1::PredictRequest(), &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  httplib::Result r = Get(address, "/metrics");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& page = r->body;
  const std::string predict =
      "streamrec_grpc_requests_total{service=\"streamrec.v1.Recommender\",method=\"Predict\",";
  EXPECT_NE(page.find(predict + "code=\"OK\"} 3\n"), std::string::npos) << page;
  EXPECT_NE(page.find(predict + "code=\"INVALID_ARGUMENT\"} 1\n"), std::string::npos);
  EXPECT_NE(page.find("streamrec_grpc_request_duration_seconds_count{service=\"streamrec.v1."
                      "Recommender\",method=\"Predict\"} 4\n"),
            std::string::npos);
  EXPECT_NE(page.find("streamrec_candidates_scored_total 3\n"), std::string::npos);
  // No data dir: no RocksDB figures.
  EXPECT_EQ(page.find("streamrec_rocksdb_"), std::string::npos);

  httplib::Result other = Get(address, "/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
}

TEST_F(HttpEndpointTest, AnAddressInUseIsRefused) {
  ServerOptions o = testing::TestServerOptions();
  o.metrics_listen = MetricsAddress(*server_);
  absl::StatusOr<std::unique_ptr<GrpcServer>> second = GrpcServer::Start(o);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_NE(second.status().message().find("--metrics_listen"), std::string::npos);
}

TEST(HttpEndpointNoFixtureTest, NoAddressNoEndpoint) {
  absl::StatusOr<std::unique_ptr<GrpcServer>> s = GrpcServer::Start(testing::TestServerOptions());
  ASSERT_TRUE(s.ok()) << s.status();
  for (const GrpcServer::Listener& l : (*s)->listeners()) EXPECT_NE(l.name, "metrics");
}

TEST(HttpEndpointNoFixtureTest, MalformedAddressIsInvalid) {
  ServerOptions o = testing::TestServerOptions();
  o.metrics_listen = "localhost";
  absl::StatusOr<std::unique_ptr<GrpcServer>> s = GrpcServer::Start(o);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
}

TEST(HttpEndpointNoFixtureTest, SplitsHostAndPort) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(SplitHostPort("0.0.0.0:9464", &host, &port));
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 9464);
  ASSERT_TRUE(SplitHostPort("[::1]:0", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  for (const char* bad : {"", "9464", ":9464", "host:", "host:x", "host:65536", "::1:80",
                          "[::1:80", "host:-1"}) {
    EXPECT_FALSE(SplitHostPort(bad, &host, &port)) << bad;
  }
}

TEST(HttpEndpointNoFixtureTest, StopsRightAfterListen) {
  for (int i = 0; i < 5; ++i) {
    MetricsEndpoint endpoint(nullptr);
    absl::StatusOr<int> port = endpoint.Listen("127.0.0.1:0");
    ASSERT_TRUE(port.ok()) << port.status();
    EXPECT_GT(*port, 0);
    endpoint.Stop();
  }
}

TEST(AcceptsGzipTest, QValuesDecide) {
  for (const char* yes : {"gzip", "GZIP", "gzip, deflate", "x-gzip", "gzip;q=0.5", "br;q=1, gzip ; q=0.001",
                          "*", "identity;q=0, *;q=1", "gzip;q=0, gzip;q=1"}) {
    EXPECT_TRUE(AcceptsGzip(yes)) << yes;
  }
  for (const char* no : {"", "identity", "br", "deflate", "gzip;q=0", "gzip; q=0.0", "gzip;q=abc",
                         "*;q=0", "gzip;q=0, *;q=1", "xgzip", "gzipx"}) {
    EXPECT_FALSE(AcceptsGzip(no)) << no;
  }
}

}  // namespace
}  // namespace streamrec::server::metrics
