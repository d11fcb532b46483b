#include "common/version.h"

#include "streamrec_git_revision.h"  // generated (cmake/git_revision.cmake)

namespace streamrec {

const char* ProjectVersion() { return STREAMREC_VERSION; }
const char* GitRevision() { return STREAMREC_GIT_REVISION; }
const char* BuildType() { return STREAMREC_BUILD_TYPE; }

}  // namespace streamrec
