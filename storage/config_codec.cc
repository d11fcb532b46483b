#include "storage/config_codec.h"

#include "absl/strings/str_cat.h"
#include "storage/encoding.h"

namespace streamrec::storage {

namespace {

// Format 1 (earlier builds): u32 kind, u32 hash_bits, u32 optimizer, 8 x f64.
// Format 2: u32 kFormatMarker, u32 2, then format 1's fields, u32 crosses,
// crosses x (u32 fields, fields x string). A format-1 config never starts with the
// marker (its first word is a model kind).
// Format 3: format 2, then u32 fm_factors.
// Format 4: format 3, then u32 optimizer.normalized (0 or 1); formats 1 to 3 read as
// not normalized (what the builds that wrote them trained).
constexpr uint32_t kFormatMarker = 0xffffffffu;
constexpr uint32_t kConfigFormat = 4;

}  // namespace

std::string EncodeConfig(const model::ModelConfig& c) {
  std::string out;
  PutU32(out, kFormatMarker);
  PutU32(out, kConfigFormat);
  PutU32(out, static_cast<uint32_t>(c.kind));
  PutU32(out, c.hash_bits);
  const model::OptimizerConfig& o = c.optimizer;
  PutU32(out, static_cast<uint32_t>(o.kind));
  for (double v : {o.learning_rate, o.l1, o.l2, o.beta1, o.beta2, o.epsilon, o.ftrl_beta,
                   o.initial_accumulator}) {
    PutF64(out, v);
  }
  PutU32(out, static_cast<uint32_t>(c.crosses.size()));
  for (const model::Cross& cross : c.crosses) {
    PutU32(out, static_cast<uint32_t>(cross.fields.size()));
    for (const std::string& f : cross.fields) PutString(out, f);
  }
  PutU32(out, c.fm_factors);
  PutU32(out, o.normalized ? 1 : 0);
  return out;
}

absl::StatusOr<model::ModelConfig> DecodeConfig(std::string_view data) {
  Reader r(data);
  model::ModelConfig c;
  uint32_t kind = 0, optimizer = 0;
  r.GetU32(kind);
  uint32_t format = 1;
  if (kind == kFormatMarker) {
    r.GetU32(format);
    if (format < 2 || format > kConfigFormat) {
      return absl::DataLossError(absl::StrCat("stored model config has format ", format,
                                              "; this build reads formats 1 to ",
                                              kConfigFormat));
    }
    r.GetU32(kind);
  }
  r.GetU32(c.hash_bits);
  r.GetU32(optimizer);
  model::OptimizerConfig& o = c.optimizer;
  for (double* v : {&o.learning_rate, &o.l1, &o.l2, &o.beta1, &o.beta2, &o.epsilon,
                    &o.ftrl_beta, &o.initial_accumulator}) {
    r.GetF64(*v);
  }
  if (format >= 2) {
    uint32_t crosses = 0;
    // Each cross takes at least 4 bytes: never trust a count beyond the bytes present.
    if (r.GetU32(crosses) && crosses <= model::kMaxCrosses && crosses <= r.remaining() / 4) {
      c.crosses.resize(crosses);
      for (model::Cross& cross : c.crosses) {
        uint32_t fields = 0;
        if (!r.GetU32(fields) || fields > 3) {
          crosses = 0;
          break;
        }
        cross.fields.resize(fields);
        for (std::string& f : cross.fields) r.GetString(f);
      }
    } else {
      return absl::DataLossError("stored model config is malformed");
    }
  }
  if (format >= 3) r.GetU32(c.fm_factors);
  o.normalized = false;
  if (format >= 4) {
    uint32_t normalized = 0;
    r.GetU32(normalized);
    if (normalized > 1) return absl::DataLossError("stored model config is malformed");
    o.normalized = normalized == 1;
  }
  if (!r.done()) return absl::DataLossError("stored model config is malformed");
  if (kind > 1) {
    return absl::DataLossError(absl::StrCat("stored model config names model kind ", kind,
                                            ", which this build does not know (it knows 0, "
                                            "logistic regression, and 1, factorization "
                                            "machine)"));
  }
  if (optimizer > 3) {
    return absl::DataLossError(absl::StrCat("stored model config names optimizer ", optimizer,
                                            ", which this build does not know (it knows 0 to 3)"));
  }
  if (absl::Status s = model::ValidateCrosses(c.crosses); !s.ok()) {
    return absl::DataLossError(absl::StrCat("stored model config: ", s.message()));
  }
  c.kind = static_cast<model::ModelKind>(kind);
  o.kind = static_cast<model::OptimizerKind>(optimizer);
  return c;
}

absl::Status CheckCompatible(const model::ModelConfig& stored, const model::ModelConfig& current) {
  if (stored.kind != current.kind) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data was written by a ", model::ModelKindName(stored.kind), ", the config says ",
        model::ModelKindName(current.kind)));
  }
  if (stored.kind == model::ModelKind::kFm && stored.fm_factors != current.fm_factors) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data was written with fm_factors ", stored.fm_factors, ", the config says ",
        current.fm_factors));
  }
  if (stored.hash_bits != current.hash_bits) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data was written with hash_bits ", stored.hash_bits, ", the config says ",
        current.hash_bits));
  }
  if (stored.optimizer.kind != current.optimizer.kind) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data was written with optimizer ", model::OptimizerName(stored.optimizer.kind),
        ", the config says ", model::OptimizerName(current.optimizer.kind)));
  }
  if (stored.optimizer.normalized != current.optimizer.normalized) {
    auto name = [](bool n) { return n ? "normalized" : "not normalized"; };
    return absl::FailedPreconditionError(absl::StrCat(
        "the data was written with optimizer.normalized ", name(stored.optimizer.normalized),
        " (its tables differ), the config says ", name(current.optimizer.normalized),
        ": set optimizer { normalized: ", stored.optimizer.normalized ? "true" : "false",
        " } to resume it"));
  }
  return absl::OkStatus();
}

}  // namespace streamrec::storage
