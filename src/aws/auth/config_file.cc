#include "aws/auth/config_file.h"

#include <algorithm>
#include <deque>
#include <limits>

#include <fmt/format.h>

#include "aws/auth/shell_split.h"

namespace cloudaudit::aws {

namespace {

// Python's str.isspace() over UTF-8 (which is also what configparser's \s and
// str.strip() use): returns the byte length of the whitespace character at
// `i`, or 0. Input is valid UTF-8.
size_t SpaceAt(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if ((c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20)) return 1;
  if (c == 0xc2 && i + 1 < s.size()) {
    unsigned char d = static_cast<unsigned char>(s[i + 1]);
    return (d == 0x85 || d == 0xa0) ? 2 : 0;
  }
  if ((c == 0xe1 || c == 0xe2 || c == 0xe3) && i + 2 < s.size()) {
    unsigned char d = static_cast<unsigned char>(s[i + 1]);
    unsigned char e = static_cast<unsigned char>(s[i + 2]);
    if (c == 0xe1) return (d == 0x9a && e == 0x80) ? 3 : 0;                    // U+1680
    if (c == 0xe3) return (d == 0x80 && e == 0x80) ? 3 : 0;                    // U+3000
    if (d == 0x80 && (e <= 0x8a || e == 0xa8 || e == 0xa9 || e == 0xaf)) return 3;  // U+2000-200A, 2028, 2029, 202F
    if (d == 0x81 && e == 0x9f) return 3;                                      // U+205F
  }
  return 0;
}

// Length of the whitespace character that ends at `end`, or 0.
size_t SpaceBefore(std::string_view s, size_t end) {
  for (size_t len = 1; len <= 3 && len <= end; ++len) {
    if (SpaceAt(s, end - len) == len) return len;
  }
  return 0;
}

std::string_view PyStrip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    size_t n = SpaceAt(s, b);
    if (n == 0) break;
    b += n;
  }
  while (e > b) {
    size_t n = SpaceBefore(s, e);
    if (n == 0) break;
    e -= n;
  }
  return s.substr(b, e - b);
}

std::string_view PyRStrip(std::string_view s) {
  size_t e = s.size();
  while (e > 0) {
    size_t n = SpaceBefore(s, e);
    if (n == 0) break;
    e -= n;
  }
  return s.substr(0, e);
}

// Indentation in characters, as configparser measures it.
size_t IndentOf(std::string_view line) {
  size_t chars = 0, i = 0;
  while (i < line.size()) {
    size_t n = SpaceAt(line, i);
    if (n == 0) break;
    i += n;
    ++chars;
  }
  return chars;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Offset of the first byte that is not strict UTF-8 (Python's decoder:
// no overlongs, no surrogates, nothing above U+10FFFF), or npos.
size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
    if (k >= s.size()) return false;
    unsigned char c = static_cast<unsigned char>(s[k]);
    return c >= lo && c <= hi;
  };
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
    } else if (c >= 0xc2 && c <= 0xdf) {
      if (!cont(i + 1)) return i;
      i += 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
      unsigned char hi = c == 0xed ? 0x9f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2)) return i;
      i += 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
      unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2) || !cont(i + 3)) return i;
      i += 4;
    } else {
      return i;
    }
  }
  return std::string_view::npos;
}

// Python's str.splitlines() separators that can occur inside a joined value
// (LF from the join itself, the rest from within lines).
std::vector<std::string_view> SplitLinesPython(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t start = 0, i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t sep = 0;
    if (c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e) {
      sep = (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ? 2 : 1;
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) {
      sep = 2;
    } else if (c == 0xe2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) == 0xa8 || static_cast<unsigned char>(s[i + 2]) == 0xa9)) {
      sep = 3;
    }
    if (sep == 0) {
      ++i;
      continue;
    }
    lines.push_back(s.substr(start, i - start));
    i += sep;
    start = i;
  }
  if (start < s.size()) lines.push_back(s.substr(start));
  return lines;
}

// A value as configparser accumulates it: its lines joined with '\n'.
// Blank lines are only counted until a non-blank line follows, because
// trailing ones are dropped anyway; this keeps memory linear in the file size
// even for a hostile file of millions of blank lines.
struct RawValue {
  std::string text;
  size_t pending_blank_lines = 0;
  std::vector<std::pair<size_t, int>> line_starts;  // (offset in text, line number) of each line
  int line = 0;

  void Reset(std::string_view first, int line_no) {
    text.assign(first);
    pending_blank_lines = 0;
    line_starts.assign(1, {0, line_no});
    line = line_no;
  }
  void AddBlankLine() { ++pending_blank_lines; }
  void AddLine(std::string_view part, int line_no) {
    text.append(pending_blank_lines + 1, '\n');
    pending_blank_lines = 0;
    line_starts.emplace_back(text.size(), line_no);
    text.append(part);
  }
  int LineAt(size_t offset) const {
    auto it = std::upper_bound(line_starts.begin(), line_starts.end(), std::pair<size_t, int>(offset, std::numeric_limits<int>::max()));
    return it == line_starts.begin() ? line : std::prev(it)->second;
  }
};

