#include "svg.h"

#include "atomic_file.h"
#include "errors.h"

#include <fmt/format.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace didicm {
namespace {

// Colors of successive curves and panels (the "tab10" palette).
const char* const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr std::size_t palette_size = sizeof(palette) / sizeof(palette[0]);

const char* svg_prologue = R"(<?xml version="1.0" encoding="UTF-8"?>
)";

std::string svg_open(int width, int height) {
  return fmt::format(
      "{}<svg xmlns=\"http://www.w3.org/2000/svg\" "
      "xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"{}\" height=\"{}\" "
      "viewBox=\"0 0 {} {}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      svg_prologue, width, height, width, height);
}

// At most `limit` characters (UTF-8 code points), with "..." when cut.
std::string shorten(const std::string& text, std::size_t limit) {
  std::size_t points = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (points == limit - 3 && text.size() - i > 3) {
        return text.substr(0, i) + "...";
      }
      ++points;
    }
  }
  return text;
}

std::string base64(const std::vector<std::uint8_t>& bytes) {
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t group = static_cast<std::uint32_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) {
      group |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
    }
    if (i + 2 < bytes.size()) {
      group |= bytes[i + 2];
    }
    text += alphabet[(group >> 18) & 63];
    text += alphabet[(group >> 12) & 63];
    text += i + 1 < bytes.size() ? alphabet[(group >> 6) & 63] : '=';
    text += i + 2 < bytes.size() ? alphabet[group & 63] : '=';
  }
  return text;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      case '\'':
        escaped += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters even when escaped.
        escaped += static_cast<unsigned char>(c) < 0x20 && c != '\t' ? ' ' : c;
    }
  }
  return escaped;
}

std::string reliability_svg(const std::vector<ReliabilityCurve>& curves) {
  // Plot area in pixels; the legend sits to its right.
  const int left = 60;
  const int top = 40;
  const int size = 380;
  const int legend_x = left + size + 30;
  const int width = legend_x + 300;
  const int height = std::max(top + size + 60, top + 20 * static_cast<int>(curves.size()) + 20);
  auto x = [&](double value) { return left + value * size; };
  auto y = [&](double value) { return top + (1.0 - value) * size; };

  std::string svg = svg_open(width, height);
  svg += fmt::format(
      "<text x=\"{}\" y=\"24\" font-size=\"15\">Reliability diagram ({} equal-width confidence "
      "bins)</text>\n",
      left, calibration_bins);
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n", left,
      top, size, size);
  for (int tick = 0; tick <= 5; ++tick) {
    double value = tick / 5.0;
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#dddddd\"/>\n"
        "<line x1=\"{3}\" y1=\"{4:.1f}\" x2=\"{5}\" y2=\"{4:.1f}\" stroke=\"#dddddd\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{6}\" text-anchor=\"middle\">{7:.1f}</text>\n"
        "<text x=\"{8}\" y=\"{9:.1f}\" text-anchor=\"end\">{7:.1f}</text>\n",
        x(value), top, top + size, left, y(value), left + size, top + size + 16, value, left - 6,
        y(value) + 4);
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">confidence</text>\n",
                     left + size / 2, top + size + 36);
  svg += fmt::format(
      "<text x=\"18\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {0})\">accuracy"
      "</text>\n",
      top + size / 2);
  svg += fmt::format(
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#888888\" stroke-dasharray=\"5,4\"/>\n",
      x(0), y(0), x(1), y(1));

  for (std::size_t i = 0; i < curves.size(); ++i) {
    const char* color = palette[i % palette_size];
    std::string points;
    std::string markers;
    for (const CalibrationBin& bin : curves[i].bins) {
      if (bin.count == 0) {
        continue;
      }
      double confidence = bin.confidence_sum / static_cast<double>(bin.count);
      double accuracy = bin.correct_sum / static_cast<double>(bin.count);
      points += fmt::format("{:.2f},{:.2f} ", x(confidence), y(accuracy));
      markers += fmt::format(
          "<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"3\" fill=\"{}\"><title>{} rows, confidence "
          "{:.3f}, accuracy {:.3f}</title></circle>\n",
          x(confidence), y(accuracy), color, bin.count, confidence, accuracy);
    }
    svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n",
                       points, color);
    svg += markers;
    int legend_y = top + 10 + 20 * static_cast<int>(i);
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"/>\n"
        "<text x=\"{}\" y=\"{}\"><title>{}</title>{} (ECE {:.4f})</text>\n",
        legend_x, legend_y, legend_x + 20, legend_y, color, legend_x + 26, legend_y + 4,
        xml_escape(curves[i].label), xml_escape(shorten(curves[i].label, 30)), curves[i].ece);
  }
  svg += "</svg>\n";
  return svg;
}

