#include "client/event_ids.h"

#include <cstdint>
#include <cstdio>
#include <random>

namespace streamrec::client {

std::string RandomId() {
  std::random_device rd;
  const uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string RunIdFlag(const Args& args, std::string& out) {
  const auto id = args.Get("run_id");
  if (!id) {
    out = RandomId();
    return "";
  }
  bool ok = !id->empty() && id->size() <= 64;
  for (char c : *id) {
    ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return "--run_id must be 1 to 64 of the characters A-Z a-z 0-9 . _ -, not \"" + *id + "\"";
  }
  out = *id;
  return "";
}

}  // namespace streamrec::client
