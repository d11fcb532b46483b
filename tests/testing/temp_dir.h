// TempDir: a fresh directory under $TMPDIR, removed with everything in it at scope end.
#ifndef STREAMREC_TESTS_TESTING_TEMP_DIR_H_
#define STREAMREC_TESTS_TESTING_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <string>

namespace streamrec::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/streamrec-test-XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace streamrec::testing

#endif  // STREAMREC_TESTS_TESTING_TEMP_DIR_H_
