#include "report/formats.h"

#include <array>

namespace cloudaudit::report {

namespace {

struct FormatInfo {
  Format format;
  std::string_view name, extension;
};

constexpr std::array<FormatInfo, 9> kFormats = {{
    {Format::kTable, "table", ".txt"},
    {Format::kJson, "json", ".json"},
    {Format::kCsv, "csv", ".csv"},
    {Format::kOcsf, "ocsf", ".ocsf.json"},
    {Format::kAsff, "asff", ".asff.json"},
    {Format::kSarif, "sarif", ".sarif"},
    {Format::kJunit, "junit", ".junit.xml"},
    {Format::kMarkdown, "markdown", ".md"},
    {Format::kHtml, "html", ".html"},
}};

}  // namespace

std::optional<Format> ParseFormat(std::string_view name) {
  for (const auto& f : kFormats)
    if (f.name == name) return f.format;
  if (name == "md") return Format::kMarkdown;
  return std::nullopt;
}

std::string_view FormatName(Format format) {
  for (const auto& f : kFormats)
    if (f.format == format) return f.name;
  return "?";
}

std::string_view FormatExtension(Format format) {
  for (const auto& f : kFormats)
    if (f.format == format) return f.extension;
  return "";
}

std::vector<Format> AllFormats() {
  std::vector<Format> out;
  for (const auto& f : kFormats) out.push_back(f.format);
  return out;
}

}  // namespace cloudaudit::report
