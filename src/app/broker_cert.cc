#include "app/broker_cert.h"

#include <fstream>
#include <sstream>

#include "common/child_process.h"

namespace nj::app {

Result<BrokerCert, std::string> ensure_broker_cert(const std::filesystem::path& keys_dir) {
  BrokerCert out{keys_dir / "broker-tls.crt", keys_dir / "broker-tls.key", {}};
  std::error_code ec;
  std::filesystem::create_directories(keys_dir, ec);
  if (!std::filesystem::exists(out.cert, ec) || !std::filesystem::exists(out.key, ec)) {
    // Ten years: the certificate is pinned, not checked against a clock-driven chain; a new
    // one means cameras are provisioned again.
    auto made = run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", out.key.string(),
                             "-out", out.cert.string(), "-days", "3650", "-subj",
                             "/CN=nightjar-broker", "-addext", "basicConstraints=critical,CA:TRUE"},
                            std::chrono::seconds(20));
    if (!made) return Unexpected("openssl: " + made.error());
    if (made->exit_code != 0) return Unexpected("openssl failed: " + made->output);
  }
  std::filesystem::permissions(
      out.key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
      std::filesystem::perm_options::replace, ec);
  std::ifstream in(out.cert);
  std::stringstream text;
  text << in.rdbuf();
  out.pem = text.str();
  if (out.pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return Unexpected("no certificate in " + out.cert.string());
  }
  return out;
}

}  // namespace nj::app
