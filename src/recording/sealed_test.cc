// Recordings sealed at rest (docs/keys.md): what is on disk is ciphertext, what playback,
// byte ranges and clips read is the very MP4 an unsealed recorder writes, and a record that
// is changed, moved or read without its binding's key does not open.
#include "recording/sealed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>

#include "keys/records.h"
#include "media/fmp4/demux.h"
#include "recording/clip.h"
#include "recording/recorder.h"
#include "recording/test_files.h"
#include "recording/test_stream.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace nj::recording {
namespace {

using testing::file_bytes;
using testing::fresh_dir;
using testing::open_db;

bool contains(const std::vector<uint8_t>& hay, std::string_view needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// The test's key holder: one binding (generation 3) whose key can be taken away.
struct Keys {
  std::optional<BindingKey> current = BindingKey{3, random_key()};
  static keys::Key random_key() {
    keys::Key k;
    std::random_device rd;
    for (auto& b : k) b = static_cast<uint8_t>(rd());
    return k;
  }
  KeyLookup lookup() {
    return [this](const std::string& device, bool) -> std::optional<BindingKey> {
      if (device != "dev-1") return std::nullopt;
      return current;
    };
  }
};

RecorderOptions options(KeyLookup keys) {
  RecorderOptions o;
  o.sync = false;
  o.reserve_bytes = 0;
  o.keys = std::move(keys);
  return o;
}

// One minute of the same synthetic stream, recorded sealed (dir/a) and plain (dir/b).
struct Recorded {
  std::filesystem::path dir;
  std::unique_ptr<store::Database> db_sealed, db_plain;
  std::unique_ptr<LocalStore> sealed, plain;
  std::unique_ptr<Catalog> sealed_catalog, plain_catalog;
  Keys keys;
  explicit Recorded(const char* name, int seconds = 60) : dir(fresh_dir(name)) {
    db_sealed = open_db(dir / "a.db");
    db_plain = open_db(dir / "b.db");
    sealed = std::make_unique<LocalStore>(dir / "a");
    plain = std::make_unique<LocalStore>(dir / "b");
    sealed_catalog = std::make_unique<Catalog>(*db_sealed);
    plain_catalog = std::make_unique<Catalog>(*db_plain);
    StreamRecorder a(*sealed, *sealed_catalog, options(keys.lookup()), "dev-1", "CAM-1");
    StreamRecorder b(*plain, *plain_catalog, options({}), "dev-1", "CAM-1");
    testing::Stream sa(50), sb(50);
    a.begin(testing::stream_info());
    b.begin(testing::stream_info());
    for (int i = 0; i < seconds * 25; ++i) {
      for (const auto& f : sa.next()) a.push(f);
      for (const auto& f : sb.next()) b.push(f);
    }
  }
  ~Recorded() { std::filesystem::remove_all(dir); }
  Segment one(Catalog& c) {
    auto all = c.between("dev-1", 0, INT64_MAX);
    EXPECT_EQ(all.size(), 1u);
    return all.front();
  }
};

TEST(SealedRecording, TheFileIsCiphertextAndReadsBackAsTheVeryMp4APlainRecorderWrites) {
  Recorded r("same");
  const auto s = r.one(*r.sealed_catalog);
  const auto p = r.one(*r.plain_catalog);
  ASSERT_TRUE(s.key_generation);
  EXPECT_EQ(*s.key_generation, 3);
  EXPECT_FALSE(p.key_generation);
  EXPECT_EQ(s.bytes, p.bytes) << "the index describes the plain MP4";
  EXPECT_EQ(s.fragments, p.fragments);

  const auto raw = file_bytes(r.dir / "a" / s.store_key);
  EXPECT_EQ(raw.size(), stored_size(s));
  EXPECT_EQ(raw.size(), s.bytes + 48 * (s.fragments.size() + 1)) << "48 bytes a record";
  for (const char* box : {"ftyp", "moov", "moof", "mdat", "avc1", "mp4a"}) {
    EXPECT_FALSE(contains(raw, box)) << box << " is readable on disk";
  }
  EXPECT_TRUE(media::fmp4::demux(raw).error) << "the raw file is no MP4";

  auto reader = open_segment(*r.sealed, s, r.keys.lookup());
  const auto whole = reader->read(0, reader->size());
  ASSERT_TRUE(whole);
  EXPECT_EQ(*whole, file_bytes(r.dir / "b" / p.store_key));
  EXPECT_FALSE(media::fmp4::demux(*whole).error);

  // Any byte range, across record boundaries, is the same range of the plain file.
  const std::pair<uint64_t, uint64_t> ranges[] = {{0, 1},
                                                  {0, s.init_size + 1},
                                                  {s.init_size - 3, 10},
                                                  {s.init_size + s.fragments[0].size - 5, 5000},
                                                  {s.bytes - 7, 7},
                                                  {s.bytes - 7, 100},
                                                  {12345, 400'000}};
  for (const auto& [at, n] : ranges) {
    const auto part = reader->read(at, n);
    ASSERT_TRUE(part) << at;
    const auto end = std::min<uint64_t>(at + n, s.bytes);
    EXPECT_TRUE(std::equal(part->begin(), part->end(), whole->begin() + static_cast<long>(at),
                           whole->begin() + static_cast<long>(end)))
        << at << "+" << n;
    EXPECT_EQ(part->size(), end - at);
  }
}

TEST(SealedRecording, AClipOfASealedRecordingIsTheClipOfThePlainOne) {
  Recorded r("clip");
  const auto s = r.sealed_catalog->between("dev-1", 0, INT64_MAX);
  const auto p = r.plain_catalog->between("dev-1", 0, INT64_MAX);
  const int64_t t0 = s.front().start_ms;
  auto a = plan_clip(*r.sealed, r.keys.lookup(), s, t0 + 7'300, t0 + 41'100);
  auto b = plan_clip(*r.plain, {}, p, t0 + 7'300, t0 + 41'100);
  ASSERT_TRUE(a) << a.error();
  ASSERT_TRUE(b) << b.error();
  ASSERT_EQ(a->size, b->size);
  const auto ca = read_clip(*a, 0, a->size), cb = read_clip(*b, 0, b->size);
  ASSERT_TRUE(ca && cb);
  EXPECT_EQ(*ca, *cb);
  const auto ra = read_clip(*a, 1000, 300'000), rb = read_clip(*b, 1000, 300'000);
  ASSERT_TRUE(ra && rb);
  EXPECT_EQ(*ra, *rb);
}

TEST(SealedRecording, WithoutItsBindingsKeyNothingOpens) {
  Recorded r("nokey");
  const auto s = r.one(*r.sealed_catalog);
  // The next binding (the camera changed hands): its key is not the one this was sealed with.
  r.keys.current = BindingKey{4, Keys::random_key()};
  EXPECT_FALSE(open_segment(*r.sealed, s, r.keys.lookup())->read(0, 10));
  EXPECT_FALSE(plan_clip(*r.sealed, r.keys.lookup(), {s}, s.start_ms, s.end_ms));
  // The same generation with another key (a key made again after it was destroyed).
  r.keys.current = BindingKey{3, Keys::random_key()};
  EXPECT_FALSE(open_segment(*r.sealed, s, r.keys.lookup())->read(0, 10));
  // No key at all.
  r.keys.current.reset();
  EXPECT_FALSE(open_segment(*r.sealed, s, r.keys.lookup())->read(0, 10));
  EXPECT_FALSE(open_segment(*r.sealed, s, {})->read(0, 10));
}

TEST(SealedRecording, AChangedOrMovedRecordDoesNotOpen) {
  Recorded r("tamper");
  const auto s = r.one(*r.sealed_catalog);
  const auto path = r.dir / "a" / s.store_key;
  const auto original = file_bytes(path);
  auto write = [&](const std::vector<uint8_t>& b) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  };
  const uint64_t first = s.init_size + 48;  // the first fragment's record
  const uint64_t second = first + s.fragments[0].size + 48;
  // One bit of the second fragment's ciphertext.
  auto changed = original;
  changed[second + 1000] ^= 1;
  write(changed);
  auto reader = open_segment(*r.sealed, s, r.keys.lookup());
  EXPECT_TRUE(reader->read(s.init_size, 10)) << "the first fragment is untouched";
  EXPECT_FALSE(reader->read(s.init_size + s.fragments[0].size, 10));
  // The first two fragments swapped (same sizes in the synthetic stream? no matter: the
  // index binds each record to its place).
  ASSERT_EQ(s.fragments[0].size, s.fragments[1].size) << "the test needs equal fragments";
  auto swapped = original;
  const auto len = static_cast<long>(s.fragments[0].size + 48);
  std::copy(original.begin() + static_cast<long>(second),
            original.begin() + static_cast<long>(second) + len,
            swapped.begin() + static_cast<long>(first));
  std::copy(original.begin() + static_cast<long>(first),
            original.begin() + static_cast<long>(first) + len,
            swapped.begin() + static_cast<long>(second));
  write(swapped);
  reader = open_segment(*r.sealed, s, r.keys.lookup());
  EXPECT_FALSE(reader->read(s.init_size, 10));
  // Another segment's id in the associated data: a file copied under another row.
  write(original);
  auto other = s;
  other.id += 1;
  EXPECT_FALSE(open_segment(*r.sealed, other, r.keys.lookup())->read(0, 10));
  EXPECT_TRUE(open_segment(*r.sealed, s, r.keys.lookup())->read(0, 10));
}

// A crash in the middle of a sealed fragment: recovery opens each record after the index,
// keeps the whole fragments, and cuts the half-written record.
TEST(SealedRecording, RecoveryKeepsEveryWholeSealedFragmentAndCutsTheHalfWrittenOne) {
  const auto dir = fresh_dir("crash");
  const auto crashed = fresh_dir("crashed");
  Keys keys;
  uint64_t fragments_written = 0;
  {
    auto db = open_db(dir / "nj.db");
    LocalStore store(dir / "media");
    Catalog catalog(*db);
    auto o = options(keys.lookup());
    o.index_interval = std::chrono::hours(1);
    StreamRecorder r(store, catalog, o, "dev-1", "CAM-1");
    testing::Stream stream(50);
    r.begin(testing::stream_info());
    for (int i = 0; i < 61 * 25; ++i) {
      for (const auto& f : stream.next()) r.push(f);
    }
    fragments_written = r.stats().fragments;
    testing::crash_copy(dir, crashed);
  }
  auto db = open_db(crashed / "nj.db");
  Catalog catalog(*db);
  auto open = catalog.open_segments();
  ASSERT_EQ(open.size(), 1u);
  ASSERT_TRUE(open[0].fragments.empty());
  const auto path = crashed / "media" / open[0].store_key;
  const auto whole = std::filesystem::file_size(path);
  {
    const auto bytes = file_bytes(path);  // the start of a record, cut short
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out.write(reinterpret_cast<const char*>(bytes.data() + open[0].init_size + 48), 3000);
  }
  LocalStore store(crashed / "media");
  const auto report = recover(store, catalog, keys.lookup());
  EXPECT_EQ(report.fragments_found, fragments_written);
  EXPECT_EQ(report.bytes_cut, 3000u);
  EXPECT_EQ(std::filesystem::file_size(path), whole);
  const auto s = catalog.by_id(open[0].id);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->open);
  EXPECT_EQ(stored_size(*s), whole);
  EXPECT_EQ(s->end_ms, s->start_ms + 60'000);
  auto reader = open_segment(store, *s, keys.lookup());
  const auto plain = reader->read(0, reader->size());
  ASSERT_TRUE(plain);
  const auto d = media::fmp4::demux(*plain);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.fragments.size(), fragments_written * 2);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(crashed);
}

// Without the key (the binding ended while the server was down), recovery cannot check
// what follows the index: it keeps what the index holds, and nothing after it.
TEST(SealedRecording, RecoveryWithoutTheKeyKeepsOnlyWhatTheIndexHolds) {
  const auto dir = fresh_dir("crash-nokey");
  const auto crashed = fresh_dir("crashed-nokey");
  Keys keys;
  int64_t id = 0;
  size_t indexed = 0;
  {
    auto db = open_db(dir / "nj.db");
    LocalStore store(dir / "media");
    Catalog catalog(*db);
    auto o = options(keys.lookup());
    o.index_interval = std::chrono::seconds(0);  // the index is saved at every fragment
    StreamRecorder r(store, catalog, o, "dev-1", "CAM-1");
    testing::Stream stream(50);
    r.begin(testing::stream_info());
    for (int i = 0; i < 21 * 25; ++i) {
      for (const auto& f : stream.next()) r.push(f);
    }
    auto open = catalog.open_segments();
    ASSERT_EQ(open.size(), 1u);
    id = open[0].id;
    indexed = open[0].fragments.size();
    ASSERT_GT(indexed, 0u);
    // The recorder is abandoned here, as a crash would, and more was written after the
    // index was last saved (a record's worth).
    store.close(open[0].store_key);
    std::vector<uint8_t> more(open[0].fragments[0].size + 48, 0x5a);
    ASSERT_TRUE(store.append(open[0].store_key, more, false));
    testing::crash_copy(dir, crashed);
  }
  auto db = open_db(crashed / "nj.db");
  Catalog catalog(*db);
  LocalStore store(crashed / "media");
  keys.current.reset();
  const auto report = recover(store, catalog, keys.lookup());
  EXPECT_EQ(report.fragments_found, 0u);
  EXPECT_GT(report.bytes_cut, 0u);
  const auto s = catalog.by_id(id);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->open);
  EXPECT_EQ(s->fragments.size(), indexed);
  EXPECT_EQ(std::filesystem::file_size(crashed / "media" / s->store_key), stored_size(*s));
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(crashed);
}

TEST(SealedRecording, ARecorderWithoutAKeyWritesNothingInTheClear) {
  const auto dir = fresh_dir("never-clear");
  auto db = open_db(dir / "nj.db");
  LocalStore store(dir / "media");
  Catalog catalog(*db);
  Keys keys;
  keys.current.reset();
  StreamRecorder r(store, catalog, options(keys.lookup()), "dev-1", "CAM-1");
  testing::Stream stream(50);
  r.begin(testing::stream_info());
  for (int i = 0; i < 10 * 25; ++i) {
    for (const auto& f : stream.next()) r.push(f);
  }
  EXPECT_TRUE(r.stats().paused);
  EXPECT_EQ(r.stats().bytes, 0u);
  EXPECT_TRUE(catalog.of_device("dev-1").empty());
  EXPECT_TRUE(store.list("default/").empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nj::recording
