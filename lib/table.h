#pragma once

// Tables of results in the output formats of the evaluation tools.
//   table     aligned plain text for people
//   markdown  a GitHub-flavored Markdown table
//   tsv, csv  one header line, then one line per row (csv quotes as RFC 4180)
//   json      JSON lines, one object per row keyed by the header. Numbers
//             are JSON numbers and missing values are null.
// table and markdown round numbers to each cell's decimals; tsv, csv and json
// print the shortest form that reads back to the same double.

#include <string>
#include <vector>

namespace didicm {

enum class OutputFormat { table, markdown, tsv, csv, json };

// Parses a format name; throws UsageError for an unknown one.
OutputFormat parse_output_format(const std::string& text);

// Whether a format is meant for people (table, markdown) rather than scripts.
bool is_for_people(OutputFormat format);

struct Cell {
  std::string text;  // used when !is_number
  double number = 0.0;
  bool is_number = false;
  bool is_missing = false;    // no value: "-" for people, empty or null for scripts
  int decimals = 2;           // digits after the point in table and markdown
  bool align_right = false;   // numbers are always right-aligned

  static Cell of_text(std::string text, bool align_right = false);
  static Cell of_number(double number, int decimals);
  static Cell missing();
};

struct TextTable {
  std::vector<std::string> header;  // column names, the JSON keys
  std::vector<std::vector<Cell>> rows;
  // Optional header lines that replace `header` in the table format, one
  // entry per column each; lets a pivot stack its column keys.
  std::vector<std::vector<std::string>> stacked_header;
};

// Renders `table`; every line ends with a newline.
std::string render_table(const TextTable& table, OutputFormat format);

// A JSON string literal of `text`, quotes included.
std::string json_quote(const std::string& text);

}  // namespace didicm
