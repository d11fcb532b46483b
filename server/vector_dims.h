// VectorDims: the dimension of each vector field, fixed by the first training event
// that carried it. Thread-safe: request handlers on any thread look up and add.
#ifndef STREAMREC_SERVER_VECTOR_DIMS_H_
#define STREAMREC_SERVER_VECTOR_DIMS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "server/core/mutex.h"

namespace streamrec::server {

class VectorDims {
 public:
  // Find returns the registered dimension of `field`, if any.
  std::optional<uint32_t> Find(std::string_view field) const;
  // Register records each (field, dim) not yet known, all or nothing: if another
  // request registered a different dimension meanwhile, returns InvalidArgument and
  // records none.
  absl::Status Register(const std::vector<std::pair<std::string, uint32_t>>& dims);
  // All returns every registered (field, dim); generation() counts registrations.
  std::vector<std::pair<std::string, uint32_t>> All() const;
  size_t size() const {
    core::MutexLock lock(&mu_);
    return dims_.size();
  }
  uint64_t generation() const {
    core::MutexLock lock(&mu_);
    return generation_;
  }

 private:
  mutable core::Mutex mu_;
  absl::flat_hash_map<std::string, uint32_t> dims_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_VECTOR_DIMS_H_
