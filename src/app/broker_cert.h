// The embedded broker's TLS identity: a self-signed ECDSA P-256 certificate, made once with
// openssl and kept in DIR/keys/ (broker-tls.crt, broker-tls.key, mode 0600). Cameras get the
// certificate itself in their QR payload, bound to the pairing code on their label, and
// trust exactly it: no public CA is involved, and none could be misused.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"

namespace nj::app {

struct BrokerCert {
  std::filesystem::path cert, key;
  std::string pem;  // the certificate, as given to cameras
};

Result<BrokerCert, std::string> ensure_broker_cert(const std::filesystem::path& keys_dir);

}  // namespace nj::app
