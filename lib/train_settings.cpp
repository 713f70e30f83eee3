#include "train_settings.h"

#include "atomic_file.h"
#include "checkpoint.h"
#include "errors.h"
#include "logging.h"

#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace didicm {
namespace {

namespace fs = std::filesystem;

std::string to_text(const std::string& value) { return value; }
std::string to_text(bool value) { return value ? "true" : "false"; }
std::string to_text(const std::vector<double>& value) { return fmt::format("{}", fmt::join(value, " ")); }
template <typename T>
std::string to_text(const T& value) {
  return fmt::format("{}", value);  // fmt writes doubles in shortest round-trip form
}

// Each parser throws std::invalid_argument or std::out_of_range for bad text.
void from_text(const std::string& text, std::string& value) { value = text; }
void from_text(const std::string& text, double& value) { value = std::stod(text); }
void from_text(const std::string& text, std::int64_t& value) { value = std::stoll(text); }
void from_text(const std::string& text, std::uint64_t& value) { value = std::stoull(text); }
void from_text(const std::string& text, int& value) { value = std::stoi(text); }
void from_text(const std::string& text, bool& value) {
  if (text != "true" && text != "false") {
    throw std::invalid_argument("expected true or false");
  }
  value = text == "true";
}
void from_text(const std::string& text, std::vector<double>& value) {
  std::istringstream stream(text);
  std::vector<double> parsed;
  std::string word;
  while (stream >> word) {
    parsed.push_back(std::stod(word));
  }
  value = parsed;
}

struct Setting {
  const char* name;
  std::function<std::string(const TrainOptions&)> get;
  std::function<void(TrainOptions&, const std::string&)> set;
};

// `access` is a generic lambda returning a reference to the option's field.
template <typename Access>
Setting make_setting(const char* name, Access access) {
  return {name, [access](const TrainOptions& options) { return to_text(access(options)); },
          [access](TrainOptions& options, const std::string& text) { from_text(text, access(options)); }};
}

#define DIDICM_SETTING(name, field) \
  make_setting(name, [](auto& options) -> auto& { return options.field; })

// Every option a checkpoint stores, by the long name of the command line.
const std::vector<Setting>& settings_table() {
  static const std::vector<Setting> table{
      DIDICM_SETTING("model", model.name),
      DIDICM_SETTING("input-size", model.input_size),
      DIDICM_SETTING("stem", model.stem),
      DIDICM_SETTING("width", model.width),
      DIDICM_SETTING("embed-dim", model.embed_dim),
      DIDICM_SETTING("objective", objective),
      DIDICM_SETTING("recipe", recipe),
      DIDICM_SETTING("device", device),
      DIDICM_SETTING("amp", amp),
      DIDICM_SETTING("data", data),
      DIDICM_SETTING("val", val),
      DIDICM_SETTING("workers", workers),
      DIDICM_SETTING("mean", mean),
      DIDICM_SETTING("std", stddev),
      DIDICM_SETTING("epochs", epochs),
      DIDICM_SETTING("batch-size", batch_size),
      DIDICM_SETTING("lr", lr),
      DIDICM_SETTING("lr-ratio-scaling", lr_ratio_scaling),
      DIDICM_SETTING("warmup-epochs", warmup_epochs),
      DIDICM_SETTING("warmup-lr", warmup_lr),
      DIDICM_SETTING("min-lr", min_lr),
      DIDICM_SETTING("opt", opt),
      DIDICM_SETTING("momentum", momentum),
      DIDICM_SETTING("weight-decay", weight_decay),
      DIDICM_SETTING("sched", sched),
      DIDICM_SETTING("decay-epochs", decay_epochs),
      DIDICM_SETTING("decay-rate", decay_rate),
      DIDICM_SETTING("smoothing", smoothing),
      DIDICM_SETTING("diffusion-eps", diffusion_eps),
      DIDICM_SETTING("color-jitter", color_jitter),
      DIDICM_SETTING("aa", aa),
      DIDICM_SETTING("mixup", mixup),
      DIDICM_SETTING("cutmix", cutmix),
      DIDICM_SETTING("mixup-switch-prob", mixup_switch_prob),
      DIDICM_SETTING("aug-repeats", aug_repeats),
      DIDICM_SETTING("seed", seed),
      DIDICM_SETTING("val-every", val_every),
      DIDICM_SETTING("val-steps", val_steps),
      DIDICM_SETTING("checkpoint-every", checkpoint_every),
  };
  return table;
}

#undef DIDICM_SETTING

// Throws Error for a restored data or val path that no longer exists. The
// message names the checkpoint the path came from and the option that takes
// the new path.
void check_restored_path(const std::string& path, const TrainOptions& requested,
                         const std::string& name, const std::string& checkpoint) {
  std::error_code error;
  if (path.empty() || requested.given.count(name) > 0 || fs::exists(path, error)) {
    return;
  }
  throw Error(fmt::format("{}: file not found; {} stores it as the run's --{} file, so if it "
                          "moved, give --{} with its new path",
                          path, checkpoint, name, name));
}

}  // namespace

