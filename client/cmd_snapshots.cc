// `streamrec snapshots list|save|rollback VERSION|export FILE [--version V]|import FILE`:
// list on --server, the others on --admin_server (the admin port).
#include <cerrno>
#include <cstdio>
#include <optional>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include "client/commands.h"
#include "client/exit_codes.h"
#include "client/json_string.h"
#include "client/words.h"

namespace streamrec::client {
namespace {

std::string Time(int64_t unix_ms) {
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool ParseVersion(const std::string& s, uint64_t& v) {
  // Digits only: strtoull would take "-1" as 2^64 - 1.
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  char* end = nullptr;
  errno = 0;
  v = std::strtoull(s.c_str(), &end, 10);
  return errno == 0 && end == s.c_str() + s.size();
}

int List(Connection& conn, bool json) {
  v1::ListSnapshotsResponse resp;
  grpc::Status s =
      conn.admin().ListSnapshots(conn.Context().get(), v1::ListSnapshotsRequest(), &resp);
  if (!s.ok()) return conn.Fail("snapshots list", s);
  if (json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return kExitOk;
  }
  std::printf("%-10s %-21s %-12s %-12s %s\n", "version", "time (UTC)", "last_seq", "events",
              "bytes");
  for (const v1::SnapshotInfo& i : resp.snapshots()) {
    std::printf("%-10lu %-21s %-12lu %-12lu %lu\n", static_cast<unsigned long>(i.model_version()),
                Time(i.time_unix_ms()).c_str(), static_cast<unsigned long>(i.last_seq()),
                static_cast<unsigned long>(i.events_applied()),
                static_cast<unsigned long>(i.bytes()));
  }
  return kExitOk;
}

int Export(Connection& conn, const std::string& path, std::optional<uint64_t> version,
           bool json) {
  v1::ExportSnapshotRequest req;
  if (version) req.set_model_version(*version);  // unset: the server saves now
  auto ctx = conn.Context(600);
  auto reader = conn.admin().ExportSnapshot(ctx.get(), req);
  // Write beside the target and rename on success, so a failure leaves no partial file.
  const std::string partial = path + ".partial";
  std::ofstream out(partial, std::ios::binary);
  if (!out) {
    std::fprintf(stderr, "streamrec: snapshots export: cannot write %s\n", path.c_str());
    return kExitInput;
  }
  v1::SnapshotData piece;
  size_t bytes = 0;
  while (reader->Read(&piece)) {
    out << piece.data();
    bytes += piece.data().size();
  }
  grpc::Status s = reader->Finish();
  out.close();
  if (!s.ok()) {
    std::remove(partial.c_str());
    return conn.Fail("snapshots export", s);
  }
  if (!out || std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    std::fprintf(stderr, "streamrec: snapshots export: writing %s failed\n", path.c_str());
    return kExitInput;
  }
  if (json) {
    std::printf("{\"file\":%s,\"bytes\":%zu}\n", JsonString(path).c_str(), bytes);
  } else {
    std::printf("exported %s to %s\n", Counted(bytes, "byte").c_str(), path.c_str());
  }
  return kExitOk;
}

int Import(Connection& conn, const std::string& path, bool json) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "streamrec: snapshots import: cannot read %s\n", path.c_str());
    return kExitInput;
  }
  v1::ImportSnapshotResponse resp;
  auto ctx = conn.Context(600);
  auto writer = conn.admin().ImportSnapshot(ctx.get(), &resp);
  std::string buffer(1 << 20, '\0');
  v1::SnapshotData piece;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize n = in.gcount();
    if (n <= 0) break;
    piece.set_data(buffer.data(), static_cast<size_t>(n));
    if (!writer->Write(piece)) break;
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) return conn.Fail("snapshots import", s);
  if (json) {
    std::printf("%s\n", ToJson(resp).c_str());
  } else {
    std::printf("imported %s; now serving version %lu\n", path.c_str(),
                static_cast<unsigned long>(resp.model_version()));
  }
  return kExitOk;
}

}  // namespace

int RunSnapshots(const Args& args, Connection& serving, Connection& conn, bool json) {
  const auto& pos = args.positional();
  if (pos.size() < 2) {
    return UsageError("snapshots needs list, save, rollback VERSION, export FILE or import FILE");
  }
  const std::string& sub = pos[1];
  const size_t want = (sub == "list" || sub == "save") ? 2 : 3;
  if (pos.size() != want) return UsageError("wrong number of arguments for snapshots " + sub);
  if (sub == "list") return List(serving, json);
  if (sub == "save") {
    v1::SaveSnapshotResponse resp;
    grpc::Status s =
        conn.admin().SaveSnapshot(conn.Context(120).get(), v1::SaveSnapshotRequest(), &resp);
    if (!s.ok()) return conn.Fail("snapshots save", s);
    if (json) {
      std::printf("%s\n", ToJson(resp).c_str());
    } else {
      std::printf("saved snapshot version %lu\n", static_cast<unsigned long>(resp.model_version()));
    }
    return kExitOk;
  }
  if (sub == "rollback") {
    v1::RollbackRequest req;
    uint64_t v = 0;
    if (!ParseVersion(pos[2], v)) {
      return UsageError("rollback needs a snapshot version (see snapshots list)");
    }
    req.set_model_version(v);
    v1::RollbackResponse resp;
    grpc::Status s = conn.admin().Rollback(conn.Context(120).get(), req, &resp);
    if (!s.ok()) return conn.Fail("snapshots rollback", s);
    if (json) {
      std::printf("%s\n", ToJson(resp).c_str());
    } else {
      std::printf("rolled back to snapshot %lu; now serving version %lu\n",
                  static_cast<unsigned long>(v), static_cast<unsigned long>(resp.model_version()));
    }
    return kExitOk;
  }
  if (sub == "export") {
    std::optional<uint64_t> version;
    if (auto v = args.Get("version")) {
      uint64_t parsed = 0;
      if (!ParseVersion(*v, parsed)) return UsageError("--version must be a snapshot version");
      version = parsed;
    }
    return Export(conn, pos[2], version, json);
  }
  if (sub == "import") return Import(conn, pos[2], json);
  return UsageError("unknown snapshots command \"" + sub + "\"");
}

}  // namespace streamrec::client