namespace {

struct Range {
  double low = 0.0;
  double high = 1.0;
};

// The x and y extent of every point. Throws Error for a non-positive x or a
// non-finite value, which a logarithmic x axis cannot place.
std::pair<Range, Range> chart_extent(const std::vector<LineSeries>& series) {
  Range x{INFINITY, -INFINITY};
  Range y{INFINITY, -INFINITY};
  for (const LineSeries& line : series) {
    for (auto [px, py] : line.points) {
      if (!std::isfinite(px) || !std::isfinite(py) || px <= 0.0) {
        throw Error(fmt::format("line chart: point ({}, {}) of '{}' cannot be drawn: x must be "
                                "positive and both finite",
                                px, py, line.label));
      }
      x = {std::min(x.low, px), std::max(x.high, px)};
      y = {std::min(y.low, py), std::max(y.high, py)};
    }
  }
  if (x.low > x.high) {
    return {Range{1.0, 2.0}, Range{0.0, 1.0}};
  }
  return {x, y};
}

}  // namespace

std::string log_x_line_chart_svg(const std::string& title, const std::string& x_label,
                                 const std::string& y_label, const std::vector<LineSeries>& series) {
  const int left = 70;
  const int top = 40;
  const int plot_width = 460;
  const int plot_height = 340;
  const int legend_x = left + plot_width + 30;
  const int width = legend_x + 220;
  const int height =
      std::max(top + plot_height + 60, top + 20 * static_cast<int>(series.size()) + 20);

  // The x axis spans whole powers of 2 around the data; the y axis pads the
  // data by 5% of its span (or by 1 when all values are equal).
  auto [x_extent, y_extent] = chart_extent(series);
  const int first_power = static_cast<int>(std::floor(std::log2(x_extent.low)));
  int last_power = static_cast<int>(std::ceil(std::log2(x_extent.high)));
  if (last_power == first_power) {
    ++last_power;
  }
  double y_pad = y_extent.high > y_extent.low ? 0.05 * (y_extent.high - y_extent.low) : 1.0;
  const double y_low = y_extent.low - y_pad;
  const double y_high = y_extent.high + y_pad;
  auto x = [&](double value) {
    return left + (std::log2(value) - first_power) / (last_power - first_power) * plot_width;
  };
  auto y = [&](double value) { return top + (y_high - value) / (y_high - y_low) * plot_height; };

  std::string svg = svg_open(width, height);
  svg += fmt::format("<text x=\"{}\" y=\"24\" font-size=\"15\">{}</text>\n", left,
                     xml_escape(title));
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n", left,
      top, plot_width, plot_height);

  // At most about 10 x ticks: every power of 2, or every second, fourth, ...
  int stride = 1;
  while ((last_power - first_power) / stride > 10) {
    stride *= 2;
  }
  for (int power = first_power; power <= last_power; power += stride) {
    double value = std::ldexp(1.0, power);
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#dddddd\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4:g}</text>\n",
        x(value), top, top + plot_height, top + plot_height + 16, value);
  }
  for (int tick = 0; tick <= 5; ++tick) {
    double value = y_low + (y_high - y_low) * tick / 5.0;
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#dddddd\"/>\n"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:.1f}</text>\n",
        left, y(value), left + plot_width, left - 6, y(value) + 4, value);
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     left + plot_width / 2, top + plot_height + 36, xml_escape(x_label));
  svg += fmt::format(
      "<text x=\"18\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {0})\">{1}"
      "</text>\n",
      top + plot_height / 2, xml_escape(y_label));

  for (std::size_t i = 0; i < series.size(); ++i) {
    const char* color = palette[i % palette_size];
    std::string points;
    std::string markers;
    for (auto [px, py] : series[i].points) {
      points += fmt::format("{:.2f},{:.2f} ", x(px), y(py));
      markers += fmt::format(
          "<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"3\" fill=\"{}\"><title>{}: {:g}, {:.2f}"
          "</title></circle>\n",
          x(px), y(py), color, xml_escape(series[i].label), px, py);
    }
    svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n",
                       points, color);
    svg += markers;
    int legend_y = top + 10 + 20 * static_cast<int>(i);
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"/>\n"
        "<text x=\"{}\" y=\"{}\"><title>{}</title>{}</text>\n",
        legend_x, legend_y, legend_x + 20, legend_y, color, legend_x + 26, legend_y + 4,
        xml_escape(series[i].label), xml_escape(shorten(series[i].label, 28)));
  }
  svg += "</svg>\n";
  return svg;
}

std::string png_data_uri(const RgbImage& image) {
  png_image description;
  std::memset(&description, 0, sizeof(description));
  description.version = PNG_IMAGE_VERSION;
  description.width = static_cast<png_uint_32>(image.width);
  description.height = static_cast<png_uint_32>(image.height);
  description.format = PNG_FORMAT_RGB;

  // The first call measures, the second encodes.
  png_alloc_size_t size = 0;
  if (png_image_write_to_memory(&description, nullptr, &size, 0, image.pixels.data(), 0, nullptr) ==
      0) {
    throw Error(fmt::format("encoding a {}x{} PNG failed: {}", image.width, image.height,
                            description.message));
  }
  std::vector<std::uint8_t> bytes(size);
  if (png_image_write_to_memory(&description, bytes.data(), &size, 0, image.pixels.data(), 0,
                                nullptr) == 0) {
    throw Error(fmt::format("encoding a {}x{} PNG failed: {}", image.width, image.height,
                            description.message));
  }
  bytes.resize(size);
  return "data:image/png;base64," + base64(bytes);
}

