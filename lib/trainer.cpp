#include "trainer.h"

#include "atomic_file.h"
#include "autocast.h"
#include "checkpoint.h"
#include "cp_sampler.h"
#include "data_loader.h"
#include "dataset.h"
#include "dataset_source.h"
#include "device.h"
#include "errors.h"
#include "forward_process.h"
#include "interrupt.h"
#include "lamb.h"
#include "logging.h"
#include "lr_schedule.h"
#include "mixup.h"
#include "rand_augment.h"
#include "network_score_model.h"
#include "progress.h"
#include "rng.h"
#include "score_entropy.h"
#include "table.h"
#include "tool.h"
#include "train_settings.h"
#include "version.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>

namespace didicm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Seed-stream tags, so that the diffusion draws never share a stream with the
// data order or the augmentation (which derive from the seed themselves).
constexpr std::uint64_t diffusion_stream = 0x646966667573696fULL;
constexpr std::uint64_t validation_stream = 0x76616c69646174ULL;
constexpr std::uint64_t mixup_stream = 0x6d69787570ULL;  // "mixup"

// A generator on `device` seeded with `seed`. CPU generators are created per
// call; on a GPU the device's default generator is reseeded.
at::Generator seeded_generator(const torch::Device& device, std::uint64_t seed) {
  if (device.is_cpu()) {
    return at::detail::createCPUGenerator(seed);
  }
  at::Generator generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_current_seed(seed);
  return generator;
}

struct ValidationResult {
  double top1 = 0;  // percent
  double top5 = 0;  // percent
  // The training loss on the validation images. For DiDiCM the times and
  // noisy labels are drawn from the same seeds at every validation, so values
  // of different epochs are comparable despite the loss's heavy-tailed noise.
  double loss = 0;
  std::int64_t count = 0;
};

std::string json_number(double value) {
  return std::isfinite(value) ? fmt::format("{}", value) : "null";
}

std::string format_list(const std::vector<double>& values) {
  return fmt::format("[{}]", fmt::join(values, ","));
}

// The resolved configuration as one JSON object.
// `device` is the device in use; options.device the requested one (auto, cuda, ...).
std::string config_json(const TrainOptions& options, const ModelConfig& model, double lr,
                        std::int64_t steps_per_epoch, const DatasetInfo& data,
                        const std::string& device) {
  return fmt::format(
      "{{\"model\":{},\"num_classes\":{},\"stem\":{},\"width\":{},\"embed_dim\":{},"
      "\"input_size\":{},\"objective\":{},\"data\":{},\"val\":{},\"epochs\":{},"
      "\"batch_size\":{},\"lr\":{},\"base_lr\":{},\"lr_ratio_scaling\":{},\"warmup_epochs\":{},"
      "\"warmup_lr\":{},\"min_lr\":{},\"opt\":{},\"momentum\":{},\"weight_decay\":{},"
      "\"sched\":{},\"decay_epochs\":{},\"decay_rate\":{},\"smoothing\":{},\"mean\":{},"
      "\"std\":{},\"seed\":{},\"workers\":{},\"val_every\":{},\"checkpoint_every\":{},"
      "\"diffusion_eps\":{},\"val_steps\":{},\"steps_per_epoch\":{},\"device\":{},"
      "\"requested_device\":{},"
      "\"train_ratio\":{},\"train_images\":{},\"recipe\":{},\"color_jitter\":{},\"aa\":{},"
      "\"mixup\":{},\"cutmix\":{},\"mixup_switch_prob\":{},\"aug_repeats\":{},"
      "\"precision\":{},\"version\":{}}}",
      json_quote(model.name), model.num_classes, json_quote(model.stem), model.width,
      model.embed_dim, model.input_size, json_quote(options.objective), json_quote(options.data),
      json_quote(options.val), options.epochs, options.batch_size, lr, options.lr,
      json_quote(options.lr_ratio_scaling), options.warmup_epochs, options.warmup_lr,
      options.min_lr, json_quote(options.opt), options.momentum, options.weight_decay,
      json_quote(options.sched), options.decay_epochs, options.decay_rate, options.smoothing,
      format_list(options.mean), format_list(options.stddev), options.seed, options.workers,
      options.val_every, options.checkpoint_every, options.diffusion_eps, options.val_steps,
      steps_per_epoch, json_quote(device), json_quote(options.device), data.ratio, data.count,
      json_quote(options.recipe), options.color_jitter, json_quote(options.aa), options.mixup,
      options.cutmix, options.mixup_switch_prob, options.aug_repeats,
      json_quote(precision_name(options.amp)), json_quote(version_string));
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream stream(path, std::ios::trunc);
  stream << text;
  if (!stream) {
    throw Error(fmt::format("{}: writing failed; check the free disk space and the folder's "
                            "permissions",
                            path));
  }
}

