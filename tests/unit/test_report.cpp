#include "errors.h"
#include "report.h"
#include "svg.h"
#include "table.h"

#include <doctest/doctest.h>

using namespace didicm;

namespace {

EvaluatedPosterior evaluated(const std::string& source, const std::string& sampler,
                             const std::string& resolution, const std::string& ratio, double top1,
                             double top5) {
  EvaluatedPosterior input;
  input.posterior.source = source;
  input.posterior.sampler = sampler;
  input.posterior.attributes = {{"resolution", resolution}, {"ratio", ratio}};
  input.metrics.top1 = top1;
  input.metrics.top5 = top5;
  return input;
}

// Four posteriors: two samplers x two resolutions, given out of order.
std::vector<EvaluatedPosterior> four_inputs() {
  return {evaluated("cp_112.h5", "cp", "112", "1", 0.70, 0.90),
          evaluated("std_56.h5", "standard", "56", "1", 0.50, 0.75),
          evaluated("cp_56.h5", "cp", "56", "1", 0.60, 0.80),
          evaluated("std_112.h5", "standard", "112", "1", 0.65, 0.875)};
}

TextTable small_table() {
  TextTable table;
  table.header = {"file", "top1"};
  table.rows.push_back({Cell::of_text("a,b.h5"), Cell::of_number(12.5, 2)});
  table.rows.push_back({Cell::of_text("say \"x\""), Cell::missing()});
  return table;
}

}  // namespace

TEST_CASE("table formats") {
  TextTable table = small_table();
  CHECK(render_table(table, OutputFormat::table) ==
        "file      top1\n"
        "-------  -----\n"
        "a,b.h5   12.50\n"
        "say \"x\"      -\n");
  CHECK(render_table(table, OutputFormat::markdown) ==
        "| file | top1 |\n| --- | ---: |\n| a,b.h5 | 12.50 |\n| say \"x\" | - |\n");
  CHECK(render_table(table, OutputFormat::tsv) == "file\ttop1\na,b.h5\t12.5\nsay \"x\"\t\n");
  CHECK(render_table(table, OutputFormat::csv) ==
        "file,top1\n\"a,b.h5\",12.5\n\"say \"\"x\"\"\",\n");
  CHECK(render_table(table, OutputFormat::json) ==
        "{\"file\": \"a,b.h5\", \"top1\": 12.5}\n{\"file\": \"say \\\"x\\\"\", \"top1\": null}\n");
}

TEST_CASE("table numbers for scripts") {
  TextTable table;
  table.header = {"top1", "images", "nll"};
  // 100 * 0.07 is 7.000000000000001 in double arithmetic.
  table.rows.push_back({Cell::of_number(100.0 * 0.07, 2), Cell::of_number(60000.0, 0),
                        Cell::of_number(0.123456789012, 4)});
  CHECK(render_table(table, OutputFormat::csv) == "top1,images,nll\n7,60000,0.123456789012\n");
  CHECK(render_table(table, OutputFormat::json) ==
        "{\"top1\": 7, \"images\": 60000, \"nll\": 0.123456789012}\n");
}

TEST_CASE("summary table marks missing steps and nfe") {
  EvaluatedPosterior softmax = evaluated("std.h5", "standard", "56", "1", 0.5, 0.75);
  softmax.metrics.nfe = 1;
  EvaluatedPosterior unknown = evaluated("other.h5", "", "56", "1", 0.5, 0.75);
  std::string text = render_table(summary_table({softmax, unknown}), OutputFormat::csv);
  CHECK(text.find("std.h5,standard,,1,") != std::string::npos);
  CHECK(text.find("other.h5,,,,") != std::string::npos);
}

TEST_CASE("table format parsing") {
  CHECK(parse_output_format("markdown") == OutputFormat::markdown);
  CHECK(is_for_people(OutputFormat::table));
  CHECK_FALSE(is_for_people(OutputFormat::json));
  CHECK_THROWS_AS(parse_output_format("html"), UsageError);
}

