#include "server/memory_limit.h"

#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"

namespace streamrec::server {
namespace {

// A cgroup limit file holds a byte count, or "max" (v2) / a huge number (v1) when unset.
uint64_t ReadLimitFile(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return 0;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) return 0;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

MemoryLimit ReadMemoryLimit() {
  MemoryLimit limit;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) {
    limit = {static_cast<uint64_t>(pages) * static_cast<uint64_t>(page), "physical memory"};
  }
  for (const char* path : {"/sys/fs/cgroup/memory.max",
                           "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    const uint64_t v = ReadLimitFile(path);
    if (v > 0 && (limit.bytes == 0 || v < limit.bytes)) limit = {v, path};
  }
  return limit;
}

absl::Status CheckModelFits(const model::ModelConfig& config, const MemoryLimit& limit) {
  const uint64_t need = model::ModelMemoryBytes(config);
  if (limit.bytes == 0 || need <= limit.bytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "model config: hash_bits ", config.hash_bits, " makes a ",
      model::ModelKindName(config.kind), " of about ", need >> 20,
      " MiB (parameters, optimizer state and the published copy), more than the ",
      limit.bytes >> 20, " MiB this process may use (", limit.source,
      "); lower hash_bits"));
}

}  // namespace streamrec::server