// Rewrites the text file at `path` (when it exists) with the lines that
// `keep` accepts.
template <typename Keep>
void keep_lines(const std::string& path, Keep keep) {
  std::ifstream input(path);
  if (!input) {
    return;
  }
  std::string remaining;
  std::size_t dropped = 0;
  std::string line;
  while (std::getline(input, line)) {
    if (keep(line)) {
      remaining += line + "\n";
    } else {
      ++dropped;
    }
  }
  input.close();
  if (dropped > 0) {
    log_info("{}: dropped {} records written after the checkpoint", path, dropped);
    write_text(path, remaining);
  }
}

// Appends one line to a log file of the run folder.
void append_line(const std::string& path, const std::string& line) {
  std::ofstream stream(path, std::ios::app);
  stream << line << '\n';
  if (!stream) {
    throw Error(fmt::format("{}: writing failed; check the free disk space and the folder's "
                            "permissions",
                            path));
  }
}

void check_same_class_lists(const DatasetReader& train, const DatasetReader& val) {
  const auto& a = train.info().classes;
  const auto& b = val.info().classes;
  std::size_t common = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (a[i] != b[i]) {
      throw Error(fmt::format("{} and {}: class lists differ at index {} ('{}' vs '{}'); prepare "
                              "both with the same --class-list",
                              train.info().path, val.info().path, i, a[i], b[i]));
    }
  }
  if (a.size() != b.size()) {
    throw Error(fmt::format("{} and {}: class lists differ in length ({} vs {}); prepare both "
                            "with the same --class-list",
                            train.info().path, val.info().path, a.size(), b.size()));
  }
}

// Targets p0 [B, N]: one-hot, mixed with the uniform distribution by `smoothing`.
torch::Tensor smoothed_targets(const torch::Tensor& labels, std::int64_t num_classes,
                               double smoothing) {
  torch::Tensor p0 = one_hot_probs(labels, num_classes);
  if (smoothing > 0) {
    p0 = p0 * (1.0 - smoothing) + smoothing / static_cast<double>(num_classes);
  }
  return p0;
}

// Counts rows whose target is among the k largest entries (ties by lowest index).
std::int64_t count_top_k(const torch::Tensor& scores, const torch::Tensor& targets, std::int64_t k) {
  std::int64_t kk = std::min<std::int64_t>(k, scores.size(1));
  torch::Tensor top = std::get<1>(scores.topk(kk, /*dim=*/1));
  return top.eq(targets.unsqueeze(1)).any(/*dim=*/1).sum().item<std::int64_t>();
}

class Trainer {
 public:
  explicit Trainer(TrainOptions options) : options_(std::move(options)) {}

  // Every input (datasets, checkpoint) is checked before the run folder is
  // created, so that a failed start leaves no folder behind.
  int run() {
    prepare();
    if (!options_.resume.empty()) {
      resume();
    }
    create_output_folder();
    write_config();
    return loop();
  }

 private:
  void prepare();
  void open_datasets();
  void check_output_folder();
  bool resumes_folder_run() const;
  void create_output_folder();
  void trim_logs() const;
  void prepare_model();
  void prepare_optimizer();
  void resume();
  void check_resumed_data(const Checkpoint& checkpoint) const;
  void restart_best_on_new_val(const Checkpoint& checkpoint);
  void write_config();
  int loop();
  int stop_on_signal(int signal, const std::string& moment, Clock::time_point run_start);
  double epoch_mean_loss() const;
  double train_step(const Batch& batch);
  torch::Tensor forward_classifier(const torch::Tensor& images);
  ValidationResult validate();
  void save(const std::string& path);
  void end_epoch(std::int64_t epoch, double mean_loss, double seconds, std::int64_t images);
  void log_step(double loss, double mean_loss, double lr);
  std::string summary_json(bool stopped, double seconds) const;

  TrainOptions options_;
  torch::Device device_{torch::kCPU};
  std::shared_ptr<const DatasetReader> train_reader_;
  std::shared_ptr<const DatasetReader> val_reader_;
  std::unique_ptr<DataLoader> train_loader_;
  std::unique_ptr<DataLoader> val_loader_;
  Model model_;
  std::unique_ptr<NetworkScoreModel> score_model_;
  std::vector<NamedTensor> parameters_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::optional<LrSchedule> schedule_;
  MixupConfig mixup_;
  double lr_ = 0;  // after ratio scaling
  std::int64_t steps_per_epoch_ = 0;
  std::int64_t epoch_ = 0;  // completed epochs
  std::int64_t step_ = 0;   // completed steps
  double best_top1_ = -1;
  // Sum and count of the training losses of the current epoch so far, stored
  // in checkpoints so that a run resumed mid-epoch reports the epoch's mean.
  double epoch_loss_sum_ = 0;
  std::int64_t epoch_loss_steps_ = 0;
  std::string data_hash_;  // content hash of the training dataset
  ValidationResult last_validation_{-1, -1, 0, 0};
  double last_loss_ = std::nan("");
  std::string config_json_;
  std::string last_path_;
  std::string best_path_;
  bool saved_once_ = false;
};

