#include "client/json_ints.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace streamrec::client {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// Rewriter walks well-formed JSON (protobuf's output) at `pos_`, appending to `out_`.
class Rewriter {
 public:
  explicit Rewriter(const std::string& in) : in_(in) {}

  std::string Run(const Descriptor* type) {
    Space();
    Message(type);
    out_.append(in_, pos_, std::string::npos);  // anything left, unchanged
    return out_;
  }

 private:
  char Peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  void Space() {
    while (pos_ < in_.size() && std::isspace(static_cast<unsigned char>(in_[pos_]))) {
      out_ += in_[pos_++];
    }
  }
  // Char copies `c` if it is next.
  bool Char(char c) {
    Space();
    if (Peek() != c) return false;
    out_ += in_[pos_++];
    return true;
  }
  // StringToken: the JSON string at pos_ (quotes included), consumed.
  std::string StringToken() {
    const size_t start = pos_++;
    while (pos_ < in_.size() && in_[pos_] != '"') pos_ += in_[pos_] == '\\' ? 2 : 1;
    pos_ = std::min(pos_ + 1, in_.size());
    return in_.substr(start, pos_ - start);
  }
  // Copy copies one JSON value of any kind.
  void Copy() {
    Space();
    const char c = Peek();
    if (c == '"') {
      out_ += StringToken();
    } else if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      out_ += in_[pos_++];
      bool first = true;
      while (!Char(close) && pos_ < in_.size()) {
        if (!first && !Char(',')) return;
        first = false;
        Space();
        if (c == '{') {
          Copy();  // the key
          if (!Char(':')) return;
        }
        Copy();
      }
    } else {
      while (pos_ < in_.size() && !std::strchr(",}] \t\r\n", in_[pos_])) out_ += in_[pos_++];
    }
  }
  // Int copies a 64-bit integer value, unquoted when it is a quoted integer.
  void Int() {
    Space();
    if (Peek() != '"') return Copy();
    const std::string token = StringToken();
    const std::string digits = token.size() >= 2 ? token.substr(1, token.size() - 2) : "";
    size_t i = !digits.empty() && digits[0] == '-' ? 1 : 0;
    bool integer = digits.size() > i;
    for (; i < digits.size(); ++i) {
      integer = integer && std::isdigit(static_cast<unsigned char>(digits[i]));
    }
    out_ += integer ? digits : token;
  }
  static bool Is64(const FieldDescriptor* f) {
    return f->cpp_type() == FieldDescriptor::CPPTYPE_INT64 ||
           f->cpp_type() == FieldDescriptor::CPPTYPE_UINT64;
  }
  // Single: one value of field `f` (an element of a repeated field).
  void Single(const FieldDescriptor* f) {
    if (Is64(f)) return Int();
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) return Message(f->message_type());
    Copy();
  }
  // Message: an object of `type`; a wrapper's bare value; any other well-known type as is.
  void Message(const Descriptor* type) {
    Space();
    const std::string& name = type->full_name();
    if (name == "google.protobuf.Int64Value" || name == "google.protobuf.UInt64Value") {
      return Int();
    }
    if (Peek() != '{' || name.rfind("google.protobuf.", 0) == 0) return Copy();
    out_ += in_[pos_++];
    bool first = true;
    while (!Char('}') && pos_ < in_.size()) {
      if (!first && !Char(',')) return;
      first = false;
      Space();
      if (Peek() != '"') return;
      const std::string key = StringToken();
      out_ += key;
      if (!Char(':')) return;
      const std::string bare = key.substr(1, key.size() - 2);
      const FieldDescriptor* f = type->FindFieldByName(bare);
      if (!f) f = type->FindFieldByCamelcaseName(bare);
      if (!f) {
        Copy();
      } else if (f->is_map()) {
        Space();
        if (Peek() != '{') {
          Copy();
          continue;
        }
        out_ += in_[pos_++];
        bool first_entry = true;
        while (!Char('}') && pos_ < in_.size()) {
          if (!first_entry && !Char(',')) return;
          first_entry = false;
          Copy();  // the key: always a string
          if (!Char(':')) return;
          Single(f->message_type()->map_value());
        }
      } else if (f->is_repeated()) {
        Space();
        if (Peek() != '[') {
          Copy();
          continue;
        }
        out_ += in_[pos_++];
        bool first_element = true;
        while (!Char(']') && pos_ < in_.size()) {
          if (!first_element && !Char(',')) return;
          first_element = false;
          Single(f);
        }
      } else {
        Single(f);
      }
    }
  }

  const std::string& in_;
  size_t pos_ = 0;
  std::string out_;
};

}  // namespace

std::string JsonIntsAsNumbers(const std::string& json, const Descriptor* type) {
  return Rewriter(json).Run(type);
}

}  // namespace streamrec::client
