#include "checkpoint.h"

#include "atomic_file.h"
#include "errors.h"
#include "logging.h"
#include "tensor_h5.h"
#include "version.h"

#include <fmt/format.h>

#include <set>

namespace didicm {
namespace {

std::string default_created_by() {
  const std::string& program = program_name();
  return fmt::format("{} {}", program.empty() ? "didicm" : program, version_string);
}

void check_before_save(const std::string& path, const Checkpoint& checkpoint) {
  const Model& model = checkpoint.model;
  if (checkpoint.objective != "didicm" && checkpoint.objective != "ce") {
    throw Error(fmt::format("{}: objective '{}' is invalid; valid objectives are didicm, ce", path,
                            checkpoint.objective));
  }
  if (checkpoint.objective == "didicm" && !model.is_score_model()) {
    throw Error(fmt::format("{}: objective didicm needs a score model, but {} is a plain "
                            "classifier; use objective ce",
                            path, model.config().name));
  }
  if (static_cast<std::int64_t>(checkpoint.classes.size()) != model.num_classes()) {
    throw Error(fmt::format("{}: {} class names for a model with {} classes", path,
                            checkpoint.classes.size(), model.num_classes()));
  }
  if (checkpoint.mean.size() != checkpoint.stddev.size()) {
    throw Error(fmt::format("{}: normalization has {} means but {} standard deviations", path,
                            checkpoint.mean.size(), checkpoint.stddev.size()));
  }
}

constexpr const char* train_settings_group = "train_options";

void write_attributes(const h5::File& file, const Checkpoint& checkpoint) {
  const ModelConfig& config = checkpoint.model.config();
  file.set_attribute("format", checkpoint_format);
  file.set_attribute("format_version", checkpoint_format_version);
  file.set_attribute("created_by", checkpoint.created_by.empty() ? default_created_by()
                                                                 : checkpoint.created_by);
  file.set_attribute("command_line", checkpoint.command_line);
  file.set_attribute("arch", config.name);
  file.set_attribute("stem", config.stem);
  file.set_attribute("width", config.width);
  file.set_attribute("embed_dim", config.embed_dim);
  file.set_attribute("num_classes", config.num_classes);
  file.set_attribute("input_size", config.input_size);
  file.set_attribute("objective", checkpoint.objective);
  file.set_attribute("epoch", checkpoint.epoch);
  file.set_attribute("step", checkpoint.step);
  file.set_attribute("config", checkpoint.config_json);
  if (!checkpoint.data_hash.empty()) {
    file.set_attribute("data_hash", checkpoint.data_hash);
  }
  if (!checkpoint.train_settings.empty()) {
    h5::Group settings = file.create_group(train_settings_group);
    for (const auto& [name, value] : checkpoint.train_settings) {
      settings.set_attribute(name, value);
    }
  }
}

void write_named_tensors(const h5::File& file, const std::string& group_name,
                         const std::map<std::string, torch::Tensor>& tensors) {
  h5::Group group = file.create_group(group_name);
  for (const auto& [name, tensor] : tensors) {
    write_tensor(group, name, tensor);
  }
}

// Reads every dataset below `group`; nested groups give names joined by '/'.
void read_named_tensors(const h5::Group& group, const std::string& prefix,
                        std::map<std::string, torch::Tensor>& tensors) {
  for (const auto& child : group.children()) {
    if (group.is_group(child)) {
      read_named_tensors(group.open_group(child), prefix + child + "/", tensors);
    } else {
      tensors[prefix + child] = read_tensor(group, child);
    }
  }
}

// The kind of file load_checkpoint() reads, for messages.
constexpr const char* checkpoint_kind = "a checkpoint written by didicm-train";

std::string missing_attribute(const h5::File& file, const std::string& name) {
  return fmt::format("{}: attribute '{}' is missing; the checkpoint is incomplete, so use one "
                     "written by this version of didicm-train",
                     file.file_name(), name);
}

std::string required_string(const h5::File& file, const std::string& name) {
  if (!file.has_attribute(name)) {
    throw Error(missing_attribute(file, name));
  }
  return file.string_attribute(name);
}

std::int64_t required_int(const h5::File& file, const std::string& name) {
  if (!file.has_attribute(name)) {
    throw Error(missing_attribute(file, name));
  }
  return file.int_attribute(name);
}

void check_format(const h5::File& file) {
  const std::string& path = file.file_name();
  if (!file.has_attribute("format")) {
    throw Error(fmt::format("{}: not a didicm checkpoint (no 'format' attribute); give {}", path,
                            checkpoint_kind));
  }
  std::string format = file.string_attribute("format");
  if (format != checkpoint_format) {
    throw Error(fmt::format("{}: is a {} file, expected a {}; give {}", path, format,
                            checkpoint_format, checkpoint_kind));
  }
  std::int64_t version = required_int(file, "format_version");
  if (version < 1 || version > checkpoint_format_version) {
    throw Error(fmt::format("{}: checkpoint format version {} is not supported (this didicm "
                            "reads version {}); use a newer didicm",
                            path, version, checkpoint_format_version));
  }
}

std::optional<std::map<std::string, std::string>> read_settings(const h5::File& file) {
  if (!file.is_group(train_settings_group)) {
    return std::nullopt;
  }
  h5::Group group = file.open_group(train_settings_group);
  std::map<std::string, std::string> settings;
  for (const std::string& name : group.attribute_names()) {
    settings[name] = group.string_attribute(name);
  }
  return settings;
}

Model build_stored_model(const h5::File& file) {
  ModelConfig config;
  config.name = required_string(file, "arch");
  config.num_classes = required_int(file, "num_classes");
  config.stem = required_string(file, "stem");
  if (!file.has_attribute("width")) {
    throw Error(missing_attribute(file, "width"));
  }
  config.width = file.double_attribute("width");
  config.embed_dim = required_int(file, "embed_dim");
  config.input_size = required_int(file, "input_size");
  try {
    return build_model(config);
  } catch (const UsageError& e) {
    throw Error(fmt::format("{}: invalid model configuration: {}", file.file_name(), e.what()));
  }
}

}  // namespace

void write_model_state(const h5::Group& group, const Model& model) {
  for (const auto& [name, tensor] : state_dict(*model.module())) {
    write_tensor(group, name, tensor);
  }
}

void read_model_state(const h5::Group& group, const Model& model) {
  auto entries = state_dict(*model.module());
  std::set<std::string> expected;
  for (const auto& [name, tensor] : entries) {
    expected.insert(name);
    if (!group.exists(name)) {
      throw Error(fmt::format("{}: missing, but {} needs a tensor of shape {} there; was the "
                              "checkpoint written by another didicm version?",
                              group.describe(name), model.config().name,
                              shape_string(tensor.sizes())));
    }
    read_tensor_into(group, name, tensor);
  }
  for (const auto& name : group.children()) {
    if (expected.count(name) == 0) {
      throw Error(fmt::format("{}: unexpected tensor; {} with {} classes has no entry of that "
                              "name; was the checkpoint written by another didicm version?",
                              group.describe(name), model.config().name, model.num_classes()));
    }
  }
}

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint, bool force) {
  check_before_save(path, checkpoint);
  AtomicFile output(path, force);
  {
    h5::File file = h5::File::create(output.temp_path());
    write_attributes(file, checkpoint);
    file.write_strings("classes", checkpoint.classes);
    h5::Group normalization = file.create_group("normalization");
    normalization.write("mean", checkpoint.mean);
    normalization.write("std", checkpoint.stddev);
    write_model_state(file.create_group("model"), checkpoint.model);
    write_named_tensors(file, "optimizer", checkpoint.optimizer);
    write_named_tensors(file, "rng", checkpoint.rng);
  }
  output.commit();
}

