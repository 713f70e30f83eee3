// didicm-sample: turns images into posteriors over classes with DiDiCM-CP,
// DiDiCM-CL or a plain softmax, and writes them as a posterior file.

#include "sample_command.h"
#include "tool.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  didicm::SampleOptions options;
  auto define = [&](CLI::App& app) {
    auto& settings = options.settings;
    app.add_option("--checkpoint", options.checkpoint, "Checkpoint file from didicm-train")
        ->required();
    app.add_option("--data", options.data, "Dataset file from didicm-prep")->required();
    app.add_option("-o,--output", options.output, "Posterior file to write, or - for stdout")
        ->required();
    app.add_flag("--force", options.force, "Overwrite an existing output file");
    app.add_option("--sampler", settings.sampler,
                   "cp (DiDiCM-CP), cl (DiDiCM-CL) or standard (softmax of a cross-entropy "
                   "checkpoint) (default: cp for DiDiRN, standard for ResNet)");
    app.add_option("--steps", settings.steps, "Reverse-diffusion steps S (default: 8 for cp, 2 for cl)");
    app.add_option("--select", settings.select,
                   "CP conditioning label: argmin, argmax or sample (default: argmin)");
    app.add_option("--samples", settings.samples, "CL chains K per image (default: 16)");
    app.add_option("--seed", settings.seed, "Seed of CP-sample and CL draws (default: 0)");
    app.add_flag("--trajectory", settings.trajectory,
                 "Store the probabilities after every step in /trajectory");
    app.add_option("--trajectory-topk", settings.trajectory_topk,
                   "Store only the K largest probabilities of every step, with their indices "
                   "(default: 0, off)");
    app.add_option("-b,--batch-size", options.batch_size, "Images per network call (default: 128)");
    app.add_option("--limit", options.limit, "Sample only the first N images (default: 0, all)");
    app.add_option("--device", options.device, "auto, cpu, cuda or cuda:N (default: auto)");
    app.add_flag("--amp", options.amp,
                 "bfloat16 autocast for the network; the sampler's update keeps full precision");
    app.add_option("-j,--workers", options.workers,
                   "Threads that read and crop images (default: 2)");
  };
  return didicm::run_tool(argc, argv, "didicm-sample",
                          "Sample posteriors over classes with DiDiCM-CP, DiDiCM-CL or softmax",
                          define, [&] { return didicm::run_sample(options); });
}
