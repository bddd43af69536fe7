// Report formats. Each writer renders a Report (model.h) and nothing else.
// Machine formats follow their published schemas; tests validate each one.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "report/model.h"

namespace cloudaudit::report {

enum class Format { kTable, kJson, kCsv, kOcsf, kAsff, kSarif, kJunit, kMarkdown, kHtml };

std::optional<Format> ParseFormat(std::string_view name);  // "table", "json", ..., "html"
std::string_view FormatName(Format format);
std::string_view FormatExtension(Format format);  // ".txt", ".json", ".csv", ".ocsf.json", ...
std::vector<Format> AllFormats();

struct WriteOptions {
  bool color = false;          // table: ANSI colours (a terminal)
  size_t table_limit = 20;     // table: worst findings listed
  bool include_passed = false; // list ok/skip results too (JSON, CSV, JUnit, SARIF as notes)
};

// One writer per format, each in its own file.
Status WriteTable(const Report& report, std::ostream& out, const WriteOptions& options);
Status WriteJson(const Report& report, std::ostream& out, const WriteOptions& options);
Status WriteCsv(const Report& report, std::ostream& out, const WriteOptions& options);
Status WriteOcsf(const Report& report, std::ostream& out, const WriteOptions& options);
Status WriteAsff(const Report& report, std::ostream& out, const WriteOptions& options);
Status WriteSarif(const Report& report, std::ostream& out, const WriteOptions& options);
Status WriteJunit(const Report& report, std::ostream& out, const WriteOptions& options);
Status WriteMarkdown(const Report& report, std::ostream& out, const WriteOptions& options);
Status WriteHtml(const Report& report, std::ostream& out, const WriteOptions& options);

// Dispatches to the writer of `format`.
Status WriteReport(const Report& report, Format format, std::ostream& out, const WriteOptions& options);

}  // namespace cloudaudit::report
