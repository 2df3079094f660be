#include "keys/key_store.h"

#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>

namespace nj::keys {
namespace {

constexpr std::string_view kMagic = "NJS1";
constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

bool safe_name(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-';
  });
}

std::optional<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void sync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Writes a new file whole (temporary, synced, then linked into place), mode 0600, only if
// none is there: processes sharing the directory (the nodes of a cluster) never replace a key
// another made. kExists: one was there first, and it is the one to read.
enum class Created { kWritten, kExists, kFailed };
Created create_file(const std::filesystem::path& p, std::string_view bytes) {
  // Unique to this attempt: other processes and threads may be making the same file.
  const auto tmp = p.string() + ".new." + std::to_string(::getpid()) + "-" +
                   std::to_string(randombytes_random());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Created::kFailed;
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  const int linked = ok ? ::link(tmp.c_str(), p.c_str()) : -1;
  const int error = errno;
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  if (!ok) return Created::kFailed;
  if (linked != 0) return error == EEXIST ? Created::kExists : Created::kFailed;
  sync_dir(p.parent_path());
  return Created::kWritten;
}

std::string key_bytes(const Key& k) { return std::string(k.begin(), k.end()); }

std::optional<Key> to_key(std::string_view bytes) {
  if (bytes.size() != 32) return std::nullopt;
  Key k;
  std::copy(bytes.begin(), bytes.end(), k.begin());
  return k;
}

}  // namespace

bool is_sealed(std::string_view blob) {
  return blob.size() >= kMagic.size() + kNonce + kTag && blob.substr(0, kMagic.size()) == kMagic;
}

std::string seal(const Key& key, std::string_view context, std::string_view plain) {
  std::string out(kMagic.size() + kNonce + plain.size() + kTag, '\0');
  std::copy(kMagic.begin(), kMagic.end(), out.begin());
  auto* nonce = reinterpret_cast<uint8_t*>(out.data() + kMagic.size());
  randombytes_buf(nonce, kNonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<uint8_t*>(out.data() + kMagic.size() + kNonce), &written,
      reinterpret_cast<const uint8_t*>(plain.data()), plain.size(),
      reinterpret_cast<const uint8_t*>(context.data()), context.size(), nullptr, nonce, key.data());
  out.resize(kMagic.size() + kNonce + written);
  return out;
}

std::optional<std::string> open_sealed(const Key& key, std::string_view context,
                                       std::string_view sealed) {
  if (!is_sealed(sealed)) return std::nullopt;
  const auto* nonce = reinterpret_cast<const uint8_t*>(sealed.data() + kMagic.size());
  const auto body = sealed.substr(kMagic.size() + kNonce);
  std::string out(body.size() - kTag, '\0');
  unsigned long long plain = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<uint8_t*>(out.data()), &plain, nullptr,
          reinterpret_cast<const uint8_t*>(body.data()), body.size(),
          reinterpret_cast<const uint8_t*>(context.data()), context.size(), nonce,
          key.data()) != 0) {
    return std::nullopt;
  }
  out.resize(plain);
  return out;
}

void shred_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      const std::string zeros(static_cast<size_t>(st.st_size), '\0');
      (void)!::write(fd, zeros.data(), zeros.size());
      ::fsync(fd);
    }
    ::close(fd);
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);
  sync_dir(path.parent_path());
}

Result<std::unique_ptr<KeyStore>, std::string> KeyStore::open(const std::filesystem::path& dir) {
  if (sodium_init() < 0) return Unexpected(std::string("libsodium did not start"));
  std::error_code ec;
  for (const auto& d : {dir, dir / "accounts", dir / "bindings", dir / "exports"}) {
    std::filesystem::create_directories(d, ec);
    if (ec) return Unexpected("cannot create " + d.string() + ": " + ec.message());
    ::chmod(d.c_str(), 0700);
  }
  const auto path = dir / "master.key";
  Key master;
  if (auto bytes = read_file(path)) {
    auto k = to_key(*bytes);
    if (!k) return Unexpected(path.string() + " is damaged (expected 32 bytes)");
    master = *k;
  } else {
    randombytes_buf(master.data(), master.size());
    switch (create_file(path, key_bytes(master))) {
      case Created::kWritten:
        break;
      case Created::kExists:
        return open(dir);  // another process made it first: that one is the master key
      case Created::kFailed:
        return Unexpected("cannot write " + path.string());
    }
  }
  return std::unique_ptr<KeyStore>(new KeyStore(dir, master));
}

std::optional<Key> KeyStore::account_key(std::string_view user_id, bool create) {
  if (!safe_name(user_id)) return std::nullopt;
  const std::string name = "accounts/" + std::string(user_id);
  if (auto it = cache_.find(name); it != cache_.end()) return it->second;
  const auto path = dir_ / (name + ".key");
  const std::string context = "nightjar-account-key\n" + std::string(user_id);
  if (auto wrapped = read_file(path)) {
    auto plain = open_sealed(master_, context, *wrapped);
    auto key = plain ? to_key(*plain) : std::nullopt;
    if (!key) {
      spdlog::error("keys.unwrap_failed key={}", name);
      return std::nullopt;
    }
    return cache_[name] = *key;
  }
  if (!create) return std::nullopt;
  Key key;
  randombytes_buf(key.data(), key.size());
  switch (create_file(path, seal(master_, context, key_bytes(key)))) {
    case Created::kWritten:
      return cache_[name] = key;
    case Created::kExists:
      return account_key(user_id, false);  // another node made it first
    case Created::kFailed:
      break;
  }
  return std::nullopt;
}

