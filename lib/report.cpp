#include "report.h"

#include "errors.h"
#include "logging.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

namespace didicm {
namespace {

constexpr int percent_decimals = 2;
constexpr int score_decimals = 4;

Cell percent(double fraction) { return Cell::of_number(100.0 * fraction, percent_decimals); }

std::vector<std::string> split_keys(const std::string& list, const std::string& option) {
  std::vector<std::string> keys;
  if (list.empty()) {
    return keys;
  }
  std::size_t start = 0;
  while (true) {
    std::size_t comma = list.find(',', start);
    std::string key = list.substr(start, comma == std::string::npos ? comma : comma - start);
    if (key.empty()) {
      throw UsageError(fmt::format("{} {}: empty attribute name; separate names by single commas",
                                   option, list));
    }
    keys.push_back(key);
    if (comma == std::string::npos) {
      return keys;
    }
    start = comma + 1;
  }
}

bool parse_number(const std::string& text, double& value) {
  if (text.empty()) {
    return false;
  }
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// The display order of one key's values: numeric when every value is a
// number, otherwise the order of first appearance.
std::map<std::string, std::size_t> value_ranks(const std::vector<std::string>& values) {
  std::vector<std::string> distinct;
  for (const auto& value : values) {
    if (std::find(distinct.begin(), distinct.end(), value) == distinct.end()) {
      distinct.push_back(value);
    }
  }
  // An unused setting ("-") does not make a numeric key textual, and sorts last.
  double unused = 0.0;
  bool numeric = std::all_of(distinct.begin(), distinct.end(), [&](const std::string& value) {
    return value == unused_setting || parse_number(value, unused);
  });
  if (numeric) {
    std::stable_sort(distinct.begin(), distinct.end(), [](const std::string& a, const std::string& b) {
      if (a == unused_setting || b == unused_setting) {
        return b == unused_setting && a != unused_setting;
      }
      return std::strtod(a.c_str(), nullptr) < std::strtod(b.c_str(), nullptr);
    });
  }
  std::map<std::string, std::size_t> ranks;
  for (std::size_t i = 0; i < distinct.size(); ++i) {
    ranks[distinct[i]] = i;
  }
  return ranks;
}

using Tuple = std::vector<std::string>;

// Returns a row key's cell. An unused sampler setting is a missing value ("-"
// for people, empty or null for scripts). A plain decimal number is a number,
// so that JSON gets 28 and not "28", shown with the digits it was written with.
Cell key_cell(const std::string& value) {
  if (value == unused_setting) {
    return Cell::missing();
  }
  double number = 0.0;
  bool plain = value.find_first_not_of("+-0123456789.") == std::string::npos;
  if (!plain || !parse_number(value, number)) {
    return Cell::of_text(value);
  }
  std::size_t point = value.find('.');
  int decimals = point == std::string::npos ? 0 : static_cast<int>(value.size() - point - 1);
  return Cell::of_number(number, decimals);
}

// The distinct tuples of `keys` over the inputs, in display order.
std::vector<Tuple> ordered_tuples(const std::vector<Tuple>& tuples, std::size_t width) {
  std::vector<std::map<std::string, std::size_t>> ranks;
  for (std::size_t k = 0; k < width; ++k) {
    std::vector<std::string> values;
    for (const auto& tuple : tuples) {
      values.push_back(tuple[k]);
    }
    ranks.push_back(value_ranks(values));
  }
  std::vector<Tuple> distinct;
  for (const auto& tuple : tuples) {
    if (std::find(distinct.begin(), distinct.end(), tuple) == distinct.end()) {
      distinct.push_back(tuple);
    }
  }
  std::sort(distinct.begin(), distinct.end(), [&](const Tuple& a, const Tuple& b) {
    for (std::size_t k = 0; k < width; ++k) {
      if (ranks[k].at(a[k]) != ranks[k].at(b[k])) {
        return ranks[k].at(a[k]) < ranks[k].at(b[k]);
      }
    }
    return false;
  });
  return distinct;
}

Tuple attribute_tuple(const Posterior& posterior, const std::vector<std::string>& keys) {
  Tuple tuple;
  for (const auto& key : keys) {
    tuple.push_back(posterior_attribute(posterior, key));
  }
  return tuple;
}

std::string describe_tuple(const std::vector<std::string>& keys, const Tuple& tuple,
                           const char* separator) {
  std::vector<std::string> parts;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    parts.push_back(keys[k] + "=" + tuple[k]);
  }
  return fmt::format("{}", fmt::join(parts, separator));
}

// The inputs arranged by row and column tuple; -1 marks an empty cell.
struct PivotLayout {
  std::vector<Tuple> rows;
  std::vector<Tuple> columns;
  std::vector<std::vector<int>> cell;           // [row][column] -> input index
  std::vector<int> baseline;                    // [row] -> row index, or -1
};

PivotLayout arrange(const std::vector<EvaluatedPosterior>& inputs, const PivotSpec& spec) {
  std::vector<Tuple> row_of;
  std::vector<Tuple> column_of;
  for (const auto& input : inputs) {
    row_of.push_back(attribute_tuple(input.posterior, spec.row_keys));
    column_of.push_back(attribute_tuple(input.posterior, spec.column_keys));
  }
  PivotLayout layout;
  layout.rows = ordered_tuples(row_of, spec.row_keys.size());
  layout.columns = ordered_tuples(column_of, spec.column_keys.size());
  layout.cell.assign(layout.rows.size(), std::vector<int>(layout.columns.size(), -1));

  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto r = std::find(layout.rows.begin(), layout.rows.end(), row_of[i]) - layout.rows.begin();
    auto c = std::find(layout.columns.begin(), layout.columns.end(), column_of[i]) -
             layout.columns.begin();
    int& slot = layout.cell[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
    if (slot >= 0) {
      throw Error(fmt::format(
          "{} and {}: both fall in the pivot cell {} / {}; add an attribute that tells them "
          "apart to --pivot or --columns",
          inputs[static_cast<std::size_t>(slot)].posterior.source, inputs[i].posterior.source,
          describe_tuple(spec.row_keys, row_of[i], ", "),
          spec.column_keys.empty() ? "(one column)" : describe_tuple(spec.column_keys, column_of[i], ", ")));
    }
    slot = static_cast<int>(i);
  }

  layout.baseline.assign(layout.rows.size(), -1);
  if (spec.baseline_key.empty()) {
    return layout;
  }
  const auto key = static_cast<std::size_t>(
      std::find(spec.row_keys.begin(), spec.row_keys.end(), spec.baseline_key) -
      spec.row_keys.begin());
  // The baseline of a row is the row with baseline_key = baseline_value that
  // agrees with it on the most other row keys; a tie for the most leaves the
  // row without a baseline.
  std::set<std::string> values;
  for (const auto& row : layout.rows) {
    values.insert(row[key]);
  }
  for (std::size_t r = 0; r < layout.rows.size(); ++r) {
    int best_score = -1;
    int best_count = 0;
    for (std::size_t b = 0; b < layout.rows.size(); ++b) {
      if (layout.rows[b][key] != spec.baseline_value) {
        continue;
      }
      int score = 0;
      for (std::size_t k = 0; k < spec.row_keys.size(); ++k) {
        score += k != key && layout.rows[b][k] == layout.rows[r][k] ? 1 : 0;
      }
      if (score > best_score) {
        best_score = score;
        best_count = 0;
        layout.baseline[r] = static_cast<int>(b);
      }
      best_count += score == best_score ? 1 : 0;
    }
    if (best_count > 1) {
      log_warning("pivot row {}: several --baseline rows fit equally well; its gains are left out",
                  describe_tuple(spec.row_keys, layout.rows[r], ", "));
      layout.baseline[r] = -1;
    }
  }
  if (values.count(spec.baseline_value) == 0) {
    throw Error(fmt::format("--baseline {}={}: no input has this value; values of {}: {}",
                            spec.baseline_key, spec.baseline_value, spec.baseline_key,
                            fmt::join(values, ", ")));
  }
  return layout;
}

const Metrics* cell_metrics(const std::vector<EvaluatedPosterior>& inputs,
                            const PivotLayout& layout, std::size_t row, std::size_t column) {
  int index = layout.cell[row][column];
  return index < 0 ? nullptr : &inputs[static_cast<std::size_t>(index)].metrics;
}

std::vector<std::vector<std::string>> stacked_header(const PivotSpec& spec,
                                                     const PivotLayout& layout) {
  std::vector<std::vector<std::string>> lines;
  const std::size_t depth = spec.column_keys.size();
  for (std::size_t level = 0; level < depth; ++level) {
    std::vector<std::string> line(spec.row_keys.size(), "");
    if (level + 1 == depth) {
      line = spec.row_keys;
    }
    for (std::size_t c = 0; c < layout.columns.size(); ++c) {
      // An upper level names its value once per run of equal columns, like a
      // spanning header.
      bool repeated = level + 1 < depth && c > 0 &&
                      std::equal(layout.columns[c].begin(),
                                 layout.columns[c].begin() + static_cast<std::ptrdiff_t>(level + 1),
                                 layout.columns[c - 1].begin());
      line.push_back(repeated ? "" : spec.column_keys[level] + "=" + layout.columns[c][level]);
    }
    lines.push_back(line);
  }
  return lines;
}

TextTable pivot_for_people(const std::vector<EvaluatedPosterior>& inputs, const PivotSpec& spec,
                           const PivotLayout& layout) {
  TextTable table;
  table.header = spec.row_keys;
  for (const auto& column : layout.columns) {
    table.header.push_back(spec.column_keys.empty() ? "top1 / top5"
                                                    : describe_tuple(spec.column_keys, column, ", "));
  }
  if (spec.column_keys.size() > 1) {
    table.stacked_header = stacked_header(spec, layout);
  }

  for (std::size_t r = 0; r < layout.rows.size(); ++r) {
    std::vector<Cell> cells;
    for (const auto& value : layout.rows[r]) {
      cells.push_back(key_cell(value));
    }
    for (std::size_t c = 0; c < layout.columns.size(); ++c) {
      const Metrics* metrics = cell_metrics(inputs, layout, r, c);
      cells.push_back(metrics == nullptr
                          ? Cell::missing()
                          : Cell::of_text(fmt::format("{:.2f} / {:.2f}", 100.0 * metrics->top1,
                                                      100.0 * metrics->top5),
                                          true));
    }
    table.rows.push_back(cells);

    const int base = layout.baseline[r];
    if (base < 0 || static_cast<std::size_t>(base) == r) {
      continue;
    }
    std::vector<Cell> gains(spec.row_keys.size(), Cell::of_text(""));
    gains[0] = Cell::of_text(fmt::format("gain vs {}", spec.baseline_value));
    for (std::size_t c = 0; c < layout.columns.size(); ++c) {
      const Metrics* metrics = cell_metrics(inputs, layout, r, c);
      const Metrics* reference = cell_metrics(inputs, layout, static_cast<std::size_t>(base), c);
      gains.push_back(metrics == nullptr || reference == nullptr
                          ? Cell::missing()
                          : Cell::of_text(fmt::format("{:+.2f} / {:+.2f}",
                                                      100.0 * (metrics->top1 - reference->top1),
                                                      100.0 * (metrics->top5 - reference->top5)),
                                          true));
    }
    table.rows.push_back(gains);
  }
  return table;
}

TextTable pivot_for_scripts(const std::vector<EvaluatedPosterior>& inputs, const PivotSpec& spec,
                            const PivotLayout& layout) {
  const bool gains = !spec.baseline_key.empty();
  TextTable table;
  table.header = spec.row_keys;
  for (const auto& column : layout.columns) {
    std::string label =
        spec.column_keys.empty() ? "" : describe_tuple(spec.column_keys, column, ",") + " ";
    table.header.push_back(label + "top1");
    table.header.push_back(label + "top5");
    if (gains) {
      table.header.push_back(label + "top1 gain");
      table.header.push_back(label + "top5 gain");
    }
  }

  for (std::size_t r = 0; r < layout.rows.size(); ++r) {
    std::vector<Cell> cells;
    for (const auto& value : layout.rows[r]) {
      cells.push_back(key_cell(value));
    }
    for (std::size_t c = 0; c < layout.columns.size(); ++c) {
      const Metrics* metrics = cell_metrics(inputs, layout, r, c);
      cells.push_back(metrics == nullptr ? Cell::missing() : percent(metrics->top1));
      cells.push_back(metrics == nullptr ? Cell::missing() : percent(metrics->top5));
      if (!gains) {
        continue;
      }
      const int base = layout.baseline[r];
      const Metrics* reference =
          base < 0 ? nullptr : cell_metrics(inputs, layout, static_cast<std::size_t>(base), c);
      bool known = metrics != nullptr && reference != nullptr;
      cells.push_back(known ? percent(metrics->top1 - reference->top1) : Cell::missing());
      cells.push_back(known ? percent(metrics->top5 - reference->top5) : Cell::missing());
    }
    table.rows.push_back(cells);
  }
  return table;
}

// Steps and NFE: 0 means that the sampler has no steps (softmax) or that the
// file does not record the value.
Cell count_cell(std::int64_t value) {
  return value > 0 ? Cell::of_number(static_cast<double>(value), 0) : Cell::missing();
}

}  // namespace

TextTable summary_table(const std::vector<EvaluatedPosterior>& inputs) {
  TextTable table;
  table.header = {"file", "sampler", "steps", "nfe",  "count",
                  "top1", "top5",    "nll",   "ece",  "brier"};
  for (const auto& input : inputs) {
    const Posterior& posterior = input.posterior;
    const Metrics& metrics = input.metrics;
    table.rows.push_back({Cell::of_text(posterior.source),
                          posterior.sampler.empty() ? Cell::missing() : Cell::of_text(posterior.sampler),
                          count_cell(posterior.steps),
                          count_cell(metrics.nfe),
                          Cell::of_number(static_cast<double>(metrics.count), 0),
                          percent(metrics.top1),
                          percent(metrics.top5),
                          Cell::of_number(metrics.nll, score_decimals),
                          Cell::of_number(metrics.ece, score_decimals),
                          Cell::of_number(metrics.brier, score_decimals)});
  }
  return table;
}

TextTable per_class_table(const std::vector<EvaluatedPosterior>& inputs) {
  TextTable table;
  table.header = {"file", "class", "name", "count", "top1", "top5"};
  for (const auto& input : inputs) {
    const Metrics& metrics = input.metrics;
    for (std::size_t c = 0; c < metrics.class_count.size(); ++c) {
      const auto count = metrics.class_count[c];
      table.rows.push_back(
          {Cell::of_text(input.posterior.source), Cell::of_number(static_cast<double>(c), 0),
           Cell::of_text(input.posterior.classes[c]),
           Cell::of_number(static_cast<double>(count), 0),
           count == 0 ? Cell::missing() : percent(metrics.class_top1[c] / static_cast<double>(count)),
           count == 0 ? Cell::missing() : percent(metrics.class_top5[c] / static_cast<double>(count))});
    }
  }
  return table;
}

PivotSpec parse_pivot_spec(const std::string& rows, const std::string& columns,
                           const std::string& baseline) {
  PivotSpec spec;
  spec.row_keys = split_keys(rows, "--pivot");
  spec.column_keys = split_keys(columns, "--columns");
  if (spec.row_keys.empty()) {
    throw UsageError("--pivot: give at least one attribute name, for example --pivot sampler");
  }
  std::set<std::string> seen;
  for (const auto& key : spec.row_keys) {
    if (!seen.insert(key).second) {
      throw UsageError(fmt::format("--pivot {}: attribute '{}' is given twice", rows, key));
    }
  }
  for (const auto& key : spec.column_keys) {
    if (!seen.insert(key).second) {
      throw UsageError(fmt::format("--columns {}: attribute '{}' is already a row or column key",
                                   columns, key));
    }
  }
  if (baseline.empty()) {
    return spec;
  }
  std::size_t equals = baseline.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw UsageError(fmt::format("--baseline {}: expected KEY=VALUE, for example sampler=standard",
                                 baseline));
  }
  spec.baseline_key = baseline.substr(0, equals);
  spec.baseline_value = baseline.substr(equals + 1);
  if (std::find(spec.row_keys.begin(), spec.row_keys.end(), spec.baseline_key) ==
      spec.row_keys.end()) {
    throw UsageError(fmt::format("--baseline {}: '{}' is not one of the --pivot keys ({})", baseline,
                                 spec.baseline_key, rows));
  }
  return spec;
}

TextTable pivot_table(const std::vector<EvaluatedPosterior>& inputs, const PivotSpec& spec,
                      bool for_people) {
  PivotLayout layout = arrange(inputs, spec);
  return for_people ? pivot_for_people(inputs, spec, layout)
                    : pivot_for_scripts(inputs, spec, layout);
}

}  // namespace didicm
