// Security through real gRPC servers in this process (server/grpc_server.cc,
// server/security/): TLS with certificates made by openssl at test time, plaintext
// refused by a TLS port, mutual TLS with and without a client certificate, every bearer
// token outcome per method, the admin port (the methods that change or copy the model
// served there only, UNIMPLEMENTED on the serving port), listeners(), and a certificate
// rotated under a running server.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/error_details.h"
#include "server/grpc_server.h"
#include "streamrec/v1/admin.grpc.pb.h"
#include "streamrec/v1/streamrec.grpc.pb.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"

namespace streamrec {
namespace {

constexpr char kPredictToken[] = "predict-token-0123456789";
constexpr char kObserveToken[] = "observe-token-0123456789";
constexpr char kAdminToken[] = "admin-token-0123456789ab";

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new testing::TempDir();
    ASSERT_TRUE(testing::MakeTestCerts(certs_->path()));
  }
  static void TearDownTestSuite() { delete certs_; }
  static std::string Cert(const std::string& name) { return certs_->path() + "/" + name; }

  server::ServerOptions Options() {
    server::ServerOptions o = testing::TestServerOptions();
    o.core.storage.data_dir = data_.path() + "/data";
    return o;
  }
  void Start(const server::ServerOptions& o) {
    server_.reset();
    auto s = server::GrpcServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }
  std::string Target() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  std::string AdminTarget() const {
    return "127.0.0.1:" + std::to_string(server_->admin_port());
  }
  static std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& ca,
                                                       const std::string& client = "") {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = testing::ReadTestFile(Cert(ca));
    if (!client.empty()) {
      o.pem_cert_chain = testing::ReadTestFile(Cert(client + ".pem"));
      o.pem_private_key = testing::ReadTestFile(Cert(client + ".key"));
    }
    return grpc::SslCredentials(o);
  }
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) ctx->AddMetadata("authorization", std::string("Bearer ") + token);
    return ctx;
  }
  static grpc::Status Predict(const std::shared_ptr<grpc::Channel>& channel,
                              const std::string& token = "") {
    v1::PredictRequest req;
    req.add_candidates()->set_id("m1");
    v1::PredictResponse resp;
    return v1::Recommender::NewStub(channel)->Predict(Ctx(token).get(), req, &resp);
  }
  static grpc::Status Observe(const std::shared_ptr<grpc::Channel>& channel,
                              const std::string& token = "") {
    v1::ObserveRequest req;
    *req.add_events() = testing::MakeEvent("u1", "m1", 1);
    v1::ObserveResponse resp;
    return v1::Recommender::NewStub(channel)->Observe(Ctx(token).get(), req, &resp);
  }
  static grpc::Status GetStats(const std::shared_ptr<grpc::Channel>& channel,
                               const std::string& token = "") {
    v1::Stats resp;
    return v1::Admin::NewStub(channel)->GetStats(Ctx(token).get(), v1::GetStatsRequest(), &resp);
  }
  static grpc::Status Save(const std::shared_ptr<grpc::Channel>& channel,
                           const std::string& token = "") {
    v1::SaveSnapshotResponse resp;
    return v1::Admin::NewStub(channel)->SaveSnapshot(Ctx(token).get(),
                                                     v1::SaveSnapshotRequest(), &resp);
  }
  static std::shared_ptr<grpc::Channel> Plain(const std::string& target) {
    return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  }
  void WriteTokens(const std::string& text) {
    tokens_ = data_.path() + "/tokens";
    std::FILE* f = std::fopen(tokens_.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }

  static testing::TempDir* certs_;
  testing::TempDir data_;
  std::string tokens_;
  std::unique_ptr<server::GrpcServer> server_;
};

testing::TempDir* SecurityTest::certs_ = nullptr;

