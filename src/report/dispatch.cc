// WriteReport lives apart from the format names (formats.cc) so that code
// needing only the names does not link every writer.
#include "report/formats.h"

namespace cloudaudit::report {

Status WriteReport(const Report& report, Format format, std::ostream& out, const WriteOptions& options) {
  switch (format) {
    case Format::kTable: return WriteTable(report, out, options);
    case Format::kJson: return WriteJson(report, out, options);
    case Format::kCsv: return WriteCsv(report, out, options);
    case Format::kOcsf: return WriteOcsf(report, out, options);
    case Format::kAsff: return WriteAsff(report, out, options);
    case Format::kSarif: return WriteSarif(report, out, options);
    case Format::kJunit: return WriteJunit(report, out, options);
    case Format::kMarkdown: return WriteMarkdown(report, out, options);
    case Format::kHtml: return WriteHtml(report, out, options);
  }
  return MakeError(ErrorCode::kInvalidArgument, "unknown report format");
}

}  // namespace cloudaudit::report
