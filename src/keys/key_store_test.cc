#include "keys/key_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <vector>

namespace nj::keys {
namespace {

class KeyStoreTest : public ::testing::Test {
 protected:
  KeyStoreTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("nj-keys-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(dir_);
  }
  ~KeyStoreTest() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<KeyStore> open() { return std::move(KeyStore::open(dir_)).value(); }
  static int mode(const std::filesystem::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
  }
  std::filesystem::path dir_;
};

TEST_F(KeyStoreTest, SealedDataOpensOnlyWithItsKeyAndContext) {
  Key a{}, b{};
  a[0] = 1;
  b[0] = 2;
  const auto sealed = seal(a, "device d1 event e1", "a picture");
  EXPECT_TRUE(is_sealed(sealed));
  EXPECT_EQ(sealed.find("a picture"), std::string::npos);
  EXPECT_EQ(open_sealed(a, "device d1 event e1", sealed), "a picture");
  EXPECT_FALSE(open_sealed(b, "device d1 event e1", sealed)) << "another key";
  EXPECT_FALSE(open_sealed(a, "device d1 event e2", sealed)) << "moved to another name";
  std::string tampered = sealed;
  tampered.back() ^= 1;
  EXPECT_FALSE(open_sealed(a, "device d1 event e1", tampered));
  EXPECT_FALSE(open_sealed(a, "x", "not sealed at all"));
  EXPECT_NE(seal(a, "c", "same"), seal(a, "c", "same")) << "a fresh nonce every time";
}

TEST_F(KeyStoreTest, KeysAreMadeOnceKeptPrivateAndSurviveARestart) {
  Key first;
  {
    auto store = open();
    EXPECT_FALSE(store->binding_key("u1", "d1", 3, false)) << "not made unless asked";
    auto k = store->binding_key("u1", "d1", 3, true);
    ASSERT_TRUE(k);
    first = *k;
    EXPECT_EQ(store->binding_key("u1", "d1", 3, true), first);
    EXPECT_NE(store->binding_key("u1", "d1", 4, true), first) << "each binding its own";
  }
  auto store = open();
  EXPECT_EQ(store->binding_key("u1", "d1", 3, false), first);
  EXPECT_EQ(mode(dir_), 0700);
  EXPECT_EQ(mode(dir_ / "master.key"), 0600);
  EXPECT_EQ(mode(dir_ / "accounts" / "u1.key"), 0600);
  EXPECT_EQ(mode(dir_ / "bindings" / "u1" / "d1-3.key"), 0600);
  // The files hold wrapped keys, not the keys.
  std::ifstream in(dir_ / "bindings" / "u1" / "d1-3.key", std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(file.find(std::string(first.begin(), first.end())), std::string::npos);
  // Names that are not ids make no path.
  EXPECT_FALSE(store->binding_key("../u1", "d1", 3, true));
  EXPECT_FALSE(store->binding_key("u1", "d1/..", 3, true));
}

TEST_F(KeyStoreTest, DestroyedKeysAreGoneForEveryInstanceAndWhatTheySealedStaysSealed) {
  auto store = open();
  const auto k = *store->binding_key("u1", "d1", 1, true);
  const auto other = *store->binding_key("u1", "d2", 1, true);
  const auto sealed = seal(k, "ctx", "the picture");
  store->destroy_bindings("u1", "d1");
  EXPECT_FALSE(store->binding_key("u1", "d1", 1, false));
  EXPECT_FALSE(open()->binding_key("u1", "d1", 1, false)) << "not on disk either";
  EXPECT_EQ(store->binding_key("u1", "d2", 1, false), other) << "another camera's stays";
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bindings" / "u1" / "d1-1.key"));
  // Made again, it is a new key: the old seal does not open with it.
  const auto again = *store->binding_key("u1", "d1", 1, true);
  EXPECT_FALSE(open_sealed(again, "ctx", sealed));

  // The device, whoever's binding: every key of it.
  (void)*store->binding_key("u2", "d3", 7, true);
  store->destroy_device("d3");
  EXPECT_FALSE(store->binding_key("u2", "d3", 7, false));
  EXPECT_EQ(store->binding_key("u1", "d2", 1, false), other);

  // The account: its key and every binding key under it.
  store->destroy_account("u1");
  EXPECT_FALSE(store->binding_key("u1", "d2", 1, false));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "accounts" / "u1.key"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bindings" / "u1"));
  // A binding key file restored from somewhere cannot be unwrapped: its account key is gone.
  EXPECT_FALSE(open()->binding_key("u1", "d2", 1, false));
}

// Several nodes sharing one key directory: stores opened at once agree on the master key and
// on each key made at once (one is made, every store reads it); a key one store destroyed
// is forgotten by another once told (forget_cached), never used from its memory again.
TEST_F(KeyStoreTest, NodesSharingTheDirectoryMakeEachKeyOnceAndForgetWhatAnotherDestroyed) {
  std::vector<std::unique_ptr<KeyStore>> stores(4);
  {
    std::vector<std::thread> opening;
    for (auto& s : stores) opening.emplace_back([&] { s = open(); });
    for (auto& t : opening) t.join();
  }
  std::vector<std::optional<Key>> made(stores.size());
  {
    std::vector<std::thread> making;
    for (size_t i = 0; i < stores.size(); ++i) {
      making.emplace_back([&, i] { made[i] = stores[i]->binding_key("u1", "d1", 1, true); });
    }
    for (auto& t : making) t.join();
  }
  for (const auto& k : made) {
    ASSERT_TRUE(k);
    EXPECT_EQ(*k, *made[0]) << "one key for the binding, whichever store made it";
  }
  EXPECT_EQ(open()->binding_key("u1", "d1", 1, false), made[0]) << "and it is the one on disk";
  std::vector<std::string> leftovers;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_)) {
    if (e.path().string().find(".new.") != std::string::npos) leftovers.push_back(e.path());
  }
  EXPECT_TRUE(leftovers.empty()) << leftovers.front();

  stores[0]->destroy_device("d1");
  EXPECT_TRUE(stores[1]->binding_key("u1", "d1", 1, false)) << "still remembered, until told";
  stores[1]->forget_cached();
  EXPECT_FALSE(stores[1]->binding_key("u1", "d1", 1, false));
}

}  // namespace
}  // namespace nj::keys
