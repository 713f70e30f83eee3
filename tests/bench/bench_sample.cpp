// Sampling throughput of one configuration: images/s of sample_cp or sample_cl
// with DiDiRN (eval mode, no gradients, random weights and images), and the
// share of the time spent outside the network (label selection, the update,
// the draws). Prints one Markdown table row on stdout; --header prints the
// header first.

#include "cl_sampler.h"
#include "cp_sampler.h"
#include "model_factory.h"
#include "bench_support.h"
#include "network_score_model.h"

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using didicm::bench::cpu_seconds;
using didicm::bench::now_seconds;
using didicm::bench::status_mib;
using didicm::bench::TimedScoreModel;

struct Options {
  std::string sampler = "cp";  // cp or cl
  std::int64_t steps = 2;
  std::int64_t chains = 16;  // CL only
  std::int64_t classes = 10;
  std::int64_t batch = 128;
  std::int64_t size = 32;
  std::string model = "didirn18";
  int threads = 2;
  int repeats = 3;
  int warmup = 1;
  bool amp = false;
  bool header = false;
};

struct Run {
  double total = 0;    // wall-clock seconds of one sampler call
  double network = 0;  // of which inside the network
  double cpu = 0;      // CPU seconds of all threads
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Sampling benchmark: images/s of DiDiCM-CP or DiDiCM-CL and the update's share");
  Options options;
  app.add_option("--sampler", options.sampler, "cp or cl (default: cp)")
      ->check(CLI::IsMember({"cp", "cl"}));
  app.add_option("--steps", options.steps, "Sampling steps (default: 2)");
  app.add_option("--chains", options.chains, "CL chains per image (default: 16)");
  app.add_option("--classes", options.classes, "Number of classes N (default: 10)");
  app.add_option("--batch", options.batch, "Images per sampler call (default: 128)");
  app.add_option("--size", options.size, "Input side in pixels (default: 32)");
  app.add_option("--model", options.model, "DiDiRN model name (default: didirn18)");
  app.add_option("--threads", options.threads, "Intra-op threads (default: 2)");
  app.add_option("--repeats", options.repeats, "Timed calls (default: 3)");
  app.add_option("--warmup", options.warmup, "Untimed calls before the timed ones (default: 1)");
  app.add_flag("--amp", options.amp, "bfloat16 autocast for the network, as didicm-sample --amp");
  app.add_flag("--header", options.header, "Print the table header first");
  CLI11_PARSE(app, argc, argv);

  at::set_num_threads(options.threads);
  didicm::ModelConfig config;
  config.name = options.model;
  config.num_classes = options.classes;
  config.input_size = options.size;
  didicm::Model model = didicm::build_model(config);
  model.eval();
  TimedScoreModel score_model(model, options.amp);

  torch::manual_seed(0);
  const torch::Tensor images = torch::randn({options.batch, 3, options.size, options.size});
  didicm::CpOptions cp;
  cp.steps = options.steps;
  didicm::ClOptions cl;
  cl.steps = options.steps;
  cl.samples = options.chains;

  auto call = [&] {
    Run run;
    score_model.seconds = 0;
    const double start = now_seconds();
    const double cpu_start = cpu_seconds();
    if (options.sampler == "cp") {
      didicm::sample_cp(score_model, images, cp);
    } else {
      didicm::sample_cl(score_model, images, cl);
    }
    run.total = now_seconds() - start;
    run.cpu = cpu_seconds() - cpu_start;
    run.network = score_model.seconds;
    return run;
  };
  for (int i = 0; i < options.warmup; ++i) {
    call();
  }
  std::vector<Run> runs;
  for (int i = 0; i < options.repeats; ++i) {
    runs.push_back(call());
  }
  // The fastest call is the one least disturbed by other jobs on the machine.
  const Run best = *std::min_element(runs.begin(), runs.end(),
                                     [](const Run& a, const Run& b) { return a.total < b.total; });

  if (options.header) {
    std::fputs("| sampler | N | steps x chains | NFE per image | batch | variant | images/s (best) "
               "| images per CPU-second | outside the network % | outside ms per step | peak MiB |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|\n",
               stdout);
  }
  const bool is_cl = options.sampler == "cl";
  const std::int64_t chains = is_cl ? options.chains : 1;
  const double outside = best.total - best.network;
  std::printf("| %s | %lld | %lld x %lld | %lld | %lld | %s | %.1f | %.1f | %.1f | %.2f | %.0f |\n",
              is_cl ? "CL" : "CP", static_cast<long long>(options.classes),
              static_cast<long long>(options.steps), static_cast<long long>(chains),
              static_cast<long long>(options.steps * chains),
              static_cast<long long>(options.batch), options.amp ? "--amp (bf16 autocast)" : "float32",
              static_cast<double>(options.batch) / best.total,
              static_cast<double>(options.batch) / best.cpu, 100.0 * outside / best.total,
              1000.0 * outside / static_cast<double>(options.steps), status_mib("VmHWM"));
  std::fflush(stdout);
  return 0;
}
