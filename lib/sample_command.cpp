#include "sample_command.h"

#include "atomic_file.h"
#include "errors.h"
#include "logging.h"
#include "table.h"
#include "tool.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

namespace didicm {
namespace {

void validate_sample_options(const SampleOptions& options) {
  validate_sampling_inputs(options.checkpoint, options.data, options.batch_size, options.limit,
                           options.workers);
  if (options.output.empty()) {
    throw UsageError("-o/--output is missing: give a posterior file name, or - for stdout");
  }
  if (options.output == "-") {
    check_stdout_for_posterior();
  } else {
    check_output_path(options.output, options.force);
  }
}

void log_settings(const std::string& checkpoint, const SamplerSettings& settings) {
  if (settings.sampler == "standard") {
    log_info("{}: standard sampler (softmax), NFE 1 per image", checkpoint);
    return;
  }
  log_info("{}: {} sampler, {} steps, NFE {} per image", checkpoint, settings.sampler,
           settings.steps, sampler_nfe(settings));
}

std::string summary_json(const Posterior& posterior, const std::string& output, double seconds) {
  return fmt::format(
      "{{\"output\":{},\"images\":{},\"classes\":{},\"sampler\":{},\"steps\":{},"
      "\"select\":{},\"samples\":{},\"nfe\":{},\"seconds\":{:.2f},\"images_per_second\":{:.1f}}}",
      json_quote(output), posterior.rows, posterior.num_classes, json_quote(posterior.sampler),
      posterior.sampler == "standard" ? "null" : std::to_string(posterior.steps),
      posterior.sampler == "cp" ? json_quote(posterior.select) : "null",
      posterior.sampler == "cl" ? std::to_string(posterior.samples) : "null", posterior.nfe,
      seconds,
      seconds > 0 ? static_cast<double>(posterior.rows) / seconds : 0.0);
}

}  // namespace

int run_sample(const SampleOptions& options) {
  validate_sample_options(options);
  if (common_options().threads > 0) {
    torch::set_num_threads(common_options().threads);
  }
  SampleInputs inputs = load_sample_inputs(options.checkpoint, options.data, options.device);
  SamplerSettings settings = resolve_sampler_settings(options.settings, inputs.checkpoint);
  inputs.batch_size = options.batch_size;
  inputs.limit = options.limit;
  inputs.workers = options.workers;
  inputs.amp = options.amp;
  log_settings(options.checkpoint, settings);

  auto start = std::chrono::steady_clock::now();
  Posterior posterior = sample_dataset(inputs, settings);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (options.output == "-") {
    write_posterior_to_stdout(posterior);
    return 0;
  }
  write_posterior(posterior, options.output, options.force);
  std::printf("%s\n", summary_json(posterior, options.output, seconds).c_str());
  return 0;
}

}  // namespace didicm
