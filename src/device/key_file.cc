#include "device/key_file.h"

#include <sodium.h>
#include <sys/stat.h>

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
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(key.data()), static_cast<std::streamsize>(key.size()));
    if (!out.flush()) return Unexpected("cannot write " + tmp);
  }
  ::chmod(tmp.c_str(), 0600);
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Unexpected("cannot write " + path.string() + ": " + ec.message());
  return key;
}

}  // namespace nj::device