TEST_CASE("pivot places inputs by attributes") {
  PivotSpec spec = parse_pivot_spec("sampler", "resolution", "");
  TextTable table = pivot_table(four_inputs(), spec, true);
  // Samplers keep their first-seen order, resolutions sort as numbers.
  CHECK(table.header == std::vector<std::string>{"sampler", "resolution=56", "resolution=112"});
  REQUIRE(table.rows.size() == 2);
  CHECK(table.rows[0][0].text == "cp");
  CHECK(table.rows[0][1].text == "60.00 / 80.00");
  CHECK(table.rows[0][2].text == "70.00 / 90.00");
  CHECK(table.rows[1][0].text == "standard");
  CHECK(table.rows[1][1].text == "50.00 / 75.00");
  CHECK(table.rows[1][2].text == "65.00 / 87.50");
}

TEST_CASE("pivot baseline gains") {
  PivotSpec spec = parse_pivot_spec("sampler", "resolution", "sampler=standard");
  TextTable people = pivot_table(four_inputs(), spec, true);
  REQUIRE(people.rows.size() == 3);
  CHECK(people.rows[1][0].text == "gain vs standard");
  CHECK(people.rows[1][1].text == "+10.00 / +5.00");
  CHECK(people.rows[1][2].text == "+5.00 / +2.50");
  CHECK(people.rows[2][0].text == "standard");

  TextTable scripts = pivot_table(four_inputs(), spec, false);
  CHECK(scripts.header[1] == "resolution=56 top1");
  CHECK(scripts.header[3] == "resolution=56 top1 gain");
  REQUIRE(scripts.rows.size() == 2);
  CHECK(scripts.rows[0][3].number == doctest::Approx(10.0));
  CHECK(scripts.rows[0][8].number == doctest::Approx(2.5));
  CHECK(scripts.rows[1][3].number == doctest::Approx(0.0));
}

TEST_CASE("pivot stacks several column keys") {
  auto inputs = four_inputs();
  inputs[0].posterior.attributes["ratio"] = "0.5";
  PivotSpec spec = parse_pivot_spec("sampler", "ratio,resolution", "");
  TextTable table = pivot_table(inputs, spec, true);
  REQUIRE(table.stacked_header.size() == 2);
  // Columns: (0.5, 112), (1, 56), (1, 112); the ratio names each run once.
  CHECK(table.stacked_header[0] ==
        std::vector<std::string>{"", "ratio=0.5", "ratio=1", ""});
  CHECK(table.stacked_header[1] ==
        std::vector<std::string>{"sampler", "resolution=112", "resolution=56", "resolution=112"});
  CHECK(table.rows[1][1].is_missing);
  std::string text = render_table(table, OutputFormat::table);
  CHECK(text.find("ratio=0.5") != std::string::npos);
}

TEST_CASE("pivot rejects ambiguous and unknown input") {
  auto inputs = four_inputs();
  CHECK_THROWS_WITH_AS(pivot_table(inputs, parse_pivot_spec("sampler", "", ""), true),
                       doctest::Contains("cp_112.h5 and cp_56.h5: both fall in the pivot cell"),
                       Error);
  CHECK_THROWS_WITH_AS(pivot_table(inputs, parse_pivot_spec("sampler", "model", ""), true),
                       doctest::Contains("has no attribute 'model'"), Error);
  CHECK_THROWS_WITH_AS(
      pivot_table(inputs, parse_pivot_spec("sampler", "resolution", "sampler=cl"), true),
      doctest::Contains("--baseline sampler=cl: no input has this value"), Error);
}

