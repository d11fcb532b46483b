// JsonString: a string as a JSON string literal, quoted and escaped (RFC 8259: `"`, `\`
// and control characters; other bytes as they are), for the JSON the CLI writes by hand
// (file names in the replay summary and the export result). Pure function; any thread.
#ifndef STREAMREC_CLIENT_JSON_STRING_H_
#define STREAMREC_CLIENT_JSON_STRING_H_

#include <cstdio>
#include <string>

namespace streamrec::client {

inline std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_JSON_STRING_H_
