#include "server/request_converter.h"

#include <algorithm>

#include <cmath>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
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
  const size_t n = std::min<size_t>(name.size(), 8);
  for (size_t i = 0; i < n; ++i) p |= uint64_t{static_cast<unsigned char>(name[i])} << (56 - 8 * i);
  return p;
}

// NameLess orders by name (bytewise, as std::string's <): the prefixes decide unless
// equal (then the names, of which a shorter one may only differ by the padding).
bool NameLess(const Entry& a, const Entry& b) {
  if (a.prefix != b.prefix) return a.prefix < b.prefix;
  return a.name < b.name;
}

void Entries(const internal::FeaturesView& features, std::vector<Entry>& out) {
  out.clear();
  out.reserve(features.values_size());
  uint32_t order = 0;
  bool sorted = true;  // clients often send the names in order: then no sort
  for (const internal::FeatureEntry& e : features.values()) {
    out.push_back({NamePrefix(e.key()), e.key(), &e.value(), order++});
    if (sorted && out.size() > 1 && !NameLess(out[out.size() - 2], out.back())) sorted = false;
  }
  if (sorted) return;  // strictly increasing: no repeated name either
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    if (NameLess(a, b)) return true;
    if (NameLess(b, a)) return false;
    return a.order < b.order;
  });
  // Keep the last of each run of equal names.
  size_t kept = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i + 1 < out.size() && out[i + 1].name == out[i].name) continue;
    out[kept++] = out[i];
  }
  out.resize(kept);
}

bool Contains(const std::vector<Entry>& sorted, const Entry& entry) {
  const auto it = std::lower_bound(sorted.begin(), sorted.end(), entry, NameLess);
  return it != sorted.end() && it->name == entry.name;
}

template <typename View>
const View& ParseAs(const google::protobuf::Message& message, google::protobuf::Arena& arena) {
  View* view = google::protobuf::Arena::CreateMessage<View>(&arena);
  view->ParseFromString(message.SerializeAsString());  // the same bytes: always parses
  return *view;
}

}  // namespace

const internal::ObserveRequestView& ViewOf(const v1::ObserveRequest& request,
                                           google::protobuf::Arena& arena) {
  return ParseAs<internal::ObserveRequestView>(request, arena);
}
const internal::PredictRequestView& ViewOf(const v1::PredictRequest& request,
                                           google::protobuf::Arena& arena) {
  return ParseAs<internal::PredictRequestView>(request, arena);
}

std::string RequestConverter::Path::str() const {
  std::string s(list);
  if (index >= 0) absl::StrAppend(&s, "[", index, "]");
  s.append(part).append(subpart);
  return s;
}