void Trainer::prepare() {
  device_ = select_device(options_.device);
  if (common_options().threads > 0) {
    torch::set_num_threads(common_options().threads);
  }
  check_output_folder();
  open_datasets();
  prepare_model();

  DataLoaderConfig loader;
  loader.batch_size = options_.batch_size;
  loader.input_size = static_cast<int>(model_.config().input_size);
  loader.seed = options_.seed;
  loader.workers = options_.workers;
  loader.aug_repeats = options_.aug_repeats;
  loader.augment.brightness = options_.color_jitter;
  loader.augment.contrast = options_.color_jitter;
  loader.augment.saturation = options_.color_jitter;
  if (!options_.aa.empty()) {
    loader.augment.rand_augment = parse_rand_augment(options_.aa);
  }
  for (int c = 0; c < 3; ++c) {
    loader.augment.normalization.mean[c] = static_cast<float>(options_.mean[c]);
    loader.augment.normalization.std[c] = static_cast<float>(options_.stddev[c]);
    // timm's img_mean: the fill color of RandAugment's geometric ops.
    loader.augment.rand_augment.fill[c] =
        static_cast<std::uint8_t>(std::clamp(std::lround(255.0 * options_.mean[c]), 0L, 255L));
  }
  loader.train = true;
  train_loader_ = std::make_unique<DataLoader>(std::make_shared<DatasetSource>(train_reader_), loader);
  if (val_reader_) {
    loader.train = false;
    val_loader_ = std::make_unique<DataLoader>(std::make_shared<DatasetSource>(val_reader_), loader);
  }
  steps_per_epoch_ = train_loader_->batches_per_epoch();
  mixup_.mixup_alpha = options_.mixup;
  mixup_.cutmix_alpha = options_.cutmix;
  mixup_.switch_probability = options_.mixup_switch_prob;
  mixup_.smoothing = options_.smoothing;
  prepare_optimizer();
}

void Trainer::open_datasets() {
  train_reader_ = std::make_shared<DatasetReader>(options_.data);
  std::size_t classes = train_reader_->info().classes.size();
  if (classes < 2) {
    throw Error(fmt::format("{}: contains {} class{}; training needs at least 2 classes, so "
                            "prepare the dataset with more classes",
                            options_.data, classes, classes == 1 ? "" : "es"));
  }
  if (!options_.val.empty()) {
    val_reader_ = std::make_shared<DatasetReader>(options_.val);
    check_same_class_lists(*train_reader_, *val_reader_);
  }

  // Stored with every checkpoint, so that a resumed run can check its data.
  // NOTE: this reads the whole training file once per start.
  log_debug("{}: computing the content hash", options_.data);
  data_hash_ = train_reader_->content_hash();
}

void Trainer::check_output_folder() {
  last_path_ = (fs::path(options_.output) / "last.h5").string();
  best_path_ = (fs::path(options_.output) / "best.h5").string();
  bool earlier_run = fs::exists(last_path_) || fs::exists(best_path_);
  if (!options_.resume.empty() && fs::exists(last_path_) && !resumes_folder_run() &&
      !options_.force) {
    throw Error(fmt::format("{}: the folder holds the run in {}, and resuming {} there would "
                            "overwrite it; choose another --output, or pass --force to replace "
                            "that run's files",
                            options_.output, last_path_, options_.resume));
  }
  if (earlier_run && options_.resume.empty() && !options_.force) {
    throw Error(fmt::format("{}: the folder contains an earlier run; pass --resume {} to continue it "
                            "or --force to start over",
                            options_.output, last_path_));
  }
}

// Whether the run resumes from the last.h5 of its own output folder.
bool Trainer::resumes_folder_run() const {
  std::error_code error;
  return !options_.resume.empty() && fs::exists(last_path_, error) &&
         fs::equivalent(last_path_, options_.resume, error);
}

void Trainer::create_output_folder() {
  std::error_code error;
  fs::create_directories(options_.output, error);
  if (!fs::is_directory(options_.output)) {
    throw Error(fmt::format("{}: cannot create the output folder: {}; check the --output path",
                            options_.output, error.message()));
  }
  bool earlier_run = fs::exists(last_path_) || fs::exists(best_path_);
  if (earlier_run && (options_.resume.empty() || (options_.force && !resumes_folder_run()))) {
    for (const char* name : {"summary.csv", "metrics.jsonl", "best.h5"}) {
      fs::remove(fs::path(options_.output) / name, error);
    }
  }
  if (!options_.resume.empty()) {
    trim_logs();
  }
}

