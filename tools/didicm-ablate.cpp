// didicm-ablate: runs DiDiCM-CP and DiDiCM-CL over a grid of sampler settings
// on one checkpoint and dataset, one posterior file per setting, and
// summarizes top-1 against NFE and the CP label selection modes.

#include "ablate.h"
#include "tool.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  didicm::AblateOptions options;
  auto define = [&](CLI::App& app) {
    app.add_option("--checkpoint", options.checkpoint,
                   "DiDiRN checkpoint file from didicm-train (objective didicm)")
        ->required();
    app.add_option("--data", options.data, "Dataset file from didicm-prep")->required();
    app.add_option("--output-dir", options.output_dir,
                   "Folder for the posterior files, nfe.svg and selection.md (created if missing)")
        ->required();
    app.add_option("--sampler", options.samplers,
                   "Comma-separated samplers: cp (DiDiCM-CP), cl (DiDiCM-CL) (default: cp,cl)");
    app.add_option("--select", options.selects,
                   "Comma-separated CP label selections: argmin, argmax, sample "
                   "(default: argmin,argmax,sample)");
    app.add_option("--steps", options.steps,
                   "Comma-separated reverse-diffusion step counts S for both samplers "
                   "(default: 1,2,4,8,16 for cp, 1,2,4 for cl)");
    app.add_option("--samples", options.samples,
                   "Comma-separated CL chain counts K per image (default: 1,2,4,8,16,32)");
    app.add_option("--seed", options.seed, "Seed of CP-sample and CL draws (default: 0)");
    app.add_option("-b,--batch-size", options.batch_size, "Images per network call (default: 128)");
    app.add_option("--limit", options.limit, "Sample only the first N images (default: 0, all)");
    app.add_option("--device", options.device, "auto, cpu, cuda or cuda:N (default: auto)");
    app.add_option("-j,--workers", options.workers,
                   "Threads that read and crop images (default: 2)");
    app.add_option("--format", options.format,
                   "Summary on stdout: table or markdown (for people, followed by the label "
                   "selection table), tsv, csv or json (JSON lines) (default: table)");
    app.add_option("--ties", options.ties,
                   "Ties at the k-th place: expected (fractional credit) or index (lower index "
                   "first) (default: expected)");
    app.add_flag("--amp", options.amp,
                 "bfloat16 autocast for the network; the sampler's update keeps full precision");
    app.add_flag("--force", options.force,
                 "Recompute every point, even those whose posterior file is complete");
  };
  return didicm::run_tool(argc, argv, "didicm-ablate",
                          "Run a grid of DiDiCM-CP and DiDiCM-CL sampler settings and "
                          "summarize top-1 against NFE",
                          define, [&] { return didicm::run_ablate(options); });
}