TEST_F(SecurityTest, TlsServesEveryListenerAndRefusesPlaintext) {
  server::ServerOptions o = Options();
  o.tls.cert = Cert("server.pem");
  o.tls.key = Cert("server.key");
  Start(o);
  auto tls = grpc::CreateChannel(Target(), Tls("ca.pem"));
  EXPECT_TRUE(Predict(tls).ok());
  EXPECT_TRUE(Save(grpc::CreateChannel(AdminTarget(), Tls("ca.pem"))).ok());
  EXPECT_EQ(Predict(Plain(Target())).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Save(Plain(AdminTarget())).error_code(), grpc::StatusCode::UNAVAILABLE);
  // A client that trusts another CA does not accept the server.
  EXPECT_EQ(Predict(grpc::CreateChannel(Target(), Tls("other_ca.pem"))).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

// --health_listen: plaintext, health only, the serving port's statuses, while mutual TLS
// and tokens guard the serving port (Kubernetes' gRPC probes speak no TLS and send no
// token).
TEST_F(SecurityTest, TheHealthListenerAnswersProbesWithoutTls) {
  server::ServerOptions o = Options();
  o.tls.cert = Cert("server.pem");
  o.tls.key = Cert("server.key");
  o.tls.client_ca = Cert("ca.pem");
  WriteTokens(std::string(kAdminToken) + " admin\n");
  o.auth.tokens_file = tokens_;
  o.health_listen = "127.0.0.1:0";
  Start(o);
  std::string health_address;
  for (const auto& l : server_->listeners()) {
    if (l.name == "health") health_address = l.address;
  }
  ASSERT_FALSE(health_address.empty());
  auto health = grpc::health::v1::Health::NewStub(Plain(health_address));
  const auto check = [&](const std::string& service, grpc::StatusCode* code) {
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    *code = health->Check(Ctx().get(), req, &resp).error_code();
    return resp.status();
  };
  grpc::StatusCode code;
  EXPECT_EQ(check("", &code), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(code, grpc::StatusCode::OK);
  EXPECT_EQ(check("streamrec.v1.Recommender", &code),
            grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(check("streamrec.v1.Ingest", &code), grpc::health::v1::HealthCheckResponse::SERVING);
  check("no.such.Service", &code);
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
  // Only health there: the API is not reachable through it.
  EXPECT_EQ(Predict(Plain(health_address)).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // Watch sees the stop: NOT_SERVING, then the stream ends.
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("streamrec.v1.Recommender");
  auto ctx = Ctx();
  auto watch = health->Watch(ctx.get(), req);
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(watch->Read(&resp));
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  std::thread stop([&] { server_->Shutdown(std::chrono::milliseconds(500)); });
  ASSERT_TRUE(watch->Read(&resp));
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  stop.join();
  ctx->TryCancel();
}

TEST_F(SecurityTest, MutualTlsNeedsAClientCertificateOfTheClientCa) {
  server::ServerOptions o = Options();
  o.tls = {Cert("server.pem"), Cert("server.key"), Cert("ca.pem"), 5};
  Start(o);
  EXPECT_TRUE(Predict(grpc::CreateChannel(Target(), Tls("ca.pem", "client"))).ok());
  EXPECT_EQ(Predict(grpc::CreateChannel(Target(), Tls("ca.pem"))).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Predict(grpc::CreateChannel(Target(), Tls("ca.pem", "other_client"))).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, BadTlsFilesAreRefusedAtStart) {
  struct Case {
    server::security::TlsOptions tls;
    const char* message;
  } cases[] = {
      {{Cert("server.pem"), "", "", 5}, "--tls_cert needs --tls_key"},
      {{"", Cert("server.key"), "", 5}, "need --tls_cert"},
      {{Cert("server.pem"), Cert("client.key"), "", 5}, "is not the key of --tls_cert"},
      {{Cert("missing.pem"), Cert("server.key"), "", 5}, "cannot be read"},
      {{Cert("server.key"), Cert("server.key"), "", 5}, "not a PEM certificate"},
      {{Cert("server.pem"), Cert("server.key"), Cert("server.key"), 5}, "holds no PEM certificate"},
  };
  for (const Case& c : cases) {
    server::ServerOptions o = Options();
    o.tls = c.tls;
    auto s = server::GrpcServer::Start(o);
    ASSERT_FALSE(s.ok()) << c.message;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(c.message), std::string::npos) << s.status();
  }
}

TEST_F(SecurityTest, TokensDecideEachMethodByRole) {
  WriteTokens(std::string(kPredictToken) + " predict\n" + kObserveToken + " observe\n" +
              kAdminToken + " admin\n");
  server::ServerOptions o = Options();
  o.auth.tokens_file = tokens_;
  Start(o);
  auto serving = Plain(Target());
  auto admin = Plain(AdminTarget());
  using C = grpc::StatusCode;
  // Predict is open unless --predict_requires_auth; a wrong token is still refused.
  EXPECT_TRUE(Predict(serving).ok());
  EXPECT_TRUE(Predict(serving, kPredictToken).ok());
  EXPECT_EQ(Predict(serving, "not-a-token-0123456789").error_code(), C::UNAUTHENTICATED);
  // Observe: observe or admin.
  grpc::Status none = Observe(serving);
  EXPECT_EQ(none.error_code(), C::UNAUTHENTICATED);
  EXPECT_NE(none.error_message().find("Observe needs a bearer token"), std::string::npos);
  EXPECT_NE(none.error_details().find(server::kReasonTokenMissing), std::string::npos);
  grpc::Status wrong = Observe(serving, kPredictToken);
  EXPECT_EQ(wrong.error_code(), C::PERMISSION_DENIED);
  EXPECT_NE(wrong.error_message().find("this token has role predict"), std::string::npos);
  EXPECT_TRUE(Observe(serving, kObserveToken).ok());
  EXPECT_TRUE(Observe(serving, kAdminToken).ok());
  // A stream is refused before anything is read.
  {
    auto ctx = Ctx();
    auto stream = v1::Recommender::NewStub(serving)->ObserveStream(ctx.get());
    stream->WritesDone();
    EXPECT_EQ(stream->Finish().error_code(), C::UNAUTHENTICATED);
  }
  // Read-only methods: any valid token.
  EXPECT_EQ(GetStats(serving).error_code(), C::UNAUTHENTICATED);
  EXPECT_TRUE(GetStats(serving, kPredictToken).ok());
  // SaveSnapshot: admin, on the admin port.
  EXPECT_EQ(Save(admin).error_code(), C::UNAUTHENTICATED);
  EXPECT_EQ(Save(admin, kObserveToken).error_code(), C::PERMISSION_DENIED);
  EXPECT_TRUE(Save(admin, kAdminToken).ok());
  EXPECT_TRUE(GetStats(admin, kObserveToken).ok());

  // Reload: a new file takes effect; a broken one leaves the old tokens in force.
  WriteTokens(std::string(kObserveToken) + " admin\n");
  EXPECT_TRUE(server_->ReloadSecurity().ok());
  EXPECT_TRUE(Save(admin, kObserveToken).ok());
  EXPECT_EQ(Save(admin, kAdminToken).error_code(), C::UNAUTHENTICATED);
  WriteTokens("broken\n");
  EXPECT_FALSE(server_->ReloadSecurity().ok());
  EXPECT_TRUE(Save(admin, kObserveToken).ok());
}

TEST_F(SecurityTest, PredictRequiresAuthWhenAsked) {
  WriteTokens(std::string(kPredictToken) + " predict\n");
  server::ServerOptions o = Options();
  o.auth = {tokens_, true};
  Start(o);
  EXPECT_EQ(Predict(Plain(Target())).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Predict(Plain(Target()), kPredictToken).ok());
}

TEST_F(SecurityTest, TheAdminPortAloneChangesOrCopiesTheModel) {
  Start(Options());
  auto serving = Plain(Target());
  auto admin = Plain(AdminTarget());
  ASSERT_EQ(server_->listeners().size(), 2u);
  EXPECT_EQ(server_->listeners()[1].name, "admin");
  EXPECT_EQ(server_->listeners()[1].address, AdminTarget());

  grpc::Status s = Save(serving);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(s.error_message().find("--admin_listen, port " +
                                   std::to_string(server_->admin_port())),
            std::string::npos)
      << s.error_message();
  EXPECT_NE(s.error_details().find(server::kReasonAdminPortOnly), std::string::npos);
  v1::RollbackRequest rollback;
  rollback.set_model_version(0);
  v1::RollbackResponse rolled;
  EXPECT_EQ(v1::Admin::NewStub(serving)->Rollback(Ctx().get(), rollback, &rolled).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  {
    auto ctx = Ctx();
    v1::ExportSnapshotRequest req;
    auto reader = v1::Admin::NewStub(serving)->ExportSnapshot(ctx.get(), req);
    v1::SnapshotData piece;
    EXPECT_FALSE(reader->Read(&piece));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
  {
    auto ctx = Ctx();
    v1::ImportSnapshotResponse resp;
    auto writer = v1::Admin::NewStub(serving)->ImportSnapshot(ctx.get(), &resp);
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
  // Read-only methods stay on the serving port; the admin port serves all of Admin and
  // nothing of the Recommender.
  EXPECT_TRUE(GetStats(serving).ok());
  EXPECT_TRUE(Save(admin).ok());
  EXPECT_TRUE(v1::Admin::NewStub(admin)->Rollback(Ctx().get(), rollback, &rolled).ok());
  EXPECT_EQ(Predict(admin).error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(SecurityTest, NoAdminPortWhenItsAddressIsEmpty) {
  server::ServerOptions o = Options();
  o.admin_listen = "";
  Start(o);
  EXPECT_EQ(server_->admin_port(), 0);
  EXPECT_EQ(server_->listeners().size(), 1u);
  grpc::Status s = Save(Plain(Target()));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(s.error_message().find("which this server does not open"), std::string::npos);
}

TEST_F(SecurityTest, ARotatedCertificateServesNewHandshakesWithoutARestart) {
  const std::string dir = data_.path() + "/tls";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(Cert("server.pem"), dir + "/cert.pem");
  std::filesystem::copy_file(Cert("server.key"), dir + "/key.pem");
  server::ServerOptions o = Options();
  o.tls = {dir + "/cert.pem", dir + "/key.pem", "", 1};
  Start(o);
  EXPECT_TRUE(Predict(grpc::CreateChannel(Target(), Tls("ca.pem"))).ok());
  // Rotate to a certificate of the other CA: new files, renamed into place.
  std::filesystem::copy_file(Cert("other_server.pem"), dir + "/cert.new");
  std::filesystem::copy_file(Cert("other_server.key"), dir + "/key.new");
  std::filesystem::rename(dir + "/key.new", dir + "/key.pem");
  std::filesystem::rename(dir + "/cert.new", dir + "/cert.pem");
  bool rotated = false;
  for (int i = 0; i < 50 && !rotated; ++i) {  // the watcher re-reads every second
    rotated = Predict(grpc::CreateChannel(Target(), Tls("other_ca.pem"))).ok();
    if (!rotated) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(rotated);
  EXPECT_EQ(Predict(grpc::CreateChannel(Target(), Tls("ca.pem"))).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(server_->ReloadSecurity().ok());
}

}  // namespace
}  // namespace streamrec