// Drops the log records written after the checkpoint a run resumes from (a
// hard kill after the last save, or an older checkpoint), so that the resumed
// run does not log those steps and epochs twice.
void Trainer::trim_logs() const {
  const fs::path folder(options_.output);
  const std::regex record(R"re("epoch":(\d+),"step":(\d+))re");
  keep_lines((folder / "metrics.jsonl").string(), [&](const std::string& line) {
    std::smatch match;
    if (!std::regex_search(line, match, record)) {
      return true;
    }
    std::int64_t epoch = std::stoll(match[1].str());
    std::int64_t step = std::stoll(match[2].str());
    bool epoch_record = line.find(R"("kind":"epoch")") != std::string::npos;
    return step <= step_ && (!epoch_record || epoch <= epoch_);
  });
  keep_lines((folder / "summary.csv").string(), [&](const std::string& line) {
    std::int64_t epoch = 0;
    std::int64_t step = 0;
    if (std::sscanf(line.c_str(), "%" SCNd64 ",%" SCNd64, &epoch, &step) != 2) {
      return true;  // the header
    }
    return epoch <= epoch_ && step <= step_;
  });
}

// Logs a warning when the network's input is larger than the images stored
// in `reader`, because the loader then upsamples them.
void warn_about_upsampling(const DatasetReader& reader, std::int64_t input_size) {
  if (input_size > reader.info().size) {
    log_warning("{}: stores {}-pixel images, but the input size is {}; the images are upsampled",
                reader.info().path, reader.info().size, input_size);
  }
}

void Trainer::prepare_model() {
  ModelConfig config = options_.model;
  config.num_classes = static_cast<std::int64_t>(train_reader_->info().classes.size());
  if (config.input_size == 0) {
    config.input_size = train_reader_->info().size;
  }
  ModelConfig resolved = resolve_model_config(config);
  // A given --input-size was checked with the other options; this checks the stored size.
  std::int64_t minimum = min_input_size(resolved.stem);
  if (resolved.input_size < minimum) {
    throw Error(fmt::format("{}: stores {}-pixel images, too small for the {} stem, which needs "
                            "at least {} pixels; give --input-size {} to upsample them",
                            options_.data, resolved.input_size, resolved.stem, minimum, minimum));
  }
  warn_about_upsampling(*train_reader_, resolved.input_size);
  if (val_reader_) {
    warn_about_upsampling(*val_reader_, resolved.input_size);
  }

  // The initial weights come from LibTorch's global generator.
  torch::manual_seed(options_.seed);
  model_ = build_model(resolved);
  model_.to(device_);
  if (model_.is_score_model()) {
    score_model_ = std::make_unique<NetworkScoreModel>(model_, options_.amp);
  }
  log_info("{}: {} images, {} classes; {} with {} parameters on {}", options_.data,
           train_reader_->info().count, config.num_classes, model_.config().name,
           model_.parameter_count(), device_name(device_));
}

void Trainer::prepare_optimizer() {
  lr_ = options_.lr;
  if (options_.lr_ratio_scaling == "sqrt") {
    lr_ = scale_lr_by_ratio(options_.lr, train_reader_->info().ratio);
    log_info("learning rate {} scaled by sqrt(1 / ratio {}) to {}", options_.lr,
             train_reader_->info().ratio, lr_);
  }
  for (const auto& item : model_.module()->named_parameters(/*recurse=*/true)) {
    parameters_.emplace_back(item.key(), item.value());
  }
  optimizer_ = make_optimizer(options_.opt, parameters_, lr_, options_.weight_decay,
                              options_.momentum);

  LrScheduleConfig schedule;
  schedule.name = options_.sched;
  schedule.base_lr = lr_;
  schedule.min_lr = options_.min_lr;
  schedule.warmup_lr = options_.warmup_lr;
  schedule.warmup_steps = std::llround(options_.warmup_epochs * static_cast<double>(steps_per_epoch_));
  schedule.total_steps = std::max<std::int64_t>(1, options_.epochs * steps_per_epoch_);
  schedule.decay_steps =
      std::max<std::int64_t>(1, std::llround(options_.decay_epochs * static_cast<double>(steps_per_epoch_)));
  schedule.decay_rate = options_.decay_rate;
  schedule_.emplace(schedule);
  config_json_ = config_json(options_, model_.config(), lr_, steps_per_epoch_,
                             train_reader_->info(), device_name(device_));
}

