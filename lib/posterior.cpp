#include "posterior.h"

#include "atomic_file.h"
#include "errors.h"
#include "h5.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <unistd.h>

namespace didicm {
namespace {

const std::set<std::string> named_attributes{
    "format",  "format_version", "created_by", "command_line", "sampler",
    "steps",   "select",         "samples",    "nfe",          "seed",
    "checkpoint", "checkpoint_hash", "dataset", "dataset_hash"};

std::int64_t trajectory_width(const Posterior& posterior) {
  return posterior.trajectory_topk > 0 ? posterior.trajectory_topk : posterior.num_classes;
}

// Shape checks shared by writing and reading.
void check_shapes(const Posterior& posterior, const std::string& name) {
  const auto rows = static_cast<std::uint64_t>(posterior.rows);
  const auto classes = static_cast<std::uint64_t>(posterior.num_classes);
  if (posterior.rows <= 0) {
    throw Error(fmt::format("{}: the posterior has no rows", name));
  }
  if (posterior.num_classes <= 0) {
    throw Error(fmt::format("{}: the posterior has no classes", name));
  }
  if (posterior.probs.size() != rows * classes) {
    throw Error(fmt::format("{}: /probs contains {} values, expected {} rows x {} classes", name,
                            posterior.probs.size(), rows, classes));
  }
  if (posterior.targets.size() != rows) {
    throw Error(fmt::format("{}: /targets contains {} values, expected one per row ({})", name,
                            posterior.targets.size(), rows));
  }
  if (posterior.classes.size() != classes) {
    throw Error(fmt::format("{}: /classes contains {} names, but /probs has {} columns", name,
                            posterior.classes.size(), classes));
  }
  if (!posterior.indices.empty() && posterior.indices.size() != rows) {
    throw Error(fmt::format("{}: /indices contains {} values, expected one per row ({})", name,
                            posterior.indices.size(), rows));
  }
  if (posterior.trajectory.empty()) {
    return;
  }
  const auto expected = rows * static_cast<std::uint64_t>(posterior.trajectory_points) *
                        static_cast<std::uint64_t>(trajectory_width(posterior));
  if (posterior.trajectory_points <= 0 || posterior.trajectory.size() != expected) {
    throw Error(fmt::format("{}: the trajectory contains {} values, expected {} rows x {} points x {}",
                            name, posterior.trajectory.size(), rows, posterior.trajectory_points,
                            trajectory_width(posterior)));
  }
  if (posterior.trajectory_topk > 0 && posterior.trajectory_indices.size() != expected) {
    throw Error(fmt::format("{}: /trajectory_topk/indices contains {} values, expected {}", name,
                            posterior.trajectory_indices.size(), expected));
  }
}

void write_contents(const h5::File& file, const Posterior& posterior) {
  const auto rows = static_cast<std::uint64_t>(posterior.rows);
  const auto classes = static_cast<std::uint64_t>(posterior.num_classes);

  file.set_attribute("format", posterior_format);
  file.set_attribute("format_version", posterior_format_version);
  file.set_attribute("created_by", posterior.created_by);
  file.set_attribute("command_line", posterior.command_line);
  file.set_attribute("sampler", posterior.sampler);
  file.set_attribute("steps", posterior.steps);
  file.set_attribute("select", posterior.select);
  file.set_attribute("samples", posterior.samples);
  file.set_attribute("nfe", posterior.nfe);
  file.set_attribute("seed", posterior.seed);
  file.set_attribute("checkpoint", posterior.checkpoint);
  file.set_attribute("checkpoint_hash", posterior.checkpoint_hash);
  file.set_attribute("dataset", posterior.dataset);
  file.set_attribute("dataset_hash", posterior.dataset_hash);
  for (const auto& [key, value] : posterior.attributes) {
    if (named_attributes.count(key) != 0) {
      throw Error(fmt::format("{}: free attribute '{}' clashes with a named posterior field",
                              file.file_name(), key));
    }
    file.set_attribute(key, value);
  }

  file.write("probs", posterior.probs.data(), {rows, classes});
  file.write("targets", posterior.targets);
  file.write_strings("classes", posterior.classes);
  if (!posterior.indices.empty()) {
    file.write("indices", posterior.indices);
  }

  if (posterior.trajectory.empty()) {
    return;
  }
  // The trajectory is (S+1) times larger than /probs: compress it, one row per chunk.
  const auto points = static_cast<std::uint64_t>(posterior.trajectory_points);
  const auto width = static_cast<std::uint64_t>(trajectory_width(posterior));
  h5::WriteOptions options{{1, points, width}, 1};
  if (posterior.trajectory_topk > 0) {
    file.write("trajectory_topk/probs", posterior.trajectory.data(), {rows, points, width},
               options);
    file.write("trajectory_topk/indices", posterior.trajectory_indices.data(),
               {rows, points, width}, options);
  } else {
    file.write("trajectory", posterior.trajectory.data(), {rows, points, width}, options);
  }
}

std::vector<char> read_stdin() {
  std::vector<char> bytes;
  std::vector<char> buffer(1 << 20);
  while (true) {
    std::size_t count = std::fread(buffer.data(), 1, buffer.size(), stdin);
    bytes.insert(bytes.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(count));
    if (count < buffer.size()) {
      break;
    }
  }
  if (std::ferror(stdin)) {
    throw Error(fmt::format("<stdin>: reading failed: {}", std::strerror(errno)));
  }
  if (bytes.empty()) {
    throw Error("<stdin>: no input; pipe a posterior file into the tool or give a file name");
  }
  return bytes;
}

std::string attribute_as_string(const h5::Group& file, const std::string& key) {
  switch (file.attribute_type_class(key)) {
    case H5T_STRING:
      return file.string_attribute(key);
    case H5T_INTEGER:
      return fmt::format("{}", file.int_attribute(key));
    case H5T_FLOAT:
      return fmt::format("{}", file.double_attribute(key));
    default:
      return "";
  }
}

// The kind of file read_posterior() reads, for messages.
constexpr const char* posterior_kind = "a posterior file written by didicm-sample or didicm-ablate";

std::string optional_string(const h5::Group& file, const std::string& key) {
  return file.has_attribute(key) ? attribute_as_string(file, key) : "";
}

std::int64_t optional_int(const h5::Group& file, const std::string& key) {
  return file.has_attribute(key) ? file.int_attribute(key) : 0;
}

void read_format(const h5::File& file, const std::string& name) {
  if (!file.has_attribute("format") || file.attribute_type_class("format") != H5T_STRING) {
    throw Error(fmt::format("{}: attribute 'format' is missing; expected a posterior file "
                            "(format \"{}\") as didicm-sample writes",
                            name, posterior_format));
  }
  std::string format = file.string_attribute("format");
  if (format != posterior_format) {
    throw Error(fmt::format("{}: is a \"{}\" file, expected a posterior file (\"{}\") as "
                            "didicm-sample and didicm-ablate write",
                            name, format, posterior_format));
  }
  std::int64_t version = optional_int(file, "format_version");
  if (version > posterior_format_version) {
    throw Error(fmt::format("{}: format_version {} is newer than this tool reads ({}); update "
                            "didicm",
                            name, version, posterior_format_version));
  }
}

void read_attributes(const h5::File& file, Posterior& posterior) {
  posterior.created_by = optional_string(file, "created_by");
  posterior.command_line = optional_string(file, "command_line");
  posterior.sampler = optional_string(file, "sampler");
  posterior.steps = optional_int(file, "steps");
  posterior.select = optional_string(file, "select");
  posterior.samples = optional_int(file, "samples");
  posterior.nfe = optional_int(file, "nfe");
  posterior.seed = optional_int(file, "seed");
  posterior.checkpoint = optional_string(file, "checkpoint");
  posterior.checkpoint_hash = optional_string(file, "checkpoint_hash");
  posterior.dataset = optional_string(file, "dataset");
  posterior.dataset_hash = optional_string(file, "dataset_hash");

  // Free metadata are scalar strings and numbers. Arrays and other types are skipped.
  for (const auto& key : file.attribute_names()) {
    if (named_attributes.count(key) != 0 || file.attribute_size(key) != 1) {
      continue;
    }
    H5T_class_t type = file.attribute_type_class(key);
    if (type == H5T_STRING || type == H5T_INTEGER || type == H5T_FLOAT) {
      posterior.attributes[key] = attribute_as_string(file, key);
    }
  }
}

h5::Dims required_dims(const h5::File& file, const std::string& dataset, std::size_t rank,
                       const std::string& name) {
  if (!file.exists(dataset)) {
    throw Error(fmt::format("{}: dataset /{} is missing; is it {}?", name, dataset,
                            posterior_kind));
  }
  h5::Dims dims = file.dims(dataset);
  if (dims.size() != rank) {
    throw Error(fmt::format("{}: /{} has {} dimensions, expected {}", name, dataset, dims.size(),
                            rank));
  }
  return dims;
}

void read_trajectory(const h5::File& file, Posterior& posterior, const std::string& name) {
  std::string values = file.exists("trajectory") ? "trajectory" : "trajectory_topk/probs";
  if (!file.exists(values)) {
    return;
  }
  h5::Dims dims = required_dims(file, values, 3, name);
  posterior.trajectory_points = static_cast<std::int64_t>(dims[1]);
  posterior.trajectory = file.read<float>(values);
  if (values == "trajectory_topk/probs") {
    posterior.trajectory_topk = static_cast<std::int64_t>(dims[2]);
    required_dims(file, "trajectory_topk/indices", 3, name);
    posterior.trajectory_indices = file.read<std::int32_t>("trajectory_topk/indices");
  } else if (dims[2] != static_cast<std::uint64_t>(posterior.num_classes)) {
    throw Error(fmt::format("{}: /trajectory has {} classes, /probs has {}", name, dims[2],
                            posterior.num_classes));
  }
  if (dims[0] != static_cast<std::uint64_t>(posterior.rows)) {
    throw Error(fmt::format("{}: /{} has {} rows, /probs has {}", name, values, dims[0],
                            posterior.rows));
  }
}

Posterior read_from(const h5::File& file, const std::string& name, bool with_trajectory) {
  read_format(file, name);
  Posterior posterior;
  posterior.source = name;
  read_attributes(file, posterior);

  h5::Dims probs = required_dims(file, "probs", 2, name);
  required_dims(file, "targets", 1, name);
  required_dims(file, "classes", 1, name);
  posterior.rows = static_cast<std::int64_t>(probs[0]);
  posterior.num_classes = static_cast<std::int64_t>(probs[1]);
  posterior.probs = file.read<float>("probs");
  posterior.targets = file.read<std::int32_t>("targets");
  posterior.classes = file.read_strings("classes");
  if (file.exists("indices")) {
    required_dims(file, "indices", 1, name);
    posterior.indices = file.read<std::int64_t>("indices");
  }
  if (with_trajectory) {
    read_trajectory(file, posterior, name);
  }
  validate_posterior(posterior, name);
  return posterior;
}

}  // namespace

void validate_posterior(const Posterior& posterior, const std::string& name) {
  check_shapes(posterior, name);
  const std::int64_t classes = posterior.num_classes;
  for (std::int64_t row = 0; row < posterior.rows; ++row) {
    const float* probs = posterior.probs.data() + row * classes;
    double sum = 0.0;
    for (std::int64_t c = 0; c < classes; ++c) {
      if (!std::isfinite(probs[c]) || probs[c] < 0.0F) {
        throw Error(fmt::format("{}: /probs row {}, class {}: {} is not a probability; the "
                                "sampler output is corrupt",
                                name, row, c, probs[c]));
      }
      sum += probs[c];
    }
    if (std::abs(sum - 1.0) > probability_sum_tolerance) {
      throw Error(fmt::format("{}: /probs row {} sums to {:.6g}, not 1 (tolerance {}); store "
                              "normalized probabilities",
                              name, row, sum, probability_sum_tolerance));
    }
    std::int32_t target = posterior.targets[static_cast<std::size_t>(row)];
    if (target < 0 || target >= classes) {
      throw Error(fmt::format("{}: /targets row {}: class {} is out of range [0, {})", name, row,
                              target, classes));
    }
    if (!posterior.indices.empty() && posterior.indices[static_cast<std::size_t>(row)] < 0) {
      throw Error(fmt::format("{}: /indices row {}: dataset row {} is negative", name, row,
                              posterior.indices[static_cast<std::size_t>(row)]));
    }
  }
}

std::vector<char> posterior_image(const Posterior& posterior) {
  check_shapes(posterior, "<stdout>");
  auto file = h5::File::create_in_memory("<stdout>");
  write_contents(file, posterior);
  return file.image();
}

void write_posterior(const Posterior& posterior, const std::string& path, bool force) {
  check_shapes(posterior, path);
  AtomicFile output(path, force);
  {
    auto file = h5::File::create(output.temp_path());
    write_contents(file, posterior);
  }
  output.commit();
}

void check_stdout_for_posterior() {
  if (isatty(STDOUT_FILENO) != 0) {
    throw UsageError("<stdout>: is a terminal; redirect the posterior file to a file or pipe it "
                     "into another tool");
  }
}

void write_posterior_to_stdout(const Posterior& posterior) {
  check_stdout_for_posterior();
  std::vector<char> bytes = posterior_image(posterior);
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() ||
      std::fflush(stdout) != 0) {
    throw Error(fmt::format("<stdout>: writing the posterior file failed: {}",
                            std::strerror(errno)));
  }
}

