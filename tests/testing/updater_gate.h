// UpdaterGate: holds a running updater's thread inside a posted command until Release
// (or destruction), so a test can fill the queue while nothing is trained. The updater
// must be running (after Pipeline::Start or server start). Thread-safe.
#ifndef STREAMREC_TESTS_TESTING_UPDATER_GATE_H_
#define STREAMREC_TESTS_TESTING_UPDATER_GATE_H_

#include <condition_variable>
#include <memory>
#include <mutex>

#include "server/core/updater.h"

namespace streamrec::testing {

class UpdaterGate {
 public:
  // Blocks until the updater is held.
  explicit UpdaterGate(core::Updater& updater) : state_(std::make_shared<State>()) {
    updater.Post([s = state_] {
      std::unique_lock<std::mutex> lock(s->mu);
      s->held = true;
      s->cv.notify_all();
      s->cv.wait(lock, [&] { return s->released; });
    });
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->cv.wait(lock, [&] { return state_->held; });
  }
  ~UpdaterGate() { Release(); }
  UpdaterGate(const UpdaterGate&) = delete;
  UpdaterGate& operator=(const UpdaterGate&) = delete;

  // Release lets the updater go on. Idempotent.
  void Release() {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->released = true;
    state_->cv.notify_all();
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool held = false;
    bool released = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace streamrec::testing

#endif  // STREAMREC_TESTS_TESTING_UPDATER_GATE_H_