absl::Status RequestConverter::AppendFeatures(const std::vector<Entry>& features,
                                              const Path& path,
                                              const std::vector<Entry>* other,
                                              NewDims* new_dims,
                                              model::FeatureVector& out) const {
  for (const Entry& entry : features) {
    const std::string_view name = entry.name;
    const v1::FeatureValue& value = *entry.value;
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
      const bool number = value.kind_case() == v1::FeatureValue::kNumber;
      const bool vector = value.kind_case() == v1::FeatureValue::kVector;
      if (d->second == 1 && !number) {
        return Invalid(FieldPath(path, name),
                       "the model's dnn.dense_fields takes this field as a number");
      }
      if (d->second > 1 && !(vector && value.vector().values_size() == int(d->second))) {
        return Invalid(FieldPath(path, name) + (vector ? ".vector" : ""),
                       absl::StrCat(vector ? absl::StrCat("dimension ",
                                                          value.vector().values_size(), "; ")
                                           : "not a vector; ",
                                    "the model's dnn.dense_fields says a vector of ",
                                    d->second));
      }
    }
    const uint64_t name_hash = model::HashName(name);
    const uint32_t field = model::FieldId(name_hash);
    switch (value.kind_case()) {
      case v1::FeatureValue::kCategory:
        out.push_back({model::HashCategory(name_hash, value.category()), 1.0f, field});
        break;
      case v1::FeatureValue::kNumber: {
        const double x = value.number();
        if (!std::isfinite(x) || std::abs(x) > 3.4e38) {
          return Invalid(FieldPath(path, name) + ".number", "not a finite float");
        }
        out.push_back({name_hash, static_cast<float>(x), field});
        break;
      }
      case v1::FeatureValue::kCategories:
        for (const std::string& c : value.categories().values()) {
          out.push_back({model::HashCategory(name_hash, c), 1.0f, field});
        }
        break;
      case v1::FeatureValue::kVector: {
        const auto& v = value.vector().values();
        const auto vpath = [&] { return FieldPath(path, name) + ".vector"; };
        if (v.empty()) return Invalid(vpath(), "empty vector");
        const uint32_t dim = static_cast<uint32_t>(v.size());
        if (std::optional<uint32_t> known = dims_->Find(name)) {
          if (*known != dim) {
            return Invalid(vpath(), absl::StrCat("dimension ", dim, " differs from ", *known,
                                               ", the dimension the model first saw"));
          }
        } else if (new_dims != nullptr) {
          bool seen = false;
          for (const core::NewVectorDim& d : *new_dims) {
            if (d.field != name) continue;
            seen = true;
            if (d.dim != dim) {
              return Invalid(vpath(), absl::StrCat("dimension ", dim, " differs from ", d.dim,
                                                 " earlier in this request"));
            }
          }
          if (!seen) new_dims->push_back({std::string(name), dim, vpath()});
        }
        for (uint32_t i = 0; i < dim; ++i) {
          if (!std::isfinite(v[i])) {
            return Invalid(absl::StrCat(vpath(), ".values[", i, "]"), "not finite");
          }
          out.push_back({model::HashVectorDim(name_hash, i), v[i], field});
        }
        break;
      }
      case v1::FeatureValue::KIND_NOT_SET:
        return Invalid(FieldPath(path, name), "no value set");
    }
  }
  return absl::OkStatus();
}

absl::Status RequestConverter::AppendItem(const internal::ItemView& item, const Path& path,
                                          const std::vector<Entry>& context,
                                          NewDims* new_dims, model::FeatureVector& out) const {
  if (item.id().empty()) return Invalid(absl::StrCat(path.str(), ".id"), "empty item id");
  static const uint64_t kItemIdHash = model::HashName(kItemIdField);
  static const uint32_t kItemIdFieldId = model::FieldId(kItemIdHash);
  thread_local std::vector<Entry> features;
  Entries(item.features(), features);
  out.reserve(out.size() + 1 + features.size());
  out.push_back({model::HashCategory(kItemIdHash, item.id()), 1.0f, kItemIdFieldId});
  Path features_path = path;
  (features_path.part.empty() ? features_path.part : features_path.subpart) = ".features";
  return AppendFeatures(features, features_path, &context, new_dims, out);
}

absl::Status RequestConverter::ConvertPredict(const v1::PredictRequest& request,
                                              PredictInput& out) const {
  google::protobuf::Arena arena;
  return ConvertPredict(ViewOf(request, arena), out);
}

absl::Status RequestConverter::ConvertPredict(const internal::PredictRequestView& request,
                                              PredictInput& out) const {
  const int n = request.candidates_size();
  if (n == 0) return Invalid("candidates", "no candidates");
  if (static_cast<size_t>(n) > limits_.max_candidates) {
    return Invalid("candidates", absl::StrCat(n, " candidates exceed the limit of ",
                                              limits_.max_candidates, " (--max_candidates)"));
  }
  thread_local std::vector<Entry> context;
  Entries(request.context(), context);
  out.context.clear();
  if (absl::Status s = AppendFeatures(context, Path{"context"}, nullptr, nullptr, out.context);
      !s.ok()) {
    return s;
  }
  out.items.resize(n);
  thread_local absl::flat_hash_set<std::string_view> ids;
  ids.clear();
  ids.reserve(n);
  for (int i = 0; i < n; ++i) {
    const internal::ItemView& item = request.candidates(i);
    const Path path{"candidates", i};
    out.items[i].clear();
    if (absl::Status s = AppendItem(item, path, context, nullptr, out.items[i]); !s.ok()) {
      return s;
    }
    if (!ids.insert(item.id()).second) {
      return Invalid(absl::StrCat(path.str(), ".id"),
                     absl::StrCat("duplicate candidate id ", QuoteForError(item.id())));
    }
    if (out.context.size() + out.items[i].size() > limits_.max_features_per_example) {
      return Invalid(path, absl::StrCat("more than ", limits_.max_features_per_example,
                                        " features (--max_features_per_example)"));
    }
  }
  return absl::OkStatus();
}