Posterior read_posterior(const std::string& path, bool with_trajectory) {
  if (path == "-") {
    std::vector<char> bytes = read_stdin();
    auto file = h5::File::open_image(bytes, "<stdin>", posterior_kind);
    return read_from(file, "<stdin>", with_trajectory);
  }
  auto file = h5::File::open(path, /*writable=*/false, posterior_kind);
  return read_from(file, path, with_trajectory);
}

std::string posterior_attribute(const Posterior& posterior, const std::string& key) {
  // A setting that the file's sampler does not use reads as unused_setting,
  // so that CP, CL and softmax files share one pivot.
  const bool cp = posterior.sampler == "cp";
  const bool cl = posterior.sampler == "cl";
  const std::map<std::string, std::string> named{
      {"file", posterior.source},
      {"sampler", posterior.sampler},
      {"steps", cp || cl ? std::to_string(posterior.steps) : unused_setting},
      {"select", cp ? posterior.select : unused_setting},
      {"samples", cl ? std::to_string(posterior.samples) : unused_setting},
      {"nfe", std::to_string(posterior.nfe)},
      {"seed", std::to_string(posterior.seed)},
      {"checkpoint", posterior.checkpoint},
      {"checkpoint_hash", posterior.checkpoint_hash},
      {"dataset", posterior.dataset},
      {"dataset_hash", posterior.dataset_hash}};
  auto found = named.find(key);
  if (found != named.end() && !found->second.empty()) {
    return found->second;
  }
  auto extra = posterior.attributes.find(key);
  if (extra != posterior.attributes.end()) {
    return extra->second;
  }
  std::vector<std::string> available;
  for (const auto& [name, value] : named) {
    if (!value.empty()) {
      available.push_back(name);
    }
  }
  for (const auto& [name, value] : posterior.attributes) {
    available.push_back(name);
  }
  std::sort(available.begin(), available.end());
  throw Error(fmt::format("{}: has no attribute '{}'; available: {}", posterior.source, key,
                          fmt::join(available, ", ")));
}

void check_same_classes(const std::vector<std::string>& first, const std::string& first_name,
                        const std::vector<std::string>& second, const std::string& second_name) {
  std::size_t common = std::min(first.size(), second.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (first[i] != second[i]) {
      throw Error(fmt::format("{} and {}: class lists differ at index {} (\"{}\" vs \"{}\")",
                              first_name, second_name, i, first[i], second[i]));
    }
  }
  if (first.size() != second.size()) {
    throw Error(fmt::format("{} and {}: class lists differ at index {} ({} vs {} classes)",
                            first_name, second_name, common, first.size(), second.size()));
  }
}

}  // namespace didicm
