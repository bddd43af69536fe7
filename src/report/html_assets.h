// The HTML report's page template, stylesheet and script
// (src/report/html/*), compiled into the binary by tools/embed_text.py so
// the report needs no file beside the executable.
#pragma once

#include <span>

namespace cloudaudit::report {

struct EmbeddedSpec {
  const char* name;  // file name under src/report/html/, e.g. "report.js"
  const char* text;
};

std::span<const EmbeddedSpec> EmbeddedHtmlAssets();

}  // namespace cloudaudit::report