void Trainer::resume() {
  Checkpoint checkpoint = load_checkpoint(options_.resume, device_, /*training_state=*/true);
  check_resumed_data(checkpoint);
  const ModelConfig& saved = checkpoint.model.config();
  const ModelConfig& ours = model_.config();
  if (saved.name != ours.name || saved.num_classes != ours.num_classes ||
      saved.stem != ours.stem || saved.width != ours.width || saved.embed_dim != ours.embed_dim ||
      saved.input_size != ours.input_size) {
    throw Error(fmt::format("{}: the checkpoint contains {} (N={}, stem {}, width {}, input {}), but "
                            "this run builds {} (N={}, stem {}, width {}, input {}); resume with "
                            "the options of the interrupted run",
                            options_.resume, saved.name, saved.num_classes, saved.stem,
                            saved.width, saved.input_size, ours.name, ours.num_classes, ours.stem,
                            ours.width, ours.input_size));
  }
  if (checkpoint.objective != options_.objective) {
    throw Error(fmt::format("{}: the checkpoint was trained with --objective {}, not {}; resume "
                            "with --objective {}",
                            options_.resume, checkpoint.objective, options_.objective,
                            checkpoint.objective));
  }
  if (checkpoint.classes != train_reader_->info().classes) {
    throw Error(fmt::format("{} and {}: class lists differ; resume on the same dataset",
                            options_.resume, options_.data));
  }

  // Copy the weights into the model the optimizer already points at.
  {
    torch::NoGradGuard no_grad;
    auto saved_state = state_dict(*checkpoint.model.module());
    auto our_state = state_dict(*model_.module());
    for (std::size_t i = 0; i < our_state.size(); ++i) {
      our_state[i].second.copy_(saved_state[i].second);
    }
  }
  std::vector<NamedTensor> optimizer_state;
  for (const auto& [name, tensor] : checkpoint.optimizer) {
    if (name.rfind("trainer/", 0) != 0) {
      optimizer_state.emplace_back(name, tensor);
    }
  }
  import_optimizer_state(*optimizer_, parameters_, optimizer_state);
  epoch_ = checkpoint.epoch;
  step_ = checkpoint.step;
  if (epoch_ >= options_.epochs) {
    throw UsageError(fmt::format("{}: the run is complete (epoch {} of --epochs {}); give a "
                                 "larger --epochs to continue it",
                                 options_.resume, epoch_, options_.epochs));
  }
  auto stored_value = [&](const char* name) -> std::optional<torch::Tensor> {
    auto found = checkpoint.optimizer.find(name);
    return found == checkpoint.optimizer.end() ? std::nullopt : std::optional(found->second);
  };
  if (auto value = stored_value("trainer/best_top1")) {
    best_top1_ = value->item<double>();
  }
  // Checkpoints written before the epoch's loss sum was stored restart the mean here.
  if (auto value = stored_value("trainer/epoch_loss_sum")) {
    epoch_loss_sum_ = value->item<double>();
  }
  if (auto value = stored_value("trainer/epoch_loss_steps")) {
    epoch_loss_steps_ = value->item<std::int64_t>();
  }
  if (options_.stop_after_steps > 0 && step_ >= options_.stop_after_steps) {
    throw UsageError(fmt::format("--stop-after-steps {}: {} is already at step {}; give a larger "
                                 "value",
                                 options_.stop_after_steps, options_.resume, step_));
  }
  restart_best_on_new_val(checkpoint);
  log_info("{}: resuming after epoch {} and step {}", options_.resume, epoch_, step_);
}

// Checks that the training data has the content the checkpoint was trained
// on. Exit status 2 when --data names another file than the stored one, 1
// when the stored file itself now contains other data.
void Trainer::check_resumed_data(const Checkpoint& checkpoint) const {
  if (checkpoint.data_hash.empty() || checkpoint.data_hash == data_hash_) {
    return;  // an empty hash: written before the hash was stored
  }
  auto stored = checkpoint.train_settings.find("data");
  if (stored != checkpoint.train_settings.end() && stored->second != absolute_path(options_.data)) {
    throw UsageError(fmt::format(
        "--data {}: its content differs from {}, on which the run in {} was trained (content "
        "hash {} vs {}); a resumed run keeps its training data, so give --data {}",
        options_.data, stored->second, options_.resume, data_hash_, checkpoint.data_hash,
        stored->second));
  }
  throw Error(fmt::format("{}: its content changed since the run in {} was trained on it (content "
                          "hash {}, stored {}); restore that dataset or start a new run",
                          options_.data, options_.resume, data_hash_, checkpoint.data_hash));
}

