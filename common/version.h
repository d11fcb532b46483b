// Version: what `--version` and the startup record report: the project version (CMake's
// project(VERSION)), the git revision the build came from ("abc123def456", with "-dirty"
// for uncommitted changes, or "unknown"), and the CMake build type. Constant; any thread.
#ifndef STREAMREC_COMMON_VERSION_H_
#define STREAMREC_COMMON_VERSION_H_

namespace streamrec {

const char* ProjectVersion();
const char* GitRevision();
const char* BuildType();

}  // namespace streamrec

#endif  // STREAMREC_COMMON_VERSION_H_
