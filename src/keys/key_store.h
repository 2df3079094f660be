// The key hierarchy for data at rest (docs/keys.md): a master key wraps one random key per
// account, which wraps one random key per device binding; a binding's key seals its camera's
// pictures (and, next, its recordings). Keys live in their own directory, outside the data
// directory and outside the database, so that neither a copy of the data nor a restored
// database backup holds any key: destroying a key file makes everything it sealed unreadable
// at once, wherever copies of the data went.
//
//   KEYDIR/master.key                          32 bytes, 0600
//   KEYDIR/accounts/{user}.key                 the account key, wrapped by the master key
//   KEYDIR/bindings/{user}/{device}-{gen}.key  a binding key, wrapped by the account key
//   KEYDIR/exports/{user}/{export}.key         a data export's key, wrapped by the account key
//
// Wrapping and sealing are XChaCha20-Poly1305 (libsodium), each with its ids as associated
// data, so a key file or a sealed file moved to another name does not open.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace nj::keys {

using Key = std::array<uint8_t, 32>;

class KeyStore {
 public:
  // Opens the directory, making it (0700) and the master key (0600) on first use.
  static Result<std::unique_ptr<KeyStore>, std::string> open(const std::filesystem::path& dir);

  // The binding's key; made (and the account's, if need be) when `create`. nullopt if it does
  // not exist (never made, or destroyed) or a key file does not open.
  std::optional<Key> binding_key(std::string_view user_id, std::string_view device_id,
                                 int64_t generation, bool create);
  // The key of one of the person's data exports; made (with the account's) when `create`.
  std::optional<Key> export_key(std::string_view user_id, std::string_view export_id, bool create);
  // The export expired or was replaced: its file no longer opens, wherever it was copied.
  void destroy_export(std::string_view user_id, std::string_view export_id);
  // Destroys every key of that person's bindings of the device (the camera was unbound).
  void destroy_bindings(std::string_view user_id, std::string_view device_id);
  // Destroys every binding key of the device, whoever's (the camera was unbound: by its
  // owner, by the operator, or with its owner's account).
  void destroy_device(std::string_view device_id);
  // Destroys the account key and every key under it (the account was cancelled).
  void destroy_account(std::string_view user_id);

  // Several nodes sharing the directory: keys another node destroyed must not live on in
  // this one's memory, so what it remembers is dropped when a binding or an account ends
  // anywhere (the change feed); keys are read again from their files.
  void forget_cached();

  const std::filesystem::path& dir() const { return dir_; }

 private:
  explicit KeyStore(std::filesystem::path dir, Key master)
      : dir_(std::move(dir)), master_(master) {}
  std::optional<Key> account_key(std::string_view user_id, bool create);
  // A key wrapped by the account key, at KEYDIR/{name}.key. Called with mu_ held.
  std::optional<Key> child_key(std::string_view user_id, const std::string& name,
                               const std::string& context, bool create);
  std::filesystem::path dir_;
  Key master_;
  std::mutex mu_;
  std::map<std::string, Key> cache_;  // unwrapped keys by file name
};

// A sealed blob: "NJS1", a 24-byte nonce, then the ciphertext and its 16-byte tag. `context`
// is the associated data (what the blob is of: e.g. the device and event ids).
std::string seal(const Key& key, std::string_view context, std::string_view plain);
// The plain text, or nullopt if the blob is not sealed with that key and context.
std::optional<std::string> open_sealed(const Key& key, std::string_view context,
                                       std::string_view sealed);
bool is_sealed(std::string_view blob);

// Overwrites a file with zeros, syncs it, removes it and syncs its directory.
void shred_file(const std::filesystem::path& path);

}  // namespace nj::keys
