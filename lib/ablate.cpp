#include "ablate.h"

#include "autocast.h"
#include "errors.h"
#include "interrupt.h"
#include "logging.h"
#include "metrics.h"
#include "posterior.h"
#include "svg.h"
#include "tool.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

namespace didicm {
namespace {

std::vector<std::string> split_list(const std::string& text, const std::string& option) {
  if (text.empty()) {
    throw UsageError(fmt::format("{}: the list is empty, so give comma-separated values", option));
  }
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    if (item.empty()) {
      throw UsageError(
          fmt::format("{} {}: empty item; separate values by single commas", option, text));
    }
    items.push_back(item);
    if (comma == std::string::npos) {
      return items;
    }
    start = comma + 1;
  }
}

template <typename T>
void append_once(std::vector<T>& values, const T& value) {
  if (std::find(values.begin(), values.end(), value) == values.end()) {
    values.push_back(value);
  }
}

void validate_ablate_options(const AblateOptions& options) {
  validate_sampling_inputs(options.checkpoint, options.data, options.batch_size, options.limit,
                           options.workers);
  if (options.output_dir.empty()) {
    throw UsageError("--output-dir is missing: give a folder for the posterior files");
  }
  parse_output_format(options.format);
  parse_tie_rule(options.ties);
}

void create_output_dir(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) {
    throw Error(fmt::format("--output-dir {}: failed to create the folder: {}", path,
                            error.message()));
  }
  if (!std::filesystem::is_directory(path)) {
    throw Error(fmt::format("--output-dir {}: exists and is not a folder; give another path",
                            path));
  }
}

// The first difference between a posterior file and what the point needs, or
// an empty string when there is none.
std::string point_mismatch(const Posterior& existing, const SamplerSettings& settings,
                           std::int64_t rows, const std::string& checkpoint_hash,
                           const std::string& dataset_hash, const std::string& precision) {
  if (existing.sampler != settings.sampler) {
    return fmt::format("sampler {} instead of {}", existing.sampler, settings.sampler);
  }
  if (existing.steps != settings.steps) {
    return fmt::format("{} steps instead of {}", existing.steps, settings.steps);
  }
  if (settings.sampler == "cp" && existing.select != settings.select) {
    return fmt::format("select {} instead of {}", existing.select, settings.select);
  }
  if (settings.sampler == "cl" && existing.samples != settings.samples) {
    return fmt::format("{} samples instead of {}", existing.samples, settings.samples);
  }
  if (existing.seed != static_cast<std::int64_t>(settings.seed)) {
    return fmt::format("seed {} instead of {}", existing.seed, settings.seed);
  }
  if (existing.rows != rows) {
    return fmt::format("{} rows instead of {}", existing.rows, rows);
  }
  if (existing.checkpoint_hash != checkpoint_hash) {
    return fmt::format("sampled from another checkpoint (hash {} instead of {})",
                       existing.checkpoint_hash, checkpoint_hash);
  }
  if (existing.dataset_hash != dataset_hash) {
    return fmt::format("sampled from another dataset (hash {} instead of {})",
                       existing.dataset_hash, dataset_hash);
  }

  // Files written before the attribute existed were sampled in float32.
  auto found = existing.attributes.find("precision");
  std::string existing_precision = found == existing.attributes.end() ? "float32" : found->second;
  if (existing_precision != precision) {
    return fmt::format("precision {} instead of {}", existing_precision, precision);
  }
  return "";
}

std::string point_label(const SamplerSettings& settings) {
  if (settings.sampler == "cp") {
    return fmt::format("cp select {} steps {}", settings.select, settings.steps);
  }
  return fmt::format("cl steps {} samples {}", settings.steps, settings.samples);
}

// Computes the metrics of a posterior and then releases its probabilities,
// because a sweep keeps every point's result until the summary.
EvaluatedPosterior evaluate(Posterior posterior, const std::string& file, TieRule ties) {
  EvaluatedPosterior point;
  point.metrics = compute_metrics(posterior, ties);
  posterior.probs = {};
  posterior.probs.shrink_to_fit();
  posterior.source = file;
  point.posterior = std::move(posterior);
  return point;
}

