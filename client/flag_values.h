// Flag values: the one reading of the CLI's numeric flags. A whole-number flag takes
// digits only (an optional leading '-' where negatives are allowed), nothing else: "1.7",
// "abc", "" and values beyond the range are refused; a number flag takes a finite
// number, the whole text. Errors are usage messages naming the flag and its value, e.g.
// `--top_k must be a whole number >= 0, not "1.7"`. Pure functions.
#ifndef STREAMREC_CLIENT_FLAG_VALUES_H_
#define STREAMREC_CLIENT_FLAG_VALUES_H_

#include <cstdint>
#include <limits>
#include <string>

#include "client/args.h"

namespace streamrec::client {

// WholeFlag reads --`name` as a whole number in [min, max] into `out` (`fallback` when
// the flag is absent). Returns an error message, or "".
std::string WholeFlag(const Args& args, const std::string& name, long long fallback,
                      long long& out, long long min = 0,
                      long long max = std::numeric_limits<long long>::max());
// NumberFlag reads --`name` as a finite number into `out` (unchanged when absent).
std::string NumberFlag(const Args& args, const std::string& name, double& out);

// ParseWhole: `text` is digits only (after one optional '-') and fits a long long.
bool ParseWhole(const std::string& text, long long& out);
// ParseFinite: `text` is, in whole, a finite number (integer or real).
bool ParseFinite(const std::string& text, double& out);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_FLAG_VALUES_H_
