// The semantic release version, printed by `semantic version`; a unit test checks that it matches
// project(semantic VERSION …) in CMakeLists.txt.
#pragma once

namespace semantic::config {

inline constexpr const char kVersion[] = "0.1.0";

}  // namespace semantic::config
