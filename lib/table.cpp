#include "table.h"

#include "errors.h"

#include <fmt/format.h>

#include <algorithm>

namespace didicm {
namespace {

std::string cell_text(const Cell& cell, bool for_people) {
  if (cell.is_missing) {
    return for_people ? "-" : "";
  }
  if (!cell.is_number) {
    return cell.text;
  }
  if (for_people) {
    return fmt::format("{:.{}f}", cell.number, cell.decimals);
  }
  // 15 significant digits drop the noise of percent arithmetic
  // (100 * 0.07 = 7.000000000000001) and keep every digit a metric has.
  return fmt::format("{:.15g}", cell.number);
}

// UTF-8 code points, so that a class name with accents stays aligned.
std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad(const std::string& text, std::size_t width, bool right) {
  std::string padding(width - std::min(width, display_width(text)), ' ');
  return right ? padding + text : text + padding;
}

std::string render_aligned(const TextTable& table) {
  const std::size_t columns = table.header.size();
  std::vector<std::vector<std::string>> header_lines = table.stacked_header;
  if (header_lines.empty()) {
    header_lines.push_back(table.header);
  }

  std::vector<std::size_t> widths(columns, 0);
  std::vector<bool> right(columns, false);
  for (const auto& line : header_lines) {
    for (std::size_t c = 0; c < columns; ++c) {
      widths[c] = std::max(widths[c], display_width(line[c]));
    }
  }
  for (const auto& row : table.rows) {
    for (std::size_t c = 0; c < columns; ++c) {
      widths[c] = std::max(widths[c], display_width(cell_text(row[c], true)));
      right[c] = right[c] || row[c].is_number || row[c].align_right;
    }
  }

  // Two spaces between columns; trailing blanks are trimmed.
  // A column is right-aligned when any of its cells is.
  auto join = [&](const std::vector<std::string>& cells, const std::vector<bool>& align) {
    std::string line;
    for (std::size_t c = 0; c < columns; ++c) {
      line += (c == 0 ? "" : "  ") + pad(cells[c], widths[c], align[c]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    return line + "\n";
  };
  // Upper stacked header lines name runs of columns, so they start at the
  // left edge of their first column.
  std::string text;
  for (std::size_t i = 0; i < header_lines.size(); ++i) {
    text += join(header_lines[i], i + 1 < header_lines.size() ? std::vector<bool>(columns, false) : right);
  }
  std::string rule;
  for (std::size_t c = 0; c < columns; ++c) {
    rule += (c == 0 ? "" : "  ") + std::string(widths[c], '-');
  }
  text += rule + "\n";
  for (const auto& row : table.rows) {
    std::vector<std::string> cells;
    for (const Cell& cell : row) {
      cells.push_back(cell_text(cell, true));
    }
    text += join(cells, right);
  }
  return text;
}

std::string markdown_escape(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '|') {
      escaped += '\\';
    }
    escaped += c;
  }
  return escaped;
}

std::string render_markdown(const TextTable& table) {
  std::string text = "|";
  std::string rule = "|";
  for (std::size_t c = 0; c < table.header.size(); ++c) {
    bool right = std::any_of(table.rows.begin(), table.rows.end(), [c](const std::vector<Cell>& row) {
      return row[c].is_number || row[c].align_right;
    });
    text += " " + markdown_escape(table.header[c]) + " |";
    rule += right ? " ---: |" : " --- |";
  }
  text += "\n" + rule + "\n";
  for (const auto& row : table.rows) {
    text += "|";
    for (const Cell& cell : row) {
      text += " " + markdown_escape(cell_text(cell, true)) + " |";
    }
    text += "\n";
  }
  return text;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) {
    return text;
  }
  std::string quoted = "\"";
  for (char c : text) {
    quoted += c == '"' ? "\"\"" : std::string(1, c);
  }
  return quoted + "\"";
}

// TSV has no quoting: tabs and line breaks inside a value become spaces.
std::string tsv_field(std::string text) {
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\t' || c == '\n' || c == '\r'; },
                  ' ');
  return text;
}

std::string render_delimited(const TextTable& table, bool csv) {
  auto field = [csv](const std::string& text) { return csv ? csv_field(text) : tsv_field(text); };
  const char* separator = csv ? "," : "\t";
  std::string text;
  for (std::size_t c = 0; c < table.header.size(); ++c) {
    text += (c == 0 ? "" : separator) + field(table.header[c]);
  }
  text += "\n";
  for (const auto& row : table.rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      text += (c == 0 ? "" : separator) + field(cell_text(row[c], false));
    }
    text += "\n";
  }
  return text;
}

std::string render_json_lines(const TextTable& table) {
  std::string text;
  for (const auto& row : table.rows) {
    text += "{";
    for (std::size_t c = 0; c < row.size(); ++c) {
      const Cell& cell = row[c];
      std::string value;
      if (cell.is_missing) {
        value = "null";
      } else if (cell.is_number) {
        value = cell_text(cell, false);
      } else {
        value = json_quote(cell.text);
      }
      text += (c == 0 ? "" : ", ") + json_quote(table.header[c]) + ": " + value;
    }
    text += "}\n";
  }
  return text;
}

}  // namespace

OutputFormat parse_output_format(const std::string& text) {
  if (text == "table") {
    return OutputFormat::table;
  }
  if (text == "markdown") {
    return OutputFormat::markdown;
  }
  if (text == "tsv") {
    return OutputFormat::tsv;
  }
  if (text == "csv") {
    return OutputFormat::csv;
  }
  if (text == "json") {
    return OutputFormat::json;
  }
  throw UsageError(
      fmt::format("--format {}: unknown format; use table, markdown, tsv, csv or json", text));
}

bool is_for_people(OutputFormat format) {
  return format == OutputFormat::table || format == OutputFormat::markdown;
}

Cell Cell::of_text(std::string text, bool align_right) {
  Cell cell;
  cell.text = std::move(text);
  cell.align_right = align_right;
  return cell;
}

Cell Cell::of_number(double number, int decimals) {
  Cell cell;
  cell.number = number;
  cell.is_number = true;
  cell.decimals = decimals;
  return cell;
}

Cell Cell::missing() {
  Cell cell;
  cell.is_missing = true;
  return cell;
}

std::string json_quote(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        quoted += "\\\"";
        break;
      case '\\':
        quoted += "\\\\";
        break;
      case '\n':
        quoted += "\\n";
        break;
      case '\r':
        quoted += "\\r";
        break;
      case '\t':
        quoted += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          quoted += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          quoted += c;
        }
    }
  }
  return quoted + "\"";
}

std::string render_table(const TextTable& table, OutputFormat format) {
  switch (format) {
    case OutputFormat::table:
      return render_aligned(table);
    case OutputFormat::markdown:
      return render_markdown(table);
    case OutputFormat::tsv:
      return render_delimited(table, false);
    case OutputFormat::csv:
      return render_delimited(table, true);
    case OutputFormat::json:
      return render_json_lines(table);
  }
  return "";
}

}  // namespace didicm
