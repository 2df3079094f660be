#include "media/sdp/sdp.h"

#include <charconv>

namespace nj::media::sdp {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

template <class Int>
bool to_int(std::string_view s, Int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

}  // namespace

std::string_view error_name(Error e) {
  switch (e) {
    case Error::kTooLarge:
      return "too_large";
    case Error::kBadLine:
      return "bad_line";
    case Error::kBadMedia:
      return "bad_media";
    case Error::kNoMedia:
      return "no_media";
    case Error::kBadRtpmap:
      return "bad_rtpmap";
  }
  return "unknown";
}

Result<Session, Error> parse(std::string_view text) {
  if (text.size() > kMaxSdpBytes) return Unexpected(Error::kTooLarge);
  Session s;
  s.control.clear();
  Media* media = nullptr;
  for (auto line : split(text, '\n')) {
    line = trim(line);
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=') return Unexpected(Error::kBadLine);
    const char key = line[0];
    const auto value = line.substr(2);
    if (key == 'm') {
      if (s.media.size() >= kMaxMedia) return Unexpected(Error::kTooLarge);
      const auto fields = split(value, ' ');
      if (fields.size() < 4) return Unexpected(Error::kBadMedia);
      Media m;
      m.type = std::string(fields[0]);
      const auto port = split(fields[1], '/')[0];
      if (!to_int(port, m.port)) return Unexpected(Error::kBadMedia);
      m.protocol = std::string(fields[2]);
      if (!to_int(fields[3], m.payload_type) || m.payload_type < 0 || m.payload_type > 127) {
        // Non-RTP formats are not for us, but keep the section (its index matters).
        m.payload_type = -1;
      }
      s.media.push_back(std::move(m));
      media = &s.media.back();
    } else if (key == 'a') {
      const auto colon = value.find(':');
      const auto name = value.substr(0, colon);
      const auto attr =
          colon == std::string_view::npos ? std::string_view() : value.substr(colon + 1);
      if (!media) {
        if (name == "control") {
          s.control = std::string(attr);
        } else {
          s.attributes.emplace_back(name, attr);
        }
        continue;
      }
      if (name == "control") {
        media->control = std::string(attr);
      } else if (name == "rtpmap") {
        // rtpmap:<pt> <encoding>/<clock>[/<channels>]
        const auto space = attr.find(' ');
        int pt = -1;
        if (space == std::string_view::npos || !to_int(attr.substr(0, space), pt)) {
          return Unexpected(Error::kBadRtpmap);
        }
        if (pt != media->payload_type) continue;  // a map for another format of the section
        const auto parts = split(trim(attr.substr(space + 1)), '/');
        if (parts.size() < 2 || parts[0].empty() || !to_int(parts[1], media->clock_rate) ||
            media->clock_rate == 0) {
          return Unexpected(Error::kBadRtpmap);
        }
        media->encoding = std::string(parts[0]);
        if (parts.size() >= 3 &&
            (!to_int(parts[2], media->channels) || media->channels < 1 || media->channels > 8)) {
          return Unexpected(Error::kBadRtpmap);
        }
      } else if (name == "fmtp") {
        const auto space = attr.find(' ');
        int pt = -1;
        if (space == std::string_view::npos || !to_int(attr.substr(0, space), pt)) continue;
        if (pt != media->payload_type) continue;
        for (auto param : split(attr.substr(space + 1), ';')) {
          param = trim(param);
          if (param.empty()) continue;
          const auto eq = param.find('=');
          media->fmtp[lower(trim(param.substr(0, eq)))] =
              eq == std::string_view::npos ? std::string()
                                           : std::string(trim(param.substr(eq + 1)));
        }
      } else {
        media->attributes.emplace_back(name, attr);
      }
    } else if (key == 'o' && !media) {
      s.origin = std::string(value);
    } else if (key == 's' && !media) {
      s.name = std::string(value);
    } else if (key == 'c' && !media) {
      s.connection = std::string(value);
    }
    // v=, t=, b=, i= and others carry nothing we use.
  }
  if (s.media.empty()) return Unexpected(Error::kNoMedia);
  return s;
}

std::string write(const Session& s) {
  std::string out =
      "v=0\r\no=" + s.origin + "\r\ns=" + s.name + "\r\nc=" + s.connection + "\r\nt=0 0\r\n";
  if (!s.control.empty()) out += "a=control:" + s.control + "\r\n";
  for (const auto& [k, v] : s.attributes) out += "a=" + k + (v.empty() ? "" : ":" + v) + "\r\n";
  for (const auto& m : s.media) {
    out += "m=" + m.type + " " + std::to_string(m.port) + " " + m.protocol + " " +
           std::to_string(m.payload_type) + "\r\n";
    if (!m.encoding.empty()) {
      out += "a=rtpmap:" + std::to_string(m.payload_type) + " " + m.encoding + "/" +
             std::to_string(m.clock_rate) +
             (m.type == "audio" && m.channels > 1 ? "/" + std::to_string(m.channels) : "") + "\r\n";
    }
    if (!m.fmtp.empty()) {
      out += "a=fmtp:" + std::to_string(m.payload_type) + " ";
      bool first = true;
      for (const auto& [k, v] : m.fmtp) {
        if (!first) out += ";";
        first = false;
        out += k;
        if (!v.empty()) out += "=" + v;
      }
      out += "\r\n";
    }
    for (const auto& [k, v] : m.attributes) out += "a=" + k + (v.empty() ? "" : ":" + v) + "\r\n";
    if (!m.control.empty()) out += "a=control:" + m.control + "\r\n";
  }
  return out;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view text) {
  std::vector<uint8_t> out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      v = 62;
    } else if (c == '/' || c == '_') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  return out;
}

std::string base64_encode(const std::vector<uint8_t>& data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i < data.size()) {
    uint32_t v = uint32_t{data[i]} << 16;
    if (i + 1 < data.size()) v |= uint32_t{data[i + 1]} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<H264ParameterSets> h264_parameter_sets(const Media& media) {
  const auto it = media.fmtp.find("sprop-parameter-sets");
  if (it == media.fmtp.end()) return std::nullopt;
  H264ParameterSets sets;
  for (auto part : split(it->second, ',')) {
    auto nal = base64_decode(trim(part));
    if (!nal || nal->empty()) return std::nullopt;
    const uint8_t type = (*nal)[0] & 0x1f;
    if (type == 7) sets.sps = std::move(*nal);
    if (type == 8) sets.pps = std::move(*nal);
  }
  if (sets.sps.empty() || sets.pps.empty()) return std::nullopt;
  return sets;
}

}  // namespace nj::media::sdp
