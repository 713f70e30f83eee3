// didicm-eval: top-1, top-5, NLL, ECE and Brier score of posterior files, as
// tables for people or scripts, paper-style pivots and SVG figures.

#include "eval.h"
#include "tool.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  didicm::EvalOptions options;
  auto define = [&](CLI::App& app) {
    app.add_option("inputs", options.inputs, "Posterior files written by didicm-sample; - reads stdin")
        ->required();
    app.add_option("--format", options.format,
                   "Output: table or markdown (for people), tsv, csv or json (JSON lines, one "
                   "object per row) (default: table)");
    app.add_option("--ties", options.ties,
                   "Ties at the k-th place: expected (fractional credit under a random order of "
                   "the tied classes) or index (lower index first, as torch.topk) "
                   "(default: expected)");
    auto* pivot = app.add_option("--pivot", options.pivot,
                                 "Comma-separated attributes whose values make the rows of a "
                                 "top-1 / top-5 table (for example sampler,model)");
    app.add_option("--columns", options.columns,
                   "Comma-separated attributes whose values make the columns of the pivot (for "
                   "example resolution,train_ratio)")
        ->needs(pivot);
    app.add_option("--baseline", options.baseline,
                   "KEY=VALUE: add each pivot row's gain in points over its baseline row: of "
                   "the rows with KEY=VALUE, the one that agrees with it on the most other row "
                   "keys (for example sampler=standard)")
        ->needs(pivot);
    app.add_flag("--per-class", options.per_class, "Print top-1 and top-5 per true class");
    app.add_option("--reliability", options.reliability,
                   "Write a reliability diagram (one curve per input) to this SVG file");
    auto* examples = app.add_option("--examples", options.examples,
                                    "Write the images every input misclassifies, with each "
                                    "input's top-5 probabilities, to this SVG file");
    app.add_option("--count", options.count,
                   "Number of images in the --examples figure (default: 10)")
        ->needs(examples);
    app.add_flag("--force", options.force, "Overwrite existing SVG files");
  };
  return didicm::run_tool(argc, argv, "didicm-eval",
                          "Compute accuracy, NLL, calibration and Brier score of posterior files.",
                          define, [&] { return didicm::run_eval(options); });
}
