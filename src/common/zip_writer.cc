#include "common/zip_writer.h"

#include <zlib.h>

#include <ctime>

namespace nj {
namespace {

void le16(std::string& out, uint32_t v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
}
void le32(std::string& out, uint32_t v) {
  le16(out, v & 0xffff);
  le16(out, v >> 16);
}
void le64(std::string& out, uint64_t v) {
  le32(out, static_cast<uint32_t>(v));
  le32(out, static_cast<uint32_t>(v >> 32));
}
constexpr uint32_t kMax32 = 0xffffffffu;

bool safe_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/') return false;
  for (size_t at = 0; at <= name.size();) {
    const size_t next = name.find('/', at);
    const auto part = name.substr(at, next == std::string_view::npos ? name.npos : next - at);
    if (part.empty() || part == "." || part == "..") return false;
    if (next == std::string_view::npos) break;
    at = next + 1;
  }
  return name.find('\\') == std::string_view::npos;
}

}  // namespace

ZipWriter::ZipWriter(const std::filesystem::path& path) : file_(std::fopen(path.c_str(), "wb")) {
  ok_ = file_ != nullptr;
}

bool ZipWriter::put(std::string_view bytes) {
  if (sink_) return sink_(bytes);
  return file_ && std::fwrite(bytes.data(), 1, bytes.size(), file_) == bytes.size();
}

ZipWriter::~ZipWriter() {
  if (file_) std::fclose(file_);
}

bool ZipWriter::add(std::string_view name, std::string_view bytes, int64_t unix_ms) {
  if (!ok_ || !safe_name(name) || bytes.size() >= kMax32) return false;
  const auto crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
  if (!header(name, crc, static_cast<uint32_t>(bytes.size()), unix_ms)) return false;
  ok_ = put(bytes);
  written_ += bytes.size();
  return ok_;
}

bool ZipWriter::add_streamed(std::string_view name, uint64_t size, const Read& read,
                             int64_t unix_ms) {
  if (!ok_ || !safe_name(name) || size >= kMax32) return false;
  constexpr uint64_t kPiece = 1 << 20;
  uLong crc = crc32(0, nullptr, 0);
  for (uint64_t at = 0; at < size; at += kPiece) {
    const auto piece = read(at, std::min(kPiece, size - at));
    if (!piece || piece->size() != std::min(kPiece, size - at)) return false;
    crc = crc32(crc, piece->data(), static_cast<uInt>(piece->size()));
  }
  if (!header(name, static_cast<uint32_t>(crc), static_cast<uint32_t>(size), unix_ms)) {
    return false;
  }
  for (uint64_t at = 0; at < size && ok_; at += kPiece) {
    const auto piece = read(at, std::min(kPiece, size - at));
    // The header promised this many bytes: an archive cut short here is no archive.
    ok_ = piece && piece->size() == std::min(kPiece, size - at) &&
          put({reinterpret_cast<const char*>(piece->data()), piece->size()});
    if (ok_) written_ += piece->size();
  }
  return ok_;
}

bool ZipWriter::header(std::string_view name, uint32_t crc, uint32_t size, int64_t unix_ms) {
  Entry e;
  e.name = std::string(name);
  e.crc = crc;
  e.size = size;
  e.offset = written_;
  // MS-DOS date and time (UTC), from 1980.
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (tm.tm_year < 80) tm = std::tm{0, 0, 0, 1, 0, 80, 0, 0, 0, 0, nullptr};
  e.time = static_cast<uint16_t>(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
  e.date = static_cast<uint16_t>((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
  std::string h;
  le32(h, 0x04034b50);
  le16(h, 20);      // version needed
  le16(h, 0x0800);  // UTF-8 names
  le16(h, 0);       // stored
  le16(h, e.time);
  le16(h, e.date);
  le32(h, e.crc);
  le32(h, e.size);
  le32(h, e.size);
  le16(h, static_cast<uint32_t>(e.name.size()));
  le16(h, 0);
  h += e.name;
  ok_ = put(h);
  written_ += h.size();
  entries_.push_back(std::move(e));
  return ok_;
}

bool ZipWriter::finish() {
  if (!ok_) return false;
  std::string central;
  for (const auto& e : entries_) {
    // Past 4 GiB the entry's offset is in a ZIP64 extra field (APPNOTE 4.5.3).
    const bool far = e.offset >= kMax32;
    le32(central, 0x02014b50);
    le16(central, 0x0300 | 45);    // made by: Unix (an MS-DOS maker would have names read
                                   // as CP437), spec 4.5
    le16(central, far ? 45 : 20);  // needed
    le16(central, 0x0800);
    le16(central, 0);
    le16(central, e.time);
    le16(central, e.date);
    le32(central, e.crc);
    le32(central, e.size);
    le32(central, e.size);
    le16(central, static_cast<uint32_t>(e.name.size()));
    le16(central, far ? 12 : 0);    // extra
    le16(central, 0);               // comment
    le16(central, 0);               // disk
    le16(central, 0);               // internal attributes
    le32(central, 0100644u << 16);  // external attributes: a regular file, rw-r--r--
    le32(central, far ? kMax32 : static_cast<uint32_t>(e.offset));
    central += e.name;
    if (far) {
      le16(central, 0x0001);
      le16(central, 8);
      le64(central, e.offset);
    }
  }
  const uint64_t central_at = written_;
  std::string end;
  // More than 65,534 entries or more than 4 GiB: the ZIP64 end record and its locator
  // first, and the classic end record saying to look there.
  const bool zip64 = entries_.size() >= 0xffff || central_at >= kMax32 || central.size() >= kMax32;
  if (zip64) {
    const uint64_t record_at = central_at + central.size();
    le32(end, 0x06064b50);
    le64(end, 44);  // the record's size after this field
    le16(end, 0x0300 | 45);
    le16(end, 45);
    le32(end, 0);
    le32(end, 0);
    le64(end, entries_.size());
    le64(end, entries_.size());
    le64(end, central.size());
    le64(end, central_at);
    le32(end, 0x07064b50);
    le32(end, 0);
    le64(end, record_at);
    le32(end, 1);
  }
  le32(end, 0x06054b50);
  le16(end, 0);
  le16(end, 0);
  le16(end, zip64 ? 0xffff : static_cast<uint32_t>(entries_.size()));
  le16(end, zip64 ? 0xffff : static_cast<uint32_t>(entries_.size()));
  le32(end, zip64 ? kMax32 : static_cast<uint32_t>(central.size()));
  le32(end, zip64 ? kMax32 : static_cast<uint32_t>(central_at));
  le16(end, 0);
  ok_ = put(central) && put(end);
  if (file_) {
    ok_ = std::fflush(file_) == 0 && ok_;
    std::fclose(file_);
    file_ = nullptr;
  }
  return ok_;
}

}  // namespace nj
