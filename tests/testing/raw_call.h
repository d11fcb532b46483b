// Raw gRPC calls for tests: send arbitrary bytes as a request message, whatever the
// method's declared type, through grpc::GenericStub. RawUnary blocks until the call
// ends; RawStream is a blocking bidi stream of raw frames, one operation at a time.
// Neither is thread-safe: use each RawStream from one thread.
#ifndef STREAMREC_TESTS_TESTING_RAW_CALL_H_
#define STREAMREC_TESTS_TESTING_RAW_CALL_H_

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace streamrec::testing {

inline grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

inline std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

// RawUnary calls `method` (e.g. "/streamrec.v1.Recommender/Predict") with `request` as
// the message bytes; the response bytes go to *response.
inline grpc::Status RawUnary(const std::shared_ptr<grpc::Channel>& channel,
                             const std::string& method, const std::string& request,
                             std::string* response = nullptr) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const grpc::ByteBuffer req = ToByteBuffer(request);
  grpc::ByteBuffer resp;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &resp,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  if (response != nullptr) *response = FromByteBuffer(resp);
  return status;
}

// RawStream: a bidi call to `method` whose frames are raw bytes. Each method waits for
// its operation to complete; false means the call is over (read Finish()).
class RawStream {
 public:
  RawStream(const std::shared_ptr<grpc::Channel>& channel, const std::string& method)
      : stub_(channel) {
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    call_ = stub_.PrepareCall(&ctx_, method, &cq_);
    call_->StartCall(this);
    Await();
  }
  RawStream(const RawStream&) = delete;
  RawStream& operator=(const RawStream&) = delete;
  ~RawStream() {
    if (!finished_) {
      ctx_.TryCancel();
      Finish();
    }
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }

  bool Write(const std::string& frame) {
    const grpc::ByteBuffer b = ToByteBuffer(frame);
    call_->Write(b, this);
    return Await();
  }
  bool Read(std::string* frame) {
    grpc::ByteBuffer b;
    call_->Read(&b, this);
    if (!Await()) return false;
    *frame = FromByteBuffer(b);
    return true;
  }
  void WritesDone() {
    call_->WritesDone(this);
    Await();
  }
  grpc::Status Finish() {
    grpc::Status status;
    call_->Finish(&status, this);
    Await();
    finished_ = true;
    return status;
  }

 private:
  bool Await() {
    void* tag = nullptr;
    bool ok = false;
    return cq_.Next(&tag, &ok) && ok;
  }

  grpc::GenericStub stub_;
  grpc::ClientContext ctx_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  bool finished_ = false;
};

}  // namespace streamrec::testing

#endif  // STREAMREC_TESTS_TESTING_RAW_CALL_H_
