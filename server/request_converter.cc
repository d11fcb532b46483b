#include "server/request_converter.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include <cmath>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "model/hash.h"
#include "server/error_details.h"
#include "server/error_text.h"

namespace streamrec::server {
namespace {

using Entry = RequestConverter::Entry;
using Path = RequestConverter::Path;

absl::Status Invalid(const std::string& path, const std::string& what) {
  return FieldError(path, what);
}
absl::Status Invalid(const Path& path, const std::string& what) {
  return FieldError(path.str(), what);
}

// FieldPath names a feature in an error: the client's name quoted, cut and escaped.
std::string FieldPath(const Path& path, std::string_view name) {
  return absl::StrCat(path.str(), ".values[", QuoteForError(name), "]");
}

// Entries: the features of `features` sorted by name, a repeated name only once with its
// last value (what parsing them into a map would have kept). Sorted because the order of
// features decides the order of a snapshot's floating-point sums, so the same request
// must always convert the same way (bit-identical scores); a map's iteration order
// differed between processes.
uint64_t NamePrefix(std::string_view name) {
  uint64_t p = 0;
  if (name.size() >= 8) {
    std::memcpy(&p, name.data(), 8);
    return __builtin_bswap64(p);  // the first byte most significant (little-endian hosts)
  }
  for (size_t i = 0; i < name.size(); ++i) {
    p |= uint64_t{static_cast<unsigned char>(name[i])} << (56 - 8 * i);
  }
  return p;
}

// SameName: equal names, the prefixes compared first (names of at most 8 bytes are
// equal when their prefixes and sizes are).
bool SameName(std::string_view a, uint64_t a_prefix, std::string_view b, uint64_t b_prefix) {
  return a_prefix == b_prefix && a.size() == b.size() &&
         (a.size() <= 8 || std::memcmp(a.data() + 8, b.data() + 8, a.size() - 8) == 0);
}

// NameHashes: model::HashName of the names of one request, remembered: a request's
// candidates (and an Observe request's events) repeat the same few names. Direct-mapped
// by the name's prefix and length; the names are views into the request, so Clear at
// the start of each request.
class NameHashes {
 public:
  void Clear() { std::fill(std::begin(slots_), std::end(slots_), Slot{}); }
  uint64_t Get(std::string_view name, uint64_t prefix) {
    Slot& slot = slots_[((prefix ^ name.size()) * 0x9E3779B97F4A7C15ull) >> (64 - kBits)];
    if (slot.name.data() == nullptr || !SameName(slot.name, slot.prefix, name, prefix)) {
      slot.name = name;
      slot.prefix = prefix;
      slot.hash = model::HashName(name);
    }
    return slot.hash;
  }

