// Chat-template parser: tokens -> syntax tree, with jinja2's operator precedence. Unknown or
// unsupported tags, filters and tests are reported here, before any rendering.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "chat/template_ast.h"

namespace semantic::chat::tmpl {

struct Program {
  std::string source;  // normalized source; error positions refer to it
  Body body;
};

Expected<std::unique_ptr<Program>> ParseProgram(std::string_view source);

// Names the engine implements (template_filters.cpp / template_tests.cpp).
bool IsSupportedFilter(std::string_view name);
bool IsSupportedTest(std::string_view name);

}  // namespace semantic::chat::tmpl