std::string examples_svg(const std::vector<Example>& examples,
                         const std::vector<std::string>& classes, const std::string& note) {
  // Layout in pixels: an image column, then one panel per input.
  const int margin = 10;
  const int image_size = 112;
  const int image_column = image_size + 2 * margin;
  const int panel_width = 300;
  const int row_height = 150;
  const int name_width = 130;  // class names left of the bars
  const int bar_width = 110;
  const std::size_t panels = examples.empty() ? 1 : examples[0].panels.size();
  // At least as wide as the title.
  const int width = std::max(620, image_column + static_cast<int>(panels) * panel_width + margin);
  const int height = 40 + std::max<int>(1, static_cast<int>(examples.size())) * row_height;

  std::string svg = svg_open(width, height);
  svg += fmt::format(
      "<text x=\"{}\" y=\"24\" font-size=\"15\">Images every input misclassifies: top-5 "
      "probabilities (true class in green)</text>\n",
      margin);
  if (examples.empty()) {
    svg += fmt::format("<text x=\"{}\" y=\"60\">{}</text>\n</svg>\n", margin, xml_escape(note));
    return svg;
  }

  for (std::size_t e = 0; e < examples.size(); ++e) {
    const Example& example = examples[e];
    const int row_top = 40 + static_cast<int>(e) * row_height;
    const std::string& target_name = classes[static_cast<std::size_t>(example.target)];

    if (example.image.pixels.empty()) {
      svg += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#eeeeee\" stroke=\"#999999\"/>\n"
          "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\"><title>{}</title>no "
          "image</text>\n",
          margin, row_top, image_size, image_size, margin + image_size / 2,
          row_top + image_size / 2, xml_escape(example.note));
    } else {
      // Keep the aspect ratio inside the square; small images stay sharp.
      double scale = static_cast<double>(image_size) /
                     std::max(example.image.width, example.image.height);
      svg += fmt::format(
          "<image x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{:.1f}\" "
          "style=\"image-rendering:pixelated\" xlink:href=\"{}\"/>\n",
          margin, row_top, example.image.width * scale, example.image.height * scale,
          png_data_uri(example.image));
    }
    svg += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"11\">row {}</text>\n"
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#2ca02c\"><title>{}</title>{}</text>\n",
        margin, row_top + image_size + 14, example.row, margin, row_top + image_size + 28,
        xml_escape(target_name), xml_escape(shorten(target_name, 18)));

    for (std::size_t p = 0; p < example.panels.size(); ++p) {
      const ExamplePanel& panel = example.panels[p];
      const int panel_left = image_column + static_cast<int>(p) * panel_width;
      svg += fmt::format(
          "<text x=\"{}\" y=\"{}\" font-weight=\"bold\"><title>{}</title>{}</text>\n", panel_left,
          row_top + 10, xml_escape(panel.label), xml_escape(shorten(panel.label, 40)));
      bool target_shown = false;
      for (std::size_t k = 0; k < panel.top.size(); ++k) {
        const auto [label, probability] = panel.top[k];
        const bool is_target = label == example.target;
        target_shown = target_shown || is_target;
        const int bar_top = row_top + 20 + static_cast<int>(k) * 20;
        const std::string& name = classes[static_cast<std::size_t>(label)];
        svg += fmt::format(
            "<text x=\"{}\" y=\"{}\" font-size=\"11\"><title>{}</title>{}</text>\n"
            "<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"14\" fill=\"{}\"/>\n"
            "<text x=\"{:.1f}\" y=\"{}\" font-size=\"11\">{:.3f}</text>\n",
            panel_left, bar_top + 11, xml_escape(name), xml_escape(shorten(name, 20)),
            panel_left + name_width, bar_top, bar_width * probability,
            is_target ? "#2ca02c" : "#1f77b4", panel_left + name_width + bar_width * probability + 4,
            bar_top + 11, probability);
      }
      if (!target_shown) {
        svg += fmt::format(
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#2ca02c\">true class: {:.3f}</text>\n",
            panel_left, row_top + 20 + 5 * 20 + 11, panel.target_probability);
      }
    }
  }
  svg += "</svg>\n";
  return svg;
}

void write_text_file(const std::string& path, const std::string& text, bool force) {
  AtomicFile output(path, force);
  {
    std::ofstream stream(output.temp_path(), std::ios::binary);
    stream << text;
    stream.flush();
    if (!stream) {
      throw Error(fmt::format("{}: writing failed: {}", path, std::strerror(errno)));
    }
  }
  output.commit();
}

}  // namespace didicm
