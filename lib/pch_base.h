#pragma once

// Precompiled header of didicm_base and the tools that link only it. No
// LibTorch header belongs here: those targets must not depend on LibTorch.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <string>
#include <vector>