// best_top1 and best.h5 compare validation scores, so a run that resumes on
// another validation file starts its best over.
void Trainer::restart_best_on_new_val(const Checkpoint& checkpoint) {
  auto stored = checkpoint.train_settings.find("val");
  if (stored == checkpoint.train_settings.end() || best_top1_ < 0) {
    return;
  }
  if (stored->second != absolute_path(options_.val)) {
    log_warning("--val {}: the run was validated on {}; best_top1 and best.h5 start over",
                options_.val.empty() ? "(none)" : options_.val,
                stored->second.empty() ? "no file" : stored->second);
    best_top1_ = -1;
  }
}

void Trainer::write_config() {
  write_text((fs::path(options_.output) / "config.json").string(), config_json_ + "\n");
}

double Trainer::train_step(const Batch& batch) {
  torch::Tensor images = batch.images.to(device_, /*non_blocking=*/true);
  torch::Tensor labels = batch.labels.to(device_, /*non_blocking=*/true);
  torch::Tensor p0;
  if (mixup_.enabled()) {
    // One draw per step from (seed, step), so a resumed run mixes alike.
    Rng rng(derive_seed(options_.seed, mixup_stream, static_cast<std::uint64_t>(step_)));
    MixupParams params = draw_mixup(mixup_, static_cast<int>(images.size(2)),
                                    static_cast<int>(images.size(3)), rng);
    MixedBatch mixed = mix_batch(images, labels, model_.num_classes(), params, options_.smoothing);
    images = mixed.images;
    p0 = mixed.targets;
  } else {
    p0 = smoothed_targets(labels, model_.num_classes(), options_.smoothing);
  }

  torch::Tensor loss;
  if (options_.objective == "didicm") {
    // One generator per step, seeded from (seed, step): a resumed run draws
    // the same t and noisy labels without storing generator state.
    at::Generator generator = seeded_generator(
        device_, derive_seed(options_.seed, diffusion_stream, static_cast<std::uint64_t>(step_)));
    loss = diffusion_loss(*score_model_, images, p0, generator, options_.diffusion_eps).loss;
  } else {
    torch::Tensor logits = forward_classifier(images);
    loss = -(p0 * torch::log_softmax(logits.to(torch::kFloat32), /*dim=*/1)).sum(1).mean();
  }

  double value = loss.item<double>();
  if (!std::isfinite(value)) {
    throw Error(fmt::format("the training loss is {} at step {} (epoch {}); the last good "
                            "checkpoint is {}; lower --lr or check the data",
                            value, step_ + 1, epoch_ + 1,
                            saved_once_ || fs::exists(last_path_) ? last_path_ : "none"));
  }
  optimizer_->zero_grad();
  loss.backward();
  optimizer_->step();
  ++step_;
  return value;
}

// Runs the plain classifier (under autocast with --amp) and returns float32 logits.
torch::Tensor Trainer::forward_classifier(const torch::Tensor& images) {
  AutocastGuard autocast(options_.amp, device_);
  return model_.forward(images).to(torch::kFloat32);
}

ValidationResult Trainer::validate() {
  ValidationResult result;
  if (!val_loader_) {
    return result;
  }
  model_.eval();
  torch::NoGradGuard no_grad;
  std::int64_t hits1 = 0;
  std::int64_t hits5 = 0;
  double loss_sum = 0;
  Progress progress("validation", val_reader_->info().count);
  val_loader_->start_epoch(0);
  bool interrupt_noted = false;
  while (auto batch = val_loader_->next()) {
    // The pass finishes so that the epoch's record is whole; the loop stops
    // right after it.
    if (interrupt_signal() != 0 && !interrupt_noted) {
      log_info("interrupted: finishing the validation pass, then stopping (a second signal "
               "stops at once)");
      interrupt_noted = true;
    }
    torch::Tensor images = batch->images.to(device_);
    torch::Tensor targets = batch->labels.to(device_);
    torch::Tensor p0 = smoothed_targets(targets, model_.num_classes(), options_.smoothing);
    torch::Tensor scores;
    if (score_model_) {
      CpOptions cp;
      cp.steps = options_.val_steps;
      scores = sample_cp(*score_model_, images, cp).posterior;
      at::Generator generator = seeded_generator(
          device_, derive_seed(options_.seed, validation_stream,
                               static_cast<std::uint64_t>(batch->batch_index)));
      DiffusionLoss loss = diffusion_loss(*score_model_, images, p0, generator, options_.diffusion_eps);
      loss_sum += loss.per_example.sum().item<double>();
    } else {
      torch::Tensor log_probs = torch::log_softmax(forward_classifier(images), 1);
      scores = log_probs.exp();
      loss_sum += -(p0 * log_probs).sum().item<double>();
    }
    hits1 += count_top_k(scores, targets, 1);
    hits5 += count_top_k(scores, targets, 5);
    result.count += images.size(0);
    progress.advance(images.size(0));
  }
  progress.finish();
  model_.train();
  result.top1 = 100.0 * static_cast<double>(hits1) / static_cast<double>(result.count);
  result.top5 = 100.0 * static_cast<double>(hits5) / static_cast<double>(result.count);
  result.loss = loss_sum / static_cast<double>(result.count);
  return result;
}