// A point to run: its settings, file and whether its file can be reused.
struct PlannedPoint {
  SamplerSettings settings;
  std::string path;
  bool reuse = false;
};

std::vector<PlannedPoint> plan_points(const std::vector<SamplerSettings>& grid,
                                      const SampleInputs& inputs, const AblateOptions& options,
                                      std::int64_t rows) {
  std::string checkpoint_hash = file_hash(inputs.checkpoint_path);
  std::string dataset_hash = inputs.dataset->content_hash();
  std::vector<PlannedPoint> plan;
  for (const SamplerSettings& settings : grid) {
    PlannedPoint point;
    point.settings = resolve_sampler_settings(settings, inputs.checkpoint);
    point.path = (std::filesystem::path(options.output_dir) / posterior_file_name(point.settings))
                     .string();
    if (!options.force) {
      ExistingPoint existing = check_existing_point(point.path, point.settings, rows,
                                                    checkpoint_hash, dataset_hash,
                                                    precision_name(options.amp));
      point.reuse = existing.complete;
      if (!existing.complete && !existing.reason.empty()) {
        log_warning("{}: recomputing: {}", point.path, existing.reason);
      }
    }
    plan.push_back(point);
  }
  return plan;
}

void log_cost(const std::vector<PlannedPoint>& plan, std::int64_t rows) {
  std::int64_t total = 0;
  std::int64_t remaining = 0;
  std::size_t reused = 0;
  for (const PlannedPoint& point : plan) {
    std::int64_t cost = sampler_nfe(point.settings) * rows;
    total += cost;
    if (point.reuse) {
      ++reused;
    } else {
      remaining += cost;
    }
    log_info("  {}: NFE {} x {} images = {} network evaluations{}", point_label(point.settings),
             sampler_nfe(point.settings), rows, cost, point.reuse ? " (complete, skipped)" : "");
  }
  log_info("grid: {} points, {} complete; {} of {} network evaluations (NFE x images) to run",
           plan.size(), reused, remaining, total);
}

void check_score_model(const SampleInputs& inputs) {
  if (!inputs.checkpoint.model.is_score_model()) {
    throw UsageError(fmt::format(
        "{}: a {} classifier trained with objective {} has no score model; didicm-ablate "
        "needs a DiDiRN checkpoint trained with the didicm objective",
        inputs.checkpoint_path, inputs.checkpoint.model.config().name,
        inputs.checkpoint.objective));
  }
}

// The CL step counts of the points, ascending.
std::vector<std::int64_t> cl_step_values(const std::vector<EvaluatedPosterior>& points) {
  std::vector<std::int64_t> steps;
  for (const auto& point : points) {
    if (point.posterior.sampler == "cl") {
      append_once(steps, point.posterior.steps);
    }
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

void print_results(const std::vector<EvaluatedPosterior>& points, OutputFormat format) {
  std::string text = render_table(ablation_summary_table(points), format);
  bool has_cp = std::any_of(points.begin(), points.end(), [](const EvaluatedPosterior& point) {
    return point.posterior.sampler == "cp";
  });
  if (is_for_people(format) && has_cp) {
    text += "\nDiDiCM-CP label selection: top-1 / top-5 (%) by steps\n\n";
    text += render_table(selection_table(points, true), format);
  }
  std::fputs(text.c_str(), stdout);
}

}  // namespace

std::vector<std::string> parse_name_list(const std::string& text, const std::string& option,
                                         const std::vector<std::string>& allowed) {
  std::vector<std::string> names;
  for (const std::string& name : split_list(text, option)) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      throw UsageError(fmt::format("{} {}: unknown value '{}'; use {}", option, text, name,
                                   fmt::join(allowed, ", ")));
    }
    append_once(names, name);
  }
  return names;
}

