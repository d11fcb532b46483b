// TestCerts: certificates made with the openssl command in a directory, for the TLS
// tests: a CA, a server certificate for 127.0.0.1 and localhost signed by it, a client
// certificate (CN=test-client) signed by it, and the same three under a second, unrelated
// CA ("other_": what a server rotated to, or a client the server must not trust).
// Files: ca.pem, server.pem, server.key, client.pem, client.key, and other_*.pem/.key.
#ifndef STREAMREC_TESTS_TESTING_TEST_CERTS_H_
#define STREAMREC_TESTS_TESTING_TEST_CERTS_H_

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace streamrec::testing {

// MakeTestCerts writes the files into `dir`; false if openssl failed.
inline bool MakeTestCerts(const std::string& dir) {
  const std::string script = "set -e; cd '" + dir + R"(';
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > server.ext
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    for p in '' other_; do
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ${p}ca.key -out ${p}ca.pem -days 2 \
        -subj "/CN=${p}test-ca" 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -keyout ${p}server.key -out ${p}server.csr \
        -subj "/CN=${p}server" 2>/dev/null
      openssl x509 -req -in ${p}server.csr -CA ${p}ca.pem -CAkey ${p}ca.key -CAcreateserial \
        -out ${p}server.pem -days 2 -extfile server.ext 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -keyout ${p}client.key -out ${p}client.csr \
        -subj "/CN=${p}test-client" 2>/dev/null
      openssl x509 -req -in ${p}client.csr -CA ${p}ca.pem -CAkey ${p}ca.key -CAcreateserial \
        -out ${p}client.pem -days 2 -extfile client.ext 2>/dev/null
    done)";
  return std::system(script.c_str()) == 0;
}

inline std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace streamrec::testing

#endif  // STREAMREC_TESTS_TESTING_TEST_CERTS_H_
