#pragma once

// didicm-ablate: a grid of sampler settings run over one checkpoint and one
// dataset. Every grid point writes one posterior file into the output folder,
// named by its settings, and a point whose file is already complete is
// skipped, so an interrupted sweep resumes where it stopped. The summary
// table, a top-1 against NFE figure (nfe.svg) and a label selection table
// (selection.md: select x steps of DiDiCM-CP) follow.

#include "report.h"
#include "sampling.h"
#include "table.h"

#include <cstdint>
#include <string>
#include <vector>

namespace didicm {

// Comma-separated lists as given on the command line. An empty `steps` takes
// each sampler's default list.
struct AblateOptions {
  std::string checkpoint;
  std::string data;
  std::string output_dir;
  std::string samplers = "cp,cl";
  std::string selects = "argmin,argmax,sample";
  std::string steps;
  std::string samples = "1,2,4,8,16,32";
  std::uint64_t seed = 0;
  std::int64_t batch_size = 128;
  std::int64_t limit = 0;
  std::string device = "auto";
  int workers = 2;
  std::string format = "table";
  std::string ties = "expected";
  bool force = false;  // recompute points whose file is already complete
  bool amp = false;    // bfloat16 autocast for the network, as in didicm-sample --amp
};

// Step lists used when --steps is not given.
inline constexpr const char* default_cp_steps = "1,2,4,8,16";
inline constexpr const char* default_cl_steps = "1,2,4";

// The parsed grid. Lists keep the command line's order without repeats.
struct AblateGrid {
  std::vector<std::string> samplers;   // cp, cl
  std::vector<std::string> selects;    // cp only: argmin, argmax, sample
  std::vector<std::int64_t> cp_steps;
  std::vector<std::int64_t> cl_steps;
  std::vector<std::int64_t> samples;   // cl only: chains per image
  std::uint64_t seed = 0;
};

// Splits a comma-separated list of names, each one of `allowed`. Throws
// UsageError, naming `option`, for an empty list or item or an unknown name.
// A repeated name is kept once.
std::vector<std::string> parse_name_list(const std::string& text, const std::string& option,
                                         const std::vector<std::string>& allowed);

// Splits a comma-separated list of integers of at least 1. Throws UsageError,
// naming `option`, for an empty list or item, a non-integer or a value below 1.
// A repeated value is kept once.
std::vector<std::int64_t> parse_count_list(const std::string& text, const std::string& option);

// Parses the grid lists of `options`. Throws UsageError for a bad list.
AblateGrid parse_ablate_grid(const AblateOptions& options);

// The grid points in run order: CP select x steps, then CL steps x samples.
std::vector<SamplerSettings> expand_ablate_grid(const AblateGrid& grid);

// Whether the file of a grid point can be reused, and if not, why.
struct ExistingPoint {
  bool complete = false;
  std::string reason;  // why it is not complete; empty when the file is missing
};

// Checks the posterior file at `path` against the point's settings, the row
// count, the content hashes of the checkpoint and the dataset, and the
// network precision (float32 or bfloat16). A missing file, an unreadable or
// corrupt file and a file of other settings are all incomplete.
ExistingPoint check_existing_point(const std::string& path, const SamplerSettings& settings,
                                   std::int64_t rows, const std::string& checkpoint_hash,
                                   const std::string& dataset_hash, const std::string& precision);

// One row per point: sampler, select, steps, samples, nfe, top1, top5
// (percent), nll (nats), ece, brier, file.
TextTable ablation_summary_table(const std::vector<EvaluatedPosterior>& points);

// The CP points as label selection (rows, in the order of the points) against
// steps (columns, ascending); see pivot_table for the cell layout. Throws
// Error when there is no CP point.
TextTable selection_table(const std::vector<EvaluatedPosterior>& points, bool for_people);

// selection.md: a title line and the selection table in Markdown.
std::string selection_markdown(const std::vector<EvaluatedPosterior>& points);

// nfe.svg: top-1 against NFE (log scale) with one line per CP select mode and
// one per CL step count, as the points allow.
std::string nfe_figure(const std::vector<EvaluatedPosterior>& points);

// Validates `options`, runs every grid point that is not complete, prints the
// summary (and the selection table for people) on stdout and writes nfe.svg
// and selection.md. Returns the exit status.
int run_ablate(const AblateOptions& options);

}  // namespace didicm
