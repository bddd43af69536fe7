// Sigma string values: escapes and wildcards, compiled into literal fast
// paths (exact, prefix, suffix, contains, prefix+suffix) or a general
// wildcard matcher; and CIDR networks.
#include <arpa/inet.h>
#include <re2/re2.h>
#include <string.h>

#include <charconv>
#include <cstring>

#include "threats/sigma_compile.h"

namespace cloudaudit::threats::internal {
namespace {

inline unsigned char Lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c; }

// `needle` is already lowercased when !cased.
inline bool EqualAt(std::string_view text, size_t pos, std::string_view needle, bool cased) {
  if (cased) return std::memcmp(text.data() + pos, needle.data(), needle.size()) == 0;
  for (size_t i = 0; i < needle.size(); ++i) {
    if (Lower(static_cast<unsigned char>(text[pos + i])) != static_cast<unsigned char>(needle[i])) return false;
  }
  return true;
}

// Below this size a case-folding byte loop is cheap whatever the needle;
// above it, the haystack is lowercased once and searched with glibc's
// memmem (two-way: linear time).
constexpr size_t kShortText = 256;

size_t MemFind(std::string_view hay, std::string_view needle, size_t from) {
  if (needle.empty()) return from;
  const void* hit = memmem(hay.data() + from, hay.size() - from, needle.data(), needle.size());
  return hit == nullptr ? std::string_view::npos : static_cast<size_t>(static_cast<const char*>(hit) - hay.data());
}

// `needle` is lowercased when !cased.
size_t FindLowered(std::string_view text, std::string_view needle, size_t from, bool cased) {
  if (from > text.size() || text.size() - from < needle.size()) return std::string_view::npos;
  if (needle.empty()) return from;
  if (cased) return MemFind(text, needle, from);
  if (text.size() - from > kShortText && needle.size() > 4) {
    thread_local std::string lowered;
    lowered.assign(text);
    for (char& c : lowered) c = static_cast<char>(Lower(static_cast<unsigned char>(c)));
    return MemFind(lowered, needle, from);
  }
  const size_t last = text.size() - needle.size();
  const auto first = static_cast<unsigned char>(needle[0]);
  for (size_t i = from; i <= last; ++i) {
    if (Lower(static_cast<unsigned char>(text[i])) == first && EqualAt(text, i, needle, false)) return i;
  }
  return std::string_view::npos;
}

// The dashes windash interchanges: - / and en dash, em dash, horizontal bar.
size_t DashLen(std::string_view text, size_t pos) {
  const char c = text[pos];
  if (c == '-' || c == '/') return 1;
  if (pos + 3 <= text.size() && text[pos] == '\xE2' && text[pos + 1] == '\x80' &&
      (text[pos + 2] == '\x93' || text[pos + 2] == '\x94' || text[pos + 2] == '\x95'))
    return 3;
  return 0;
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// RE2 syntax for a wildcard pattern; ASCII letters become [aA] classes so
// that folding stays ASCII-only as in the other shapes.
std::string ToRegex(const std::vector<Pattern::Part>& parts, bool cased) {
  std::string re = "(?s)";
  for (const auto& p : parts) {
    if (p.star) {
      re += ".*";
      continue;
    }
    switch (p.token.kind) {
      case GlobToken::Kind::kAnyChar:
        re += ".";
        break;
      case GlobToken::Kind::kDash:
        re += "(?:-|/|\xE2\x80\x93|\xE2\x80\x94|\xE2\x80\x95)";
        break;
      case GlobToken::Kind::kLiteral:
        for (char c : p.token.literal) {
          const auto u = static_cast<unsigned char>(c);
          if (!cased && ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z'))) {
            re += '[';
            re += static_cast<char>(Lower(u));
            re += static_cast<char>(Lower(u) - 32);
            re += ']';
          } else if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80) {
            re += c;
          } else if (u == 0) {
            re += "\\x00";
          } else {
            re += '\\';
            re += c;
          }
        }
        break;
    }
  }
  return re;
}

}  // namespace

size_t FindText(std::string_view haystack, std::string_view needle, size_t from, bool cased) {
  if (cased || needle.empty()) return FindLowered(haystack, needle, from, cased);
  thread_local std::string lowered;
  lowered.assign(needle);
  for (char& c : lowered) c = static_cast<char>(Lower(static_cast<unsigned char>(c)));
  return FindLowered(haystack, lowered, from, false);
}