 private:
  static constexpr int kBits = 7;
  struct Slot {
    std::string_view name;
    uint64_t prefix = 0;
    uint64_t hash = 0;
  };
  Slot slots_[1 << kBits];
};
thread_local NameHashes name_hashes;

// ShrinkIfLarge frees a scratch vector a large request grew past `keep` bytes.
template <typename V>
void ShrinkIfLarge(V& v, size_t keep = size_t{1} << 20) {
  if (v.capacity() * sizeof(typename V::value_type) > keep) V().swap(v);
}

// Scratch: this thread's conversion buffers, reused between requests (Trim after each).
struct Scratch {
  std::vector<unsigned __int128> keys;  // Entries' sort keys
  std::vector<Entry> by_key;            // Entries' sorted copy
  std::vector<Entry> item;              // an item's features
  std::vector<Entry> context;           // the context's (or an event's context)
  absl::flat_hash_map<uint64_t, int> ids;  // Predict: candidate ids by hash
  // Observe: the request's new vector fields, by name (index into its new_dims).
  absl::flat_hash_map<std::string_view, uint32_t> new_dims;
  void Trim() {
    ShrinkIfLarge(keys);
    ShrinkIfLarge(by_key);
    ShrinkIfLarge(item);
    ShrinkIfLarge(context);
    if (ids.capacity() > 65536) absl::flat_hash_map<uint64_t, int>().swap(ids);
    if (new_dims.capacity() > 65536) {
      absl::flat_hash_map<std::string_view, uint32_t>().swap(new_dims);
    }
    new_dims.clear();  // its names are views into the request
  }
};
thread_local Scratch scratch;

// TrimScratch: on every way out of a conversion.
struct TrimScratch {
  TrimScratch() { scratch.new_dims.clear(); }
  ~TrimScratch() { scratch.Trim(); }
};

// NameLess orders by name (bytewise, as std::string's <): the prefixes decide unless
// equal (then the names, of which a shorter one may only differ by the padding).
bool NameLess(const Entry& a, const Entry& b) {
  if (a.prefix != b.prefix) return a.prefix < b.prefix;
  return a.name < b.name;
}

void Entries(const ParsedRequest& request, ParsedFeatures features, std::vector<Entry>& out) {
  out.clear();
  out.reserve(features.count);
  uint32_t order = 0;
  bool sorted = true;  // clients often send the names in order: then no sort
  for (const ParsedEntry& e : request.entries(features)) {
    out.push_back({NamePrefix(e.key), e.key, &e.value, order++});
    if (sorted && out.size() > 1 && !NameLess(out[out.size() - 2], out.back())) sorted = false;
  }
  if (sorted) return;  // strictly increasing: no repeated name either
  // Sort (prefix, position) as one 128-bit key: quick to compare and to move. Names
  // whose prefixes tie (longer than 8 bytes, or padded with NUL bytes) are ordered by
  // the whole name after.
  std::vector<unsigned __int128>& keys = scratch.keys;
  std::vector<Entry>& by_key = scratch.by_key;
  keys.resize(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    keys[i] = static_cast<unsigned __int128>(out[i].prefix) << 64 | out[i].order;
  }
  std::sort(keys.begin(), keys.end());
  by_key.resize(out.size());
  for (size_t i = 0; i < out.size(); ++i) by_key[i] = out[static_cast<uint32_t>(keys[i])];
  out.swap(by_key);
  for (size_t i = 0; i + 1 < out.size();) {
    size_t j = i + 1;
    while (j < out.size() && out[j].prefix == out[i].prefix) ++j;
    if (j - i > 1) {
      std::sort(out.begin() + i, out.begin() + j, [](const Entry& a, const Entry& b) {
        if (a.name != b.name) return a.name < b.name;
        return a.order < b.order;
      });
    }
    i = j;
  }
  // Keep the last of each run of equal names.
  size_t kept = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i + 1 < out.size() &&
        SameName(out[i + 1].name, out[i + 1].prefix, out[i].name, out[i].prefix)) {
      continue;
    }
    out[kept++] = out[i];
  }
  out.resize(kept);
}

bool Contains(const std::vector<Entry>& sorted, const Entry& entry) {
  const auto it = std::lower_bound(sorted.begin(), sorted.end(), entry, NameLess);
  return it != sorted.end() && SameName(it->name, it->prefix, entry.name, entry.prefix);
}

}  // namespace

absl::Status ParseV1(const v1::PredictRequest& request, ParsedPredict& out) {
  if (out.ParseMessage(request)) return absl::OkStatus();
  return MalformedRequestError(request.GetTypeName(), request.ByteSizeLong());
}
absl::Status ParseV1(const v1::ObserveRequest& request, ParsedObserve& out) {
  if (out.ParseMessage(request)) return absl::OkStatus();
  return MalformedRequestError(request.GetTypeName(), request.ByteSizeLong());
}

std::string RequestConverter::Path::str() const {
  std::string s(list);
  if (index >= 0) absl::StrAppend(&s, "[", index, "]");
  s.append(part).append(subpart);
  return s;
}

