// Security: how the CLI authenticates to a server: TLS (--tls, --ca, --cert, --key, or
// $STREAMREC_TLS, $STREAMREC_CA, $STREAMREC_CERT, $STREAMREC_KEY) and a bearer token
// (--token_file FILE, or $STREAMREC_TOKEN holding the token itself). A flag wins over
// its variable. --ca, --cert or --key imply --tls; --cert and --key go together (mutual
// TLS). The token is sent on every call as `authorization: Bearer TOKEN`.
//
//   Security sec;
//   if (SecurityError e = LoadSecurity(args, &sec); e.exit_code) return Report(e);
//   Connection conn(server, timeout, sec);
//
// Thread-compatible (read once by main).
#ifndef STREAMREC_CLIENT_SECURITY_H_
#define STREAMREC_CLIENT_SECURITY_H_

#include <string>

#include "client/args.h"

namespace streamrec::client {

struct Security {
  bool tls = false;
  std::string root_certs;   // PEM, from --ca; empty: the system's roots
  std::string cert_chain;   // PEM, from --cert (mutual TLS)
  std::string private_key;  // PEM, from --key
  std::string token;        // empty: none sent
};

struct SecurityError {
  int exit_code = 0;  // 0: none; kExitUsage or kExitInput
  std::string message;
};

// LoadSecurity reads the flags, the variables and the files they name into `out`.
// kExitUsage for a flag combination that cannot work or a $STREAMREC_TOKEN that is not
// one word of printable ASCII; kExitInput for a file that cannot be read, a --ca or
// --cert without a PEM certificate, a --key without a PEM private key, or a
// --token_file whose token is empty, not one word, or holds a byte outside 0x21-0x7e
// (a UTF-8 BOM is named as such). No message quotes the token.
SecurityError LoadSecurity(const Args& args, Security* out);

// AdminTarget: the --admin_server default for `server`: its host with port 50052
// ("db1:50051" -> "db1:50052", "[::1]:7" -> "[::1]:50052", "db1" -> "db1:50052").
std::string AdminTarget(const std::string& server);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_SECURITY_H_
