// Sigma string values: escapes and wildcards, compiled into literal fast
// paths (exact, prefix, suffix, contains, prefix+suffix) or a general
// wildcard matcher; and CIDR networks.
#include <arpa/inet.h>

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

size_t Find(std::string_view text, std::string_view needle, size_t from, bool cased) {
  if (needle.empty()) return from <= text.size() ? from : std::string_view::npos;
  if (text.size() < needle.size() || from > text.size() - needle.size()) return std::string_view::npos;
  if (cased) return text.find(needle, from);
  const unsigned char first = static_cast<unsigned char>(needle[0]);
  const bool letter = first >= 'a' && first <= 'z';
  const size_t last = text.size() - needle.size();
  for (size_t i = from; i <= last; ++i) {
    if (!letter) {
      // memchr is much faster than a byte loop for the common case.
      const void* hit = std::memchr(text.data() + i, first, last - i + 1);
      if (hit == nullptr) return std::string_view::npos;
      i = static_cast<size_t>(static_cast<const char*>(hit) - text.data());
    } else if (Lower(static_cast<unsigned char>(text[i])) != first) {
      continue;
    }
    if (EqualAt(text, i, needle, false)) return i;
  }
  return std::string_view::npos;
}

// Length of the UTF-8 character at pos; invalid or truncated sequences
// count as one byte each, so any byte string can be matched.
size_t CharLen(std::string_view text, size_t pos) {
  const auto c = static_cast<unsigned char>(text[pos]);
  size_t len = 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
  }
  if (pos + len > text.size()) return 1;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(text[pos + k]) & 0xC0) != 0x80) return 1;
  }
  return len;
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

}  // namespace

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
  // Segments between stars; adjacent literals merged, consecutive stars collapsed.
  std::vector<Segment> segs;
  bool star_pending = true;  // the next token starts a new segment
  bool any_star = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Part& part = parts[i];
    if (part.star) {
      any_star = true;
      if (i == 0) p.lead_star_ = true;
      star_pending = true;
      continue;
    }
    if (star_pending) {
      segs.emplace_back();
      star_pending = false;
    }
    GlobToken tok = part.token;
    if (!cased && tok.kind == GlobToken::Kind::kLiteral) {
      for (char& ch : tok.literal) ch = static_cast<char>(Lower(static_cast<unsigned char>(ch)));
    }
    Segment& seg = segs.back();
    if (tok.kind == GlobToken::Kind::kLiteral && !seg.empty() && seg.back().kind == GlobToken::Kind::kLiteral) {
      seg.back().literal += tok.literal;
    } else {
      seg.push_back(std::move(tok));
    }
  }
  p.trail_star_ = !parts.empty() && parts.back().star;

  if (segs.empty()) {
    p.shape_ = any_star ? Shape::kAny : Shape::kExact;  // "*" or ""
    return p;
  }
  bool literal_only = true;
  for (const auto& s : segs) {
    if (s.size() != 1 || s[0].kind != GlobToken::Kind::kLiteral) literal_only = false;
  }
  if (literal_only && segs.size() == 1) {
    p.literal_ = segs[0][0].literal;
    if (!p.lead_star_ && !p.trail_star_) p.shape_ = Shape::kExact;
    else if (p.lead_star_ && p.trail_star_) p.shape_ = Shape::kContains;
    else if (p.lead_star_) p.shape_ = Shape::kSuffix;
    else p.shape_ = Shape::kPrefix;
    return p;
  }
  if (literal_only && segs.size() == 2 && !p.lead_star_ && !p.trail_star_) {
    p.shape_ = Shape::kPrefixSuffix;
    p.literal_ = segs[0][0].literal;
    p.literal2_ = segs[1][0].literal;
    return p;
  }
  p.shape_ = Shape::kGlob;
  p.segments_ = std::move(segs);
  return p;
}

