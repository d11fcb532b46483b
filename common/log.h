// Log: the processes' records to stderr, one line each. Text (the default):
//   2026-12-07T06:55:01.123456Z INFO snapshot restored version=12 seq=4096 path="a b"
// (UTC timestamp, level, the message, then key=value fields; a value with a space, '=',
// a quote or a control character, or an empty one, is double-quoted with \" \\ \n \t
// escapes), or with Format::kJson one JSON object per line:
//   {"ts":"2026-12-07T06:55:01.123456Z","level":"info","msg":"snapshot restored",
//    "version":12,"seq":4096,"path":"a b"}
// Messages are short constant phrases; the variable parts go in fields, so records can
// be matched and filtered by both. Keys are lower_snake_case identifiers.
// Thread-safe: each record is formatted, then written with one write(2), so records of
// concurrent threads never interleave. SetFormat once at start, before other threads.
#ifndef STREAMREC_COMMON_LOG_H_
#define STREAMREC_COMMON_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace streamrec::log {

enum class Format { kText, kJson };
enum class Level { kInfo, kWarning, kError };

void SetFormat(Format format);
Format GetFormat();
// ParseFormat: "text" or "json"; false for anything else.
bool ParseFormat(std::string_view text, Format* format);

// Field: one key and its value (a string, an integer, a floating-point number or a
// boolean; JSON writes numbers and booleans unquoted, and a non-finite double as null).
class Field {
 public:
  Field(std::string_view key, std::string_view value);
  Field(std::string_view key, const char* value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, const std::string& value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, bool value);
  Field(std::string_view key, int value) : Field(key, static_cast<long long>(value)) {}
  Field(std::string_view key, long value) : Field(key, static_cast<long long>(value)) {}
  Field(std::string_view key, long long value);
  Field(std::string_view key, unsigned value)
      : Field(key, static_cast<unsigned long long>(value)) {}
  Field(std::string_view key, unsigned long value)
      : Field(key, static_cast<unsigned long long>(value)) {}
  Field(std::string_view key, unsigned long long value);
  Field(std::string_view key, double value);

  // Raw: a value already in JSON (an object or array built by the caller), written as is
  // in JSON and as its text in the text format.
  static Field Json(std::string_view key, std::string json);

  std::string_view key() const { return key_; }
  const std::string& value() const { return value_; }
  bool quoted() const { return quoted_; }  // a JSON string (else a number, bool, null, raw)

 private:
  Field() = default;
  std::string_view key_;
  std::string value_;
  bool quoted_ = true;
};

// FormatRecord: the record as Write would print it in `format` (by default the one set),
// without the newline.
std::string FormatRecord(Level level, std::string_view msg, std::initializer_list<Field> fields);
std::string FormatRecord(Format format, Level level, std::string_view msg,
                         std::initializer_list<Field> fields);

// WriteJson: the record as JSON whatever the format set (records that scripts parse, such
// as the server's startup record).
void WriteJson(Level level, std::string_view msg, std::initializer_list<Field> fields);

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
inline void Info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, msg, fields);
}
inline void Warning(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarning, msg, fields);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, msg, fields);
}

// JsonString: text as a JSON string literal, quotes included.
std::string JsonString(std::string_view text);

}  // namespace streamrec::log

#endif  // STREAMREC_COMMON_LOG_H_
