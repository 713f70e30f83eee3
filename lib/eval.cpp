#include "eval.h"

#include "atomic_file.h"
#include "dataset.h"
#include "errors.h"
#include "h5.h"
#include "logging.h"
#include "metrics.h"
#include "posterior.h"
#include "report.h"
#include "svg.h"
#include "table.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>

namespace didicm {
namespace {

std::string base_name(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  return name.empty() ? path : name;
}

// Endings of messages about --examples inputs that disagree with each other,
// or with the dataset file a posterior names.
constexpr const char* same_images_hint = "--examples needs posteriors of the same images";
constexpr const char* replaced_dataset_hint = "was the dataset file replaced after sampling?";

// The dataset row of posterior row `row`.
std::int64_t dataset_row(const Posterior& posterior, std::int64_t row) {
  return posterior.indices.empty() ? row : posterior.indices[static_cast<std::size_t>(row)];
}

// Inputs combined row by row must agree on classes, rows, targets and images.
void check_rows_match(const std::vector<EvaluatedPosterior>& inputs) {
  const Posterior& first = inputs[0].posterior;
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    const Posterior& other = inputs[i].posterior;
    try {
      check_same_classes(first.classes, first.source, other.classes, other.source);
    } catch (const Error& error) {
      throw Error(fmt::format("{}; {}", error.what(), same_images_hint));
    }
    if (other.rows != first.rows) {
      throw Error(fmt::format("{} and {}: row counts differ ({} vs {}); {}", first.source,
                              other.source, first.rows, other.rows, same_images_hint));
    }
    if (!first.dataset_hash.empty() && !other.dataset_hash.empty() &&
        first.dataset_hash != other.dataset_hash) {
      throw Error(fmt::format("{} and {}: sampled from different datasets (hash {} vs {}); {}",
                              first.source, other.source, first.dataset_hash, other.dataset_hash,
                              same_images_hint));
    }
    for (std::int64_t row = 0; row < first.rows; ++row) {
      const auto r = static_cast<std::size_t>(row);
      if (dataset_row(first, row) != dataset_row(other, row) ||
          first.targets[r] != other.targets[r]) {
        throw Error(fmt::format(
            "{} and {}: row {} differs (dataset row {} vs {}, target {} vs {}); {}", first.source,
            other.source, row, dataset_row(first, row), dataset_row(other, row), first.targets[r],
            other.targets[r], same_images_hint));
      }
    }
  }
}

// The top five classes of one row, most probable first; ties keep the lower index first.
std::vector<std::pair<std::int32_t, float>> top_five(const float* probs, std::int64_t classes) {
  std::vector<std::int32_t> order(static_cast<std::size_t>(classes));
  std::iota(order.begin(), order.end(), 0);
  const auto keep = static_cast<std::ptrdiff_t>(std::min<std::int64_t>(5, classes));
  std::partial_sort(order.begin(), order.begin() + keep, order.end(),
                    [&](std::int32_t a, std::int32_t b) {
                      return probs[a] > probs[b] || (probs[a] == probs[b] && a < b);
                    });
  std::vector<std::pair<std::int32_t, float>> top;
  for (std::ptrdiff_t k = 0; k < keep; ++k) {
    top.emplace_back(order[static_cast<std::size_t>(k)], probs[order[static_cast<std::size_t>(k)]]);
  }
  return top;
}

// The images of the dataset file a posterior names. A dataset that cannot be
// found or read leaves the examples without images (with a warning); a
// dataset that contradicts the posterior is an Error.
class DatasetImages {
 public:
  explicit DatasetImages(const Posterior& posterior) : posterior_name_(posterior.source) {
    std::string path = locate(posterior);
    if (path.empty()) {
      return;
    }
    try {
      file_ = std::make_unique<h5::File>(
          h5::File::open(path, /*writable=*/false, "a dataset written by didicm-prep"));
    } catch (const Error& error) {
      note_ = error.what();
      log_warning("{}; the examples are drawn without images", note_);
      return;
    }
    if (file_->exists("classes")) {
      try {
        check_same_classes(posterior.classes, posterior.source, file_->read_strings("classes"),
                           path);
      } catch (const Error& error) {
        throw Error(fmt::format("{}; {}", error.what(), replaced_dataset_hint));
      }
    }
    if (file_->exists("images")) {
      images_ = std::make_unique<h5::Dataset>(file_->open_dataset("images"));
      shape_ = images_->dims();
      if (shape_.size() != 4 || (shape_[3] != 3 && shape_[3] != 1)) {
        throw Error(fmt::format("{}: /images must be N x H x W x 3 (or x 1); is it a dataset "
                                "file?",
                                path));
      }
    } else if (file_->exists("jpeg")) {
      note_ = fmt::format("{}: images are stored as JPEG, which the examples figure does not draw",
                          path);
      log_warning("{}", note_);
    } else {
      throw Error(fmt::format("{}: neither /images nor /jpeg found; is it a dataset file?", path));
    }
    if (file_->exists("labels")) {
      labels_ = file_->read<std::int32_t>("labels");
    }
    path_ = path;
  }