std::vector<Pattern::Part> ParseSigmaString(std::string_view value, bool windash) {
  std::vector<Pattern::Part> parts;
  auto literal = [&](std::string_view bytes) {
    if (parts.empty() || parts.back().star || parts.back().token.kind != GlobToken::Kind::kLiteral) {
      parts.push_back(Pattern::Part{});
    }
    parts.back().token.literal.append(bytes);
  };
  for (size_t i = 0; i < value.size();) {
    const char c = value[i];
    if (c == '\\' && i + 1 < value.size() && (value[i + 1] == '*' || value[i + 1] == '?' || value[i + 1] == '\\')) {
      literal(value.substr(i + 1, 1));
      i += 2;
    } else if (c == '*') {
      Pattern::Part p;
      p.star = true;
      parts.push_back(std::move(p));
      ++i;
    } else if (c == '?') {
      Pattern::Part p;
      p.token.kind = GlobToken::Kind::kAnyChar;
      parts.push_back(std::move(p));
      ++i;
    } else if (size_t dash = windash ? DashLen(value, i) : 0; dash > 0) {
      Pattern::Part p;
      p.token.kind = GlobToken::Kind::kDash;
      parts.push_back(std::move(p));
      i += dash;
    } else {
      literal(value.substr(i, 1));
      ++i;
    }
  }
  return parts;
}

Pattern Pattern::Compile(const std::vector<Part>& parts, bool cased) {
  Pattern p;
  p.cased_ = cased;
  bool special = false;  // `?` or windash: the RE2 shape
  bool any_star = false;
  for (const auto& part : parts) {
    if (part.star)
      any_star = true;
    else if (part.token.kind != GlobToken::Kind::kLiteral)
      special = true;
  }
  p.lead_star_ = !parts.empty() && parts.front().star;
  p.trail_star_ = !parts.empty() && parts.back().star;
  if (special) {
    p.shape_ = Shape::kRegex;
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_max_mem(8 << 20);
    auto re = std::make_shared<RE2>(ToRegex(parts, cased), opts);
    if (!re->ok()) p.error_ = "wildcard pattern does not compile: " + re->error();
    p.re_ = std::move(re);
    for (const auto& part : parts) {
      if (part.star)
        p.literal_ += "*";
      else if (part.token.kind == GlobToken::Kind::kAnyChar)
        p.literal_ += "?";
      else if (part.token.kind == GlobToken::Kind::kDash)
        p.literal_ += "[-/]";
      else
        p.literal_ += Escape(part.token.literal);
    }
    return p;
  }
  // Literal segments between stars; consecutive stars collapse.
  std::vector<std::string> segs;
  bool new_segment = true;
  for (const auto& part : parts) {
    if (part.star) {
      new_segment = true;
      continue;
    }
    if (new_segment) segs.emplace_back();
    new_segment = false;
    std::string lit = part.token.literal;
    if (!cased) {
      for (char& ch : lit) ch = static_cast<char>(Lower(static_cast<unsigned char>(ch)));
    }
    segs.back() += lit;
  }
  if (segs.empty()) {
    p.shape_ = any_star ? Shape::kAny : Shape::kExact;  // "*" or ""
    return p;
  }
  if (segs.size() == 1) {
    p.literal_ = std::move(segs[0]);
    if (!p.lead_star_ && !p.trail_star_)
      p.shape_ = Shape::kExact;
    else if (p.lead_star_ && p.trail_star_)
      p.shape_ = Shape::kContains;
    else if (p.lead_star_)
      p.shape_ = Shape::kSuffix;
    else
      p.shape_ = Shape::kPrefix;
    return p;
  }
  if (segs.size() == 2 && !p.lead_star_ && !p.trail_star_) {
    p.shape_ = Shape::kPrefixSuffix;
    p.literal_ = std::move(segs[0]);
    p.literal2_ = std::move(segs[1]);
    return p;
  }
  p.shape_ = Shape::kGlob;
  p.segments_ = std::move(segs);
  return p;
}

bool Pattern::MatchGlob(std::string_view text) const {
  // Leftmost placement of each segment is optimal for `*`-separated literals.
  const size_t n = text.size();
  const size_t k = segments_.size();
  size_t pos = 0;
  size_t first = 0, last = k;
  if (!lead_star_) {
    const std::string& s = segments_[0];
    if (n < s.size() || !EqualAt(text, 0, s, cased_)) return false;
    pos = s.size();
    first = 1;
  }
  size_t end = n;
  if (!trail_star_) {
    const std::string& s = segments_[k - 1];
    if (n < s.size() || n - s.size() < pos || !EqualAt(text, n - s.size(), s, cased_)) return false;
    end = n - s.size();
    last = k - 1;
  }
  const std::string_view middle = text.substr(0, end);
  for (size_t i = first; i < last; ++i) {
    const size_t at = FindLowered(middle, segments_[i], pos, cased_);
    if (at == std::string_view::npos) return false;
    pos = at + segments_[i].size();
  }
  return true;
}

