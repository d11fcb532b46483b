#include "client/flag_values.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace streamrec::client {

bool ParseWhole(const std::string& text, long long& out) {
  const size_t digits = !text.empty() && text[0] == '-' ? 1 : 0;
  if (text.size() == digits || text.find_first_not_of("0123456789", digits) != std::string::npos) {
    return false;
  }
  char* end = nullptr;
  errno = 0;
  out = std::strtoll(text.c_str(), &end, 10);
  return errno == 0 && end == text.c_str() + text.size();
}

bool ParseFinite(const std::string& text, double& out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(out);
}

std::string WholeFlag(const Args& args, const std::string& name, long long fallback,
                      long long& out, long long min, long long max) {
  out = fallback;
  const auto v = args.Get(name);
  if (!v) return "";
  if (ParseWhole(*v, out) && out >= min && out <= max) return "";
  std::string range;
  if (max == std::numeric_limits<long long>::max()) {
    range = ">= " + std::to_string(min);
  } else {
    range = "in " + std::to_string(min) + ".." + std::to_string(max);
  }
  return "--" + name + " must be a whole number " + range + ", not \"" + *v + "\"";
}

std::string NumberFlag(const Args& args, const std::string& name, double& out) {
  const auto v = args.Get(name);
  if (!v || ParseFinite(*v, out)) return "";
  return "--" + name + " must be a finite number, not \"" + *v + "\"";
}

}  // namespace streamrec::client
