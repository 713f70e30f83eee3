#include "ablate.h"
#include "errors.h"
#include "posterior.h"
#include "support.h"
#include "svg.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

using namespace didicm;

namespace {

EvaluatedPosterior point(const std::string& sampler, const std::string& select,
                         std::int64_t steps, std::int64_t samples, double top1, double top5) {
  EvaluatedPosterior input;
  input.posterior.sampler = sampler;
  input.posterior.select = select;
  input.posterior.steps = steps;
  input.posterior.samples = samples;
  input.posterior.nfe = sampler == "cl" ? steps * samples : steps;
  input.posterior.source = "out/" + sampler + ".h5";
  input.metrics.top1 = top1;
  input.metrics.top5 = top5;
  return input;
}

// CP: argmin, argmax and sample at 1 and 2 steps (given out of step order),
// then CL at 2 steps with 2 and 4 chains.
std::vector<EvaluatedPosterior> sweep_points() {
  return {point("cp", "argmin", 2, 0, 0.62, 0.91), point("cp", "argmin", 1, 0, 0.60, 0.90),
          point("cp", "argmax", 1, 0, 0.50, 0.80), point("cp", "argmax", 2, 0, 0.52, 0.82),
          point("cp", "sample", 1, 0, 0.55, 0.85), point("cp", "sample", 2, 0, 0.57, 0.87),
          point("cl", "", 2, 2, 0.40, 0.70),       point("cl", "", 2, 4, 0.45, 0.75)};
}

// A valid three-row posterior of two classes with the given settings.
Posterior small_posterior(const SamplerSettings& settings) {
  Posterior posterior;
  posterior.rows = 3;
  posterior.num_classes = 2;
  posterior.probs = {0.9F, 0.1F, 0.2F, 0.8F, 0.5F, 0.5F};
  posterior.targets = {0, 1, 0};
  posterior.classes = {"cat", "dog"};
  posterior.sampler = settings.sampler;
  posterior.steps = settings.steps;
  posterior.select = settings.sampler == "cp" ? settings.select : "";
  posterior.samples = settings.sampler == "cl" ? settings.samples : 0;
  posterior.nfe = sampler_nfe(settings);
  posterior.seed = static_cast<std::int64_t>(settings.seed);
  posterior.checkpoint_hash = "c0ffee";
  posterior.dataset_hash = "d00d";
  return posterior;
}

}  // namespace

TEST_CASE("ablate grid defaults") {
  AblateGrid grid = parse_ablate_grid(AblateOptions{});
  CHECK(grid.samplers == std::vector<std::string>{"cp", "cl"});
  CHECK(grid.selects == std::vector<std::string>{"argmin", "argmax", "sample"});
  CHECK(grid.cp_steps == std::vector<std::int64_t>{1, 2, 4, 8, 16});
  CHECK(grid.cl_steps == std::vector<std::int64_t>{1, 2, 4});
  CHECK(grid.samples == std::vector<std::int64_t>{1, 2, 4, 8, 16, 32});
}

TEST_CASE("ablate grid explicit steps") {
  AblateOptions options;
  options.samplers = "cl,cp,cl";
  options.steps = "4,1,4";
  options.seed = 7;
  AblateGrid grid = parse_ablate_grid(options);
  // Order is kept and repeats are dropped.
  CHECK(grid.samplers == std::vector<std::string>{"cl", "cp"});
  CHECK(grid.cp_steps == std::vector<std::int64_t>{4, 1});
  CHECK(grid.cl_steps == std::vector<std::int64_t>{4, 1});
  CHECK(grid.seed == 7);
}

