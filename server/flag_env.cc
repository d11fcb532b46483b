#include "server/flag_env.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <string_view>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage_config.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/version.h"
#include "server/metrics/http_endpoint.h"

namespace streamrec::server {

bool IsServerFlagFile(const std::string& filename) {
  // __FILE__ as the compiler saw it: "/src/server/main.cc" or "server/main.cc".
  return filename.rfind("server/", 0) == 0 || filename.find("/server/") != std::string::npos;
}

void UseServerFlagsUsage() {
  absl::FlagsUsageConfig config;
  config.contains_helpshort_flags = [](absl::string_view file) {
    return IsServerFlagFile(std::string(file));
  };
  config.contains_help_flags = config.contains_helpshort_flags;
  // "server/main.cc", not the checkout's absolute path.
  config.normalize_filename = [](absl::string_view file) {
    const size_t at = file.rfind("/server/");
    return std::string(at == absl::string_view::npos ? file : file.substr(at + 1));
  };
  config.version_string = [] {
    return absl::StrCat("streamrec-server ", ProjectVersion(), " (git ", GitRevision(), ", ",
                        BuildType(), " build)\n");
  };
  absl::SetFlagsUsageConfig(config);
}

std::string EnvironmentName(const std::string& flag) {
  std::string name = "STREAMREC_";
  for (char c : flag) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

absl::Status ApplyFlagEnvironment() {
  absl::flat_hash_set<std::string> known(std::begin(kClientVariables), std::end(kClientVariables));
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (IsServerFlagFile(flag->Filename())) known.insert(EnvironmentName(std::string(name)));
  }
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.rfind("STREAMREC_", 0) != 0) continue;
    const std::string variable(entry.substr(0, entry.find('=')));
    if (!known.contains(variable)) {
      log::Warning("environment variable names no server flag; ignored (a typo?)",
                   {{"variable", variable}});
    }
  }
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!IsServerFlagFile(flag->Filename())) continue;
    const std::string variable = EnvironmentName(std::string(name));
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", variable, "=\"", value, "\": ", error));
    }
  }
  return absl::OkStatus();
}

void UseLogFormatOfArgs(int argc, char** argv) {
  std::optional<std::string> value;
  for (int i = 1; i < argc && value == std::nullopt; ++i) {
    std::string_view a(argv[i]);
    if (a == "--") break;
    if (a.rfind("--", 0) == 0) {
      a.remove_prefix(2);
    } else if (a.rfind("-", 0) == 0) {
      a.remove_prefix(1);
    } else {
      continue;
    }
    if (a.rfind("log_format=", 0) == 0) {
      value = std::string(a.substr(11));
    } else if (a == "log_format" && i + 1 < argc) {
      value = argv[i + 1];
    }
  }
  if (!value) {
    if (const char* env = std::getenv("STREAMREC_LOG_FORMAT")) value = env;
  }
  log::Format format;
  if (value && log::ParseFormat(*value, &format)) log::SetFormat(format);
}

absl::Status CheckListenFlag(const std::string& flag, const std::string& value,
                             bool empty_allowed) {
  if (value.empty()) {
    if (empty_allowed) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " must be host:port, got an empty value"));
  }
  std::string host;
  int port = 0;
  if (!metrics::SplitHostPort(value, &host, &port)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, " must be host:port with a port from 0 to 65535 (an IPv6 host in "
        "brackets), got \"", value, "\""));
  }
  return absl::OkStatus();
}

}  // namespace streamrec::server