TrainSettings train_settings(const TrainOptions& options, const ModelConfig& model) {
  TrainOptions stored = options;
  stored.model = model;
  stored.data = absolute_path(options.data);
  stored.val = absolute_path(options.val);
  TrainSettings settings;
  for (const Setting& setting : settings_table()) {
    settings[setting.name] = setting.get(stored);
  }
  return settings;
}

bool may_change_on_resume(const std::string& name) {
  for (const char* changeable : {"data", "val", "val-every", "val-steps", "workers", "device",
                                 "checkpoint-every", "epochs"}) {
    if (name == changeable) {
      return true;
    }
  }
  return false;
}

TrainOptions apply_train_settings(const TrainOptions& requested, const TrainSettings& stored,
                                  const std::string& checkpoint) {
  TrainOptions options = requested;
  for (const Setting& setting : settings_table()) {
    auto found = stored.find(setting.name);
    if (found == stored.end()) {
      continue;  // a setting newer than this checkpoint: the requested value is kept
    }
    const std::string& stored_text = found->second;
    if (requested.given.count(setting.name) == 0) {
      try {
        setting.set(options, stored_text);
      } catch (const std::logic_error&) {
        throw Error(fmt::format("{}: stored setting --{} '{}' is invalid; the checkpoint is "
                                "damaged, so resume from another one",
                                checkpoint, setting.name, stored_text));
      }
      // Marked as given, so that a recipe does not replace the stored value.
      options.given.insert(setting.name);
      continue;
    }

    std::string given_text = setting.get(requested);
    if (given_text == stored_text || may_change_on_resume(setting.name)) {
      if (std::string(setting.name) == "epochs" && given_text != stored_text) {
        log_info("--epochs {} (the run started with {}): the learning-rate schedule now spans {} "
                 "epochs, so the run no longer matches an uninterrupted one",
                 given_text, stored_text, given_text);
      }
      continue;
    }
    auto quoted_if_empty = [](const std::string& text) {
      return text.empty() ? std::string("''") : text;
    };
    throw UsageError(fmt::format("--{} {}: {} stores --{} {}; a resumed run keeps its settings, "
                                 "so drop --{} or start a new run",
                                 setting.name, quoted_if_empty(given_text), checkpoint,
                                 setting.name, quoted_if_empty(stored_text), setting.name));
  }
  return options;
}

TrainOptions restore_resumed_options(const TrainOptions& requested) {
  TrainOptions options = requested;
  if (options.output.empty()) {
    fs::path folder = fs::path(options.resume).parent_path();
    options.output = folder.empty() ? "." : folder.string();
  }
  std::optional<TrainSettings> stored = read_checkpoint_settings(options.resume);
  if (!stored) {
    log_warning("{}: the checkpoint stores no training settings (it predates that feature), so "
                "this command's options cannot be checked against the interrupted run; give all "
                "of them as the run started",
                options.resume);
    return options;
  }
  TrainOptions restored = apply_train_settings(options, *stored, options.resume);
  check_restored_path(restored.data, requested, "data", options.resume);
  check_restored_path(restored.val, requested, "val", options.resume);
  return restored;
}

}  // namespace didicm
