#include "model/cross.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/hash.h"

namespace streamrec::model {
namespace {

constexpr char kAny[] = "*";

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

absl::StatusOr<Cross> ParseCross(std::string_view text) {
  Cross cross;
  constexpr std::string_view kSeparator = " x ";
  for (;;) {
    const size_t at = text.find(kSeparator);
    cross.fields.push_back(Trim(text.substr(0, at)));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + kSeparator.size());
  }
  if (cross.fields.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cross \"", cross.fields[0],
        "\" names fewer than two fields (write \"a x b\" or \"a x b x c\")"));
  }
  if (absl::Status s = ValidateCrosses({cross}); !s.ok()) return s;
  return cross;
}

std::string CrossText(const Cross& cross) { return absl::StrJoin(cross.fields, " x "); }

absl::Status ValidateCrosses(const std::vector<Cross>& crosses) {
  if (crosses.size() > kMaxCrosses) {
    return absl::InvalidArgumentError(
        absl::StrCat("model config: ", crosses.size(), " crosses (at most ", kMaxCrosses, ")"));
  }
  for (const Cross& c : crosses) {
    const std::string text = CrossText(c);
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat("cross \"", text, "\": ", why));
    };
    if (c.fields.size() < 2 || c.fields.size() > 3) return bad("crosses 2 or 3 fields");
    int any = 0;
    for (size_t i = 0; i < c.fields.size(); ++i) {
      const std::string& f = c.fields[i];
      if (f.empty()) return bad("a field name is empty");
      if (f.size() > 256) return bad("a field name is longer than 256 bytes");
      if (f.rfind("x ", 0) == 0 || (f.size() >= 2 && f.compare(f.size() - 2, 2, " x") == 0)) {
        return bad("\"" + f + "\" begins or ends with an x separator (write \"a x b\")");
      }
      if (f == kAny) ++any;
      for (size_t j = 0; j < i; ++j) {
        if (c.fields[j] == f) return bad(absl::StrCat("field ", f, " appears twice"));
      }
    }
    if (any > 0 && c.fields.size() != 2) return bad("\"*\" is allowed in a pair only");
  }
  // A cross is a set of fields: "b x a" builds the same interactions as "a x b" (under
  // other hashes), so listing both would only double-count them.
  auto sorted = [](const Cross& c) {
    std::vector<std::string> f = c.fields;
    std::sort(f.begin(), f.end());
    return f;
  };
  for (size_t i = 0; i < crosses.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (crosses[i] == crosses[j]) {
        return absl::InvalidArgumentError(
            absl::StrCat("cross \"", CrossText(crosses[i]), "\" is listed twice"));
      }
      if (sorted(crosses[i]) == sorted(crosses[j])) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cross \"", CrossText(crosses[i]), "\" is \"", CrossText(crosses[j]),
            "\" in another order (the same interactions; list one)"));
      }
    }
  }
  return absl::OkStatus();
}

Crosser::Crosser(const std::vector<Cross>& crosses) {
  for (const Cross& c : crosses) {
    Compiled compiled;
    for (const std::string& f : c.fields) {
      compiled.fields.push_back(f == kAny ? 0 : FieldId(HashName(f)));
    }
    compiled.field = FieldId(HashName(CrossText(c)));
    crosses_.push_back(std::move(compiled));
  }
}

void Crosser::Append(std::span<const HashedFeature> context,
                     std::span<const HashedFeature> item, FeatureVector& out) const {
  size_t budget = kMaxCrossFeatures;
  std::vector<const HashedFeature*> lists[3];
  for (const Compiled& c : crosses_) {
    const size_t k = c.fields.size();
    uint64_t combinations = 1;
    for (size_t p = 0; p < k; ++p) {
      lists[p].clear();
      // "*" (pairs only): every known field but the other position's.
      const uint32_t other = k == 2 ? c.fields[1 - p] : 0;
      for (std::span<const HashedFeature> part : {context, item}) {
        for (const HashedFeature& f : part) {
          const bool match = c.fields[p] != 0 ? f.field == c.fields[p]
                                              : f.field != 0 && f.field != other;
          if (match) lists[p].push_back(&f);
        }
      }
      combinations = std::min<uint64_t>(combinations * lists[p].size(), uint64_t{1} << 40);
    }
    if (combinations == 0 || combinations > budget) continue;  // whole or not at all
    budget -= combinations;
    size_t index[3] = {0, 0, 0};
    for (;;) {
      uint64_t hashes[3];
      double value = 1.0;
      for (size_t p = 0; p < k; ++p) {
        hashes[p] = lists[p][index[p]]->hash;
        value *= lists[p][index[p]]->value;
      }
      if (std::abs(value) <= 3.4028234663852886e38) {  // a finite float
        out.push_back({HashCross(hashes, k), static_cast<float>(value), c.field});
      }
      size_t p = k;  // advance the odometer, last position fastest
      while (p > 0 && ++index[p - 1] == lists[p - 1].size()) index[--p] = 0;
      if (p == 0) break;
    }
  }
}

}  // namespace streamrec::model