absl::Status RequestConverter::ConvertEvent(const internal::EventView& event, int i,
                                            int64_t now_unix_ms, NewDims& new_dims,
                                            model::Example& ex) const {
  const auto path = [i](std::string_view part) { return Path{"events", i, part}.str(); };
  if (!event.has_label()) return Invalid(path(".label"), "required");
  const double label = event.label();
  if (!(label >= 0.0 && label <= 1.0)) {
    return Invalid(path(".label"), absl::StrCat(label, " is outside [0, 1]"));
  }
  const double weight = event.has_weight() ? event.weight() : 1.0;
  if (!std::isfinite(weight) || weight < 0.0) {
    return Invalid(path(".weight"), absl::StrCat(weight, " is not a finite value >= 0"));
  }
  if (weight > kMaxWeight) {  // such a step overflows: it would be acknowledged, then skipped
    return Invalid(path(".weight"), absl::StrCat(weight, " is above the largest importance "
                                                 "weight, ", kMaxWeight));
  }
  if (!event.has_item()) return Invalid(path(".item"), "required");
  if (event.event_id().size() > limits_.max_name_bytes) {
    return Invalid(path(".event_id"), absl::StrCat(event.event_id().size(),
                                                   " bytes; at most ",
                                                   limits_.max_name_bytes));
  }
  ex.label = static_cast<float>(label);
  ex.weight = static_cast<float>(weight);
  ex.time_unix_ms = event.time_unix_ms() != 0 ? event.time_unix_ms() : now_unix_ms;
  thread_local std::vector<Entry> context;
  Entries(event.context(), context);
  ex.features.reserve(context.size() + 1 + event.item().features().values_size());
  if (absl::Status s = AppendFeatures(context, Path{"events", i, ".context"}, nullptr,
                                      &new_dims, ex.features);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AppendItem(event.item(), Path{"events", i, ".item"}, context,
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
  google::protobuf::Arena arena;
  return ConvertObserve(ViewOf(request, arena));
}

absl::StatusOr<std::unique_ptr<core::EventBatch>> RequestConverter::ConvertObserve(
    const internal::ObserveRequestView& request) const {
  const int n = request.events_size();
  if (n == 0) return Invalid("events", "no events");
  if (static_cast<size_t>(n) > limits_.max_events_per_request) {
    return Invalid("events", absl::StrCat(n, " events exceed the limit of ",
                                          limits_.max_events_per_request,
                                          " (--max_events_per_request)"));
  }
  auto batch = std::make_unique<core::EventBatch>();
  batch->examples.resize(n);
  NewDims new_dims;
  const int64_t now_unix_ms = absl::ToUnixMillis(absl::Now());
  // Every event is checked: the error lists the first kMaxFieldViolations invalid events
  // (and counts the rest), so a client can fix them all at once.
  std::vector<absl::Status> errors;
  size_t invalid = 0;
  for (int i = 0; i < n; ++i) {
    if (absl::Status s = ConvertEvent(request.events(i), i, now_unix_ms, new_dims,
                                      batch->examples[i]);
        !s.ok()) {
      if (errors.size() < kMaxFieldViolations) errors.push_back(std::move(s));
      ++invalid;
    }
  }
  if (invalid > 0) return MergeFieldErrors(errors, invalid);
  // New vector fields are registered only once the request is logged (the log writer,
  // in log order), never for a request that is rejected.
  batch->new_dims = std::move(new_dims);
  return batch;
}

}  // namespace streamrec::server