constexpr size_t kMaxDefaultCopies = 1'000'000;

struct RawSection {
  std::string name;
  int line = 0;
  std::map<std::string, RawValue> values;
};

class Parser {
 public:
  Parser(std::string_view path, const ConfigParseOptions& options) : path_(path), options_(options) {}

  Result<IniFile> Parse(std::string_view text) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    if (size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
      return Fail(MakeParseError(LineOf(text, bad), fmt::format("the file is not valid UTF-8 (byte {})", bad)));
    }
    size_t pos = 0;
    int line_no = 0;
    while (pos < text.size()) {
      size_t end = pos;
      while (end < text.size() && text[end] != '\n' && text[end] != '\r') ++end;
      std::string_view line = text.substr(pos, end - pos);
      pos = end;
      if (pos < text.size()) pos += (text[pos] == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') ? 2 : 1;
      ++line_no;
      CA_TRY_STATUS(ParseLine(line, line_no));
    }
    return Finish();
  }

 private:
  Error MakeParseError(int line, std::string message) const { return DataFileError(std::string(path_), line, std::move(message)); }

  static int LineOf(std::string_view text, size_t offset) {
    int line = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
      if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n'))) ++line;
    }
    return line;
  }

  size_t InlineCommentStart(std::string_view line) const {
    if (!options_.strip_inline_comments) return std::string_view::npos;
    for (size_t i = 0; i < line.size(); ++i) {
      if ((line[i] == '#' || line[i] == ';') && (i == 0 || SpaceBefore(line, i) > 0)) return i;
    }
    return std::string_view::npos;
  }

  Status ParseLine(std::string_view line, int line_no) {
    size_t comment_start = InlineCommentStart(line);
    std::string_view stripped = PyStrip(line);
    if (!stripped.empty() && (stripped[0] == '#' || stripped[0] == ';')) comment_start = 0;
    std::string_view value = PyStrip(line.substr(0, comment_start));
    if (value.empty()) {
      // A blank line (not a comment line) belongs to the value being read.
      if (comment_start == std::string_view::npos && value_ != nullptr) value_->AddBlankLine();
      return {};
    }
    size_t indent = IndentOf(line);
    if (value_ != nullptr && indent > indent_level_) {
      value_->AddLine(value, line_no);
      return {};
    }
    indent_level_ = indent;
    // configparser's section regex is \[(.+)\] matched at the start: the
    // name runs to the last ']' and whatever follows it is ignored.
    if (value[0] == '[') {
      size_t close = value.rfind(']');
      if (close != std::string_view::npos && close >= 2) {
        return OpenSection(std::string(value.substr(1, close - 1)), line_no);
      }
    }
    if (current_ == nullptr) {
      return Fail(MakeParseError(line_no, "expected a [section] header before the first setting"));
    }
    size_t delim = value.find_first_of("=:");
    if (delim == std::string_view::npos) {
      return Fail(MakeParseError(line_no, fmt::format("expected \"key = value\" in section [{}]", current_->name)));
    }
    std::string key = AsciiLower(PyRStrip(value.substr(0, delim)));
    if (key.empty()) {
      return Fail(MakeParseError(line_no, fmt::format("missing key before '{}' in section [{}]", value[delim],
                                                      current_->name)));
    }
    if (!options_.allow_duplicates && current_->values.count(key) != 0) {
      return Fail(MakeParseError(line_no, fmt::format("duplicate key \"{}\" in section [{}] (first set on line {})",
                                                      key, current_->name, current_->values[key].line)));
    }
    value_ = &current_->values[key];  // std::map nodes do not move
    value_->Reset(PyStrip(value.substr(delim + 1)), line_no);
    return {};
  }

  Status OpenSection(std::string name, int line_no) {
    value_ = nullptr;
    // [DEFAULT] may appear several times (configparser never records it as
    // a section), but its keys still may not repeat.
    if (name == "DEFAULT") {
      defaults_.name = name;
      if (defaults_.line == 0) defaults_.line = line_no;
      current_ = &defaults_;
      return {};
    }
    auto it = index_.find(name);
    if (it != index_.end()) {
      RawSection& existing = sections_[it->second];
      if (!options_.allow_duplicates) {
        return Fail(MakeParseError(line_no, fmt::format("duplicate section [{}] (first defined on line {})", name,
                                                        existing.line)));
      }
      current_ = &existing;
      return {};
    }
    index_.emplace(name, sections_.size());
    sections_.push_back(RawSection{name, line_no, {}});
    current_ = &sections_.back();  // a deque keeps it valid as sections are added
    return {};
  }

  Result<ConfigValue> Join(const std::string& key, const RawValue& raw) const {
    ConfigValue out;
    out.line = raw.line;
    out.text = raw.text;
    if (out.text.empty() || out.text[0] != '\n') return out;
    // botocore: a value that starts on the line after its key is a
    // sub-section of "k = v" lines.
    out.is_subsection = true;
    for (std::string_view sub_line : SplitLinesPython(out.text)) {
      std::string_view stripped = PyStrip(sub_line);
      if (stripped.empty()) continue;
      size_t eq = stripped.find('=');
      if (eq == std::string_view::npos) {
        int line = raw.LineAt(static_cast<size_t>(sub_line.data() - out.text.data()));
        return Fail(MakeParseError(line, fmt::format("expected \"name = value\" in the nested settings of \"{}\"", key)));
      }
      out.subsection[std::string(PyStrip(stripped.substr(0, eq)))] = std::string(PyStrip(stripped.substr(eq + 1)));
    }
    return out;
  }

  Result<IniFile> Finish() {
    // Every section gets its own copy of the [DEFAULT] keys; refuse inputs
    // where that would explode (real files have no [DEFAULT] section at all).
    if (!defaults_.values.empty() && sections_.size() * defaults_.values.size() > kMaxDefaultCopies) {
      return Fail(MakeParseError(defaults_.line, fmt::format("too many [DEFAULT] keys ({}) for {} sections",
                                                             defaults_.values.size(), sections_.size())));
    }
    IniFile file;
    file.path = std::string(path_);
    // botocore only sees a [DEFAULT] value through a section that does not
    // set the key itself, so only those are joined (and can fail).
    std::map<std::string, ConfigValue> joined_defaults;
    for (const RawSection& raw_section : sections_) {
      IniSection section;
      section.name = raw_section.name;
      section.line = raw_section.line;
      for (const auto& [key, raw] : raw_section.values) {
        CA_TRY(ConfigValue value, Join(key, raw));
        section.values.emplace(key, std::move(value));
      }
      for (const auto& [key, raw] : defaults_.values) {
        if (section.values.count(key) != 0) continue;
        auto cached = joined_defaults.find(key);
        if (cached == joined_defaults.end()) {
          CA_TRY(ConfigValue value, Join(key, raw));
          cached = joined_defaults.emplace(key, std::move(value)).first;
        }
        section.values.emplace(key, cached->second);
      }
      file.sections.push_back(std::move(section));
    }
    return file;
  }

  std::string_view path_;
  ConfigParseOptions options_;
  std::deque<RawSection> sections_;
  std::map<std::string, size_t> index_;
  RawSection defaults_;
  RawSection* current_ = nullptr;
  RawValue* value_ = nullptr;  // the value continuation lines extend
  size_t indent_level_ = 0;
};

