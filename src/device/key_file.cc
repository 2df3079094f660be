#include "device/key_file.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace nj::device {

Result<std::vector<uint8_t>, std::string> load_or_create_key(const std::filesystem::path& keys_dir,
                                                             const std::string& name) {
  if (sodium_init() < 0) return Unexpected(std::string("libsodium did not start"));
  std::error_code ec;
  std::filesystem::create_directories(keys_dir, ec);
  if (ec) return Unexpected("cannot create " + keys_dir.string() + ": " + ec.message());
  ::chmod(keys_dir.c_str(), 0700);
  const auto path = keys_dir / name;
  std::vector<uint8_t> key(32);
  if (std::ifstream in(path, std::ios::binary); in) {
    in.read(reinterpret_cast<char*>(key.data()), static_cast<std::streamsize>(key.size()));
    if (in.gcount() != static_cast<std::streamsize>(key.size())) {
      return Unexpected(path.string() + " is damaged (expected 32 bytes)");
    }
    return key;
  }
  randombytes_buf(key.data(), key.size());
  const auto tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "-" +
                   std::to_string(randombytes_random());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(key.data()), static_cast<std::streamsize>(key.size()));
    if (!out.flush()) return Unexpected("cannot write " + tmp);
  }
  ::chmod(tmp.c_str(), 0600);
  // Created only if absent (link, not rename): of processes sharing the directory (the nodes
  // of a cluster with [cluster] keys_dir) that start at once, one key wins and all read it.
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_error = errno;
  std::filesystem::remove(tmp, ec);
  if (linked != 0 && link_error != EEXIST) {
    return Unexpected("cannot write " + path.string() + ": " + std::strerror(link_error));
  }
  if (linked != 0) return load_or_create_key(keys_dir, name);  // another made it first
  return key;
}

std::string sha256_hex(std::string_view text) {
  uint8_t digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const uint8_t*>(text.data()), text.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::string random_token(size_t bytes) {
  std::vector<uint8_t> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_encoded_len(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.pop_back();
  return out;
}

std::string random_id() {
  uint8_t raw[16];
  randombytes_buf(raw, sizeof raw);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return hex;
}

}  // namespace nj::device
