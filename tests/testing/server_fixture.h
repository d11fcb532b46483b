// ServerFixture: a real streamrec gRPC server on 127.0.0.1 with an OS-chosen port, and
// stubs connected to it. Helpers build requests the way a client would.
#ifndef STREAMREC_TESTS_TESTING_SERVER_FIXTURE_H_
#define STREAMREC_TESTS_TESTING_SERVER_FIXTURE_H_

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/grpc_server.h"
#include "streamrec/v1/admin.grpc.pb.h"
#include "streamrec/v1/streamrec.grpc.pb.h"

namespace streamrec::testing {

inline server::ServerOptions TestServerOptions() {
  server::ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.admin_listen = "127.0.0.1:0";
  o.core.model.hash_bits = 18;
  return o;
}

class ServerFixture : public ::testing::Test {
 protected:
  void StartServer(const server::ServerOptions& options = TestServerOptions()) {
    server_.reset();  // stops a previous server and closes its database
    auto s = server::GrpcServer::Start(options);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    recommender_ = v1::Recommender::NewStub(channel_);
    // The admin port serves every Admin method (the serving port only the read-only ones).
    admin_channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->admin_port()),
                                         grpc::InsecureChannelCredentials());
    admin_ = v1::Admin::NewStub(admin_channel_);
  }
  void SetUp() override { StartServer(); }
  // TearDown destroys the server (closing its database) before the members of derived
  // fixtures, such as a data dir, go away.
  void TearDown() override { server_.reset(); }

  static std::unique_ptr<grpc::ClientContext> Ctx(int seconds = 30) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    return c;
  }

  grpc::Status Predict(const v1::PredictRequest& req, v1::PredictResponse* resp) {
    return recommender_->Predict(Ctx().get(), req, resp);
  }
  grpc::Status Observe(const v1::ObserveRequest& req, v1::ObserveResponse* resp = nullptr) {
    v1::ObserveResponse r;
    return recommender_->Observe(Ctx().get(), req, resp ? resp : &r);
  }
  v1::Stats Stats() {
    v1::Stats s;
    EXPECT_TRUE(admin_->GetStats(Ctx().get(), v1::GetStatsRequest(), &s).ok());
    return s;
  }
  // WaitApplied polls GetModelInfo (the served snapshot) until `n` events are applied
  // and published.
  bool WaitApplied(uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      v1::ModelInfo info;
      admin_->GetModelInfo(Ctx().get(), v1::GetModelInfoRequest(), &info);
      if (info.events_applied() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

  // WaitFor polls `done` (the server's own threads change what it reads) for 30 s.
  template <typename F>
  bool WaitFor(F done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  std::unique_ptr<server::GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<grpc::Channel> admin_channel_;
  std::unique_ptr<v1::Recommender::Stub> recommender_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

inline void SetCategory(v1::Features* f, const std::string& name, const std::string& value) {
  (*f->mutable_values())[name].set_category(value);
}

inline v1::Event MakeEvent(const std::string& user, const std::string& item, double label) {
  v1::Event e;
  SetCategory(e.mutable_context(), "user", user);
  e.mutable_item()->set_id(item);
  e.set_label(label);
  return e;
}

}  // namespace streamrec::testing

#endif  // STREAMREC_TESTS_TESTING_SERVER_FIXTURE_H_