std::vector<std::int64_t> parse_count_list(const std::string& text, const std::string& option) {
  std::vector<std::int64_t> values;
  for (const std::string& item : split_list(text, option)) {
    char* end = nullptr;
    errno = 0;
    long long value = std::strtoll(item.c_str(), &end, 10);
    if (end != item.c_str() + item.size() || errno == ERANGE || item[0] == '+' ||
        std::isspace(static_cast<unsigned char>(item[0]))) {
      throw UsageError(fmt::format("{} {}: '{}' is not an integer", option, text, item));
    }
    if (value < 1) {
      throw UsageError(fmt::format("{} {}: {} is below 1", option, text, value));
    }
    append_once(values, static_cast<std::int64_t>(value));
  }
  return values;
}

AblateGrid parse_ablate_grid(const AblateOptions& options) {
  AblateGrid grid;
  grid.samplers = parse_name_list(options.samplers, "--sampler", {"cp", "cl"});
  grid.selects = parse_name_list(options.selects, "--select", {"argmin", "argmax", "sample"});
  if (options.steps.empty()) {
    grid.cp_steps = parse_count_list(default_cp_steps, "--steps");
    grid.cl_steps = parse_count_list(default_cl_steps, "--steps");
  } else {
    grid.cp_steps = parse_count_list(options.steps, "--steps");
    grid.cl_steps = grid.cp_steps;
  }
  grid.samples = parse_count_list(options.samples, "--samples");
  grid.seed = options.seed;
  return grid;
}

std::vector<SamplerSettings> expand_ablate_grid(const AblateGrid& grid) {
  std::vector<SamplerSettings> points;
  for (const std::string& sampler : grid.samplers) {
    SamplerSettings settings;
    settings.sampler = sampler;
    settings.seed = grid.seed;
    if (sampler == "cp") {
      for (const std::string& select : grid.selects) {
        for (std::int64_t steps : grid.cp_steps) {
          settings.select = select;
          settings.steps = steps;
          points.push_back(settings);
        }
      }
      continue;
    }
    for (std::int64_t steps : grid.cl_steps) {
      for (std::int64_t samples : grid.samples) {
        settings.steps = steps;
        settings.samples = samples;
        points.push_back(settings);
      }
    }
  }
  return points;
}

ExistingPoint check_existing_point(const std::string& path, const SamplerSettings& settings,
                                   std::int64_t rows, const std::string& checkpoint_hash,
                                   const std::string& dataset_hash, const std::string& precision) {
  ExistingPoint result;
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return result;
  }
  Posterior existing;
  try {
    existing = read_posterior(path);
  } catch (const Error& failure) {
    result.reason = failure.what();
    return result;
  }
  result.reason =
      point_mismatch(existing, settings, rows, checkpoint_hash, dataset_hash, precision);
  result.complete = result.reason.empty();
  return result;
}

TextTable ablation_summary_table(const std::vector<EvaluatedPosterior>& points) {
  TextTable table;
  table.header = {"sampler", "select", "steps", "samples", "nfe", "top1",
                  "top5",    "nll",    "ece",   "brier",   "file"};
  for (const auto& point : points) {
    const Posterior& posterior = point.posterior;
    const Metrics& metrics = point.metrics;
    bool cp = posterior.sampler == "cp";
    table.rows.push_back(
        {Cell::of_text(posterior.sampler),
         cp ? Cell::of_text(posterior.select) : Cell::missing(),
         Cell::of_number(static_cast<double>(posterior.steps), 0),
         cp ? Cell::missing() : Cell::of_number(static_cast<double>(posterior.samples), 0),
         Cell::of_number(static_cast<double>(posterior.nfe), 0),
         Cell::of_number(100.0 * metrics.top1, 2), Cell::of_number(100.0 * metrics.top5, 2),
         Cell::of_number(metrics.nll, 4), Cell::of_number(metrics.ece, 4),
         Cell::of_number(metrics.brier, 4),
         Cell::of_text(std::filesystem::path(posterior.source).filename().string())});
  }
  return table;
}

TextTable selection_table(const std::vector<EvaluatedPosterior>& points, bool for_people) {
  std::vector<EvaluatedPosterior> cp_points;
  for (const auto& point : points) {
    if (point.posterior.sampler == "cp") {
      cp_points.push_back(point);
    }
  }
  if (cp_points.empty()) {
    throw Error("label selection table: the grid has no cp point; add cp to --sampler");
  }
  return pivot_table(cp_points, parse_pivot_spec("select", "steps", ""), for_people);
}

