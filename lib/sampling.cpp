#include "sampling.h"

#include "cl_sampler.h"
#include "cp_sampler.h"
#include "data_loader.h"
#include "dataset_source.h"
#include "atomic_file.h"
#include "autocast.h"
#include "device.h"
#include "errors.h"
#include "logging.h"
#include "network_score_model.h"
#include "prng.h"
#include "progress.h"
#include "tool.h"
#include "version.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <regex>

namespace didicm {
namespace {

// The first `limit` images of a dataset.
class LimitedSource : public DatasetSource {
 public:
  LimitedSource(std::shared_ptr<const DatasetReader> reader, std::int64_t limit)
      : DatasetSource(reader), limit_(limit) {}
  std::int64_t size() const override { return std::min(limit_, DatasetSource::size()); }

 private:
  std::int64_t limit_;
};

void check_class_lists(const SampleInputs& inputs) {
  try {
    check_same_classes(inputs.checkpoint.classes, inputs.checkpoint_path,
                       inputs.dataset->info().classes, inputs.dataset_path);
  } catch (const Error& error) {
    throw Error(fmt::format("{}; prepare the dataset with the training data's --class-list",
                            error.what()));
  }
}

// Images stored smaller than the network's input are upsampled by the center
// crop, which a model trained at that size has not seen.
void warn_if_upsampled(const SampleInputs& inputs) {
  const std::int64_t input_size = inputs.checkpoint.model.config().input_size;
  const int stored = inputs.dataset->info().size;
  if (stored < input_size) {
    log_warning("{}: images are stored at {}x{}, smaller than the checkpoint's input size {}, "
                "so they are upsampled; prepare the dataset with didicm-prep --size {}",
                inputs.dataset_path, stored, stored, input_size, input_size);
  }
}

// Warns about sampler options given on the command line (not at their unset
// values) that `settings.sampler` does not use.
void warn_unused_settings(const SamplerSettings& settings) {
  const bool cp = settings.sampler == "cp";
  const bool cl = settings.sampler == "cl";
  if (!cp && !settings.select.empty()) {
    log_warning("--select {}: only the cp sampler uses it; ignored", settings.select);
  }
  if (!cl && settings.samples != -1) {
    log_warning("--samples {}: only the cl sampler uses it; ignored", settings.samples);
  }
  if (!cp && !cl && settings.steps != -1) {
    log_warning("--steps {}: the standard sampler takes one softmax and no steps; ignored",
                settings.steps);
  }
  if (!cp && !cl && (settings.trajectory || settings.trajectory_topk > 0)) {
    log_warning("{}: the standard sampler has no steps, so no trajectory is stored",
                settings.trajectory ? "--trajectory" : "--trajectory-topk");
  }
}

// A number stored under `key` in the checkpoint's configuration JSON, as text.
std::string config_value(const std::string& json, const std::string& key) {
  std::smatch match;
  std::regex pattern("\"" + key + "\":(-?[0-9.eE+-]+)");
  return std::regex_search(json, match, pattern) ? match[1].str() : "";
}

// Per-step probabilities [B, S+1, N] float32 of a CL label trajectory [B, K, S+1].
torch::Tensor chain_frequencies(const torch::Tensor& labels, std::int64_t num_classes) {
  torch::Tensor one_hot = torch::one_hot(labels, num_classes).to(torch::kFloat32);  // [B,K,S+1,N]
  return one_hot.mean(/*dim=*/1);
}

struct BatchOutput {
  torch::Tensor probs;       // float32 [B, N]
  torch::Tensor trajectory;  // float32 [B, S+1, N], or undefined
};

BatchOutput sample_batch(const SampleInputs& inputs, const SamplerSettings& settings,
                         const torch::Tensor& images, std::int64_t first_index) {
  torch::NoGradGuard no_grad;
  BatchOutput output;
  if (settings.sampler == "standard") {
    AutocastGuard autocast(inputs.amp, inputs.device);
    output.probs = torch::softmax(inputs.checkpoint.model.forward(images).to(torch::kFloat32), 1);
    return output;
  }
  NetworkScoreModel model(inputs.checkpoint.model, inputs.amp);
  bool keep = settings.trajectory || settings.trajectory_topk > 0;
  if (settings.sampler == "cp") {
    CpOptions options;
    options.steps = settings.steps;
    options.select = parse_label_select(settings.select);
    options.seed = settings.seed;
    options.first_index = first_index;
    options.trajectory = keep;
    SamplerResult result = sample_cp(model, images, options);
    output.probs = result.posterior;
    if (keep) {
      output.trajectory = result.trajectory.to(torch::kFloat32);
    }
    return output;
  }
  ClOptions options;
  options.steps = settings.steps;
  options.samples = settings.samples;
  options.seed = settings.seed;
  options.first_index = first_index;
  options.trajectory = keep;
  SamplerResult result = sample_cl(model, images, options);
  output.probs = result.posterior;
  if (keep) {
    output.trajectory = chain_frequencies(result.trajectory, model.num_classes());
  }
  return output;
}

void append_rows(std::vector<float>& target, const torch::Tensor& rows) {
  torch::Tensor data = rows.to(torch::kCPU).contiguous();
  const float* begin = data.data_ptr<float>();
  target.insert(target.end(), begin, begin + data.numel());
}

void append_trajectory(Posterior& posterior, const torch::Tensor& trajectory, std::int64_t topk) {
  if (topk <= 0) {
    append_rows(posterior.trajectory, trajectory);
    return;
  }
  std::int64_t k = std::min<std::int64_t>(topk, trajectory.size(2));
  auto [values, indices] = trajectory.topk(k, /*dim=*/2);
  append_rows(posterior.trajectory, values);
  torch::Tensor index_data = indices.to(torch::kCPU).to(torch::kInt32).contiguous();
  const std::int32_t* begin = index_data.data_ptr<std::int32_t>();
  posterior.trajectory_indices.insert(posterior.trajectory_indices.end(), begin,
                                      begin + index_data.numel());
}

Posterior empty_posterior(const SampleInputs& inputs, const SamplerSettings& settings) {
  const Checkpoint& checkpoint = inputs.checkpoint;
  Posterior posterior;
  posterior.num_classes = checkpoint.model.num_classes();
  posterior.classes = checkpoint.classes;
  posterior.sampler = settings.sampler;
  posterior.steps = settings.sampler == "standard" ? 0 : settings.steps;
  posterior.select = settings.sampler == "cp" ? settings.select : "";
  posterior.samples = settings.sampler == "cl" ? settings.samples : 0;
  posterior.nfe = sampler_nfe(settings);
  posterior.seed = static_cast<std::int64_t>(settings.seed);
  posterior.checkpoint = inputs.checkpoint_path;
  posterior.checkpoint_hash = file_hash(inputs.checkpoint_path);
  posterior.dataset = inputs.dataset_path;
  // The path as typed may be relative to a folder that a later reader does not
  // run in, so the absolute path is kept as well.
  posterior.attributes["dataset_absolute"] = absolute_path(inputs.dataset_path);
  posterior.dataset_hash = inputs.dataset->content_hash();
  posterior.created_by = fmt::format("{} {}", program_name(), version_string);
  posterior.command_line = command_line();
  posterior.trajectory_topk = settings.trajectory_topk;
  if (settings.trajectory || settings.trajectory_topk > 0) {
    posterior.trajectory_points = settings.steps + 1;
  }

  const ModelConfig& model = checkpoint.model.config();
  posterior.attributes["model"] = model.name;
  posterior.attributes["objective"] = checkpoint.objective;
  posterior.attributes["resolution"] = std::to_string(model.input_size);
  posterior.attributes["split"] = inputs.dataset->info().split;
  posterior.attributes["precision"] = precision_name(inputs.amp);
  std::string ratio = config_value(checkpoint.config_json, "train_ratio");
  if (!ratio.empty()) {
    posterior.attributes["train_ratio"] = ratio;
  }
  return posterior;
}

}  // namespace

std::string file_hash(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    throw Error(fmt::format("{}: cannot read the file", path));
  }
  std::uint64_t hash = fnv1a_offset;
  std::vector<char> buffer(1 << 20);
  while (stream) {
    stream.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hash = fnv1a(buffer.data(), static_cast<std::size_t>(stream.gcount()), hash);
  }
  return fmt::format("{:016x}", hash);
}