TEST_CASE("ablate grid rejects bad lists") {
  auto parse_with = [](const std::string& samplers, const std::string& selects,
                       const std::string& steps, const std::string& samples) {
    AblateOptions options;
    options.samplers = samplers;
    options.selects = selects;
    options.steps = steps;
    options.samples = samples;
    return parse_ablate_grid(options);
  };
  CHECK_THROWS_WITH_AS(parse_with("cp,ddim", "argmin", "", "1"),
                       doctest::Contains("unknown value 'ddim'"), UsageError);
  CHECK_THROWS_AS(parse_with("standard", "argmin", "", "1"), UsageError);
  CHECK_THROWS_AS(parse_with("", "argmin", "", "1"), UsageError);
  CHECK_THROWS_AS(parse_with("cp", "argmin,min", "", "1"), UsageError);
  CHECK_THROWS_WITH_AS(parse_with("cp", "argmin", "1,0", "1"), doctest::Contains("0 is below 1"),
                       UsageError);
  CHECK_THROWS_AS(parse_with("cp", "argmin", "-2", "1"), UsageError);
  CHECK_THROWS_WITH_AS(parse_with("cp", "argmin", "1,,2", "1"), doctest::Contains("empty item"),
                       UsageError);
  CHECK_THROWS_WITH_AS(parse_with("cp", "argmin", "2x", "1"),
                       doctest::Contains("'2x' is not an integer"), UsageError);
  CHECK_THROWS_AS(parse_with("cp", "argmin", "1.5", "1"), UsageError);
  CHECK_THROWS_AS(parse_with("cp", "argmin", "99999999999999999999", "1"), UsageError);
  CHECK_THROWS_AS(parse_with("cl", "argmin", "1", "0"), UsageError);
  CHECK_THROWS_AS(parse_with("cl", "argmin", "1", "4,"), UsageError);
}

TEST_CASE("ablate grid expansion") {
  std::vector<SamplerSettings> points = expand_ablate_grid(parse_ablate_grid(AblateOptions{}));
  REQUIRE(points.size() == 3 * 5 + 3 * 6);

  CHECK(points[0].sampler == "cp");
  CHECK(points[0].select == "argmin");
  CHECK(points[0].steps == 1);
  CHECK(points[4].steps == 16);
  CHECK(points[5].select == "argmax");
  CHECK(points[14].select == "sample");
  CHECK(points[14].steps == 16);

  CHECK(points[15].sampler == "cl");
  CHECK(points[15].steps == 1);
  CHECK(points[15].samples == 1);
  CHECK(points[20].samples == 32);
  CHECK(points[21].steps == 2);
  CHECK(points.back().steps == 4);
  CHECK(points.back().samples == 32);
  CHECK(sampler_nfe(points.back()) == 128);

  std::int64_t total = 0;
  for (const SamplerSettings& settings : points) {
    total += sampler_nfe(settings);
  }
  CHECK(total == 534);  // the cost per image that the manual page states
}

TEST_CASE("ablate file names are distinct") {
  std::vector<SamplerSettings> points = expand_ablate_grid(parse_ablate_grid(AblateOptions{}));
  std::set<std::string> names;
  for (const SamplerSettings& settings : points) {
    names.insert(posterior_file_name(settings));
  }
  CHECK(names.size() == points.size());
  CHECK(names.count("cp-argmin-s1.h5") == 1);
  CHECK(names.count("cp-sample-s16.h5") == 1);
  CHECK(names.count("cl-s2-k4.h5") == 1);
  CHECK(names.count("cl-s4-k32.h5") == 1);
}

TEST_CASE("ablate selection table layout") {
  TextTable table = selection_table(sweep_points(), true);
  CHECK(table.header == std::vector<std::string>{"select", "steps=1", "steps=2"});
  REQUIRE(table.rows.size() == 3);
  CHECK(table.rows[0][0].text == "argmin");
  CHECK(table.rows[0][1].text == "60.00 / 90.00");
  CHECK(table.rows[0][2].text == "62.00 / 91.00");
  CHECK(table.rows[1][0].text == "argmax");
  CHECK(table.rows[1][1].text == "50.00 / 80.00");
  CHECK(table.rows[2][0].text == "sample");
  CHECK(table.rows[2][2].text == "57.00 / 87.00");

  TextTable scripts = selection_table(sweep_points(), false);
  CHECK(scripts.header[1] == "steps=1 top1");
  REQUIRE(scripts.rows.size() == 3);
  CHECK(scripts.rows[1][1].number == doctest::Approx(50.0));

  std::string markdown = selection_markdown(sweep_points());
  auto table_lines = std::count(markdown.begin(), markdown.end(), '|') / 4;
  CHECK(table_lines == 5);  // header, separator and 3 rows of 3 columns
  CHECK(markdown.find("| argmin | 60.00 / 90.00 | 62.00 / 91.00 |") != std::string::npos);

  auto all = sweep_points();
  std::vector<EvaluatedPosterior> cl_only(all.begin() + 6, all.end());
  CHECK_THROWS_WITH_AS(selection_table(cl_only, true), doctest::Contains("no cp point"), Error);
}

