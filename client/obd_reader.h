// ObdReader: the Open Bandit Dataset's file layout (Saito et al. 2020, "Open Bandit
// Dataset and Pipeline"), read into plain rows for off-policy evaluation
// (client/off_policy.h). Pure functions over files; thread-compatible values.
//
// Layout: a behavior policy's directory (`bts`, `random`) holds one directory per
// campaign (`all`, `men`, `women`), each with CAMPAIGN.csv (one impression per line) and
// item_context.csv (one line per item):
//
//   ,timestamp,item_id,position,click,propensity_score,user_feature_0,...
//   0,2019-11-24 00:01:03.979311+00:00,2,2,0,0.045525,cef33...,...
//
// The log's columns read are item_id (whole number >= 0), position (whole number >= 1),
// click (0 or 1) and propensity_score (the logger's probability of that item at that
// position, in (0, 1]; the column may also be named action_prob); the others are ignored.
// Columns are found by name in the header line, in any order. item_context.csv must
// have an item_id column whose values are 0..N-1, each once (N = its lines); when it is
// present every item_id of the log must be below N.
//
// Errors: a message naming the file, the line and the column, e.g.
//   `random/men/men.csv:17: column "click": "x" is not 0 or 1`
//   `bts/men/men.csv:1: no column "propensity_score" (or "action_prob") in the header`
// a field count that differs from the header's, a line over 1 MiB, an empty file, or a
// file that cannot be opened. Nothing is sized from the file's values (item ids and
// positions index maps, not arrays), so a hostile file can cost only its own size.
#ifndef STREAMREC_CLIENT_OBD_READER_H_
#define STREAMREC_CLIENT_OBD_READER_H_

#include <cstdint>
#include <string>
#include <vector>

namespace streamrec::client {

// ObdRow: one impression of a log.
struct ObdRow {
  int32_t item_id = 0;
  int32_t position = 0;
  int click = 0;
  double propensity = 0;
  uint64_t line = 0;  // its line in the file (the header is line 1)
};

// ObdLog: one campaign's log under one behavior policy.
struct ObdLog {
  std::string path;       // the CSV file read
  std::vector<ObdRow> rows;
  int64_t items = 0;      // items in item_context.csv (0: the file is absent)
  uint64_t clicks = 0;
};

// ReadObdLog reads the impressions of the CSV file `path` into `out` (replacing its
// rows). `items` > 0 bounds item_id (below it). Returns an error message, or "".
std::string ReadObdLog(const std::string& path, int64_t items, ObdLog& out);

// ReadObdItemCount reads item_context.csv at `path`: its number of items into `items`.
// Returns an error message, or "".
std::string ReadObdItemCount(const std::string& path, int64_t& items);

// ReadObdCampaign reads POLICY_DIR/CAMPAIGN/CAMPAIGN.csv, bounded by the items of
// POLICY_DIR/CAMPAIGN/item_context.csv when that file exists. Returns an error, or "".
std::string ReadObdCampaign(const std::string& policy_dir, const std::string& campaign,
                            ObdLog& out);

// ObdCampaigns: the campaigns ("all", "men", "women", in that order) whose CSV file
// exists under `policy_dir`.
std::vector<std::string> ObdCampaigns(const std::string& policy_dir);

// SplitCsvLine splits one CSV line into fields: commas separate, a field in double
// quotes may hold commas and "" for a quote. False on an unterminated quote.
bool SplitCsvLine(const std::string& line, std::vector<std::string>& fields);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_OBD_READER_H_
