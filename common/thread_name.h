// SetThreadName names the calling thread (at most 15 bytes are kept), so that `top -H`,
// `perf` and /proc/PID/task/*/comm tell the server's threads apart. Call it first thing
// in a thread the server starts; a no-op where the platform cannot name threads.
#ifndef STREAMREC_COMMON_THREAD_NAME_H_
#define STREAMREC_COMMON_THREAD_NAME_H_

namespace streamrec {

void SetThreadName(const char* name);

}  // namespace streamrec

#endif  // STREAMREC_COMMON_THREAD_NAME_H_
