// The import side of the export file format (snapshot_export.h): a session that parses
// the bytes as they arrive (sizes checked against what was received and against fixed
// bounds, never trusted), writes the chunks under a staging version, and yields the
// manifest for a swap.
#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "model/frozen_table.h"
#include "storage/config_codec.h"
#include "storage/snapshot_export.h"

namespace streamrec::storage {
namespace {

constexpr size_t kBatchBytes = 4 << 20;
constexpr uint32_t kMaxConfigBytes = 1 << 16;
constexpr uint32_t kMaxNameBytes = 256;
constexpr size_t kChunkBytes = model::kChunkFloats * sizeof(float);

// ExplainMismatch: why an export's model does not fit this server's, in an importer's
// words.
std::string ExplainMismatch(const model::ModelConfig& file, const model::ModelConfig& server) {
  if (file.hash_bits != server.hash_bits) {
    return absl::StrCat("the export holds a model with hash_bits ", file.hash_bits,
                        "; this server's model has hash_bits ", server.hash_bits);
  }
  if (file.optimizer.kind != server.optimizer.kind) {
    return absl::StrCat("the export holds a model trained with ",
                        model::OptimizerName(file.optimizer.kind), "; this server's uses ",
                        model::OptimizerName(server.optimizer.kind));
  }
  if (file.kind != server.kind) {
    return absl::StrCat("the export holds a ", model::ModelKindName(file.kind),
                        "; this server's model is a ", model::ModelKindName(server.kind));
  }
  if (model::UsesDnnConfig(file.kind)) {
    if (absl::Status s = CheckCompatible(file, server); !s.ok()) {
      return absl::StrCat("the export holds a ", model::ModelKindName(file.kind),
                          " that does not fit this server's (", s.message(), ")");
    }
  }
  if (file.fm_factors != server.fm_factors) {
    return absl::StrCat("the export holds a factorization machine with fm_factors ",
                        file.fm_factors, "; this server's has ", server.fm_factors);
  }
  return "the export holds another kind of model than this server's";
}

}  // namespace

ImportTarget ImportTarget::Of(model::Model& model) {
  ImportTarget t;
  t.config = model.config();
  for (const model::StateTable& s : model.StateTables()) {
    t.tables.push_back({s.name, s.table->size(), s.min_value});
  }
  return t;
}

ImportSession::ImportSession(SnapshotStore* store, ImportTarget target)
    : store_(store), target_(std::move(target)), staging_version_(store->BeginStaging()) {
  manifest_.config = EncodeTrainingConfig(target_.config);
}

ImportSession::~ImportSession() { Abandon(); }

void ImportSession::Abandon() {
  if (abandoned_) return;
  abandoned_ = true;
  store_->EndStaging(staging_version_);
}

absl::Status ImportSession::Fail(absl::Status status) {
  error_ = status;
  std::string().swap(pending_);
  batch_.Clear();
  return status;
}

bool ImportSession::Take(size_t n, std::string_view& out) {
  if (pending_.size() - pos_ < n) return false;
  out = std::string_view(pending_).substr(pos_, n);
  pos_ += n;
  if (step_ != Step::kChecksum) checksum_.Update(out);
  return true;
}

absl::Status ImportSession::Feed(std::string_view bytes) {
  if (!error_.ok()) return error_;
  if (finished_) return Fail(absl::FailedPreconditionError("import already finished"));
  received_ += bytes.size();
  if (step_ == Step::kDone && !bytes.empty()) {
    return Fail(absl::InvalidArgumentError("snapshot export: bytes after its checksum"));
  }
  pending_.append(bytes.data(), bytes.size());
  absl::Status s = Parse();
  if (!s.ok()) return Fail(s);
  pending_.erase(0, pos_);
  pos_ = 0;
  return absl::OkStatus();
}

absl::Status ImportSession::Parse() {
  std::string_view in;
  for (;;) {
    switch (step_) {
      case Step::kMagic: {
        // Judge a file by its first bytes, even before the whole magic arrived.
        const std::string_view head = std::string_view(pending_).substr(pos_);
        const size_t n = std::min(head.size(), kExportMagicPrefix.size());
        if (kExportMagicPrefix.substr(0, n) != head.substr(0, n)) {
          return absl::InvalidArgumentError("not a streamrec snapshot export");
        }
        if (!Take(kExportMagic.size(), in)) return absl::OkStatus();
      }
        if (in != kExportMagic) {
          // Another version of the format: name it (the characters up to the newline).
          std::string_view version = in.substr(kExportMagicPrefix.size());
          version = version.substr(0, version.find('\n'));
          const bool printable = std::all_of(version.begin(), version.end(), [](char c) {
            return c >= '0' && c <= '9';
          });
          return absl::InvalidArgumentError(absl::StrCat(
              "the export has format ", printable ? std::string(version) : "(unreadable)",
              "; this build reads export format 1"));
        }
        step_ = Step::kMeta;
        break;
      case Step::kMeta: {
        if (!Take(kMetaBytes, in)) return absl::OkStatus();
        Reader r(in);
        GetMeta(r, manifest_.meta);
        step_ = Step::kConfigLength;
        break;
      }
      case Step::kConfigLength: {
        if (!Take(4, in)) return absl::OkStatus();
        std::memcpy(&count_, in.data(), 4);
        if (count_ > kMaxConfigBytes) {
          return absl::InvalidArgumentError("snapshot export: config field too large");
        }
        step_ = Step::kConfig;
        break;
      }
      case Step::kConfig: {
        if (!Take(count_, in)) return absl::OkStatus();
        absl::StatusOr<model::ModelConfig> config = DecodeConfig(in);
        if (!config.ok()) return absl::InvalidArgumentError("snapshot export: malformed config");
        // The training arithmetic (dnn.kernels) is no part of the parameters: an export
        // trained with either imports into a server training with either, which
        // continues (and replays its log from the import) with its own.
        config->dnn.kernels = target_.config.dnn.kernels;
        if (absl::Status s = CheckCompatible(*config, target_.config); !s.ok()) {
          return absl::FailedPreconditionError(ExplainMismatch(*config, target_.config));
        }
        step_ = Step::kMetricSums;
        break;
      }
      case Step::kMetricSums:  // the trainer's metrics continue; the file's are skipped
        if (!Take(48, in)) return absl::OkStatus();
        step_ = Step::kBins;
        break;
      case Step::kBins:
        if (!Take(4, in)) return absl::OkStatus();
        std::memcpy(&count_, in.data(), 4);
        if (count_ > model::StreamMetrics::kHistogramBins) {
          return absl::InvalidArgumentError("snapshot export: malformed metrics");
        }
        skip_ = uint64_t{count_} * 16;
        step_ = Step::kSkipBins;
        break;
      case Step::kSkipBins:
      case Step::kSkipPoints: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(skip_, pending_.size() - pos_));
        Take(n, in);
        skip_ -= n;
        if (skip_ > 0) return absl::OkStatus();
        step_ = step_ == Step::kSkipBins ? Step::kPoints : Step::kTableCount;
        break;
      }
      case Step::kPoints:
        if (!Take(4, in)) return absl::OkStatus();
        std::memcpy(&count_, in.data(), 4);
        if (count_ > (1u << 27)) {
          return absl::InvalidArgumentError("snapshot export: malformed metrics");
        }
        skip_ = uint64_t{count_} * 12;  // skipped as it arrives: nothing is allocated
        step_ = Step::kSkipPoints;
        break;
      case Step::kTableCount:
        if (!Take(4, in)) return absl::OkStatus();
        std::memcpy(&count_, in.data(), 4);
        if (count_ != target_.tables.size()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "snapshot export has ", count_, " tables; this model has ", target_.tables.size()));
        }
        manifest_.tables.resize(count_);
        step_ = count_ == 0 ? Step::kChecksum : Step::kNameLength;
        break;
      case Step::kNameLength:
        if (!Take(4, in)) return absl::OkStatus();
        std::memcpy(&count_, in.data(), 4);
        if (count_ > kMaxNameBytes) {
          return absl::InvalidArgumentError("snapshot export: table name too long");
        }
        step_ = Step::kName;
        break;
      case Step::kName:
        if (!Take(count_, in)) return absl::OkStatus();
        if (in != target_.tables[table_].name) {
          return absl::FailedPreconditionError(
              absl::StrCat("snapshot export table ", table_, " is not ",
                           target_.tables[table_].name, " as in this model"));
        }
        manifest_.tables[table_].name = std::string(in);
        step_ = Step::kTableSize;
        break;
      case Step::kTableSize: {
        if (!Take(8, in)) return absl::OkStatus();
        uint64_t size = 0;
        std::memcpy(&size, in.data(), 8);
        // Checked against the receiving model before anything is sized from it.
        if (size != target_.tables[table_].size) {
          return absl::FailedPreconditionError(absl::StrCat(
              "snapshot export table ", target_.tables[table_].name, " has ", size,
              " values; this model has ", target_.tables[table_].size));
        }
        manifest_.tables[table_].size = size;
        manifest_.tables[table_].chunk_versions.assign(ChunkCount(size), 0);
        chunk_ = 0;
        step_ = Step::kTableData;
        break;
      }
      case Step::kTableData: {
        TableManifest& t = manifest_.tables[table_];
        if (chunk_ == t.chunk_versions.size()) {
          ++table_;
          step_ = table_ == manifest_.tables.size() ? Step::kChecksum : Step::kNameLength;
          break;
        }
        const size_t n =
            std::min<uint64_t>(model::kChunkFloats, t.size - chunk_ * model::kChunkFloats);
        if (!Take(n * sizeof(float), in)) return absl::OkStatus();
        if (absl::Status s = WriteChunk(in); !s.ok()) return s;
        ++chunk_;
        break;
      }
      case Step::kChecksum: {
        if (!Take(8, in)) return absl::OkStatus();
        uint64_t stored = 0;
        std::memcpy(&stored, in.data(), 8);
        if (stored != checksum_.Digest()) {
          return absl::DataLossError("snapshot export checksum mismatch");
        }
        step_ = Step::kDone;
        break;
      }
      case Step::kDone:
        if (pos_ < pending_.size()) {
          return absl::InvalidArgumentError("snapshot export: bytes after its checksum");
        }
        return absl::OkStatus();
    }
  }
}