bool Pattern::Matches(std::string_view text) const {
  const size_t n = text.size();
  switch (shape_) {
    case Shape::kAny:
      return true;
    case Shape::kExact:
      return n == literal_.size() && EqualAt(text, 0, literal_, cased_);
    case Shape::kPrefix:
      return n >= literal_.size() && EqualAt(text, 0, literal_, cased_);
    case Shape::kSuffix:
      return n >= literal_.size() && EqualAt(text, n - literal_.size(), literal_, cased_);
    case Shape::kContains:
      return FindLowered(text, literal_, 0, cased_) != std::string_view::npos;
    case Shape::kPrefixSuffix:
      return n >= literal_.size() + literal2_.size() && EqualAt(text, 0, literal_, cased_) &&
             EqualAt(text, n - literal2_.size(), literal2_, cased_);
    case Shape::kGlob:
      return MatchGlob(text);
    case Shape::kRegex:
      return re_ && re_->ok() && RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *re_);
  }
  return false;
}

std::string Pattern::Describe() const {
  // Built by appending: gcc 12 -O3 warns falsely (-Wrestrict) on "*" + str.
  std::string out;
  switch (shape_) {
    case Shape::kAny:
      out.push_back('*');
      break;
    case Shape::kExact:
      out = Escape(literal_);
      break;
    case Shape::kPrefix:
      out.append(Escape(literal_)).append(1, '*');
      break;
    case Shape::kSuffix:
      out.append(1, '*').append(Escape(literal_));
      break;
    case Shape::kContains:
      out.append(1, '*').append(Escape(literal_)).append(1, '*');
      break;
    case Shape::kPrefixSuffix:
      out.append(Escape(literal_)).append(1, '*').append(Escape(literal2_));
      break;
    case Shape::kGlob:
      if (lead_star_) out.append(1, '*');
      for (size_t i = 0; i < segments_.size(); ++i) {
        if (i > 0) out.append(1, '*');
        out.append(Escape(segments_[i]));
      }
      if (trail_star_) out.append(1, '*');
      break;
    case Shape::kRegex:
      out = literal_;
      break;
  }
  return out;
}

// ---- CIDR ----------------------------------------------------------------------

namespace {

bool ParseIp(std::string_view text, bool* v6, uint8_t out[16]) {
  if (text.empty() || text.size() > 64) return false;
  char buf[65];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::memset(out, 0, 16);
  if (inet_pton(AF_INET, buf, out) == 1) {
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, buf, out) == 1) {
    *v6 = true;
    return true;
  }
  return false;
}

bool PrefixEqual(const uint8_t* a, const uint8_t* b, int bits) {
  const int bytes = bits / 8;
  if (std::memcmp(a, b, static_cast<size_t>(bytes)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[bytes] & mask) == (b[bytes] & mask);
}

}  // namespace

bool ParseCidr(std::string_view text, IpNetwork* out, std::string* why) {
  const size_t slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  IpNetwork n;
  if (!ParseIp(addr, &n.v6, n.addr)) {
    *why = "is not an IPv4 or IPv6 address";
    return false;
  }
  const int max = n.v6 ? 128 : 32;
  n.prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view bits = text.substr(slash + 1);
    int v = -1;
    auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), v);
    if (bits.empty() || ec != std::errc() || ptr != bits.data() + bits.size() || v < 0 || v > max) {
      *why = n.v6 ? "has a prefix length that is not 0..128" : "has a prefix length that is not 0..32";
      return false;
    }
    n.prefix = v;
  }
  *out = n;
  return true;
}

bool IpNetwork::Contains(std::string_view ip) const {
  bool is_v6 = false;
  uint8_t a[16];
  if (!ParseIp(ip, &is_v6, a)) return false;
  if (v6 == is_v6) return PrefixEqual(a, addr, prefix);
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (!v6) {
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) against an IPv4 network.
    return std::memcmp(a, kMapped, 12) == 0 && PrefixEqual(a + 12, addr, prefix);
  }
  // An IPv4 address against an IPv6 network: as ::ffff:a.b.c.d.
  uint8_t mapped[16];
  std::memcpy(mapped, kMapped, 12);
  std::memcpy(mapped + 12, a, 4);
  return PrefixEqual(mapped, addr, prefix);
}

}  // namespace cloudaudit::threats::internal