void Trainer::save(const std::string& path) {
  Checkpoint checkpoint;
  checkpoint.model = model_;
  checkpoint.objective = options_.objective;
  checkpoint.classes = train_reader_->info().classes;
  checkpoint.mean = options_.mean;
  checkpoint.stddev = options_.stddev;
  checkpoint.epoch = epoch_;
  checkpoint.step = step_;
  checkpoint.config_json = config_json_;
  checkpoint.command_line = command_line();
  checkpoint.train_settings = train_settings(options_, model_.config());
  checkpoint.data_hash = data_hash_;
  for (auto& [name, tensor] : export_optimizer_state(*optimizer_, parameters_)) {
    checkpoint.optimizer[name] = tensor;
  }
  checkpoint.optimizer["trainer/best_top1"] = torch::tensor(best_top1_, torch::kFloat64);
  checkpoint.optimizer["trainer/epoch_loss_sum"] = torch::tensor(epoch_loss_sum_, torch::kFloat64);
  checkpoint.optimizer["trainer/epoch_loss_steps"] = torch::tensor(epoch_loss_steps_, torch::kInt64);
  checkpoint.rng["seed"] = torch::tensor(static_cast<std::int64_t>(options_.seed), torch::kInt64);
  checkpoint.rng["step"] = torch::tensor(step_, torch::kInt64);
  save_checkpoint(path, checkpoint, /*force=*/true);
  saved_once_ = true;
}

void Trainer::log_step(double loss, double mean_loss, double lr) {
  append_line((fs::path(options_.output) / "metrics.jsonl").string(),
              fmt::format("{{\"kind\":\"step\",\"epoch\":{},\"step\":{},\"loss\":{},"
                          "\"mean_loss\":{},\"lr\":{}}}",
                          epoch_ + 1, step_, json_number(loss), json_number(mean_loss), lr));
}

