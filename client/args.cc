#include "client/args.h"

namespace streamrec::client {

std::string FlagName(std::string name) {
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

std::string Args::Parse(int argc, char** argv, const std::set<std::string>& boolean_flags) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h") {
      flags_.emplace_back("help", "true");
      continue;
    }
    if (a == "-") {
      positional_.push_back(a);
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    a = a.substr(2);
    const size_t eq = a.find('=');
    if (eq != std::string::npos) {
      flags_.emplace_back(FlagName(a.substr(0, eq)), a.substr(eq + 1));
      continue;
    }
    a = FlagName(a);
    if (boolean_flags.count(a)) {
      flags_.emplace_back(a, "true");
    } else if (i + 1 < argc) {
      flags_.emplace_back(a, argv[++i]);
    } else {
      return "--" + a + " needs a value";
    }
  }
  return "";
}

bool Args::Has(const std::string& name) const { return Get(name).has_value(); }

std::optional<std::string> Args::Get(const std::string& name) const {
  std::optional<std::string> v;
  for (const auto& [k, value] : flags_) {
    if (k == name) v = value;
  }
  return v;
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [k, value] : flags_) {
    if (k == name) out.push_back(value);
  }
  return out;
}

std::optional<std::string> Args::Unknown(const std::set<std::string>& known) const {
  for (const auto& [k, value] : flags_) {
    if (!known.count(k)) return k;
  }
  return std::nullopt;
}

}  // namespace streamrec::client
