// Exit codes of the streamrec CLI, distinct per failure class so scripts can react.
#ifndef STREAMREC_CLIENT_EXIT_CODES_H_
#define STREAMREC_CLIENT_EXIT_CODES_H_

namespace streamrec::client {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;        // bad command line
inline constexpr int kExitConnection = 3;   // server unreachable, or deadline passed
inline constexpr int kExitServer = 4;       // the server answered with an error status
inline constexpr int kExitInput = 5;        // unreadable file or malformed input line

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_EXIT_CODES_H_