std::map<std::string, ConfigSection>* KindFor(SharedConfig& shared, const std::string& name, std::string* short_name) {
  auto two_words = [&]() {
    auto words = ShellSplit(name);
    if (!words || words->size() != 2) return false;
    *short_name = (*words)[1];
    return true;
  };
  // botocore tests the prefixes in this order, on the raw header.
  if (name.rfind("profile", 0) == 0) return two_words() ? &shared.profiles : nullptr;
  if (name.rfind("sso-session", 0) == 0) return two_words() ? &shared.sso_sessions : nullptr;
  if (name.rfind("services", 0) == 0) return two_words() ? &shared.services : nullptr;
  *short_name = name;
  return name == "default" ? &shared.profiles : &shared.other_sections;
}

}  // namespace

const IniSection* IniFile::Find(std::string_view name) const {
  for (const IniSection& section : sections)
    if (section.name == name) return &section;
  return nullptr;
}

Result<IniFile> ParseConfigFile(std::string_view text, std::string_view path, const ConfigParseOptions& options) {
  Parser parser(path, options);
  return parser.Parse(text);
}

std::optional<std::string> GetString(const ConfigSection& section, std::string_view key) {
  auto it = section.find(std::string(key));
  if (it == section.end() || it->second.is_subsection) return std::nullopt;
  return it->second.text;
}

bool HasKey(const ConfigSection& section, std::string_view key) { return section.count(std::string(key)) != 0; }

const ConfigSection* SharedConfig::FindProfile(std::string_view name) const {
  auto it = profiles.find(std::string(name));
  return it == profiles.end() ? nullptr : &it->second;
}

void AddConfigFile(SharedConfig& shared, IniFile config_file) {
  for (const IniSection& section : config_file.sections) {
    std::string short_name;
    auto* kind = KindFor(shared, section.name, &short_name);
    if (kind == nullptr) continue;
    // A later section with the same short name replaces the earlier one
    // wholesale (botocore assigns into a dict; "[default]" and
    // "[profile default]" compete this way).
    (*kind)[short_name] = section.values;
    if (kind == &shared.profiles) shared.config_file_profiles[short_name] = section.values;
  }
  shared.config_file = std::move(config_file);
}

void AddCredentialsFile(SharedConfig& shared, IniFile credentials_file) {
  for (const IniSection& section : credentials_file.sections) {
    ConfigSection& profile = shared.profiles[section.name];
    for (const auto& [key, value] : section.values) profile[key] = value;
  }
  shared.credentials_file = std::move(credentials_file);
}

}  // namespace cloudaudit::aws