absl::Status RequestConverter::AppendFeatures(const ParsedRequest& request,
                                              const std::vector<Entry>& features,
                                              const Path& path,
                                              const std::vector<Entry>* other,
                                              NewDims* new_dims,
                                              model::FeatureVector& out) const {
  for (const Entry& entry : features) {
    const std::string_view name = entry.name;
    const ParsedValue& value = *entry.value;
    using Kind = ParsedValue::Kind;
    if (name.empty()) return Invalid(path, "empty feature name");
    if (name.size() > limits_.max_name_bytes) {
      return Invalid(FieldPath(path, name), absl::StrCat("feature name of ", name.size(),
                                                         " bytes; at most ",
                                                         limits_.max_name_bytes));
    }
    if (name == kItemIdField) {
      return Invalid(FieldPath(path, name), "item_id is reserved (set Item.id instead)");
    }
    if (other != nullptr && Contains(*other, entry)) {
      return Invalid(FieldPath(path, name), "feature is set both in the context and the item");
    }
    if (auto d = dense_.find(name); d != dense_.end()) {
      const bool number = value.kind == Kind::kNumber;
      const bool vector = value.kind == Kind::kVector;
      if (d->second == 1 && !number) {
        return Invalid(FieldPath(path, name),
                       "the model's dnn.dense_fields takes this field as a number");
      }
      if (d->second > 1 && !(vector && value.count == d->second)) {
        return Invalid(FieldPath(path, name) + (vector ? ".vector" : ""),
                       absl::StrCat(vector ? absl::StrCat("dimension ",
                                                          value.count, "; ")
                                           : "not a vector; ",
                                    "the model's dnn.dense_fields says a vector of ",
                                    d->second));
      }
    }
    const uint64_t name_hash = name_hashes.Get(name, entry.prefix);
    const uint32_t field = model::FieldId(name_hash);
    switch (value.kind) {
      case Kind::kCategory:
        out.push_back({model::HashCategory(name_hash, value.category), 1.0f, field});
        break;
      case Kind::kNumber: {
        const double x = value.number;
        if (!std::isfinite(x) || std::abs(x) > std::numeric_limits<float>::max()) {
          return Invalid(FieldPath(path, name) + ".number", "not a finite float");
        }
        out.push_back({name_hash, static_cast<float>(x), field});
        break;
      }
      case Kind::kCategories:
        for (std::string_view c : request.categories(value)) {
          out.push_back({model::HashCategory(name_hash, c), 1.0f, field});
        }
        break;
      case Kind::kVector: {
        const std::span<const float> v = request.vector(value);
        const auto vpath = [&] { return FieldPath(path, name) + ".vector"; };
        if (v.empty()) return Invalid(vpath(), "empty vector");
        const uint32_t dim = static_cast<uint32_t>(v.size());
        if (std::optional<uint32_t> known = dims_->Find(name)) {
          if (*known != dim) {
            return Invalid(vpath(), absl::StrCat("dimension ", dim, " differs from ", *known,
                                               ", the dimension the model first saw"));
          }
        } else if (new_dims != nullptr) {
          const auto [it, added] = scratch.new_dims.try_emplace(
              name, static_cast<uint32_t>(new_dims->size()));
          if (!added) {
            const uint32_t first = (*new_dims)[it->second].dim;
            if (first != dim) {
              return Invalid(vpath(), absl::StrCat("dimension ", dim, " differs from ", first,
                                                 " earlier in this request"));
            }
          } else {
            // The log writer checks the limit against what is registered by then; a
            // request that exceeds it even now stops here, before converting the rest.
            if (dims_->size() + new_dims->size() >= max_vector_fields_) {
              return Invalid(vpath(), absl::StrCat("a new vector field would exceed the limit "
                                                 "of ", max_vector_fields_,
                                                 " distinct vector fields "
                                                 "(--max_vector_fields)"));
            }
            new_dims->push_back({std::string(name), dim, vpath()});
          }
        }
        for (uint32_t i = 0; i < dim; ++i) {
          if (!std::isfinite(v[i])) {
            return Invalid(absl::StrCat(vpath(), ".values[", i, "]"), "not finite");
          }
          out.push_back({model::HashVectorDim(name_hash, i), v[i], field});
        }
        break;
      }
      case Kind::kNotSet:
        return Invalid(FieldPath(path, name), "no value set");
    }
  }
  return absl::OkStatus();
}

