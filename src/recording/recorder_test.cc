#include "recording/recorder.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "media/fmp4/demux.h"
#include "recording/test_files.h"
#include "recording/test_stream.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace nj::recording {
namespace {

using testing::file_bytes;
using testing::fresh_dir;
using testing::open_db;

RecorderOptions fast_options() {
  RecorderOptions o;
  o.sync = false;       // a test is not about power loss
  o.reserve_bytes = 0;  // any free space will do
  return o;
}

// Minutes of the synthetic stream into a recorder, as fast as it goes.
void feed(StreamRecorder& r, testing::Stream& s, int seconds) {
  for (int i = 0; i < seconds * 25; ++i) {
    for (const auto& f : s.next()) r.push(f);
  }
}

TEST(Recorder, ContinuousRecordingIsOneSpanAcrossSegmentFilesWithASmallIndex) {
  const auto dir = fresh_dir("span");
  auto db = open_db(dir / "nj.db");
  LocalStore store(dir / "media");
  Catalog catalog(*db);
  testing::Stream stream(50);
  {
    StreamRecorder r(store, catalog, fast_options(), "dev-1", "CAM-1");
    r.begin(testing::stream_info());
    feed(r, stream, 25 * 60);  // 25 minutes
    r.finish();
    EXPECT_EQ(r.stats().segments, 3u) << "10 + 10 + 5 minutes";
    EXPECT_EQ(r.stats().write_errors, 0u);
  }
  const int64_t start = 1'795'000'000'000;  // the stream's capture clock, in ms
  const auto segments = catalog.between("dev-1", start - 60'000, start + 3'600'000);
  ASSERT_EQ(segments.size(), 3u);
  uint64_t index_bytes = 0, file_total = 0, media_total = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    const auto& s = segments[i];
    EXPECT_FALSE(s.open);
    if (i > 0) {
      EXPECT_EQ(s.start_ms, segments[i - 1].end_ms) << "no gap, no overlap";
    }
    // Each file is valid fMP4 and exactly what its index says.
    const auto bytes = file_bytes(dir / "media" / s.store_key);
    EXPECT_EQ(bytes.size(), s.bytes);
    const auto d = media::fmp4::demux(bytes);
    EXPECT_FALSE(d.error) << s.store_key;
    EXPECT_EQ(d.complete, bytes.size());
    EXPECT_EQ(d.fragments.size(), s.fragments.size() * 2) << "video and audio per fragment";
    index_bytes += encode_fragments(s.fragments).size() + 200;  // + the row's own columns
    file_total += s.bytes;
    media_total += s.media_bytes;
  }
  EXPECT_EQ(segments.front().start_ms, start);
  EXPECT_EQ(segments.back().end_ms, start + 25 * 60'000);
  const auto spans = spans_of(segments, start - 60'000, start + 3'600'000);
  ASSERT_EQ(spans.size(), 1u) << "one continuous span";
  EXPECT_EQ(spans[0].start_ms, start);
  EXPECT_EQ(spans[0].end_ms, start + 25 * 60'000);
  EXPECT_EQ(gaps_of(spans, start - 60'000, start + 3'600'000).size(), 2u) << "before and after";
  const double per_minute = static_cast<double>(index_bytes) / 25;
  std::printf("# index %.0f bytes per camera-minute; recorded %.4f x the media\n", per_minute,
              static_cast<double>(file_total) / static_cast<double>(media_total));
  EXPECT_LE(per_minute, 2048);
  EXPECT_LE(static_cast<double>(file_total), 1.01 * static_cast<double>(media_total));
  EXPECT_EQ(media_total, stream.video_bytes + stream.audio_bytes);
  std::filesystem::remove_all(dir);
}

TEST(Recorder, AStreamThatStopsAndStartsLeavesAGapBetweenTwoRuns) {
  const auto dir = fresh_dir("gap");
  auto db = open_db(dir / "nj.db");
  LocalStore store(dir / "media");
  Catalog catalog(*db);
  StreamRecorder r(store, catalog, fast_options(), "dev-1", "CAM-1");
  testing::Stream first(50, 1'795'000'000'000'000);
  r.begin(testing::stream_info());
  feed(r, first, 60);
  r.finish();
  testing::Stream second(50, 1'795'000'000'000'000 + 5 * 60'000'000);  // 5 minutes later
  r.begin(testing::stream_info());
  feed(r, second, 60);
  r.finish();
  const int64_t t0 = 1'795'000'000'000;
  const auto spans = spans_of(catalog.between("dev-1", t0, t0 + 3'600'000), t0, t0 + 3'600'000);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].end_ms, t0 + 60'000);
  EXPECT_EQ(spans[1].start_ms, t0 + 5 * 60'000);
  const auto gaps = gaps_of(spans, t0, t0 + 10 * 60'000);
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_EQ(gaps[0].start_ms, t0 + 60'000);
  EXPECT_EQ(gaps[0].end_ms, t0 + 5 * 60'000) << "the camera was really away";
  std::filesystem::remove_all(dir);
}

// A camera whose node died kept what it could not send, and sends it to its new node as a
// backlog (backlog/{serial}, in one burst) while its live stream starts at its latest
// keyframe: the service records every frame of the backlog, by capture time, into a segment
// of its own that ends where the live one begins. A camera not recorded here gets nothing.
TEST(Recorder, ACamerasBacklogFillsTheRecordingUpToWhereItsLiveStreamBegins) {
  const auto dir = fresh_dir("backlog");
  auto db = open_db(dir / "nj.db");
  LocalStore store(dir / "media");
  Catalog catalog(*db);
  media::hub::Hub hub({}, {});
  auto options = fast_options();
  options.backlog_grace = std::chrono::milliseconds(500);
  RecordingService service(hub, store, catalog, options);
  // Captured over the last 10 s, by a clock that says so (a backlog must be recent).
  const int64_t t0 = (std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() -
                      10'000);
  testing::Stream stream(50, t0 * 1000);
  std::vector<media::hub::FramePtr> kept, later;
  for (int i = 0; i < 10 * 25; ++i) {
    for (const auto& f : stream.next()) (i < 6 * 25 ? kept : later).push_back(f);
  }
  // The hub's own event stands in for serve's: the service hears of the backlog at once,
  // before this node knows it records the camera (it learns a moment later).
  auto backlog = hub.publish("backlog/CAM-1", testing::stream_info());
  ASSERT_TRUE(backlog);
  service.on_published("backlog/CAM-1");
  for (const auto& f : kept) (*backlog)->publish(f);  // 6 s in a burst, far past a hub queue
  backlog->reset();
  service.set_recorded({{"dev-1", {.serial = "CAM-1", .events_only = {}, .region = {}}}});
  auto live = hub.publish("push/CAM-1", testing::stream_info());
  ASSERT_TRUE(live);
  // A backlog of a camera this node does not record: let go after the grace.
  auto stranger = hub.publish("backlog/CAM-2", testing::stream_info());
  ASSERT_TRUE(stranger);
  service.on_published("backlog/CAM-2");
  for (const auto& f : kept) (*stranger)->publish(f);
  for (int i = 0; i < 200 && hub.subscriber_count("backlog/CAM-2") > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(hub.subscriber_count("backlog/CAM-2"), 0u);
  stranger->reset();
  // The backlog's segment is closed once its stream ends.
  for (int i = 0; i < 250; ++i) {
    const auto done = catalog.between("dev-1", t0 - 60'000, t0 + 60'000, false);
    if (!done.empty() && !done[0].open) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // The live stream, once the recorder has it (it looks every 100 ms).
  for (int i = 0; i < 100 && hub.subscriber_count("push/CAM-1") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(hub.subscriber_count("push/CAM-1"), 1u);
  for (size_t i = 0; i < later.size(); ++i) {  // live: no faster than the worker drains
    (*live)->publish(later[i]);
    if (i % 50 == 49) std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  live->reset();
  service.set_recorded({});  // both finish
  const auto segments = catalog.between("dev-1", t0 - 60'000, t0 + 60'000);
  ASSERT_EQ(segments.size(), 2u);
  // Two runs (two connections), touching: no gap between the backlog and live.
  const auto spans = spans_of(segments, t0 - 60'000, t0 + 60'000);
  const auto gaps = gaps_of(spans, t0 - 60'000, t0 + 60'000);
  ASSERT_EQ(gaps.size(), 2u) << "only before and after";
  EXPECT_EQ(gaps[0].end_ms, t0);
  EXPECT_EQ(gaps[1].start_ms, t0 + 10'000);
  EXPECT_EQ(segments[0].end_ms, segments[1].start_ms) << "no overlap either";
  EXPECT_EQ(segments[1].start_ms, t0 + 6'000);
  std::filesystem::remove_all(dir);
}

// A camera moved to another node (its stream lives there now): the recorder here goes on
// while the camera still pushes here, so the recording is cut where the stream moved; once
// the camera has left it stops, and it stops anyway after the grace. None is started for a
// camera that moved.
TEST(Recorder, ACameraThatMovedIsRecordedUntilItsStreamLeavesAndNoLonger) {
  const auto dir = fresh_dir("moving");
  auto db = open_db(dir / "nj.db");
  for (const std::string n : {"2", "3"}) {
    const store::Value p[] = {"dev-" + n, "CAM-" + n};
    ASSERT_TRUE(db->execute(
        "INSERT INTO devices (id, serial, secret_hash, created_at) VALUES ($1, $2, 'x', 0)", p));
  }
  LocalStore store(dir / "media");
  Catalog catalog(*db);
  media::hub::Hub hub({}, {});
  auto options = fast_options();
  options.hand_over_grace = std::chrono::milliseconds(1500);
  RecordingService service(hub, store, catalog, options);
  const auto recorded = [](const std::string& serial, bool moving) {
    return RecordingService::Recorded{
        .serial = serial, .events_only = {}, .region = {}, .moving = moving};
  };
  const auto subscribed = [&](const std::string& path, size_t n) {
    for (int i = 0; i < 100 && hub.subscriber_count(path) != n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return hub.subscriber_count(path) == n;
  };
  const int64_t t0 = 1'795'000'000'000;
  testing::Stream one(50, t0 * 1000), three(50, t0 * 1000);
  auto cam1 = hub.publish("push/CAM-1", testing::stream_info());
  auto cam3 = hub.publish("push/CAM-3", testing::stream_info());
  ASSERT_TRUE(cam1 && cam3);
  service.set_recorded({{"dev-1", recorded("CAM-1", false)}, {"dev-3", recorded("CAM-3", false)}});
  ASSERT_TRUE(subscribed("push/CAM-1", 1) && subscribed("push/CAM-3", 1));
  const auto play = [&](int seconds) {  // no faster than the worker drains
    for (int i = 0; i < seconds * 25; ++i) {
      for (const auto& f : one.next()) (*cam1)->publish(f);
      for (const auto& f : three.next()) (*cam3)->publish(f);
      if (i % 25 == 24) std::this_thread::sleep_for(std::chrono::milliseconds(120));
    }
  };
  play(3);
  // Both move; CAM-2, which moved too, was never recorded here.
  auto cam2 = hub.publish("push/CAM-2", testing::stream_info());
  ASSERT_TRUE(cam2);
  service.set_recorded({{"dev-1", recorded("CAM-1", true)},
                        {"dev-2", recorded("CAM-2", true)},
                        {"dev-3", recorded("CAM-3", true)}});
  play(1);        // until the next keyframe (every 2 s here) or so: still recorded
  cam1->reset();  // CAM-1 left for its new node
  ASSERT_TRUE(subscribed("push/CAM-1", 0));
  cam1 = hub.publish("push/CAM-1", testing::stream_info());  // back here by mistake
  ASSERT_TRUE(cam1);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(hub.subscriber_count("push/CAM-1"), 0u) << "a camera that left is not taken again";
  EXPECT_EQ(hub.subscriber_count("push/CAM-2"), 0u) << "none started for a camera that moved";
  // CAM-3 never leaves: let go after the grace, though it still pushes here.
  EXPECT_TRUE(subscribed("push/CAM-3", 0));
  EXPECT_TRUE(hub.is_published("push/CAM-3"));
  cam1->reset();
  cam2->reset();
  cam3->reset();
  service.set_recorded({});
  const auto segments = catalog.between("dev-1", t0 - 60'000, t0 + 60'000);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0].start_ms, t0);
  EXPECT_EQ(segments[0].end_ms, t0 + 4'000) << "every frame it sent here";
  EXPECT_TRUE(catalog.of_device("dev-2").empty());
  const auto three_segments = catalog.between("dev-3", t0 - 60'000, t0 + 60'000);
  ASSERT_EQ(three_segments.size(), 1u);
  EXPECT_GE(three_segments[0].end_ms, t0 + 3'000);
  std::filesystem::remove_all(dir);
}

// A backlog is placed by the camera's clock, so that clock must be believable: media said to
// be hours old, or with no capture times at all (no sender reports), are not recorded.
TEST(Recorder, ABacklogFromLongAgoOrWithoutCaptureTimesIsNotRecorded) {
  const auto dir = fresh_dir("backlog-lies");
  auto db = open_db(dir / "nj.db");
  LocalStore store(dir / "media");
  Catalog catalog(*db);
  media::hub::Hub hub({}, {});
  RecordingService service(hub, store, catalog, fast_options());
  service.set_recorded({{"dev-1", {.serial = "CAM-1", .events_only = {}, .region = {}}}});
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  for (const int64_t start_us : {now_us - int64_t{2} * 3'600'000'000, int64_t{0}}) {
    testing::Stream stream(50, start_us);
    auto backlog = hub.publish("backlog/CAM-1", testing::stream_info());
    ASSERT_TRUE(backlog);
    service.on_published("backlog/CAM-1");
    for (int i = 0; i < 75; ++i) {
      for (const auto& f : stream.next()) (*backlog)->publish(f);
    }
    backlog->reset();
    for (int i = 0; i < 100 && hub.is_published("backlog/CAM-1"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  service.set_recorded({});
  EXPECT_TRUE(catalog.of_device("dev-1").empty());
  std::filesystem::remove_all(dir);
}

// A crash: the index was last saved when the segment opened; the file holds many more
// fragments and half of one more. Recovery finds every whole one and cuts the rest.
TEST(Recorder, RecoveryAfterACrashKeepsEveryWholeFragmentAndCutsThePartialOne) {
  const auto dir = fresh_dir("crash");
  const auto crashed = fresh_dir("crashed");
  uint64_t fragments_written = 0;
  {
    auto db = open_db(dir / "nj.db");
    LocalStore store(dir / "media");
    Catalog catalog(*db);
    auto options = fast_options();
    options.index_interval = std::chrono::hours(1);  // never saved after the start
    StreamRecorder r(store, catalog, options, "dev-1", "CAM-1");
    testing::Stream stream(50);
    r.begin(testing::stream_info());
    feed(r, stream, 61);
    fragments_written = r.stats().fragments;
    // The moment of the crash: what is on disk is copied as it is, the recorder never
    // finishes there.
    testing::crash_copy(dir, crashed);
  }
  auto db = open_db(crashed / "nj.db");
  Catalog catalog(*db);
  auto open = catalog.open_segments();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_TRUE(open[0].fragments.empty()) << "the index had not been saved";
  const auto path = crashed / "media" / open[0].store_key;
  const auto whole = std::filesystem::file_size(path);
  {
    // Half a fragment more, as a write cut by the crash would leave.
    const auto bytes = file_bytes(path);
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out.write(reinterpret_cast<const char*>(bytes.data() + open[0].init_size), 3000);
  }
  std::ofstream(crashed / "media" / "default" / "CAM-1" / "stray.mp4") << "an orphan";
  LocalStore store(crashed / "media");
  const auto report = recover(store, catalog);
  EXPECT_EQ(report.segments, 1u);
  EXPECT_EQ(report.fragments_found, fragments_written);
  EXPECT_EQ(report.bytes_cut, 3000u);
  EXPECT_EQ(report.orphans_removed, 1u);
  EXPECT_EQ(std::filesystem::file_size(path), whole);
  const auto s = catalog.by_id(open[0].id);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->open);
  EXPECT_EQ(s->bytes, whole);
  EXPECT_EQ(s->fragments.size(), fragments_written);
  EXPECT_EQ(s->end_ms, s->start_ms + 60'000) << "30 fragments of 2 s";
  EXPECT_FALSE(media::fmp4::demux(file_bytes(path)).error);
  // Recovering again changes nothing.
  const auto again = recover(store, catalog);
  EXPECT_EQ(again.segments, 0u);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(crashed);
}

// A store that fails its writes after a while, as a full disk does.
class FailingStore final : public Store {
 public:
  explicit FailingStore(std::filesystem::path root) : inner_(std::move(root)) {}
  bool full = false;
  bool unreachable = false;  // size() cannot say, as an object store in an outage
  Result<void, std::string> append(const std::string& key, std::span<const uint8_t> bytes,
                                   bool sync) override {
    if (full) {
      // Part of the bytes get through before the disk says no.
      (void)inner_.append(key, bytes.first(bytes.size() / 2), false);
      return Unexpected(std::string("No space left on device"));
    }
    return inner_.append(key, bytes, sync);
  }
  void close(const std::string& key) override { inner_.close(key); }
  Result<void, std::string> truncate(const std::string& key, uint64_t size) override {
    return inner_.truncate(key, size);
  }
  Result<std::vector<uint8_t>, std::string> read(const std::string& key, uint64_t offset,
                                                 uint64_t length) override {
    return inner_.read(key, offset, length);
  }
  Result<uint64_t, std::string> size(const std::string& key) override {
    if (unreachable) return Unexpected(std::string("the gateway did not answer"));
    return inner_.size(key);
  }
  bool remove(const std::string& key) override { return inner_.remove(key); }
  std::vector<std::string> list(const std::string& prefix) override { return inner_.list(prefix); }
  uint64_t free_bytes() override { return full ? 0 : (1ull << 40); }

 private:
  LocalStore inner_;
};

// Several nodes on one store: recovery touches only the segments it is given (its node's, or
// a dead node's), and a segment whose file the store cannot find out about (out of reach) is
// left for the next recovery, never dropped as if its file were gone.
TEST(Recorder, RecoveryLeavesOtherNodesSegmentsAndWhatTheStoreCannotReach) {
  const auto dir = fresh_dir("scope");
  auto db = open_db(dir / "nj.db");
  FailingStore store(dir / "media");
  Catalog live(*db, "node-live"), dead(*db, "node-dead");
  Segment s;
  s.device_id = "dev-1";
  s.region = "default";
  s.run_id = "run";
  s.start_ms = s.end_ms = 1000;
  s.init_size = 10;
  s.store_key = "default/CAM-1/live.mp4";
  ASSERT_TRUE(live.create(s));
  s.store_key = "default/CAM-1/dead.mp4";
  ASSERT_TRUE(dead.create(s));  // neither has a file: each was made, then its node stopped
  const RecoveryScope dead_only{[](const std::string& w) { return w == "node-dead"; }, false};

  store.unreachable = true;
  auto report = recover(store, live, {}, dead_only);
  EXPECT_EQ(report.segments, 0u);
  EXPECT_EQ(report.rows_dropped, 0u) << "an outage is not a missing file";
  EXPECT_EQ(live.open_segments().size(), 2u);

  store.unreachable = false;
  report = recover(store, live, {}, dead_only);
  EXPECT_EQ(report.rows_dropped, 1u) << "the dead node's row without a file";
  const auto open = live.open_segments();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].writer, "node-live") << "the live node's is left alone";
  EXPECT_EQ(live.open_writers(), std::vector<std::string>{"node-live"});
  std::filesystem::remove_all(dir);
}

TEST(Recorder, AFullDiskPausesRecordingCleanlyAndItResumesWhenSpaceReturns) {
  const auto dir = fresh_dir("full");
  auto db = open_db(dir / "nj.db");
  FailingStore store(dir / "media");
  Catalog catalog(*db);
  auto options = fast_options();
  options.reserve_bytes = 1;
  options.resume_check = std::chrono::seconds(0);
  StreamRecorder r(store, catalog, options, "dev-1", "CAM-1");
  testing::Stream stream(50);
  r.begin(testing::stream_info());
  feed(r, stream, 60);
  store.full = true;
  feed(r, stream, 10);
  EXPECT_TRUE(r.stats().paused);
  EXPECT_EQ(r.stats().write_errors, 1u);
  // What was recorded is whole: the file ends at its last whole fragment.
  auto segments = catalog.of_device("dev-1");
  ASSERT_EQ(segments.size(), 1u);
  const auto first = *catalog.by_id(segments[0].id);
  EXPECT_FALSE(first.open);
  const auto bytes = file_bytes(dir / "media" / first.store_key);
  EXPECT_EQ(bytes.size(), first.bytes);
  EXPECT_FALSE(media::fmp4::demux(bytes).error);
  feed(r, stream, 10);
  r.tick();
  EXPECT_TRUE(r.stats().paused) << "still full";
  store.full = false;
  r.tick();
  EXPECT_FALSE(r.stats().paused);
  feed(r, stream, 30);
  r.finish();
  segments = catalog.of_device("dev-1");
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_NE(segments[0].run_id, segments[1].run_id) << "a new run: the timeline shows the gap";
  EXPECT_GT(segments[1].start_ms, segments[0].end_ms);
  std::filesystem::remove_all(dir);
}

constexpr int64_t kT0 = 1'795'000'000'000;  // the synthetic stream's capture clock, in ms

// One test's recorder surroundings: a fresh directory with a database, a store, a catalog.
class EventsOnlyRecorder : public ::testing::Test {
 protected:
  EventsOnlyRecorder()
      : dir_(fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name())),
        db_(open_db(dir_ / "nj.db")),
        store_(dir_ / "media"),
        catalog_(*db_) {}
  ~EventsOnlyRecorder() override { std::filesystem::remove_all(dir_); }
  std::vector<Segment> segments() {
    return catalog_.between("dev-1", kT0 - 60'000, kT0 + 3'600'000);
  }
  std::vector<Span> spans() { return spans_of(segments(), kT0 - 60'000, kT0 + 3'600'000); }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  LocalStore store_;
  Catalog catalog_;
};

// Events only: the stream runs all along; what is kept is each event with its pre-roll
// (from the keyframe at or before it) and post-roll, each its own run, nothing between.
TEST_F(EventsOnlyRecorder, KeepsEachEventWithItsPreAndPostRoll) {
  {
    StreamRecorder r(store_, catalog_, fast_options(), "dev-1", "CAM-1");
    r.set_events_only(EventWindow{std::chrono::seconds(4), std::chrono::seconds(4)});
    testing::Stream stream(50);  // a keyframe every 2 s
    r.begin(testing::stream_info());
    feed(r, stream, 21);
    r.event(kT0 + 21'000, true);  // the camera says so as its stream reaches 21 s
    feed(r, stream, 4);
    r.event(kT0 + 25'000, false);
    feed(r, stream, 20);
    r.event(kT0 + 45'500, true);
    r.event(kT0 + 46'000, false);
    feed(r, stream, 15);
    r.finish();
    EXPECT_EQ(r.stats().write_errors, 0u);
  }
  const auto segments = this->segments();
  const auto spans = this->spans();
  ASSERT_EQ(spans.size(), 2u);
  // 21 s − 4 s = 17 s: from the keyframe at 16 s; 25 s + 4 s = 29 s: to the GOP's end at 30 s.
  EXPECT_EQ(spans[0].start_ms, kT0 + 16'000);
  EXPECT_EQ(spans[0].end_ms, kT0 + 30'000);
  EXPECT_EQ(spans[1].start_ms, kT0 + 40'000);  // 45.5 − 4 = 41.5: the keyframe at 40 s
  EXPECT_EQ(spans[1].end_ms, kT0 + 50'000);    // 46 + 4 = 50
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_NE(segments[0].run_id, segments[1].run_id);
  for (const auto& s : segments) {
    const auto bytes = file_bytes(dir_ / "media" / s.store_key);
    EXPECT_EQ(bytes.size(), s.bytes);
    const auto d = media::fmp4::demux(bytes);
    EXPECT_FALSE(d.error);
    EXPECT_EQ(d.complete, bytes.size());
  }
}

// A GOP of 10 s comes as several fragments: the pre-roll still starts at its keyframe, and
// what waits for an event stays within a GOP and the pre-roll.
TEST_F(EventsOnlyRecorder, WithLongGopsStartsAtTheKeyframeBefore) {
  {
    StreamRecorder r(store_, catalog_, fast_options(), "dev-1", "CAM-1");
    r.set_events_only(EventWindow{std::chrono::seconds(2), std::chrono::seconds(2)});
    testing::Stream stream(250);  // a keyframe every 10 s
    r.begin(testing::stream_info());
    feed(r, stream, 125);
    r.event(kT0 + 125'000, true);  // pre-roll from 123 s: the keyframe at 120 s
    feed(r, stream, 1);
    r.event(kT0 + 126'000, false);
    feed(r, stream, 20);
    r.finish();
  }
  const auto spans = this->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].start_ms, kT0 + 120'000);
  EXPECT_GE(spans[0].end_ms, kT0 + 128'000);
  EXPECT_LE(spans[0].end_ms, kT0 + 130'000);
}

TEST_F(EventsOnlyRecorder, AnEventThatNeverEndsStopsAfterTheLongestAndContinuousReturns) {
  {
    StreamRecorder r(store_, catalog_, fast_options(), "dev-1", "CAM-1");
    r.set_events_only(
        EventWindow{std::chrono::seconds(2), std::chrono::seconds(2), std::chrono::seconds(10)});
    testing::Stream stream(50);
    r.begin(testing::stream_info());
    feed(r, stream, 6);
    r.event(kT0 + 6'000, true);  // and never an end (the camera lost it)
    feed(r, stream, 40);
    r.set_events_only(std::nullopt);  // the plan became continuous: all of it from here
    feed(r, stream, 10);
    r.finish();
  }
  const auto spans = this->spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].start_ms, kT0 + 4'000);
  EXPECT_EQ(spans[0].end_ms, kT0 + 18'000) << "from 6 − 2, the pre-roll and 10 s, then 2 s";
  // The GOP being gathered when the mode changed (44–46 s) is the first kept in full.
  EXPECT_EQ(spans[1].start_ms, kT0 + 44'000);
  EXPECT_EQ(spans[1].end_ms, kT0 + 56'000);
}

// Regions: each key lands under its own region's root and nowhere else; a key of a region
// no longer configured is found where all media used to be (the default region's root).
TEST(RegionalStoreTest, EachRegionsFilesAreUnderItsOwnRootOnly) {
  const auto dir = fresh_dir("regions");
  RegionalStore store({{"home", dir / "home" / "media"}, {"eu", dir / "eu" / "media"}}, "home");
  const std::vector<uint8_t> bytes = {1, 2, 3};
  ASSERT_TRUE(store.append("home/CAM-1/2026-12-05/1-a.mp4", bytes, false));
  ASSERT_TRUE(store.append("eu/CAM-2/2026-12-05/1-b.mp4", bytes, false));
  store.close("home/CAM-1/2026-12-05/1-a.mp4");
  store.close("eu/CAM-2/2026-12-05/1-b.mp4");
  EXPECT_TRUE(std::filesystem::exists(dir / "home/media/home/CAM-1/2026-12-05/1-a.mp4"));
  EXPECT_TRUE(std::filesystem::exists(dir / "eu/media/eu/CAM-2/2026-12-05/1-b.mp4"));
  EXPECT_FALSE(std::filesystem::exists(dir / "home/media/eu"));
  EXPECT_FALSE(std::filesystem::exists(dir / "eu/media/home"));
  EXPECT_EQ(store.list("eu/CAM-2/").size(), 1u);
  EXPECT_TRUE(store.list("home/CAM-2/").empty());
  // Written when the default region was called "default": still under the default root.
  std::filesystem::create_directories(dir / "home/media/default/CAM-1");
  std::ofstream(dir / "home/media/default/CAM-1/old.mp4") << "old";
  const auto old = store.read("default/CAM-1/old.mp4", 0, 3);
  ASSERT_TRUE(old);
  EXPECT_EQ(std::string(old->begin(), old->end()), "old");
  EXPECT_GT(store.free_bytes_for("eu/"), 0u);
  EXPECT_TRUE(store.remove("eu/CAM-2/2026-12-05/1-b.mp4"));
  EXPECT_FALSE(store.size("eu/CAM-2/2026-12-05/1-b.mp4"));
  EXPECT_FALSE(store.append("/etc/passwd", bytes, false)) << "no key outside a root";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nj::recording