absl::Status ImportSession::WriteChunk(std::string_view bytes) {
  const size_t n = bytes.size() / sizeof(float);
  float values[model::kChunkFloats];
  std::memcpy(values, bytes.data(), bytes.size());
  if (!AllFinite(values, n)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snapshot export: table ", manifest_.tables[table_].name, " chunk ", chunk_,
        " holds a non-finite value"));
  }
  if (const float min = target_.tables[table_].min_value; !AllValid(values, n, min)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snapshot export: table ", manifest_.tables[table_].name, " chunk ", chunk_,
        " holds a value below ", min, ", which this table cannot hold"));
  }
  // All-zero chunks (bit for bit) are version 0: nothing to store.
  static const char kZeros[kChunkBytes] = {};
  if (std::memcmp(bytes.data(), kZeros, bytes.size()) == 0) return absl::OkStatus();
  std::string value(bytes);
  Seal(value);
  store_->db()->Put(batch_, Family::kChunks,
                    ChunkKey(manifest_.tables[table_].name, static_cast<uint32_t>(chunk_),
                             staging_version_),
                    value);
  manifest_.tables[table_].chunk_versions[chunk_] = staging_version_;
  if (batch_.GetDataSize() > kBatchBytes) return Flush();
  return absl::OkStatus();
}

absl::Status ImportSession::Flush() {
  if (batch_.Count() == 0) return absl::OkStatus();
  absl::Status s = store_->db()->Write(batch_, false);
  batch_.Clear();
  return s;
}

absl::StatusOr<Manifest> ImportSession::Finish() {
  if (!error_.ok()) return error_;
  if (step_ == Step::kMagic) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "not a streamrec snapshot export (", received_, " bytes received)")));
  }
  if (step_ != Step::kDone) {
    return Fail(absl::DataLossError(absl::StrCat("snapshot export is truncated (",
                                                 received_, " bytes received)")));
  }
  if (absl::Status s = Flush(); !s.ok()) return Fail(s);
  finished_ = true;
  return manifest_;
}

}  // namespace streamrec::storage
