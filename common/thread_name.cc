#include "common/thread_name.h"

#include <pthread.h>

#include <cstring>
#include <string>

namespace streamrec {

void SetThreadName(const char* name) {
#if defined(__linux__)
  const std::string cut(name, strnlen(name, 15));  // the kernel's limit, 16 with the NUL
  pthread_setname_np(pthread_self(), cut.c_str());
#else
  (void)name;
#endif
}

}  // namespace streamrec