absl::Status RequestConverter::AppendItem(const ParsedRequest& request, const ParsedItem& item,
                                          const Path& path,
                                          const std::vector<Entry>& context,
                                          NewDims* new_dims, model::FeatureVector& out) const {
  if (item.id.empty()) return Invalid(absl::StrCat(path.str(), ".id"), "empty item id");
  static const uint64_t kItemIdHash = model::HashName(kItemIdField);
  static const uint32_t kItemIdFieldId = model::FieldId(kItemIdHash);
  std::vector<Entry>& features = scratch.item;
  Entries(request, item.features, features);
  out.reserve(out.size() + 1 + features.size());
  out.push_back({model::HashCategory(kItemIdHash, item.id), 1.0f, kItemIdFieldId});
  Path features_path = path;
  (features_path.part.empty() ? features_path.part : features_path.subpart) = ".features";
  return AppendFeatures(request, features, features_path, &context, new_dims, out);
}

absl::Status RequestConverter::ConvertPredict(const v1::PredictRequest& request,
                                              PredictInput& out) const {
  ParsedPredict parsed;
  if (absl::Status s = ParseV1(request, parsed); !s.ok()) return s;
  return ConvertPredict(parsed, out);
}

absl::Status RequestConverter::ConvertPredict(const ParsedPredict& request,
                                              PredictInput& out) const {
  const TrimScratch trim;
  const int n = static_cast<int>(request.candidates.size());
  if (n == 0) return Invalid("candidates", "no candidates");
  if (static_cast<size_t>(n) > limits_.max_candidates) {
    return Invalid("candidates", absl::StrCat(n, " candidates exceed the limit of ",
                                              limits_.max_candidates, " (--max_candidates)"));
  }
  name_hashes.Clear();
  std::vector<Entry>& context = scratch.context;
  Entries(request, request.context, context);
  out.context.clear();
  if (absl::Status s = AppendFeatures(request, context, Path{"context"}, nullptr, nullptr,
                                      out.context);
      !s.ok()) {
    return s;
  }
  out.items.resize(n);
  // Duplicate ids by their item_id feature's hash (computed anyway); equal hashes are
  // compared as strings.
  absl::flat_hash_map<uint64_t, int>& ids = scratch.ids;
  ids.clear();
  ids.reserve(n);
  for (int i = 0; i < n; ++i) {
    const ParsedItem& item = request.candidates[i];
    const Path path{"candidates", i};
    out.items[i].clear();
    if (absl::Status s = AppendItem(request, item, path, context, nullptr, out.items[i]);
        !s.ok()) {
      return s;
    }
    if (auto [it, inserted] = ids.try_emplace(out.items[i][0].hash, i); !inserted) {
      bool duplicate = false;
      for (int j = 0; j < i && !duplicate; ++j) {
        duplicate = out.items[j][0].hash == out.items[i][0].hash &&
                    request.candidates[j].id == item.id;
      }
      if (duplicate) {
        return Invalid(absl::StrCat(path.str(), ".id"),
                       absl::StrCat("duplicate candidate id ", QuoteForError(item.id)));
      }
    }
    if (out.context.size() + out.items[i].size() > limits_.max_features_per_example) {
      return Invalid(path, absl::StrCat("more than ", limits_.max_features_per_example,
                                        " features (--max_features_per_example)"));
    }
  }
  return absl::OkStatus();
}

