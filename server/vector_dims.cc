#include "server/vector_dims.h"

#include "absl/strings/str_cat.h"
#include "server/error_text.h"

namespace streamrec::server {

std::optional<uint32_t> VectorDims::Find(std::string_view field) const {
  core::MutexLock lock(&mu_);
  auto it = dims_.find(absl::string_view(field.data(), field.size()));
  if (it == dims_.end()) return std::nullopt;
  return it->second;
}

absl::Status VectorDims::Register(const std::vector<std::pair<std::string, uint32_t>>& dims) {
  core::MutexLock lock(&mu_);
  for (const auto& [field, dim] : dims) {
    auto it = dims_.find(absl::string_view(field.data(), field.size()));
    if (it != dims_.end() && it->second != dim) {
      return absl::InvalidArgumentError(absl::StrCat("vector field ", QuoteForError(field),
                                                     " has dimension ", dim, "; the model uses ",
                                                     it->second));
    }
  }
  for (const auto& [field, dim] : dims) generation_ += dims_.emplace(field, dim).second;
  return absl::OkStatus();
}

std::vector<std::pair<std::string, uint32_t>> VectorDims::All() const {
  core::MutexLock lock(&mu_);
  return {dims_.begin(), dims_.end()};
}

}  // namespace streamrec::server
