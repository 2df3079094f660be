#include "media/rtsp/auth.h"

#include <cmath>
#include <cstdio>
#include <random>

#include "media/sdp/sdp.h"

namespace nj::media::rtsp {
namespace {

// RFC 1321: per-round shift amounts and the sine-derived constants.
constexpr uint32_t kShift[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

const std::array<uint32_t, 64>& sine_table() {
  static const std::array<uint32_t, 64> table = [] {
    std::array<uint32_t, 64> t{};
    for (int i = 0; i < 64; ++i) {
      t[i] = static_cast<uint32_t>(std::floor(std::fabs(std::sin(i + 1.0)) * 4294967296.0));
    }
    return t;
  }();
  return table;
}

uint32_t rotl(uint32_t x, uint32_t c) { return (x << c) | (x >> (32 - c)); }

void md5_block(std::array<uint32_t, 4>& h, const uint8_t* block) {
  const auto& k = sine_table();
  uint32_t m[16];
  for (int i = 0; i < 16; ++i) {
    m[i] = uint32_t{block[i * 4]} | uint32_t{block[i * 4 + 1]} << 8 |
           uint32_t{block[i * 4 + 2]} << 16 | uint32_t{block[i * 4 + 3]} << 24;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
  for (uint32_t i = 0; i < 64; ++i) {
    uint32_t f, g;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) % 16;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) % 16;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) % 16;
    }
    const uint32_t next_d = c;
    c = b;
    b = b + rotl(a + f + k[i] + m[g], kShift[i]);
    a = d;
    d = next_d;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
}

std::string hex(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// key=value, key="quoted, value" pairs of one challenge.
std::vector<std::pair<std::string, std::string>> auth_params(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  while (i < s.size() && out.size() < 32) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',' || s[i] == '\t')) ++i;
    const size_t eq = s.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key(trim(s.substr(i, eq - i)));
    for (auto& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    i = eq + 1;
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        value += s[i++];
      }
      ++i;  // the closing quote
    } else {
      const size_t comma = s.find(',', i);
      value = std::string(trim(s.substr(i, comma == std::string_view::npos ? s.npos : comma - i)));
      i = comma == std::string_view::npos ? s.size() : comma;
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

}  // namespace

std::array<uint8_t, 16> md5(std::span<const uint8_t> data) {
  std::array<uint32_t, 4> h = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  size_t whole = data.size() / 64 * 64;
  for (size_t i = 0; i < whole; i += 64) md5_block(h, data.data() + i);
  uint8_t tail[128] = {};
  const size_t rest = data.size() - whole;
  std::copy(data.begin() + static_cast<ptrdiff_t>(whole), data.end(), tail);
  tail[rest] = 0x80;
  const size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
  const uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 8 + i] = static_cast<uint8_t>(bits >> (8 * i));
  for (size_t i = 0; i < tail_len; i += 64) md5_block(h, tail + i);
  std::array<uint8_t, 16> out{};
  for (int i = 0; i < 16; ++i) out[i] = static_cast<uint8_t>(h[i / 4] >> (8 * (i % 4)));
  return out;
}

std::string md5_hex(std::string_view text) {
  return hex(md5({reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
}

std::string digest_response(std::string_view user, std::string_view realm,
                            std::string_view password, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop) {
  auto join = [](std::initializer_list<std::string_view> parts) {
    std::string out;
    bool first = true;
    for (auto p : parts) {
      if (!first) out += ':';
      first = false;
      out += p;
    }
    return out;
  };
  const std::string ha1 = md5_hex(join({user, realm, password}));
  const std::string ha2 = md5_hex(join({method, uri}));
  if (qop.empty()) return md5_hex(join({ha1, nonce, ha2}));
  return md5_hex(join({ha1, nonce, nc, cnonce, qop, ha2}));
}

std::optional<Challenge> pick_challenge(const Message& response) {
  std::optional<Challenge> basic, digest;
  for (const auto& [name, value] : response.headers) {
    if (!iequals(name, "WWW-Authenticate")) continue;
    std::string_view v = trim(value);
    const size_t space = v.find(' ');
    const auto scheme = v.substr(0, space);
    const auto rest = space == std::string_view::npos ? std::string_view() : v.substr(space + 1);
    Challenge c;
    for (auto& [k, val] : auth_params(rest)) {
      if (k == "realm") c.realm = val;
      if (k == "nonce") c.nonce = val;
      if (k == "opaque") c.opaque = val;
      if (k == "algorithm") c.algorithm = val;
      if (k == "qop") {
        for (std::string_view q = val; !q.empty();) {
          const size_t comma = q.find(',');
          if (iequals(trim(q.substr(0, comma)), "auth")) c.qop_auth = true;
          q = comma == std::string_view::npos ? std::string_view() : q.substr(comma + 1);
        }
      }
    }
    if (iequals(scheme, "Digest") && !c.nonce.empty() &&
        (c.algorithm.empty() || iequals(c.algorithm, "MD5")) && !digest) {
      c.scheme = Challenge::Scheme::kDigest;
      digest = std::move(c);
    } else if (iequals(scheme, "Basic") && !basic) {
      c.scheme = Challenge::Scheme::kBasic;
      basic = std::move(c);
    }
  }
  return digest ? digest : basic;
}

void Credentials::set_challenge(Challenge challenge) {
  challenge_ = std::move(challenge);
  nonce_count_ = 0;
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  cnonce_ = buf;
}

std::string Credentials::authorization(std::string_view method, std::string_view uri) {
  if (!challenge_) return {};
  const auto& c = *challenge_;
  if (c.scheme == Challenge::Scheme::kBasic) {
    const std::string pair = user_ + ":" + password_;
    return "Basic " + sdp::base64_encode(std::vector<uint8_t>(pair.begin(), pair.end()));
  }
  std::string out = "Digest username=\"" + user_ + "\", realm=\"" + c.realm + "\", nonce=\"" +
                    c.nonce + "\", uri=\"" + std::string(uri) + "\"";
  if (c.qop_auth) {
    char nc[9];
    std::snprintf(nc, sizeof nc, "%08x", ++nonce_count_);
    const std::string response =
        digest_response(user_, c.realm, password_, method, uri, c.nonce, nc, cnonce_, "auth");
    out += ", response=\"" + response + "\", qop=auth, nc=" + nc + ", cnonce=\"" + cnonce_ + "\"";
  } else {
    out += ", response=\"" +
           digest_response(user_, c.realm, password_, method, uri, c.nonce, {}, {}, {}) + "\"";
  }
  if (!c.opaque.empty()) out += ", opaque=\"" + c.opaque + "\"";
  if (!c.algorithm.empty()) out += ", algorithm=MD5";
  return out;
}

}  // namespace nj::media::rtsp