TEST_CASE("ablate summary table") {
  TextTable table = ablation_summary_table(sweep_points());
  CHECK(table.header == std::vector<std::string>{"sampler", "select", "steps", "samples", "nfe",
                                                 "top1", "top5", "nll", "ece", "brier", "file"});
  REQUIRE(table.rows.size() == 8);
  CHECK(table.rows[0][1].text == "argmin");
  CHECK(table.rows[0][3].is_missing);
  CHECK(table.rows[0][5].number == doctest::Approx(62.0));
  CHECK(table.rows[7][1].is_missing);
  CHECK(table.rows[7][3].number == doctest::Approx(4.0));
  CHECK(table.rows[7][4].number == doctest::Approx(8.0));
  CHECK(table.rows[7][10].text == "cl.h5");
}

TEST_CASE("ablate nfe figure") {
  std::string svg = nfe_figure(sweep_points());
  CHECK(svg.rfind("<?xml", 0) == 0);
  // One line per CP select mode and one for CL (a single CL step count).
  std::size_t lines = 0;
  for (std::size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1)) {
    ++lines;
  }
  CHECK(lines == 4);
  CHECK(svg.find(">CP argmin<") != std::string::npos);
  CHECK(svg.find(">CL<") != std::string::npos);

  auto points = sweep_points();
  points.push_back(point("cl", "", 1, 4, 0.3, 0.6));
  svg = nfe_figure(points);
  CHECK(svg.find(">CL, 1 steps<") != std::string::npos);
  CHECK(svg.find(">CL, 2 steps<") != std::string::npos);
}

TEST_CASE("line chart rejects points off a log axis") {
  CHECK_THROWS_AS(log_x_line_chart_svg("t", "x", "y", {{"a", {{0.0, 1.0}}}}), Error);
  CHECK_THROWS_AS(log_x_line_chart_svg("t", "x", "y", {{"a", {{1.0, NAN}}}}), Error);
  // A single point and no series at all still draw.
  CHECK(log_x_line_chart_svg("t", "x", "y", {{"a", {{4.0, 50.0}}}}).find("<circle") !=
        std::string::npos);
  CHECK(log_x_line_chart_svg("t", "x", "y", {}).find("</svg>") != std::string::npos);
}

TEST_CASE("ablate existing point check") {
  testing::TempDir folder;
  SamplerSettings settings;
  settings.sampler = "cl";
  settings.steps = 2;
  settings.samples = 4;
  settings.seed = 3;
  std::string path = folder.file(posterior_file_name(settings));
  auto check = [&](const SamplerSettings& point, std::int64_t rows,
                   const std::string& checkpoint_hash = "c0ffee",
                   const std::string& dataset_hash = "d00d",
                   const std::string& precision = "float32") {
    return check_existing_point(path, point, rows, checkpoint_hash, dataset_hash, precision);
  };

  ExistingPoint missing = check(settings, 3);
  CHECK_FALSE(missing.complete);
  CHECK(missing.reason.empty());

  write_posterior(small_posterior(settings), path, false);
  CHECK(check(settings, 3).complete);

  ExistingPoint rows = check(settings, 5);
  CHECK_FALSE(rows.complete);
  CHECK(rows.reason == "3 rows instead of 5");
  CHECK(check(settings, 3, "other").reason.find("another checkpoint") != std::string::npos);
  CHECK(check(settings, 3, "c0ffee", "other").reason.find("another dataset") != std::string::npos);

  SamplerSettings other = settings;
  other.seed = 4;
  CHECK(check(other, 3).reason == "seed 3 instead of 4");
  other = settings;
  other.samples = 8;
  CHECK(check(other, 3).reason == "4 samples instead of 8");

  // A file without a precision attribute was sampled in float32.
  CHECK(check(settings, 3, "c0ffee", "d00d", "bfloat16").reason ==
        "precision float32 instead of bfloat16");

  Posterior mixed = small_posterior(settings);
  mixed.attributes["precision"] = "bfloat16";
  write_posterior(mixed, path, true);
  CHECK(check(settings, 3, "c0ffee", "d00d", "bfloat16").complete);
  CHECK(check(settings, 3).reason == "precision bfloat16 instead of float32");

  // A truncated file is incomplete, with the reader's message as the reason.
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "not an HDF5 file";
  ExistingPoint corrupt = check(settings, 3);
  CHECK_FALSE(corrupt.complete);
  CHECK(corrupt.reason.find(path) != std::string::npos);
}
