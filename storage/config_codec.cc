#include "storage/config_codec.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/encoding.h"

namespace streamrec::storage {

namespace {

// Format 1 (earlier builds): u32 kind, u32 hash_bits, u32 optimizer, 8 x f64.
// Format 2: u32 kFormatMarker, u32 2, then format 1's fields, u32 crosses,
// crosses x (u32 fields, fields x string). A format-1 config never starts with the
// marker (its first word is a model kind).
// Format 3: format 2, then u32 fm_factors.
// Format 4: format 3, then u32 optimizer.normalized (0 or 1; formats 1 to 3 read as not
// normalized, what the builds that wrote them trained), then for model kind 2 (DNN)
// only: u32 embedding_dim, u32 layers, layers x u32 units, f64 dropout, u32 batch_size,
// f64 clip_norm, u32 fields, fields x string, u32 dense fields, dense x (string, u32
// dim), u32 pooling, u32 other_slot.
// Format 5: format 4's layout, written only for model kind 3 (DeepFM, with the DNN
// section), every other kind still writing format 4. An earlier build's format-4 reader
// would refuse a format-4 DeepFM config as "malformed" (it reads the DNN section only for
// kind 2, so the section looks like trailing bytes); at format 5 it refuses naming the
// format ("format 5; this build reads formats 1 to 4"), and data dirs of the other kinds
// stay readable by it.
// Format 6: format 4's layout, then for kinds 2 and 3 u32 dnn.kernels (0 Eigen, 1
// ordered), written for a DNN or DeepFM that trains with the ordered kernels. Formats 1
// to 5 read as Eigen's (the arithmetic of the builds that wrote them), and a config with
// Eigen's is still written in its earlier format (4 for a DNN, 5 for DeepFM): a data dir
// resumed with Eigen's stays readable by the build that made it, while one trained with
// the ordered kernels is refused by earlier builds by its format number, never trained
// with the other arithmetic.
// Format 7: format 6's layout (for kinds 2 and 3 the dnn.kernels word always, Eigen's
// too), then u32 exploration kind (0 greedy, 1 epsilon-greedy, 2 softmax), f64
// exploration.epsilon, f64 exploration.temperature; written only for a config that
// explores (kind not greedy). A greedy config (the default) is still written in its
// earlier format (4, 5 or 6), without the exploration section, so a data dir served
// greedily stays readable by the builds before exploration existed; formats 1 to 6 read
// as greedy with the default epsilon and temperature (what those builds served), and a
// greedy config's own epsilon and temperature are not kept (they are unused). A data dir
// whose config explores is refused by those builds by its format number.
constexpr uint32_t kFormatMarker = 0xffffffffu;
constexpr uint32_t kConfigFormat = 7;
constexpr uint32_t kDeepFmFormat = 5;
constexpr uint32_t kKernelsFormat = 6;
constexpr uint32_t kExplorationFormat = 7;

uint32_t FormatOf(const model::ModelConfig& c) {
  if (c.exploration.kind != model::ExplorationKind::kGreedy) return kExplorationFormat;
  if (model::UsesDnnConfig(c.kind) && c.dnn.kernels != model::DnnKernels::kEigen) {
    return kKernelsFormat;
  }
  return c.kind == model::ModelKind::kDeepFm ? kDeepFmFormat : 4;
}

void PutDnn(std::string& out, const model::DnnConfig& d) {
  PutU32(out, d.embedding_dim);
  PutU32(out, static_cast<uint32_t>(d.hidden.size()));
  for (uint32_t h : d.hidden) PutU32(out, h);
  PutF64(out, d.dropout);
  PutU32(out, d.batch_size);
  PutF64(out, d.clip_norm);
  PutU32(out, static_cast<uint32_t>(d.fields.size()));
  for (const std::string& f : d.fields) PutString(out, f);
  PutU32(out, static_cast<uint32_t>(d.dense_fields.size()));
  for (const model::DnnDenseField& f : d.dense_fields) {
    PutString(out, f.name);
    PutU32(out, f.dim);
  }
  PutU32(out, static_cast<uint32_t>(d.pooling));
  PutU32(out, d.other_slot ? 1 : 0);
}

// GetDnn: false for malformed bytes (counts beyond what the bytes can hold included).
bool GetDnn(Reader& r, model::DnnConfig& d) {
  uint32_t n = 0;
  if (!r.GetU32(d.embedding_dim) || !r.GetU32(n) || n > 64 || n > r.remaining() / 4) return false;
  d.hidden.resize(n);
  for (uint32_t& h : d.hidden) r.GetU32(h);
  r.GetF64(d.dropout);
  r.GetU32(d.batch_size);
  r.GetF64(d.clip_norm);
  if (!r.GetU32(n) || n > r.remaining() / 4) return false;
  d.fields.resize(n);
  for (std::string& f : d.fields) r.GetString(f);
  if (!r.GetU32(n) || n > r.remaining() / 8) return false;
  d.dense_fields.resize(n);
  for (model::DnnDenseField& f : d.dense_fields) {
    r.GetString(f.name);
    r.GetU32(f.dim);
  }
  uint32_t pooling = 0, other = 0;
  if (!r.GetU32(pooling) || !r.GetU32(other) || pooling > 1 || other > 1) return false;
  d.pooling = static_cast<model::DnnPooling>(pooling);
  d.other_slot = other == 1;
  return true;
}

std::string DenseFieldsText(const std::vector<model::DnnDenseField>& fields) {
  std::string out;
  for (const model::DnnDenseField& f : fields) {
    absl::StrAppend(&out, out.empty() ? "" : ",", f.name, ":", f.dim);
  }
  return out.empty() ? "(none)" : out;
}

std::string FieldsText(const std::vector<std::string>& fields) {
  return fields.empty() ? "(none)" : absl::StrJoin(fields, ",");
}

}  // namespace

std::string EncodeConfig(const model::ModelConfig& c) {
  std::string out;
  const uint32_t format = FormatOf(c);
  PutU32(out, kFormatMarker);
  PutU32(out, format);
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
  if (model::UsesDnnConfig(c.kind)) {
    PutDnn(out, c.dnn);
    if (format >= kKernelsFormat) PutU32(out, static_cast<uint32_t>(c.dnn.kernels));
  }
  if (format >= kExplorationFormat) {
    PutU32(out, static_cast<uint32_t>(c.exploration.kind));
    PutF64(out, c.exploration.epsilon);
    PutF64(out, c.exploration.temperature);
  }
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
  // An unknown kind is named before the rest is checked (its sections are unknown too).
  if (kind > 3) {
    return absl::DataLossError(absl::StrCat("stored model config names model kind ", kind,
                                            ", which this build does not know (it knows 0, "
                                            "logistic regression, 1, factorization "
                                            "machine, 2, deep neural network, and 3, "
                                            "DeepFM)"));
  }
  const uint32_t dnn_format = kind == static_cast<uint32_t>(model::ModelKind::kDeepFm) ? 5 : 4;
  if (model::UsesDnnConfig(static_cast<model::ModelKind>(kind))) {
    if (format < dnn_format || !GetDnn(r, c.dnn)) {
      return absl::DataLossError("stored model config is malformed");
    }
    c.dnn.kernels = model::DnnKernels::kEigen;  // formats 4 and 5: earlier builds'
    if (format >= kKernelsFormat) {
      uint32_t kernels = 0;
      if (!r.GetU32(kernels) || kernels > 1) {
        return absl::DataLossError("stored model config is malformed");
      }
      c.dnn.kernels = static_cast<model::DnnKernels>(kernels);
    }
  }
  if (format >= kExplorationFormat) {  // formats 1 to 6: greedy, the defaults
    uint32_t exploration = 0;
    if (!r.GetU32(exploration) || exploration > 2 || !r.GetF64(c.exploration.epsilon) ||
        !r.GetF64(c.exploration.temperature)) {
      return absl::DataLossError("stored model config is malformed");
    }
    c.exploration.kind = static_cast<model::ExplorationKind>(exploration);
    if (absl::Status s = model::ValidateExploration(c.exploration); !s.ok()) {
      return absl::DataLossError(absl::StrCat("stored model config: ", s.message()));
    }
  }
  if (!r.done()) return absl::DataLossError("stored model config is malformed");
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
  if (model::UsesDnnConfig(stored.kind)) {
    const model::DnnConfig& a = stored.dnn;
    const model::DnnConfig& b = current.dnn;
    auto differs = [](const char* field, const std::string& was, const std::string& is) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the data was written with dnn.", field, " ", was, ", the config says ", is));
    };
    if (a.embedding_dim != b.embedding_dim) {
      return differs("embedding_dim", absl::StrCat(a.embedding_dim), absl::StrCat(b.embedding_dim));
    }
    if (a.hidden != b.hidden) {
      return differs("hidden", model::DnnLayersText(a.hidden), model::DnnLayersText(b.hidden));
    }
    if (a.fields != b.fields) return differs("fields", FieldsText(a.fields), FieldsText(b.fields));
    if (a.dense_fields != b.dense_fields) {
      return differs("dense_fields", DenseFieldsText(a.dense_fields),
                     DenseFieldsText(b.dense_fields));
    }
    if (a.other_slot != b.other_slot) {
      return differs("other_slot", a.other_slot ? "true" : "false",
                     b.other_slot ? "true" : "false");
    }
    if (a.kernels != b.kernels) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the data was written with dnn.kernels ", model::DnnKernelsName(a.kernels),
          " (its training arithmetic; replays must repeat it), the config says ",
          model::DnnKernelsName(b.kernels), ": set dnn { kernels: ",
          model::DnnKernelsName(a.kernels), " } (or leave kernels out) to resume it"));
    }
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

std::string EncodeTrainingConfig(const model::ModelConfig& config) {
  model::ModelConfig training = config;
  training.exploration = {};
  return EncodeConfig(training);
}

}  // namespace streamrec::storage
