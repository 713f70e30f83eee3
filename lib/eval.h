#pragma once

// didicm-eval: metrics, tables and figures from posterior files.

#include <string>
#include <vector>

namespace didicm {

struct EvalOptions {
  std::vector<std::string> inputs;  // posterior files; "-" reads stdin (once)
  std::string format = "table";     // table, markdown, tsv, csv or json
  std::string ties = "expected";    // expected or index
  std::string pivot;                // comma-separated row attribute keys
  std::string columns;              // comma-separated column attribute keys
  std::string baseline;             // KEY=VALUE, KEY one of the pivot keys
  bool per_class = false;
  std::string reliability;          // SVG path, empty: none
  std::string examples;             // SVG path, empty: none
  int count = 10;                   // images in the examples figure
  bool force = false;               // overwrite existing SVG files
};

// Throws UsageError for an invalid combination of options.
void validate_eval_options(const EvalOptions& options);

// Evaluates every input and prints one table on stdout: the pivot with
// --pivot, per-class accuracy with --per-class, otherwise one row per input.
// Writes the requested SVG figures. Returns the exit status.
int run_eval(const EvalOptions& options);

}  // namespace didicm