absl::Status RequestConverter::ConvertEvent(const ParsedObserve& request,
                                            const ParsedEvent& event, int i,
                                            int64_t now_unix_ms, NewDims& new_dims,
                                            model::Example& ex) const {
  const auto path = [i](std::string_view part) { return Path{"events", i, part}.str(); };
  if (!event.has_label) return Invalid(path(".label"), "required");
  const double label = event.label;
  if (!(label >= 0.0 && label <= 1.0)) {
    return Invalid(path(".label"), absl::StrCat(label, " is outside [0, 1]"));
  }
  const double weight = event.has_weight ? event.weight : 1.0;
  if (!std::isfinite(weight) || weight < 0.0) {
    return Invalid(path(".weight"), absl::StrCat(weight, " is not a finite value >= 0"));
  }
  if (weight > kMaxWeight) {  // such a step overflows: it would be acknowledged, then skipped
    return Invalid(path(".weight"), absl::StrCat(weight, " is above the largest importance "
                                                 "weight, ", kMaxWeight));
  }
  if (!event.has_item) return Invalid(path(".item"), "required");
  if (event.event_id.size() > limits_.max_name_bytes) {
    return Invalid(path(".event_id"), absl::StrCat(event.event_id.size(),
                                                   " bytes; at most ",
                                                   limits_.max_name_bytes));
  }
  ex.label = static_cast<float>(label);
  ex.weight = static_cast<float>(weight);
  ex.time_unix_ms = event.time_unix_ms != 0 ? event.time_unix_ms : now_unix_ms;
  std::vector<Entry>& context = scratch.context;
  Entries(request, event.context, context);
  ex.features.reserve(context.size() + 1 + event.item.features.count);
  if (absl::Status s = AppendFeatures(request, context, Path{"events", i, ".context"}, nullptr,
                                      &new_dims, ex.features);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AppendItem(request, event.item, Path{"events", i, ".item"}, context,
                                  &new_dims, ex.features);
      !s.ok()) {
    return s;
  }
  if (ex.features.size() > limits_.max_features_per_example) {
    return Invalid(path(""), absl::StrCat("more than ", limits_.max_features_per_example,
                                          " features (--max_features_per_example)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<core::EventBatch>> RequestConverter::ConvertObserve(
    const v1::ObserveRequest& request) const {
  ParsedObserve parsed;
  if (absl::Status s = ParseV1(request, parsed); !s.ok()) return s;
  return ConvertObserve(parsed);
}

absl::StatusOr<std::unique_ptr<core::EventBatch>> RequestConverter::ConvertObserve(
    const ParsedObserve& request) const {
  const TrimScratch trim;
  const int n = static_cast<int>(request.events.size());
  if (n == 0) return Invalid("events", "no events");
  if (static_cast<size_t>(n) > limits_.max_events_per_request) {
    return Invalid("events", absl::StrCat(n, " events exceed the limit of ",
                                          limits_.max_events_per_request,
                                          " (--max_events_per_request)"));
  }
  auto batch = std::make_unique<core::EventBatch>();
  batch->examples.resize(n);
  NewDims new_dims;
  name_hashes.Clear();
  const int64_t now_unix_ms = absl::ToUnixMillis(absl::Now());
  // Every event is checked: the error lists the first kMaxFieldViolations invalid events
  // (and counts the rest), so a client can fix them all at once.
  std::vector<absl::Status> errors;
  size_t invalid = 0;
  for (int i = 0; i < n; ++i) {
    const ParsedEvent& event = request.events[i];
    if (absl::Status s = ConvertEvent(request, event, i, now_unix_ms, new_dims,
                                      batch->examples[i]);
        !s.ok()) {
      if (errors.size() < kMaxFieldViolations) errors.push_back(std::move(s));
      ++invalid;
      continue;
    }
    if (event.prediction_id.empty()) continue;
    // A reward: only a prediction_id, the item id and the label; the log writer takes its
    // features from the logged impression (server/reward_join.h). An event with features
    // is trained on them and only settles its item in the impression.
    const bool reward = event.context.count == 0 && event.item.features.count == 0;
    if (event.prediction_id.size() > limits_.max_name_bytes) {
      if (!reward) continue;  // accepted as before; Predict never issues such an id
      if (errors.size() < kMaxFieldViolations) {
        errors.push_back(Invalid(Path{"events", i, ".prediction_id"}.str(),
                                 absl::StrCat(event.prediction_id.size(), " bytes; at most ",
                                              limits_.max_name_bytes)));
      }
      ++invalid;
      continue;
    }
    batch->rewards.push_back({static_cast<uint32_t>(i), std::string(event.prediction_id),
                              std::string(event.item.id), !reward});
  }
  if (invalid > 0) return MergeFieldErrors(errors, invalid);
  // New vector fields are registered only once the request is logged (the log writer,
  // in log order), never for a request that is rejected.
  batch->new_dims = std::move(new_dims);
  return batch;
}

}  // namespace streamrec::server