void Trainer::end_epoch(std::int64_t epoch, double mean_loss, double seconds, std::int64_t images) {
  epoch_ = epoch + 1;
  epoch_loss_sum_ = 0;  // the checkpoints below start the next epoch
  epoch_loss_steps_ = 0;
  bool validating = val_loader_ && (epoch_ % options_.val_every == 0 || epoch_ == options_.epochs);
  if (validating) {
    last_validation_ = validate();
    log_info("epoch {}: validation top-1 {:.2f}%, top-5 {:.2f}%, loss {:.5f} on {} images",
             epoch_, last_validation_.top1, last_validation_.top5, last_validation_.loss,
             last_validation_.count);
  }
  bool improved = validating && last_validation_.top1 > best_top1_;
  if (improved) {
    best_top1_ = last_validation_.top1;
  }
  save(last_path_);
  if (improved) {
    save(best_path_);
  }

  std::string summary = (fs::path(options_.output) / "summary.csv").string();
  if (!fs::exists(summary)) {
    append_line(summary,
                "epoch,step,train_loss,val_loss,val_top1,val_top5,lr,seconds,images_per_second");
  }
  double lr = schedule_->lr_at(std::max<std::int64_t>(0, step_ - 1));
  auto validation_field = [&](double value, const char* format) {
    return validating ? fmt::format(fmt::runtime(format), value) : std::string();
  };
  append_line(summary, fmt::format("{},{},{:.6f},{},{},{},{:.6g},{:.1f},{:.1f}", epoch_, step_,
                                    mean_loss, validation_field(last_validation_.loss, "{:.6f}"),
                                    validation_field(last_validation_.top1, "{:.2f}"),
                                    validation_field(last_validation_.top5, "{:.2f}"), lr,
                                    seconds, seconds > 0 ? images / seconds : 0.0));
  append_line((fs::path(options_.output) / "metrics.jsonl").string(),
              fmt::format("{{\"kind\":\"epoch\",\"epoch\":{},\"step\":{},\"train_loss\":{},"
                          "\"val_loss\":{},\"val_top1\":{},\"val_top5\":{},\"seconds\":{:.3f}}}",
                          epoch_, step_, json_number(mean_loss),
                          validating ? json_number(last_validation_.loss) : "null",
                          validating ? json_number(last_validation_.top1) : "null",
                          validating ? json_number(last_validation_.top5) : "null", seconds));
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Trainer::epoch_mean_loss() const {
  return epoch_loss_sum_ / static_cast<double>(std::max<std::int64_t>(1, epoch_loss_steps_));
}

// Ends a run stopped by `signal` after last.h5 was saved: logs how to go on,
// prints the summary line and returns the exit status.
int Trainer::stop_on_signal(int signal, const std::string& moment, Clock::time_point run_start) {
  log_info("interrupted {}; {} contains the run, continue it with --resume {}", moment, last_path_,
           last_path_);
  std::printf("%s\n", summary_json(true, seconds_since(run_start)).c_str());
  return interrupted_exit_status(signal);
}

int Trainer::loop() {
  set_interrupt_mode(InterruptMode::set_flag);
  auto run_start = Clock::now();
  auto last_save = run_start;
  const std::int64_t log_interval = std::clamp<std::int64_t>(steps_per_epoch_ / 10, 1, 50);

  for (std::int64_t epoch = epoch_; epoch < options_.epochs; ++epoch) {
    // A signal during validation stops here, after the epoch's checkpoint.
    if (int signal = interrupt_signal(); signal != 0) {
      if (!saved_once_) {
        save(last_path_);
      }
      return stop_on_signal(signal, fmt::format("after epoch {}", epoch_), run_start);
    }

    // Within the epoch of a mid-epoch checkpoint, the restored loss sum goes on.
    std::int64_t first_batch = step_ - epoch * steps_per_epoch_;
    if (first_batch <= 0) {
      epoch_loss_sum_ = 0;
      epoch_loss_steps_ = 0;
    }
    auto epoch_start = Clock::now();
    if (first_batch >= steps_per_epoch_) {
      // Resumed from a checkpoint written after the epoch's last step but
      // before the epoch ended: validate and record the epoch now.
      end_epoch(epoch, epoch_mean_loss(), 0.0, 0);
      continue;
    }
    model_.train();
    train_loader_->start_epoch(epoch, first_batch);
    Progress progress(fmt::format("epoch {}/{}", epoch + 1, options_.epochs),
                      (steps_per_epoch_ - first_batch) * options_.batch_size);
    std::int64_t steps = 0;  // in this process, for the throughput

    while (auto batch = train_loader_->next()) {
      double lr = schedule_->lr_at(step_);
      set_learning_rate(*optimizer_, lr);
      last_loss_ = train_step(*batch);
      epoch_loss_sum_ += last_loss_;
      ++epoch_loss_steps_;
      ++steps;
      double mean_loss = epoch_mean_loss();
      progress.set_suffix(fmt::format("step {:>7} loss {:10.5f} ({:10.5f}) lr {:.3e}", step_,
                                      last_loss_, mean_loss, lr));
      progress.advance(batch->images.size(0));
      if (step_ % log_interval == 0) {
        log_step(last_loss_, mean_loss, lr);
      }

      if (int signal = interrupt_signal(); signal != 0) {
        progress.finish();
        save(last_path_);
        return stop_on_signal(signal, fmt::format("at step {}", step_), run_start);
      }
      if (options_.stop_after_steps > 0 && step_ >= options_.stop_after_steps) {
        progress.finish();
        save(last_path_);
        log_info("stopped after step {} (--stop-after-steps); continue with --resume {}", step_,
                 last_path_);
        std::printf("%s\n", summary_json(true, seconds_since(run_start)).c_str());
        return 0;
      }
      auto now = Clock::now();
      if (options_.checkpoint_every > 0 &&
          std::chrono::duration<double>(now - last_save).count() >= 60.0 * options_.checkpoint_every) {
        save(last_path_);
        last_save = now;
      }
    }
    progress.finish();
    end_epoch(epoch, epoch_mean_loss(), seconds_since(epoch_start), steps * options_.batch_size);
    last_save = Clock::now();
  }

  std::printf("%s\n", summary_json(false, seconds_since(run_start)).c_str());
  return 0;
}

std::string Trainer::summary_json(bool stopped, double seconds) const {
  bool validated = last_validation_.count > 0;
  return fmt::format(
      "{{\"model\":{},\"objective\":{},\"epochs\":{},\"steps\":{},\"last_loss\":{},"
      "\"val_loss\":{},\"val_top1\":{},\"val_top5\":{},\"best_top1\":{},\"seconds\":{:.1f},"
      "\"last\":{},"
      "\"best\":{},\"stopped\":{}}}",
      json_quote(model_.config().name), json_quote(options_.objective), epoch_, step_,
      json_number(last_loss_), validated ? json_number(last_validation_.loss) : "null",
      validated ? json_number(last_validation_.top1) : "null",
      validated ? json_number(last_validation_.top5) : "null",
      best_top1_ >= 0 ? json_number(best_top1_) : "null", seconds, json_quote(last_path_),
      fs::exists(best_path_) ? json_quote(best_path_) : "null", stopped ? "true" : "false");
}

}  // namespace

int train(const TrainOptions& options) { return Trainer(options).run(); }

}  // namespace didicm