size_t Pattern::MatchSegmentAt(const Segment& seg, std::string_view text, size_t pos, bool cased) {
  for (const GlobToken& tok : seg) {
    switch (tok.kind) {
      case GlobToken::Kind::kLiteral:
        if (text.size() - pos < tok.literal.size() || !EqualAt(text, pos, tok.literal, cased)) return std::string_view::npos;
        pos += tok.literal.size();
        break;
      case GlobToken::Kind::kAnyChar:
        if (pos >= text.size()) return std::string_view::npos;
        pos += CharLen(text, pos);
        break;
      case GlobToken::Kind::kDash: {
        if (pos >= text.size()) return std::string_view::npos;
        const size_t len = DashLen(text, pos);
        if (len == 0) return std::string_view::npos;
        pos += len;
        break;
      }
    }
  }
  return pos;
}

// Leftmost position >= from where seg matches; *end gets where it ends.
size_t Pattern::FindSegment(const Segment& seg, std::string_view text, size_t from, size_t* end, bool cased) {
  const bool lead_literal = seg[0].kind == GlobToken::Kind::kLiteral;
  for (size_t p = from; p <= text.size();) {
    if (lead_literal) {
      p = Find(text, seg[0].literal, p, cased);
      if (p == std::string_view::npos) return p;
    }
    const size_t e = MatchSegmentAt(seg, text, p, cased);
    if (e != std::string_view::npos) {
      *end = e;
      return p;
    }
    ++p;
  }
  return std::string_view::npos;
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
      return Find(text, literal_, 0, cased_) != std::string_view::npos;
    case Shape::kPrefixSuffix:
      return n >= literal_.size() + literal2_.size() && EqualAt(text, 0, literal_, cased_) &&
             EqualAt(text, n - literal2_.size(), literal2_, cased_);
    case Shape::kGlob:
      break;
  }
  size_t pos = 0;
  const size_t k = segments_.size();
  for (size_t i = 0; i < k; ++i) {
    const Segment& seg = segments_[i];
    const bool anchored_start = i == 0 && !lead_star_;
    const bool anchored_end = i == k - 1 && !trail_star_;
    if (anchored_start) {
      const size_t e = MatchSegmentAt(seg, text, 0, cased_);
      if (e == std::string_view::npos) return false;
      if (anchored_end) return e == n;
      pos = e;
      continue;
    }
    if (anchored_end) {
      bool fixed = true;
      size_t len = 0;
      for (const auto& t : seg) {
        if (t.kind != GlobToken::Kind::kLiteral) fixed = false;
        len += t.literal.size();
      }
      if (fixed) return n >= len && n - len >= pos && MatchSegmentAt(seg, text, n - len, cased_) == n;
      for (size_t p = pos; p < n; ++p) {
        if (MatchSegmentAt(seg, text, p, cased_) == n) return true;
      }
      return false;
    }
    size_t e = 0;
    if (FindSegment(seg, text, pos, &e, cased_) == std::string_view::npos) return false;
    pos = e;
  }
  return true;  // the pattern ends with `*`
}

std::string Pattern::Describe() const {
  auto esc = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '*' || c == '?' || c == '\\') out += '\\';
      out += c;
    }
    return out;
  };
  switch (shape_) {
    case Shape::kAny:
      return "*";
    case Shape::kExact:
      return esc(literal_);
    case Shape::kPrefix:
      return esc(literal_) + "*";
    case Shape::kSuffix:
      return "*" + esc(literal_);
    case Shape::kContains:
      return "*" + esc(literal_) + "*";
    case Shape::kPrefixSuffix:
      return esc(literal_) + "*" + esc(literal2_);
    case Shape::kGlob:
      break;
  }
  std::string out = lead_star_ ? "*" : "";
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (i > 0) out += "*";
    for (const auto& t : segments_[i]) {
      if (t.kind == GlobToken::Kind::kLiteral) out += esc(t.literal);
      else if (t.kind == GlobToken::Kind::kAnyChar) out += "?";
      else out += "[-/]";
    }
  }
  if (trail_star_) out += "*";
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