TEST_CASE("pivot option parsing") {
  PivotSpec spec = parse_pivot_spec("sampler,model", "resolution,ratio", "sampler=standard");
  CHECK(spec.row_keys == std::vector<std::string>{"sampler", "model"});
  CHECK(spec.column_keys == std::vector<std::string>{"resolution", "ratio"});
  CHECK(spec.baseline_key == "sampler");
  CHECK(spec.baseline_value == "standard");
  CHECK_THROWS_AS(parse_pivot_spec("", "resolution", ""), UsageError);
  CHECK_THROWS_AS(parse_pivot_spec("sampler,,model", "", ""), UsageError);
  CHECK_THROWS_AS(parse_pivot_spec("sampler", "sampler", ""), UsageError);
  CHECK_THROWS_AS(parse_pivot_spec("sampler", "", "model=x"), UsageError);
  CHECK_THROWS_AS(parse_pivot_spec("sampler", "", "sampler"), UsageError);
}

TEST_CASE("summary and per-class tables") {
  EvaluatedPosterior input = evaluated("a.h5", "cp", "32", "1", 0.5, 0.75);
  input.posterior.classes = {"cat", "dog"};
  input.metrics.count = 4;
  input.metrics.class_count = {4, 0};
  input.metrics.class_top1 = {2.0, 0.0};
  input.metrics.class_top5 = {3.0, 0.0};
  TextTable summary = summary_table({input});
  CHECK(summary.header[5] == "top1");
  CHECK(summary.rows[0][5].number == doctest::Approx(50.0));
  TextTable per_class = per_class_table({input});
  REQUIRE(per_class.rows.size() == 2);
  CHECK(per_class.rows[0][4].number == doctest::Approx(50.0));
  CHECK(per_class.rows[0][5].number == doctest::Approx(75.0));
  CHECK(per_class.rows[1][4].is_missing);
}

TEST_CASE("svg helpers") {
  CHECK(xml_escape("a<b & \"c\"") == "a&lt;b &amp; &quot;c&quot;");
  RgbImage image{2, 1, {255, 0, 0, 0, 0, 255}};
  std::string uri = png_data_uri(image);
  // "iVBORw0KGgo" is the base64 form of the PNG signature.
  CHECK(uri.rfind("data:image/png;base64,iVBORw0KGgo", 0) == 0);
  std::string svg = reliability_svg({{"a<1>.h5", std::vector<CalibrationBin>(15), 0.0}});
  CHECK(svg.find("a&lt;1&gt;.h5") != std::string::npos);
}

TEST_CASE("pivot baseline picks the closest row") {
  // Rows (sampler, model, recipe): each model belongs to one sampler, so the
  // baseline of (cp, didirn, weak) is (standard, resnet, weak).
  auto input = [](const std::string& source, const std::string& sampler, const std::string& model,
                  const std::string& recipe, double top1) {
    EvaluatedPosterior result = evaluated(source, sampler, "56", "1", top1, top1);
    result.posterior.attributes["model"] = model;
    result.posterior.attributes["recipe"] = recipe;
    return result;
  };
  std::vector<EvaluatedPosterior> inputs{input("a", "standard", "resnet", "weak", 0.40),
                                         input("b", "standard", "resnet", "strong", 0.50),
                                         input("c", "cp", "didirn", "weak", 0.45),
                                         input("d", "cp", "didirn", "strong", 0.60)};
  PivotSpec spec = parse_pivot_spec("sampler,model,recipe", "resolution", "sampler=standard");
  TextTable table = pivot_table(inputs, spec, false);
  REQUIRE(table.rows.size() == 4);
  CHECK(table.rows[2][2].text == "weak");
  CHECK(table.rows[2][5].number == doctest::Approx(5.0));
  CHECK(table.rows[3][5].number == doctest::Approx(10.0));

  // Without the recipe both standard rows fit (cp, didirn) equally well.
  inputs.pop_back();
  inputs.pop_back();
  inputs.push_back(input("c", "cp", "didirn", "weak", 0.45));
  table = pivot_table(inputs, parse_pivot_spec("sampler,model", "recipe", "sampler=standard"),
                      false);
  REQUIRE(table.rows.size() == 2);
  CHECK(table.rows[1][0].text == "cp");
  CHECK(table.rows[1][4].number == doctest::Approx(5.0));  // weak: 45 - 40
  CHECK(table.rows[1][8].is_missing);                      // strong: no cp input
}
