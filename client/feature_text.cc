#include "client/feature_text.h"

#include <vector>

#include "client/flag_values.h"

namespace streamrec::client {
namespace {

// Split cuts `s` at every `sep` outside [..] (all of them when `brackets` is false),
// keeping empty parts; false when a bracket is not closed or closes unopened.
bool Split(const std::string& s, char sep, bool brackets, std::vector<std::string>& parts) {
  parts.assign(1, std::string());
  int depth = 0;
  for (char c : s) {
    if (brackets && c == '[') ++depth;
    if (brackets && c == ']' && --depth < 0) return false;
    if (c == sep && depth == 0) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return depth == 0;
}

}  // namespace

std::string ParseAssignment(const std::string& text, v1::Features& features) {
  const size_t eq = text.find('=');
  const bool verbatim = eq != std::string::npos && eq > 0 && text[eq - 1] == ':';
  const size_t name_end = verbatim ? eq - 1 : eq;
  if (eq == std::string::npos || name_end == 0) {
    return "feature \"" + text + "\" is not name=value";
  }
  const std::string name = text.substr(0, name_end), value = text.substr(eq + 1);
  v1::FeatureValue& v = (*features.mutable_values())[name];
  v.Clear();  // a feature named twice: the last one counts
  double number = 0;
  std::vector<std::string> parts;
  if (verbatim) {
    v.set_category(value);
  } else if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
    Split(value.substr(1, value.size() - 2), ',', false, parts);
    for (const std::string& part : parts) {
      if (!ParseFinite(part, number)) {
        return "vector \"" + text + "\" has \"" + part + "\", not a finite number";
      }
      v.mutable_vector()->add_values(static_cast<float>(number));
    }
  } else if (value.find('|') != std::string::npos) {
    Split(value, '|', false, parts);
    for (const std::string& part : parts) v.mutable_categories()->add_values(part);
  } else if (ParseFinite(value, number)) {
    v.set_number(number);
  } else {
    v.set_category(value);
  }
  return "";
}

std::string ParseItem(const std::string& text, v1::Item& item) {
  std::vector<std::string> parts;
  if (!Split(text, ',', true, parts)) return "item \"" + text + "\" has an unmatched [ or ]";
  if (parts[0].empty()) return "item \"" + text + "\" has no id";
  item.set_id(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    if (std::string err = ParseAssignment(parts[i], *item.mutable_features()); !err.empty()) {
      return err;
    }
  }
  return "";
}

}  // namespace streamrec::client