  // The image of dataset row `row`, or an empty image with `note` set.
  RgbImage read(std::int64_t row, std::int32_t target, std::string& note) const {
    if (row < static_cast<std::int64_t>(labels_.size()) &&
        labels_[static_cast<std::size_t>(row)] != target) {
      throw Error(fmt::format(
          "{} and {}: dataset row {} has label {}, but the posterior has target {}; {}",
          posterior_name_, path_, row, labels_[static_cast<std::size_t>(row)], target,
          replaced_dataset_hint));
    }
    RgbImage image;
    if (images_ == nullptr) {
      note = note_;
      return image;
    }
    if (row >= static_cast<std::int64_t>(shape_[0])) {
      throw Error(fmt::format(
          "{} and {}: dataset row {} is out of range (the dataset has {} rows); {}",
          posterior_name_, path_, row, shape_[0], replaced_dataset_hint));
    }
    const auto pixels = shape_[1] * shape_[2];
    std::vector<std::uint8_t> raw(pixels * shape_[3]);
    images_->read_rows(static_cast<std::uint64_t>(row), 1, raw.data());
    image.height = static_cast<int>(shape_[1]);
    image.width = static_cast<int>(shape_[2]);
    image.pixels.resize(pixels * 3);
    for (std::uint64_t p = 0; p < pixels; ++p) {
      for (std::uint64_t channel = 0; channel < 3; ++channel) {
        // A grayscale source fills all three channels.
        image.pixels[p * 3 + channel] = raw[p * shape_[3] + (shape_[3] == 3 ? channel : 0)];
      }
    }
    return image;
  }

 private:
  // Returns the first candidate path that exists and, when the posterior
  // records the dataset's content hash, contains that content. The candidates
  // are the path as stored, the path relative to the posterior file's folder
  // and the absolute path recorded at sampling time.
  std::string locate(const Posterior& posterior) {
    namespace fs = std::filesystem;
    if (posterior.dataset.empty()) {
      note_ = fmt::format("{}: names no dataset file", posterior.source);
      log_warning("{}; the examples are drawn without images", note_);
      return "";
    }
    std::vector<std::string> candidates{posterior.dataset};
    if (fs::path(posterior.dataset).is_relative() && posterior.source != "<stdin>") {
      candidates.push_back((fs::path(posterior.source).parent_path() / posterior.dataset).string());
    }
    auto absolute = posterior.attributes.find("dataset_absolute");
    if (absolute != posterior.attributes.end()) {
      candidates.push_back(absolute->second);
    }

    std::vector<std::string> other_content;
    for (const std::string& candidate : candidates) {
      std::error_code error;
      if (!fs::exists(candidate, error)) {
        continue;
      }
      if (posterior.dataset_hash.empty() || holds_content(candidate, posterior.dataset_hash)) {
        return candidate;
      }
      other_content.push_back(candidate);
    }
    note_ = other_content.empty()
                ? fmt::format("{}: dataset file not found (looked for {})", posterior.source,
                              fmt::join(candidates, ", "))
                : fmt::format("{}: {} holds other images than the posterior was sampled from "
                              "(content hash {} expected)",
                              posterior.source, fmt::join(other_content, ", "),
                              posterior.dataset_hash);
    log_warning("{}; the examples are drawn without images", note_);
    return "";
  }

  // Whether the dataset file at `path` has content hash `hash`. A file that
  // is not a readable dataset does not.
  static bool holds_content(const std::string& path, const std::string& hash) {
    try {
      return DatasetReader(path).content_hash() == hash;
    } catch (const Error&) {
      return false;
    }
  }

