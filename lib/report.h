#pragma once

// Result tables of didicm-eval: one line per posterior, per class, or a pivot
// of posteriors by their attributes (the layout of a paper's results table:
// rows = samplers and models, columns = resolution x training ratio).

#include "metrics.h"
#include "posterior.h"
#include "table.h"

#include <string>
#include <vector>

namespace didicm {

// One evaluated posterior. `posterior` keeps the attributes and classes; its
// probabilities may have been released after the metrics were computed.
struct EvaluatedPosterior {
  Posterior posterior;
  Metrics metrics;
};

// Columns: file, sampler, steps, nfe, count, top1, top5 (percent), nll (nats),
// ece, brier.
TextTable summary_table(const std::vector<EvaluatedPosterior>& inputs);

// One row per file and class: file, class (index), name, count, top1, top5
// (percent of the class's rows; empty when the class has no rows).
TextTable per_class_table(const std::vector<EvaluatedPosterior>& inputs);

struct PivotSpec {
  std::vector<std::string> row_keys;
  std::vector<std::string> column_keys;  // may be empty: a single column
  std::string baseline_key;              // empty: no gains
  std::string baseline_value;
};

// Builds a PivotSpec from the comma-separated --pivot and --columns lists and
// --baseline KEY=VALUE; throws UsageError for an empty key, a key used twice,
// or a baseline key that is not a row key.
PivotSpec parse_pivot_spec(const std::string& rows, const std::string& columns,
                           const std::string& baseline);

// Places every input in the cell its attribute values name. Values of a key
// are sorted numerically when all of them are numbers, and otherwise kept in
// the order of their first input. For people, a cell reads "top-1 / top-5" in
// percent and a gain line follows each row that has a baseline row (of the
// rows with baseline_key = baseline_value, the one that agrees with it on the
// most other row keys; a tie leaves the row without gains); for
// scripts, top-1, top-5 and the gains are columns of their own, in points.
// Throws Error when two inputs fall in the same cell or no row matches the
// baseline.
TextTable pivot_table(const std::vector<EvaluatedPosterior>& inputs, const PivotSpec& spec,
                      bool for_people);

}  // namespace didicm
