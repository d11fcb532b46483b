#include "server/flag_env.h"

#include <cctype>
#include <cstdlib>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/str_cat.h"
#include "common/version.h"

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

}  // namespace streamrec::server
