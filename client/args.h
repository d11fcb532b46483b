// Args: the CLI's command line: `--name=value`, `--name value`, bare `--flag`, `-h`
// (--help), and positional words, in order. A flag's name is normalized: `-` and `_` are
// the same (`--skip-bad` is `--skip_bad`; snake_case is the canonical spelling).
// Thread-compatible.
#ifndef STREAMREC_CLIENT_ARGS_H_
#define STREAMREC_CLIENT_ARGS_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace streamrec::client {

class Args {
 public:
  // Parse splits argv. `boolean_flags` (snake_case) take no value (e.g. json, watch,
  // skip_bad). Returns an error message, or empty on success.
  std::string Parse(int argc, char** argv, const std::set<std::string>& boolean_flags);

  bool Has(const std::string& name) const;
  std::optional<std::string> Get(const std::string& name) const;
  // GetAll returns every value of a repeated flag, in order.
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // Unknown returns a flag not in `known`, if any.
  std::optional<std::string> Unknown(const std::set<std::string>& known) const;

 private:
  std::vector<std::pair<std::string, std::string>> flags_;
  std::vector<std::string> positional_;
};

// FlagName normalizes a flag's name: every '-' becomes '_'.
std::string FlagName(std::string name);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_ARGS_H_
