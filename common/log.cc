#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace streamrec::log {
namespace {

std::atomic<Format> g_format{Format::kText};

const char* LevelText(Level level) {
  switch (level) {
    case Level::kInfo: return "INFO";
    case Level::kWarning: return "WARNING";
    case Level::kError: return "ERROR";
  }
  return "INFO";
}

const char* LevelJson(Level level) {
  switch (level) {
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
  }
  return "info";
}

// Now as 2026-12-07T06:55:01.123456Z.
std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const time_t seconds = static_cast<time_t>(micros / 1000000);
  struct tm utc;
  gmtime_r(&seconds, &utc);
  char buf[80];  // room for any int fields, so no truncation warning
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(micros % 1000000));
  return buf;
}

// AppendQuoted: text in double quotes with \" \\ \n \t \r escaped, other control
// characters as \xHH (text format) or \uHHHH (JSON, which also names \b and \f); UTF-8
// passes through.
enum class Quoting { kText, kJson };
void AppendQuoted(std::string& out, std::string_view text, Quoting quoting) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\t': out += "\\t"; continue;
      case '\r': out += "\\r"; continue;
      default: break;
    }
    if (quoting == Quoting::kJson && (c == '\b' || c == '\f')) {
      out += c == '\b' ? "\\b" : "\\f";
    } else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, quoting == Quoting::kJson ? "\\u%04x" : "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

// A text-format value: bare when it is a plain word, else quoted with escapes.
void AppendTextValue(std::string& out, const std::string& v) {
  bool plain = !v.empty();
  for (unsigned char c : v) {
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) {
      plain = false;
      break;
    }
  }
  if (plain) {
    out += v;
    return;
  }
  AppendQuoted(out, v, Quoting::kText);
}

void WriteAll(const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere to report it
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

void SetFormat(Format format) { g_format.store(format); }
Format GetFormat() { return g_format.load(); }

bool ParseFormat(std::string_view text, Format* format) {
  if (text == "text") {
    *format = Format::kText;
    return true;
  }
  if (text == "json") {
    *format = Format::kJson;
    return true;
  }
  return false;
}

std::string JsonString(std::string_view text) {
  std::string out;
  AppendQuoted(out, text, Quoting::kJson);
  return out;
}

Field::Field(std::string_view key, std::string_view value) : key_(key), value_(value) {}
Field::Field(std::string_view key, bool value)
    : key_(key), value_(value ? "true" : "false"), quoted_(false) {}
Field::Field(std::string_view key, long long value)
    : key_(key), value_(std::to_string(value)), quoted_(false) {}
Field::Field(std::string_view key, unsigned long long value)
    : key_(key), value_(std::to_string(value)), quoted_(false) {}
Field::Field(std::string_view key, double value) : key_(key), quoted_(false) {
  if (!std::isfinite(value)) {
    value_ = "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  value_ = buf;
}

Field Field::Json(std::string_view key, std::string json) {
  Field f;
  f.key_ = key;
  f.value_ = std::move(json);
  f.quoted_ = false;
  return f;
}

std::string FormatRecord(Level level, std::string_view msg,
                         std::initializer_list<Field> fields) {
  return FormatRecord(GetFormat(), level, msg, fields);
}

std::string FormatRecord(Format format, Level level, std::string_view msg,
                         std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(128);
  if (format == Format::kJson) {
    out += "{\"ts\":\"";
    out += Timestamp();
    out += "\",\"level\":\"";
    out += LevelJson(level);
    out += "\",\"msg\":";
    out += JsonString(msg);
    for (const Field& f : fields) {
      out += ',';
      out += JsonString(f.key());
      out += ':';
      out += f.quoted() ? JsonString(f.value()) : f.value();
    }
    out += '}';
    return out;
  }
  out += Timestamp();
  out += ' ';
  out += LevelText(level);
  out += ' ';
  // The message as is, but on one line.
  for (char c : msg) out += (c == '\n' || c == '\r') ? ' ' : c;
  for (const Field& f : fields) {
    out += ' ';
    out += f.key();
    out += '=';
    if (f.quoted()) {
      AppendTextValue(out, f.value());
    } else {
      out += f.value();
    }
  }
  return out;
}

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  std::string line = FormatRecord(level, msg, fields);
  line += '\n';
  WriteAll(line);
}

void WriteJson(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  std::string line = FormatRecord(Format::kJson, level, msg, fields);
  line += '\n';
  WriteAll(line);
}

}  // namespace streamrec::log
