// streamrec-test-datadir: damages or inspects a stopped server's data dir, for the
// process-level tests (tests/python/storage_faults_test.py). Not installed.
//   streamrec-test-datadir count-chunks DIR
//   streamrec-test-datadir corrupt-shared-chunks DIR   chunks every snapshot references
//   streamrec-test-datadir corrupt-manifests DIR       every snapshot manifest
// Prints a count; exit 0, or 2 with a message.
#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "storage/database.h"
#include "storage/snapshot_codec.h"

using namespace streamrec;

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "streamrec-test-datadir: %s\n", what.c_str());
  return 2;
}

// Flip flips a byte in the middle of every value of `family` whose key `pick` accepts.
absl::StatusOr<int> Flip(storage::Database& db, storage::Family family,
                         const std::function<bool(std::string_view)>& pick) {
  rocksdb::WriteBatch batch;
  int n = 0;
  std::unique_ptr<rocksdb::Iterator> it = db.NewIterator(family);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!pick(it->key().ToStringView())) continue;
    std::string value = it->value().ToString();
    value[value.size() / 2] ^= 0x55;
    db.Put(batch, family, it->key().ToStringView(), value);
    ++n;
  }
  it.reset();
  if (absl::Status s = db.Write(batch, true); !s.ok()) return s;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return Fail("usage: COMMAND DIR (see the source)");
  const std::string command = argv[1];
  auto db = storage::Database::Open(argv[2]);
  if (!db.ok()) return Fail(std::string(db.status().message()));
  absl::StatusOr<int> n = 0;
  if (command == "count-chunks") {
    int count = 0;
    std::unique_ptr<rocksdb::Iterator> it = (*db)->NewIterator(storage::Family::kChunks);
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
    n = count;
  } else if (command == "corrupt-manifests") {
    n = Flip(**db, storage::Family::kSnapshots, [](std::string_view) { return true; });
  } else if (command == "corrupt-shared-chunks") {
    std::map<std::string, int> references;
    int manifests = 0;
    std::unique_ptr<rocksdb::Iterator> it = (*db)->NewIterator(storage::Family::kSnapshots);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      absl::StatusOr<storage::Manifest> m = storage::DecodeManifest(it->value().ToStringView());
      if (!m.ok()) return Fail(std::string(m.status().message()));
      ++manifests;
      for (const storage::TableManifest& t : m->tables) {
        for (size_t c = 0; c < t.chunk_versions.size(); ++c) {
          if (t.chunk_versions[c] != 0) {
            ++references[storage::ChunkKey(t.name, static_cast<uint32_t>(c), t.chunk_versions[c])];
          }
        }
      }
    }
    it.reset();
    std::set<std::string> shared;
    for (const auto& [key, count] : references) {
      if (count == manifests) shared.insert(key);
    }
    n = Flip(**db, storage::Family::kChunks,
             [&](std::string_view key) { return shared.count(std::string(key)) > 0; });
  } else {
    return Fail("unknown command " + command);
  }
  if (!n.ok()) return Fail(std::string(n.status().message()));
  std::printf("%d\n", *n);
  return 0;
}