void validate_sampling_inputs(const std::string& checkpoint, const std::string& data,
                              std::int64_t batch_size, std::int64_t limit, int workers) {
  if (checkpoint.empty()) {
    throw UsageError("--checkpoint is missing: give a checkpoint file from didicm-train");
  }
  if (data.empty()) {
    throw UsageError("--data is missing: give a dataset file from didicm-prep");
  }
  if (batch_size < 1) {
    throw UsageError(fmt::format("--batch-size {}: must be at least 1", batch_size));
  }
  if (limit < 0) {
    throw UsageError(fmt::format("--limit {}: must not be negative", limit));
  }
  if (workers < 0) {
    throw UsageError(fmt::format("--workers {}: must not be negative", workers));
  }
}

SampleInputs load_sample_inputs(const std::string& checkpoint_path, const std::string& dataset_path,
                                const std::string& device) {
  SampleInputs inputs;
  inputs.checkpoint_path = checkpoint_path;
  inputs.dataset_path = dataset_path;
  inputs.device = select_device(device);
  inputs.checkpoint = load_checkpoint(checkpoint_path, inputs.device, /*training_state=*/false);
  inputs.dataset = std::make_shared<DatasetReader>(dataset_path);
  check_class_lists(inputs);
  warn_if_upsampled(inputs);
  return inputs;
}

