#pragma once

// The posterior file: class probabilities of one sampler run over a dataset,
// written by didicm-sample and read by didicm-eval.
//
// Layout (HDF5):
//   @format = "didicm-posterior", @format_version = 1, @created_by, @command_line
//   @sampler ("cp", "cl" or "standard"), @steps, @select, @samples, @nfe, @seed
//   @checkpoint, @checkpoint_hash, @dataset, @dataset_hash (paths and content hashes)
//   further scalar attributes (strings or numbers): metadata copied from the
//     checkpoint and the dataset (model, objective, resolution, ratio, input_size, ...)
//   /probs    float32 N x num_classes, each row a distribution
//   /targets  int32 N, the true class of each row
//   /classes  variable-length UTF-8 strings, num_classes
//   /indices  int64 N (optional): dataset row of each posterior row; without it
//             posterior row i is dataset row i
//   /trajectory float32 N x (S+1) x num_classes (optional), or its top-k form
//   /trajectory_topk/probs float32 N x (S+1) x K and
//   /trajectory_topk/indices int32 N x (S+1) x K

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace didicm {

inline constexpr const char* posterior_format = "didicm-posterior";
inline constexpr std::int64_t posterior_format_version = 1;

// Maximum difference between the sum of a /probs row and 1. Float32 rounding
// of a sum over 1000 classes is at most about 1000 x 6e-8 = 6e-5 (an estimate).
inline constexpr double probability_sum_tolerance = 1e-3;

struct Posterior {
  std::int64_t rows = 0;         // N
  std::int64_t num_classes = 0;  // C
  std::vector<float> probs;            // N x C, row-major
  std::vector<std::int32_t> targets;   // N
  std::vector<std::string> classes;    // C
  std::vector<std::int64_t> indices;   // empty, or N dataset rows

  // Probabilities after every sampler step: empty, or N x trajectory_points x
  // width, where width is trajectory_topk (top-k form) or C (full form).
  std::int64_t trajectory_points = 0;  // S + 1
  std::int64_t trajectory_topk = 0;    // 0: full form
  std::vector<float> trajectory;
  std::vector<std::int32_t> trajectory_indices;  // top-k form only, same shape

  std::string sampler;  // cp, cl or standard
  std::int64_t steps = 0;
  std::string select;
  std::int64_t samples = 0;
  std::int64_t nfe = 0;  // network evaluations per image
  std::int64_t seed = 0;
  std::string checkpoint;
  std::string checkpoint_hash;
  std::string dataset;
  std::string dataset_hash;
  std::string created_by;
  std::string command_line;

  // Free metadata attributes (model, objective, resolution, ratio, ...).
  // Numeric attributes of a file are read as their shortest decimal form.
  std::map<std::string, std::string> attributes;

  // Name the posterior was read from ("<stdin>" for "-"); not written.
  std::string source;
};

// Writes `posterior` to `path` atomically: a temporary file in the same folder
// renamed into place. Throws Error if the file exists and !force, or if the
// arrays do not match rows, num_classes and the trajectory shape.
void write_posterior(const Posterior& posterior, const std::string& path, bool force);

// Throws UsageError when stdout is a terminal, where a binary file must not go.
void check_stdout_for_posterior();

// Writes the posterior file's bytes to stdout (built in memory first).
// Throws UsageError when stdout is a terminal.
void write_posterior_to_stdout(const Posterior& posterior);

// The file's bytes, built in memory.
std::vector<char> posterior_image(const Posterior& posterior);

// Reads and validates a posterior file; "-" reads the whole of stdin. The
// trajectory, which can be much larger than /probs, is read only on request.
// Throws Error naming the file (and the row and value) for a missing dataset or
// attribute, a wrong shape, a NaN, infinite or negative probability, a row
// whose sum is off by more than probability_sum_tolerance, or a target outside
// [0, num_classes). Rows count from 0.
Posterior read_posterior(const std::string& path, bool with_trajectory = false);

// Checks the same conditions on a posterior in memory; `name` is used in messages.
void validate_posterior(const Posterior& posterior, const std::string& name);

// The value of posterior_attribute() for steps, select or samples when the
// file's sampler does not use that setting (steps of softmax, select of CL,
// samples of CP).
inline constexpr const char* unused_setting = "-";

// The value of attribute `key` for grouping: a named field (sampler, steps,
// select, samples, nfe, seed, checkpoint, checkpoint_hash, dataset,
// dataset_hash), "file" for the source name, or a free attribute. Throws Error
// naming the file and the available keys when there is none.
std::string posterior_attribute(const Posterior& posterior, const std::string& key);

// Throws Error naming both files and the first differing index when the class
// lists differ.
void check_same_classes(const std::vector<std::string>& first, const std::string& first_name,
                        const std::vector<std::string>& second, const std::string& second_name);

}  // namespace didicm