std::string selection_markdown(const std::vector<EvaluatedPosterior>& points) {
  return "DiDiCM-CP label selection: top-1 / top-5 (%) by steps\n\n" +
         render_table(selection_table(points, true), OutputFormat::markdown);
}

std::string nfe_figure(const std::vector<EvaluatedPosterior>& points) {
  // Series keep the order of their first point; CL draws one line per step
  // count because points of different step counts can share an NFE.
  std::vector<LineSeries> series;
  std::map<std::string, std::size_t> series_index;
  bool several_cl_steps = cl_step_values(points).size() > 1;
  for (const auto& point : points) {
    const Posterior& posterior = point.posterior;
    std::string label = posterior.sampler == "cp"
                            ? fmt::format("CP {}", posterior.select)
                            : (several_cl_steps ? fmt::format("CL, {} steps", posterior.steps)
                                                : std::string("CL"));
    auto [found, added] = series_index.emplace(label, series.size());
    if (added) {
      series.push_back({label, {}});
    }
    series[found->second].points.emplace_back(static_cast<double>(posterior.nfe),
                                              100.0 * point.metrics.top1);
  }
  for (LineSeries& line : series) {
    std::sort(line.points.begin(), line.points.end());
  }
  return log_x_line_chart_svg("Top-1 accuracy against network evaluations per image",
                              "NFE (log scale)", "top-1 (%)", series);
}

int run_ablate(const AblateOptions& options) {
  validate_ablate_options(options);
  OutputFormat format = parse_output_format(options.format);
  TieRule ties = parse_tie_rule(options.ties);
  std::vector<SamplerSettings> grid = expand_ablate_grid(parse_ablate_grid(options));
  if (common_options().threads > 0) {
    torch::set_num_threads(common_options().threads);
  }

  SampleInputs inputs = load_sample_inputs(options.checkpoint, options.data, options.device);
  check_score_model(inputs);
  inputs.batch_size = options.batch_size;
  inputs.limit = options.limit;
  inputs.workers = options.workers;
  inputs.amp = options.amp;
  std::int64_t count = inputs.dataset->info().count;
  std::int64_t rows = options.limit > 0 ? std::min(options.limit, count) : count;

  create_output_dir(options.output_dir);
  std::vector<PlannedPoint> plan = plan_points(grid, inputs, options, rows);
  log_cost(plan, rows);
  set_interrupt_note("the finished points are kept, so the same command continues the sweep");

  std::vector<EvaluatedPosterior> points;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const PlannedPoint& point = plan[i];
    std::string name = std::filesystem::path(point.path).filename().string();
    if (point.reuse) {
      log_info("[{}/{}] {}: skipped, {} is complete", i + 1, plan.size(),
               point_label(point.settings), name);
      points.push_back(evaluate(read_posterior(point.path), point.path, ties));
      continue;
    }
    log_info("[{}/{}] {}: sampling {} images at NFE {} into {}", i + 1, plan.size(),
             point_label(point.settings), rows, sampler_nfe(point.settings), name);
    Posterior posterior = sample_dataset(inputs, point.settings);
    write_posterior(posterior, point.path, /*force=*/true);
    points.push_back(evaluate(std::move(posterior), point.path, ties));
  }

  std::filesystem::path folder(options.output_dir);
  write_text_file((folder / "nfe.svg").string(), nfe_figure(points), /*force=*/true);
  bool has_cp = std::any_of(grid.begin(), grid.end(), [](const SamplerSettings& settings) {
    return settings.sampler == "cp";
  });
  if (has_cp) {
    write_text_file((folder / "selection.md").string(), selection_markdown(points),
                    /*force=*/true);
  }
  print_results(points, format);
  const auto reused = std::count_if(plan.begin(), plan.end(),
                                    [](const PlannedPoint& point) { return point.reuse; });
  log_info("{}: sampled {} points and reused {} complete posterior files; wrote nfe.svg{}",
           options.output_dir, plan.size() - static_cast<std::size_t>(reused), reused,
           has_cp ? " and selection.md" : "");
  return 0;
}

}  // namespace didicm
