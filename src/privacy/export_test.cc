#include "privacy/export.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "common/test_run.h"
#include "keys/records.h"
#include "privacy/requests.h"
#include "recording/test_store.h"
#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::privacy {
namespace {

using store::Value;

using nj::testing::run;

class ExportTest : public ::testing::Test {
 protected:
  ExportTest()
      : db_(store::testing::open_test_database()),
        clock_(1'800'000'000'000),
        dir_(std::filesystem::temp_directory_path() / ("nj-export-" + std::to_string(::getpid()))),
        exports_(*db_, clock_, dir_,
                 [this](const std::string& device,
                        const std::string& event) -> Result<std::string, recording::Unreadable> {
                   if (during_build_) during_build_();
                   if (pictures_away_) return Unexpected(recording::Unreadable::kUnavailable);
                   return "JPEG of " + device + "/" + event;
                 }) {
    EXPECT_TRUE(store::migrate(*db_, store::builtin_migrations()));
    std::filesystem::remove_all(dir_);
    keys_ = std::move(keys::KeyStore::open(dir_.string() + "-keys")).value();
    exports_.set_keys(keys_.get());
    for (const char* who : {"ann", "bob"}) {
      const std::string id = std::string(who) + "-user";
      const Value u[] = {id, std::string(who) + "@example.org"};
      EXPECT_TRUE(
          db_->execute("INSERT INTO users (id, email, password_hash, language, status, created_at) "
                       "VALUES ($1, $2, 'secret-hash', 'en', 'active', 0)",
                       u));
      const Value d[] = {std::string(who) + "-cam", "SERIAL-" + std::string(who), id};
      EXPECT_TRUE(
          db_->execute("INSERT INTO devices (id, serial, secret_hash, created_at, owner_id) "
                       "VALUES ($1, $2, 'x', 0, $3)",
                       d));
      const Value e[] = {std::string(who) + "-event", std::string(who) + "-cam"};
      EXPECT_TRUE(
          db_->execute("INSERT INTO events (id, device_id, kind, start_ms, end_ms, snapshot_bytes) "
                       "VALUES ($1, $2, 'motion', 1000, 2000, 10)",
                       e));
      Requests requests(*db_, clock_, {});
      EXPECT_TRUE(requests.file(id, "question", std::string(who) + "'s own question"));
    }
  }
  ~ExportTest() override {
    std::filesystem::remove_all(dir_);
    std::filesystem::remove_all(dir_.string() + "-keys");
  }
  // The export's plain bytes, as a download gets them, into a file for unzip.
  std::filesystem::path downloaded(const std::string& user, const std::string& id) {
    auto d = exports_.open(user, id);
    EXPECT_TRUE(d);
    if (!d) return {};
    const auto path = dir_ / (id + ".download.zip");
    std::ofstream out(path, std::ios::binary);
    for (uint64_t at = 0; at < d->size; at += 100'000) {
      auto piece = d->read(at, 100'000);
      EXPECT_TRUE(piece);
      if (!piece) break;
      out.write(reinterpret_cast<const char*>(piece->data()),
                static_cast<std::streamsize>(piece->size()));
    }
    return path;
  }
  std::string raw(const std::string& id) {
    std::ifstream in(dir_ / (id + ".zip"), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  std::function<void()> during_build_;
  bool pictures_away_ = false;  // the pictures' bucket cannot be reached
  std::unique_ptr<keys::KeyStore> keys_;
  std::unique_ptr<store::Database> db_;
  ManualClock clock_;
  std::filesystem::path dir_;
  Exports exports_;
};

TEST_F(ExportTest, HoldsEveryRecordOfThePersonAndNoneOfAnyoneElse) {
  auto queued = exports_.request("ann-user");
  ASSERT_TRUE(queued);
  EXPECT_EQ(queued->state, "queued");
  EXPECT_FALSE(exports_.request("ann-user")) << "one at a time";
  EXPECT_FALSE(exports_.open("ann-user", queued->id)) << "not ready yet";
  ASSERT_TRUE(exports_.run_next());
  EXPECT_FALSE(exports_.run_next());
  const auto ready = exports_.latest("ann-user");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->state, "ready");
  EXPECT_EQ(ready->done, ready->total);
  EXPECT_EQ(ready->expires_at, clock_.now_ms() + kExportLifetimeMs);
  EXPECT_FALSE(exports_.open("bob-user", ready->id)) << "not someone else's";
  const auto file = downloaded("ann-user", ready->id);
  const std::string zip = "'" + file.string() + "'";
  const std::string all = run("unzip -p " + zip);
  EXPECT_NE(all.find("ann@example.org"), std::string::npos);
  EXPECT_NE(all.find("SERIAL-ann"), std::string::npos);
  EXPECT_NE(all.find("ann's own question"), std::string::npos);
  EXPECT_EQ(run("unzip -p " + zip + " pictures/ann-cam/ann-event.jpg"),
            "JPEG of ann-cam/ann-event");
  for (const char* theirs : {"bob", "secret-hash"}) {
    EXPECT_EQ(all.find(theirs), std::string::npos) << theirs << " is in ann's export";
  }
  // On disk it is sealed (docs/keys.md): no ZIP header, no record of hers readable.
  const std::string sealed = raw(ready->id);
  ASSERT_FALSE(sealed.empty());
  for (const char* plain : {"PK\x03\x04", "ann@example.org", "SERIAL-ann", "JPEG of"}) {
    EXPECT_EQ(sealed.find(plain), std::string::npos) << plain << " is readable on disk";
  }
  // A day later it is gone, and its key with it: a copy made while it lasted stays shut.
  std::filesystem::copy_file(dir_ / (ready->id + ".zip"), dir_ / "copy.zip");
  const auto key = keys_->export_key("ann-user", ready->id, false);
  ASSERT_TRUE(key);
  EXPECT_TRUE(
      keys::SealedFileReader::open(dir_ / "copy.zip", *key, "nightjar-export\n" + ready->id));
  clock_.advance_ms(kExportLifetimeMs + 1);
  exports_.expire();
  EXPECT_FALSE(exports_.open("ann-user", ready->id));
  EXPECT_FALSE(std::filesystem::exists(dir_ / (ready->id + ".zip")));
  EXPECT_FALSE(keys_->export_key("ann-user", ready->id, false)) << "the key outlived it";
  EXPECT_EQ(exports_.latest("ann-user")->state, "expired");
  EXPECT_TRUE(exports_.request("ann-user")) << "another can be asked for";
  exports_.forget_user("ann-user");
  EXPECT_FALSE(exports_.latest("ann-user"));
}

// Several nodes: a person whose region keeps its data in a bucket gets the export kept there
// (sealed), not on the node that built it, so another node serves the download (its own
// Exports on the same bucket); it is gone from the bucket when it expires. On files and, as
// "s3.…", on a real S3 (RGW). The recordings make it span several 1 MiB chunks.
TEST_F(ExportTest, KeptInTheRegionsBucketAndDownloadedThroughAnotherNode) {
  const auto prefix = recording::testing::fresh_prefix();
  auto bucket = recording::testing::open_test_store(dir_ / "bucket", prefix);
  auto other_node_bucket = recording::testing::open_test_store(dir_ / "bucket", prefix);
  exports_.set_store_for([&](std::string_view) { return bucket.get(); });
  std::string video(3'000'000, '\0');
  for (size_t i = 0; i < video.size(); ++i) video[i] = static_cast<char>(i * 13 + i / 777);
  exports_.set_recordings([&](const std::string& device) {
    std::vector<Exports::RecordingFile> out;
    out.push_back({"recordings/" + device + "/1-1.mp4", video.size(),
                   [&video](uint64_t at, uint64_t n) -> std::optional<std::vector<uint8_t>> {
                     return std::vector<uint8_t>(video.begin() + static_cast<long>(at),
                                                 video.begin() + static_cast<long>(at + n));
                   }});
    return out;
  });
  ASSERT_TRUE(exports_.request("ann-user", true));
  ASSERT_TRUE(exports_.run_next());
  const auto ready = exports_.latest("ann-user");
  ASSERT_EQ(ready->state, "ready");
  EXPECT_FALSE(std::filesystem::exists(dir_ / (ready->id + ".zip"))) << "not left on the node";
  const std::string key = "ann-user/" + ready->id + ".zip";
  const auto stored = bucket->get(key);
  ASSERT_TRUE(stored);
  const std::string sealed(stored->begin(), stored->end());
  for (const char* plain : {"PK\x03\x04", "ann@example.org", "SERIAL-ann"}) {
    EXPECT_EQ(sealed.find(plain), std::string::npos) << plain << " is readable in the bucket";
  }
  // Another node: its own Exports and client, the same database, keys and bucket.
  Exports other(*db_, clock_, dir_ / "other", {});
  other.set_keys(keys_.get());
  other.set_store_for([&](std::string_view) { return other_node_bucket.get(); });
  auto d = other.open("ann-user", ready->id);
  ASSERT_TRUE(d);
  std::string zip;
  for (uint64_t at = 0; at < d->size; at += 700'000) {
    auto piece = d->read(at, 700'000);
    ASSERT_TRUE(piece) << "at " << at;
    zip.append(piece->begin(), piece->end());
  }
  EXPECT_EQ(zip.size(), d->size);
  const auto path = dir_ / "other.zip";
  std::ofstream(path, std::ios::binary) << zip;
  EXPECT_EQ(run("unzip -p '" + path.string() + "' recordings/ann-cam/1-1.mp4"), video);
  EXPECT_NE(run("unzip -p '" + path.string() + "' account.json").find("ann@example.org"),
            std::string::npos);
  clock_.advance_ms(kExportLifetimeMs + 1);
  other.expire();
  EXPECT_FALSE(bucket->get(key)) << "gone from the bucket";
  EXPECT_FALSE(exports_.open("ann-user", ready->id));
}

// Recordings, when asked for: each of their cameras' recordings as an MP4 in the ZIP, read
// piece by piece; one that can no longer be read is left out and the export still stands;
// another person's cameras are never asked.
TEST_F(ExportTest, RecordingsAreInItOnlyWhenAskedForAndOnlyTheirOwn) {
  std::string video(2'500'000, '\0');
  for (size_t i = 0; i < video.size(); ++i) video[i] = static_cast<char>(i * 7 + i / 1000);
  std::vector<std::string> asked;
  exports_.set_recordings([&](const std::string& device) {
    asked.push_back(device);
    std::vector<Exports::RecordingFile> out;
    out.push_back({"recordings/" + device + "/1000-1.mp4", video.size(),
                   [&video](uint64_t at, uint64_t n) -> std::optional<std::vector<uint8_t>> {
                     return std::vector<uint8_t>(video.begin() + static_cast<long>(at),
                                                 video.begin() + static_cast<long>(at + n));
                   }});
    out.push_back({"recordings/" + device + "/2000-2.mp4", 10,
                   [](uint64_t, uint64_t) -> std::optional<std::vector<uint8_t>> {
                     return std::nullopt;  // reaped meanwhile
                   }});
    return out;
  });
  // Without asking: no recordings.
  auto plain = exports_.request("ann-user");
  ASSERT_TRUE(exports_.run_next());
  EXPECT_TRUE(asked.empty());
  EXPECT_FALSE(exports_.latest("ann-user")->with_recordings);
  const auto without = downloaded("ann-user", plain->id);
  EXPECT_EQ(run("unzip -Z1 '" + without.string() + "' | grep -c recordings/"), "0\n");

  auto with = exports_.request("ann-user", true);
  ASSERT_TRUE(with);
  EXPECT_TRUE(with->with_recordings);
  ASSERT_TRUE(exports_.run_next());
  EXPECT_EQ(asked, std::vector<std::string>{"ann-cam"}) << "only her own cameras";
  const auto ready = exports_.latest("ann-user");
  ASSERT_EQ(ready->state, "ready");
  EXPECT_EQ(ready->done, ready->total);
  EXPECT_TRUE(exports_.open("ann-user", with->id));
  const auto zip = "'" + downloaded("ann-user", with->id).string() + "'";
  EXPECT_NE(run("unzip -t " + zip + " 2>&1").find("No errors detected"), std::string::npos);
  const std::string unzipped = run("unzip -p " + zip + " recordings/ann-cam/1000-1.mp4");
  EXPECT_EQ(unzipped.size(), video.size());
  EXPECT_TRUE(unzipped == video) << "the recording's bytes, unchanged";
  EXPECT_EQ(run("unzip -Z1 " + zip + " | grep -c 2000-2"), "0\n") << "the unreadable one is out";
}

// The account is cancelled while its export is being built: nothing of the export stays,
// not its row, not its file, not its key, and no one is told it is ready.
// The bucket of the pictures cannot be reached during the build: the export fails (the
// person sees it and asks again) rather than be ready without them.
TEST_F(ExportTest, APictureThatCannotBeReachedFailsTheExportRatherThanBeLeftOut) {
  ASSERT_TRUE(exports_.request("ann-user"));
  pictures_away_ = true;
  ASSERT_TRUE(exports_.run_next());
  const auto failed = exports_.latest("ann-user");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->state, "failed");
  EXPECT_FALSE(exports_.open("ann-user", failed->id));
  pictures_away_ = false;
  clock_.advance_ms(1000);
  auto again = exports_.request("ann-user");
  ASSERT_TRUE(again);
  ASSERT_TRUE(exports_.run_next());
  EXPECT_EQ(exports_.latest("ann-user")->state, "ready");
  const auto zip = "'" + downloaded("ann-user", again->id).string() + "'";
  EXPECT_EQ(run("unzip -p " + zip + " pictures/ann-cam/ann-event.jpg"),
            "JPEG of ann-cam/ann-event");
}

TEST_F(ExportTest, ACancellationDuringTheBuildLeavesNothingBehind) {
  auto queued = exports_.request("ann-user");
  ASSERT_TRUE(queued);
  bool cancelled = false;
  during_build_ = [&] {
    if (cancelled) return;
    cancelled = true;
    // What cancelling does, in the middle of the build (the pictures come last).
    keys_->destroy_account("ann-user");
    exports_.forget_user("ann-user");
  };
  ASSERT_TRUE(exports_.run_next());
  EXPECT_TRUE(cancelled);
  EXPECT_FALSE(exports_.latest("ann-user"));
  EXPECT_FALSE(keys_->export_key("ann-user", queued->id, false));
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    ADD_FAILURE() << e.path() << " was left behind";
  }
  // Bob's export is not touched by Ann's leaving.
  during_build_ = {};
  auto bobs = exports_.request("bob-user");
  ASSERT_TRUE(exports_.run_next());
  EXPECT_EQ(exports_.latest("bob-user")->state, "ready");
  EXPECT_TRUE(exports_.open("bob-user", bobs->id));
}

}  // namespace
}  // namespace nj::privacy
