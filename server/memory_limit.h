// MemoryLimit: how many bytes this process may use, read once at start: the smaller of
// the machine's physical memory and the cgroup's limit (cgroup v2 memory.max, or v1
// memory.limit_in_bytes: a container's limit in Kubernetes), so a model config that
// cannot fit is refused with a clear error instead of the process being killed by the
// OOM killer (or aborting on bad_alloc) while it allocates its tables. Any thread.
#ifndef STREAMREC_SERVER_MEMORY_LIMIT_H_
#define STREAMREC_SERVER_MEMORY_LIMIT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "model/model_config.h"

namespace streamrec::server {

struct MemoryLimit {
  uint64_t bytes = 0;  // 0: unknown (nothing is checked)
  std::string source;  // "physical memory" or the cgroup file that set it
};

MemoryLimit ReadMemoryLimit();

// CheckModelFits: InvalidArgument naming hash_bits when the model's tables
// (model::ModelMemoryBytes) would take more than `limit`.
absl::Status CheckModelFits(const model::ModelConfig& config, const MemoryLimit& limit);

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_MEMORY_LIMIT_H_