std::optional<Key> KeyStore::binding_key(std::string_view user_id, std::string_view device_id,
                                         int64_t generation, bool create) {
  if (!safe_name(user_id) || !safe_name(device_id) || generation < 0) return std::nullopt;
  std::lock_guard lock(mu_);
  const std::string file = std::string(device_id) + "-" + std::to_string(generation);
  return child_key(user_id, "bindings/" + std::string(user_id) + "/" + file,
                   "nightjar-binding-key\n" + std::string(user_id) + "\n" + file, create);
}

std::optional<Key> KeyStore::export_key(std::string_view user_id, std::string_view export_id,
                                        bool create) {
  if (!safe_name(user_id) || !safe_name(export_id)) return std::nullopt;
  std::lock_guard lock(mu_);
  return child_key(user_id, "exports/" + std::string(user_id) + "/" + std::string(export_id),
                   "nightjar-export-key\n" + std::string(user_id) + "\n" + std::string(export_id),
                   create);
}

std::optional<Key> KeyStore::child_key(std::string_view user_id, const std::string& name,
                                       const std::string& context, bool create) {
  if (auto it = cache_.find(name); it != cache_.end()) return it->second;
  const auto path = dir_ / (name + ".key");
  if (auto wrapped = read_file(path)) {
    auto account = account_key(user_id, false);
    auto plain = account ? open_sealed(*account, context, *wrapped) : std::nullopt;
    auto key = plain ? to_key(*plain) : std::nullopt;
    if (!key) {
      spdlog::error("keys.unwrap_failed key={}", name);
      return std::nullopt;
    }
    return cache_[name] = *key;
  }
  if (!create) return std::nullopt;
  auto account = account_key(user_id, true);
  if (!account) return std::nullopt;
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  ::chmod(path.parent_path().c_str(), 0700);
  Key key;
  randombytes_buf(key.data(), key.size());
  switch (create_file(path, seal(*account, context, key_bytes(key)))) {
    case Created::kWritten:
      return cache_[name] = key;
    case Created::kExists:
      return child_key(user_id, name, context, false);  // another node made it first
    case Created::kFailed:
      break;
  }
  return std::nullopt;
}

void KeyStore::forget_cached() {
  std::lock_guard lock(mu_);
  cache_.clear();
}

void KeyStore::destroy_export(std::string_view user_id, std::string_view export_id) {
  if (!safe_name(user_id) || !safe_name(export_id)) return;
  std::lock_guard lock(mu_);
  const std::string name = "exports/" + std::string(user_id) + "/" + std::string(export_id);
  shred_file(dir_ / (name + ".key"));
  cache_.erase(name);
}

void KeyStore::destroy_bindings(std::string_view user_id, std::string_view device_id) {
  if (!safe_name(user_id) || !safe_name(device_id)) return;
  std::lock_guard lock(mu_);
  const auto dir = dir_ / "bindings" / std::string(user_id);
  const std::string prefix = std::string(device_id) + "-";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().filename().string().starts_with(prefix)) shred_file(e.path());
  }
  const std::string cached = "bindings/" + std::string(user_id) + "/" + prefix;
  std::erase_if(cache_, [&](const auto& e) { return e.first.starts_with(cached); });
}

void KeyStore::destroy_device(std::string_view device_id) {
  if (!safe_name(device_id)) return;
  std::lock_guard lock(mu_);
  const std::string prefix = std::string(device_id) + "-";
  std::error_code ec;
  for (const auto& user : std::filesystem::directory_iterator(dir_ / "bindings", ec)) {
    std::error_code inner;
    for (const auto& e : std::filesystem::directory_iterator(user.path(), inner)) {
      if (e.path().filename().string().starts_with(prefix)) shred_file(e.path());
    }
  }
  std::erase_if(cache_, [&](const auto& e) {
    return e.first.starts_with("bindings/") && e.first.find("/" + prefix) != std::string::npos;
  });
}

void KeyStore::destroy_account(std::string_view user_id) {
  if (!safe_name(user_id)) return;
  std::lock_guard lock(mu_);
  // The account key first: with it gone, no binding key under it can be unwrapped again.
  shred_file(dir_ / "accounts" / (std::string(user_id) + ".key"));
  for (const char* kind : {"bindings", "exports"}) {
    const auto dir = dir_ / kind / std::string(user_id);
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) shred_file(e.path());
    std::filesystem::remove(dir, ec);
    sync_dir(dir_ / kind);
  }
  const std::string account = "accounts/" + std::string(user_id);
  const std::string bindings = "bindings/" + std::string(user_id) + "/";
  const std::string exports = "exports/" + std::string(user_id) + "/";
  std::erase_if(cache_, [&](const auto& e) {
    return e.first == account || e.first.starts_with(bindings) || e.first.starts_with(exports);
  });
}

}  // namespace nj::keys
