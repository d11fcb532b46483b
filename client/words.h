// Words: counted nouns in the CLI's text, so one reads "1 event" and others "2 events".
// Pure functions; any thread.
#ifndef STREAMREC_CLIENT_WORDS_H_
#define STREAMREC_CLIENT_WORDS_H_

#include <cstdint>
#include <string>

namespace streamrec::client {

// Counted: "1 event", "0 events", "2 events"; `plural` defaults to `singular` + "s".
inline std::string Counted(uint64_t n, const std::string& singular,
                           const std::string& plural = "") {
  return std::to_string(n) + " " + (n == 1 ? singular : plural.empty() ? singular + "s" : plural);
}

// WasWere: "was" for one, "were" for any other count.
inline const char* WasWere(uint64_t n) { return n == 1 ? "was" : "were"; }

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_WORDS_H_
