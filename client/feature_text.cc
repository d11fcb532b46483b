#include "client/feature_text.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace streamrec::client {
namespace {

bool ParseNumber(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

}  // namespace

std::string ParseAssignment(const std::string& text, v1::Features& features) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return "feature \"" + text + "\" is not name=value";
  }
  const std::string name = text.substr(0, eq), value = text.substr(eq + 1);
  v1::FeatureValue& v = (*features.mutable_values())[name];
  double number = 0;
  if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
    std::stringstream ss(value.substr(1, value.size() - 2));
    std::string part;
    while (std::getline(ss, part, ',')) {
      if (!ParseNumber(part, number)) return "vector \"" + text + "\" has a non-number";
      v.mutable_vector()->add_values(static_cast<float>(number));
    }
  } else if (value.find('|') != std::string::npos) {
    std::stringstream ss(value);
    std::string part;
    while (std::getline(ss, part, '|')) v.mutable_categories()->add_values(part);
  } else if (ParseNumber(value, number)) {
    v.set_number(number);
  } else {
    v.set_category(value);
  }
  return "";
}

std::string ParseItem(const std::string& text, v1::Item& item) {
  std::stringstream ss(text);
  std::string part;
  std::getline(ss, part, ',');
  if (part.empty()) return "item \"" + text + "\" has no id";
  item.set_id(part);
  while (std::getline(ss, part, ',')) {
    if (std::string err = ParseAssignment(part, *item.mutable_features()); !err.empty()) {
      return err;
    }
  }
  return "";
}

}  // namespace streamrec::client