  std::string posterior_name_;
  std::string path_;
  std::string note_;
  std::unique_ptr<h5::File> file_;
  std::unique_ptr<h5::Dataset> images_;
  h5::Dims shape_;
  std::vector<std::int32_t> labels_;
};

void write_examples(const std::vector<EvaluatedPosterior>& inputs, TieRule ties,
                    const EvalOptions& options) {
  check_rows_match(inputs);
  const Posterior& first = inputs[0].posterior;
  const std::int64_t classes = first.num_classes;

  // A row is misclassified when its top-1 credit is 0: some other class has
  // a strictly higher probability (or, under --ties index, ranks first).
  std::vector<std::int64_t> rows;
  for (std::int64_t row = 0; row < first.rows && static_cast<int>(rows.size()) < options.count;
       ++row) {
    bool all_wrong = std::all_of(inputs.begin(), inputs.end(), [&](const EvaluatedPosterior& input) {
      const Posterior& posterior = input.posterior;
      return top_k_credit(posterior.probs.data() + row * classes, classes,
                          posterior.targets[static_cast<std::size_t>(row)], 1, ties) == 0.0;
    });
    if (all_wrong) {
      rows.push_back(row);
    }
  }

  std::vector<Example> examples;
  std::string note;
  if (rows.empty()) {
    note = "No image is misclassified by every input.";
    log_info("{}: {}", options.examples, note);
  } else {
    DatasetImages dataset(first);
    for (std::int64_t row : rows) {
      Example example;
      example.row = row;
      example.dataset_row = dataset_row(first, row);
      example.target = first.targets[static_cast<std::size_t>(row)];
      example.image = dataset.read(example.dataset_row, example.target, example.note);
      for (const auto& input : inputs) {
        const float* probs = input.posterior.probs.data() + row * classes;
        example.panels.push_back(
            {base_name(input.posterior.source), top_five(probs, classes), probs[example.target]});
      }
      examples.push_back(std::move(example));
    }
  }
  write_text_file(options.examples, examples_svg(examples, first.classes, note), options.force);
}

void write_reliability(const std::vector<EvaluatedPosterior>& inputs, const EvalOptions& options) {
  std::vector<ReliabilityCurve> curves;
  for (const auto& input : inputs) {
    curves.push_back({base_name(input.posterior.source), input.metrics.bins, input.metrics.ece});
  }
  write_text_file(options.reliability, reliability_svg(curves), options.force);
}

}  // namespace

void validate_eval_options(const EvalOptions& options) {
  if (options.inputs.empty()) {
    throw UsageError("give at least one posterior file, or - for stdin");
  }
  if (std::count(options.inputs.begin(), options.inputs.end(), "-") > 1) {
    throw UsageError("'-' (stdin) can be given only once");
  }
  parse_output_format(options.format);
  parse_tie_rule(options.ties);
  if (!options.pivot.empty() || !options.columns.empty() || !options.baseline.empty()) {
    if (options.pivot.empty()) {
      throw UsageError("--columns and --baseline need --pivot");
    }
    parse_pivot_spec(options.pivot, options.columns, options.baseline);
  }
  if (!options.pivot.empty() && options.per_class) {
    throw UsageError("--pivot and --per-class print different tables; give only one of them");
  }
  if (options.count < 1) {
    throw UsageError(fmt::format("--count {}: must be at least 1", options.count));
  }
  if (!options.reliability.empty() && options.reliability == options.examples) {
    throw UsageError("--reliability and --examples name the same file; give two file names");
  }
}

int run_eval(const EvalOptions& options) {
  validate_eval_options(options);
  const OutputFormat format = parse_output_format(options.format);
  const TieRule ties = parse_tie_rule(options.ties);
  // Fail on an unwritable figure path before the (possibly long) reads.
  for (const std::string& path : {options.reliability, options.examples}) {
    if (!path.empty()) {
      check_output_path(path, options.force);
    }
  }

  std::vector<EvaluatedPosterior> inputs;
  const bool keep_probabilities = !options.examples.empty();
  for (const std::string& path : options.inputs) {
    EvaluatedPosterior input;
    input.posterior = read_posterior(path);
    input.metrics = compute_metrics(input.posterior, ties);
    log_debug("{}: {} rows, {} classes", input.posterior.source, input.posterior.rows,
              input.posterior.num_classes);
    if (!keep_probabilities) {
      std::vector<float>().swap(input.posterior.probs);
    }
    inputs.push_back(std::move(input));
  }

  TextTable table;
  if (!options.pivot.empty()) {
    table = pivot_table(inputs, parse_pivot_spec(options.pivot, options.columns, options.baseline),
                        is_for_people(format));
  } else if (options.per_class) {
    table = per_class_table(inputs);
  } else {
    table = summary_table(inputs);
  }

  if (!options.reliability.empty()) {
    write_reliability(inputs, options);
  }
  if (!options.examples.empty()) {
    write_examples(inputs, ties, options);
  }
  std::string text = render_table(table, format);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace didicm
