#include "client/obd_reader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sys/stat.h>

#include "client/flag_values.h"

namespace streamrec::client {
namespace {

constexpr size_t kMaxLine = 1 << 20;
constexpr long long kMaxItemId = 100000000;  // a sanity bound, not a size
constexpr long long kMaxPosition = 1000000;

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// CsvFile: a CSV file read line by line, with its header's columns.
class CsvFile {
 public:
  // Open: "" or an error.
  std::string Open(const std::string& path) {
    path_ = path;
    in_.open(path, std::ios::binary);
    if (!in_) return path + ": cannot open: " + std::strerror(errno);
    std::string line;
    if (!Next(line)) return error_.empty() ? path + ": empty file (no header line)" : error_;
    if (!SplitCsvLine(line, header_)) return Where() + "unterminated quote in the header";
    for (size_t i = 0; i < header_.size(); ++i) columns_.emplace(header_[i], i);
    return "";
  }

  // Column: the index of the first of `names` in the header, or an error in `error`.
  size_t Column(std::initializer_list<const char*> names, std::string& error) const {
    for (const char* n : names) {
      if (auto it = columns_.find(n); it != columns_.end()) return it->second;
    }
    std::string list;
    for (const char* n : names) {
      list += list.empty() ? "\"" : "\" (or \"";
      list += n;
    }
    list += names.size() > 1 ? "\")" : "\"";
    if (error.empty()) error = path_ + ":1: no column " + list + " in the header";
    return 0;
  }

  // Row: the next non-blank line's fields; false at the end or on an error (error()).
  bool Row(std::vector<std::string>& fields) {
    std::string line;
    while (Next(line)) {
      if (line.empty()) continue;
      if (!SplitCsvLine(line, fields)) {
        error_ = Where() + "unterminated quote";
        return false;
      }
      if (fields.size() != header_.size()) {
        error_ = Where() + std::to_string(fields.size()) + " fields, the header has " +
                 std::to_string(header_.size());
        return false;
      }
      return true;
    }
    return false;
  }

  std::string Where() const { return path_ + ":" + std::to_string(line_) + ": "; }
  std::string FieldError(size_t column, const std::string& value, const std::string& what) {
    return Where() + "column \"" + header_[column] + "\": \"" + value + "\" " + what;
  }
  const std::string& error() const { return error_; }
  uint64_t line() const { return line_; }

 private:
  bool Next(std::string& line) {
    line.clear();
    if (!error_.empty()) return false;
    int c;
    bool any = false;
    while ((c = in_.get()) != std::char_traits<char>::eof()) {
      any = true;
      if (c == '\n') break;
      if (line.size() >= kMaxLine) {
        ++line_;
        error_ = Where() + "line longer than 1 MiB";
        return false;
      }
      line.push_back(static_cast<char>(c));
    }
    if (in_.bad()) {
      error_ = path_ + ": read error: " + std::strerror(errno);
      return false;
    }
    if (!any) return false;
    ++line_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }

  std::string path_;
  std::ifstream in_;
  std::vector<std::string> header_;
  std::map<std::string, size_t> columns_;
  uint64_t line_ = 0;
  std::string error_;
};

bool Whole(const std::string& text, long long min, long long max, long long& out) {
  return ParseWhole(text, out) && out >= min && out <= max;
}

}  // namespace

bool SplitCsvLine(const std::string& line, std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        field.push_back(c);
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else {
      field.push_back(c);
    }
  }
  if (quoted) return false;
  fields.push_back(std::move(field));
  return true;
}

std::string ReadObdLog(const std::string& path, int64_t items, ObdLog& out) {
  out.path = path;
  out.rows.clear();
  out.items = items;
  out.clicks = 0;
  CsvFile file;
  if (std::string err = file.Open(path); !err.empty()) return err;
  std::string err;
  const size_t item_col = file.Column({"item_id"}, err);
  const size_t position_col = file.Column({"position"}, err);
  const size_t click_col = file.Column({"click"}, err);
  const size_t propensity_col = file.Column({"propensity_score", "action_prob"}, err);
  if (!err.empty()) return err;
  std::vector<std::string> f;
  while (file.Row(f)) {
    ObdRow row;
    row.line = file.line();
    long long v = 0;
    const long long max_item = items > 0 ? items - 1 : kMaxItemId;
    if (!Whole(f[item_col], 0, max_item, v)) {
      return file.FieldError(item_col, f[item_col],
                             "is not a whole number in 0.." + std::to_string(max_item) +
                                 (items > 0 ? " (item_context.csv has " +
                                                  std::to_string(items) + " items)"
                                            : ""));
    }
    row.item_id = static_cast<int32_t>(v);
    if (!Whole(f[position_col], 1, kMaxPosition, v)) {
      return file.FieldError(position_col, f[position_col], "is not a whole number >= 1");
    }
    row.position = static_cast<int32_t>(v);
    if (f[click_col] != "0" && f[click_col] != "1") {
      return file.FieldError(click_col, f[click_col], "is not 0 or 1");
    }
    row.click = f[click_col] == "1";
    double p = 0;
    if (!ParseFinite(f[propensity_col], p)) {
      return file.FieldError(propensity_col, f[propensity_col], "is not a number");
    }
    if (!(p > 0 && p <= 1)) {
      return file.FieldError(propensity_col, f[propensity_col], "is not in (0, 1]");
    }
    row.propensity = p;
    out.clicks += row.click;
    out.rows.push_back(row);
  }
  if (!file.error().empty()) return file.error();
  if (out.rows.empty()) return path + ": no impressions after the header";
  return "";
}

std::string ReadObdItemCount(const std::string& path, int64_t& items) {
  items = 0;
  CsvFile file;
  if (std::string err = file.Open(path); !err.empty()) return err;
  std::string err;
  const size_t item_col = file.Column({"item_id"}, err);
  if (!err.empty()) return err;
  std::set<long long> ids;
  std::vector<std::string> f;
  while (file.Row(f)) {
    long long v = 0;
    if (!Whole(f[item_col], 0, kMaxItemId, v)) {
      return file.FieldError(item_col, f[item_col], "is not a whole number >= 0");
    }
    if (!ids.insert(v).second) return file.FieldError(item_col, f[item_col], "is listed twice");
  }
  if (!file.error().empty()) return file.error();
  if (ids.empty()) return path + ": no items after the header";
  if (*ids.rbegin() != static_cast<long long>(ids.size()) - 1) {
    return path + ": item ids are not 0.." + std::to_string(ids.size() - 1) + " (largest " +
           std::to_string(*ids.rbegin()) + ")";
  }
  items = static_cast<int64_t>(ids.size());
  return "";
}

std::string ReadObdCampaign(const std::string& policy_dir, const std::string& campaign,
                            ObdLog& out) {
  const std::string dir = policy_dir + "/" + campaign;
  int64_t items = 0;
  if (const std::string context = dir + "/item_context.csv"; IsFile(context)) {
    if (std::string err = ReadObdItemCount(context, items); !err.empty()) return err;
  }
  return ReadObdLog(dir + "/" + campaign + ".csv", items, out);
}

std::vector<std::string> ObdCampaigns(const std::string& policy_dir) {
  std::vector<std::string> out;
  for (const char* c : {"all", "men", "women"}) {
    if (IsFile(policy_dir + "/" + c + "/" + c + ".csv")) out.push_back(c);
  }
  return out;
}

}  // namespace streamrec::client
