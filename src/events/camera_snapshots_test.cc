#include "events/camera_snapshots.h"

#include <gtest/gtest.h>

#include <vector>

namespace nj::events {
namespace {

// The smallest JPEG structure: SOI, a baseline frame header, a scan header, data, EOI.
std::string jpeg(int width = 320, int height = 240) {
  std::string j = "\xFF\xD8";
  j += std::string("\xFF\xC0\x00\x0B\x08", 5);
  j += static_cast<char>(height >> 8);
  j += static_cast<char>(height & 0xFF);
  j += static_cast<char>(width >> 8);
  j += static_cast<char>(width & 0xFF);
  j += std::string("\x01\x01\x11\x00", 4);
  j += std::string("\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00", 10);
  j += std::string(100, '\x55');
  j += "\xFF\xD9";
  return j;
}

TEST(LooksLikeJpeg, TakesAWholeJpegAndNothingElse) {
  EXPECT_TRUE(looks_like_jpeg(jpeg()));
  const std::string whole = jpeg();
  EXPECT_FALSE(looks_like_jpeg(whole.substr(0, whole.size() - 2))) << "cut short";
  EXPECT_FALSE(looks_like_jpeg("\x89PNG\r\n\x1A\n" + whole.substr(8)));
  EXPECT_FALSE(looks_like_jpeg(jpeg(0, 240)));
  EXPECT_FALSE(looks_like_jpeg(jpeg(320, 9000)));
  EXPECT_FALSE(looks_like_jpeg(""));
  EXPECT_FALSE(looks_like_jpeg("\xFF\xD8\xFF\xD9"));  // no frame at all
  std::string lying = whole;
  lying[4] = '\x7F';  // a segment longer than the file
  EXPECT_FALSE(looks_like_jpeg(lying));
  std::string no_frame =
      "\xFF\xD8" + std::string("\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00", 10) + "xx\xFF\xD9";
  EXPECT_FALSE(looks_like_jpeg(no_frame)) << "a scan without a frame header";
}

class FakeStream : public SnapshotTaker {
 public:
  void take(const std::string& serial, const std::string& event_id,
            std::function<void(std::optional<std::string>)> done) override {
    taken.push_back(serial + "/" + event_id);
    done(std::string("from the stream"));
  }
  std::vector<std::string> taken;
};

class CameraSnapshotsTest : public ::testing::Test {
 protected:
  CameraSnapshotsTest()
      : taker_(
            stream_, [this](const std::string& serial) { return serial == streaming_; },
            [this](const std::string& serial, const std::string& event_id,
                   CameraSnapshotTaker::Answer answer) {
              asked_.push_back(serial + "/" + event_id);
              answers_.push_back(std::move(answer));
            },
            std::chrono::milliseconds(50)) {}
  std::function<void(std::optional<std::string>)> keep(const std::string& id) {
    return [this, id](std::optional<std::string> jpeg) { got_[id] = jpeg; };
  }

  FakeStream stream_;
  std::string streaming_ = "LIVE";
  std::vector<std::string> asked_;
  std::vector<CameraSnapshotTaker::Answer> answers_;
  std::map<std::string, std::optional<std::string>> got_;
  CameraSnapshotTaker taker_;
};

TEST_F(CameraSnapshotsTest, AStreamingCameraIsPicturedFromItsStream) {
  taker_.take("LIVE", "e1", keep("e1"));
  EXPECT_TRUE(asked_.empty());
  EXPECT_EQ(stream_.taken, std::vector<std::string>{"LIVE/e1"});
  EXPECT_EQ(got_["e1"], "from the stream");
}

TEST_F(CameraSnapshotsTest, OnlyTheUploadAskedForIsTakenOnce) {
  taker_.take("CAM", "e1", keep("e1"));
  ASSERT_EQ(asked_, std::vector<std::string>{"CAM/e1"});
  answers_[0](true);
  using U = CameraSnapshotTaker::Upload;
  EXPECT_EQ(taker_.upload("OTHER", "e1", jpeg()), U::kNotAsked) << "another camera's event";
  EXPECT_EQ(taker_.upload("CAM", "e2", jpeg()), U::kNotAsked) << "never asked";
  EXPECT_EQ(taker_.upload("CAM", "e1", std::string(kMaxUploadedSnapshot + 1, 'x')), U::kTooLarge);
  EXPECT_EQ(taker_.upload("CAM", "e1", "GIF89a..."), U::kNotJpeg);
  EXPECT_FALSE(got_.contains("e1")) << "refused uploads change nothing";
  EXPECT_EQ(taker_.upload("CAM", "e1", jpeg()), U::kTaken);
  EXPECT_EQ(got_["e1"], jpeg());
  EXPECT_EQ(taker_.upload("CAM", "e1", jpeg(640, 480)), U::kNotAsked) << "once";
  EXPECT_EQ(got_["e1"], jpeg());
  EXPECT_TRUE(stream_.taken.empty());
}

TEST_F(CameraSnapshotsTest, ACameraThatCannotOrDoesNotUploadIsPicturedFromItsStream) {
  taker_.take("CAM", "e1", keep("e1"));
  answers_[0](false);  // unsupported, offline, or no answer
  EXPECT_EQ(stream_.taken, std::vector<std::string>{"CAM/e1"});
  EXPECT_EQ(got_["e1"], "from the stream");
  EXPECT_EQ(taker_.upload("CAM", "e1", jpeg()), CameraSnapshotTaker::Upload::kNotAsked);
  // Accepted, then nothing uploaded in time.
  taker_.take("CAM", "e2", keep("e2"));
  answers_[1](true);
  taker_.tick();
  EXPECT_FALSE(got_.contains("e2")) << "still in time";
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  taker_.tick();
  EXPECT_EQ(got_["e2"], "from the stream");
  EXPECT_EQ(taker_.upload("CAM", "e2", jpeg()), CameraSnapshotTaker::Upload::kNotAsked);
}

}  // namespace
}  // namespace nj::events