std::optional<std::map<std::string, std::string>> read_checkpoint_settings(const std::string& path) {
  h5::File file = h5::File::open(path, /*writable=*/false, checkpoint_kind);
  check_format(file);
  return read_settings(file);
}

Checkpoint load_checkpoint(const std::string& path, const torch::Device& device,
                           bool training_state) {
  h5::File file = h5::File::open(path, /*writable=*/false, checkpoint_kind);
  check_format(file);

  Checkpoint checkpoint;
  checkpoint.model = build_stored_model(file);
  checkpoint.objective = required_string(file, "objective");
  checkpoint.epoch = required_int(file, "epoch");
  checkpoint.step = required_int(file, "step");
  checkpoint.config_json = required_string(file, "config");
  checkpoint.command_line = required_string(file, "command_line");
  checkpoint.created_by = required_string(file, "created_by");
  if (file.has_attribute("data_hash")) {
    checkpoint.data_hash = file.string_attribute("data_hash");
  }
  if (auto settings = read_settings(file)) {
    checkpoint.train_settings = *settings;
  }

  checkpoint.classes = file.read_strings("classes");
  if (static_cast<std::int64_t>(checkpoint.classes.size()) != checkpoint.model.num_classes()) {
    throw Error(fmt::format("{}: /classes has {} names but num_classes is {}", path,
                            checkpoint.classes.size(), checkpoint.model.num_classes()));
  }
  checkpoint.mean = file.read<double>("normalization/mean");
  checkpoint.stddev = file.read<double>("normalization/std");

  read_model_state(file.open_group("model"), checkpoint.model);
  if (training_state) {
    for (const char* group : {"optimizer", "rng"}) {
      auto& tensors = std::string(group) == "optimizer" ? checkpoint.optimizer : checkpoint.rng;
      if (file.exists(group)) {
        read_named_tensors(file.open_group(group), "", tensors);
      }
    }
  }

  checkpoint.model.to(device);
  checkpoint.model.eval();
  return checkpoint;
}

}  // namespace didicm
