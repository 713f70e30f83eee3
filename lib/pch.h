#pragma once

// Precompiled once per build; every target reuses it. Only headers that are
// slow to parse and stable belong here.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <string>
#include <vector>