SamplerSettings resolve_sampler_settings(const SamplerSettings& settings,
                                         const Checkpoint& checkpoint) {
  SamplerSettings resolved = settings;
  bool score_model = checkpoint.model.is_score_model();
  if (resolved.sampler.empty()) {
    resolved.sampler = score_model ? "cp" : "standard";
  }
  if (resolved.sampler != "cp" && resolved.sampler != "cl" && resolved.sampler != "standard") {
    throw UsageError(fmt::format("--sampler {}: expected cp, cl or standard", resolved.sampler));
  }
  if (score_model == (resolved.sampler == "standard")) {
    throw UsageError(fmt::format(
        "--sampler {} does not fit this checkpoint ({}, objective {}): a DiDiRN score model "
        "samples with cp or cl, a cross-entropy classifier with standard",
        resolved.sampler, checkpoint.model.config().name, checkpoint.objective));
  }
  warn_unused_settings(resolved);
  if (resolved.steps == -1) {
    resolved.steps = resolved.sampler == "cl" ? 2 : 8;
  }
  if (resolved.samples == -1) {
    resolved.samples = 16;
  }
  if (resolved.select.empty()) {
    resolved.select = "argmin";
  }
  if (resolved.steps < 1) {
    throw UsageError(fmt::format("--steps {}: must be at least 1", resolved.steps));
  }
  if (resolved.samples < 1) {
    throw UsageError(fmt::format("--samples {}: must be at least 1", resolved.samples));
  }
  parse_label_select(resolved.select);
  if (resolved.trajectory_topk < 0) {
    throw UsageError("--trajectory-topk must not be negative");
  }
  if (resolved.trajectory && resolved.trajectory_topk > 0) {
    throw UsageError("--trajectory and --trajectory-topk both choose the trajectory's form; give "
                     "one of them");
  }
  if (resolved.sampler == "standard") {
    resolved.trajectory = false;
    resolved.trajectory_topk = 0;
  }
  const auto num_classes = static_cast<std::int64_t>(checkpoint.classes.size());
  if (resolved.trajectory_topk > num_classes) {
    throw UsageError(fmt::format(
        "--trajectory-topk {}: the checkpoint has {} classes; give at most {}, or use "
        "--trajectory for whole vectors",
        resolved.trajectory_topk, num_classes, num_classes));
  }
  return resolved;
}

std::int64_t sampler_nfe(const SamplerSettings& settings) {
  if (settings.sampler == "standard") {
    return 1;
  }
  return settings.sampler == "cl" ? settings.samples * settings.steps : settings.steps;
}

Posterior sample_dataset(const SampleInputs& inputs, const SamplerSettings& settings) {
  const Checkpoint& checkpoint = inputs.checkpoint;
  Posterior posterior = empty_posterior(inputs, settings);

  DataLoaderConfig config;
  config.train = false;
  config.batch_size = inputs.batch_size;
  config.input_size = static_cast<int>(checkpoint.model.config().input_size);
  config.workers = inputs.workers;
  for (int c = 0; c < 3; ++c) {
    config.augment.normalization.mean[c] = static_cast<float>(checkpoint.mean.at(c));
    config.augment.normalization.std[c] = static_cast<float>(checkpoint.stddev.at(c));
  }
  std::int64_t limit = inputs.limit > 0 ? inputs.limit : inputs.dataset->info().count;
  DataLoader loader(std::make_shared<LimitedSource>(inputs.dataset, limit), config);

  Progress progress(fmt::format("{} sampling", settings.sampler),
                    std::min(limit, inputs.dataset->info().count));
  loader.start_epoch(0);
  std::int64_t first_index = 0;
  while (auto batch = loader.next()) {
    torch::Tensor images = batch->images.to(inputs.device);
    BatchOutput output = sample_batch(inputs, settings, images, first_index);
    append_rows(posterior.probs, output.probs);
    if (output.trajectory.defined()) {
      append_trajectory(posterior, output.trajectory, settings.trajectory_topk);
    }
    torch::Tensor labels = batch->labels.to(torch::kInt32).contiguous();
    posterior.targets.insert(posterior.targets.end(), labels.data_ptr<std::int32_t>(),
                             labels.data_ptr<std::int32_t>() + labels.numel());
    first_index += images.size(0);
    progress.advance(images.size(0));
  }
  progress.finish();
  posterior.rows = first_index;
  return posterior;
}

std::string posterior_file_name(const SamplerSettings& settings) {
  if (settings.sampler == "cp") {
    return fmt::format("cp-{}-s{}.h5", settings.select, settings.steps);
  }
  if (settings.sampler == "cl") {
    return fmt::format("cl-s{}-k{}.h5", settings.steps, settings.samples);
  }
  return "standard.h5";
}

}  // namespace didicm
