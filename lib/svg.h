#pragma once

// SVG figures of didicm-eval: a reliability diagram and a sheet of images that
// every input misclassifies, with each input's top-5 probabilities.

#include "metrics.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace didicm {

// One curve of a reliability diagram.
struct ReliabilityCurve {
  std::string label;
  std::vector<CalibrationBin> bins;  // calibration_bins entries
  double ece = 0.0;
};

// A reliability diagram: accuracy against mean confidence of every non-empty
// bin, one curve per input, the diagonal of perfect calibration and a legend.
std::string reliability_svg(const std::vector<ReliabilityCurve>& curves);

// One line of a line chart: (x, y) points drawn in the given order.
struct LineSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;
};

// A line chart with a base-10 logarithmic x axis (every x must be positive)
// and a linear y axis, one line with markers per series and a legend. The y
// range is fitted to the data and padded; ticks on x fall on powers of 2.
// Throws Error for a non-positive x or a non-finite value.
std::string log_x_line_chart_svg(const std::string& title, const std::string& x_label,
                                 const std::string& y_label, const std::vector<LineSeries>& series);

// An RGB image, row-major, 3 bytes per pixel.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;
};

// One input's view of an example: its top-5 classes, most probable first.
struct ExamplePanel {
  std::string label;
  std::vector<std::pair<std::int32_t, float>> top;  // (class, probability)
  float target_probability = 0.0F;
};

struct Example {
  std::int64_t row = 0;          // posterior row
  std::int64_t dataset_row = 0;  // dataset row the image comes from
  std::int32_t target = 0;
  RgbImage image;                // empty when missing, and `note` gives the reason
  std::string note;
  std::vector<ExamplePanel> panels;  // one per input
};

// One line per example: the image with its true class, then one top-5 bar
// chart per input; the target's bar is green. `note` replaces the examples
// when there are none.
std::string examples_svg(const std::vector<Example>& examples,
                         const std::vector<std::string>& classes, const std::string& note);

// A "data:image/png;base64,..." URI of `image`. Throws Error when libpng fails.
std::string png_data_uri(const RgbImage& image);

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string xml_escape(const std::string& text);

// Writes `text` to `path` through an AtomicFile.
void write_text_file(const std::string& path, const std::string& text, bool force);

}  // namespace didicm
