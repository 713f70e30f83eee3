#include "errors.h"
#include "h5.h"
#include "posterior.h"
#include "support.h"

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include <fcntl.h>
#include <unistd.h>

using namespace didicm;
using didicm::testing::TempDir;

namespace {

// Two rows over three classes with every optional part filled in.
Posterior sample_posterior() {
  Posterior posterior;
  posterior.rows = 2;
  posterior.num_classes = 3;
  posterior.probs = {0.7F, 0.2F, 0.1F, 0.0F, 0.25F, 0.75F};
  posterior.targets = {0, 2};
  posterior.classes = {"cat", "dog", "ship"};
  posterior.indices = {5, 9};
  posterior.sampler = "cp";
  posterior.steps = 2;
  posterior.select = "argmax";
  posterior.samples = 1;
  posterior.nfe = 2;
  posterior.seed = 7;
  posterior.checkpoint = "runs/model.h5";
  posterior.checkpoint_hash = "abc";
  posterior.dataset = "data/val.h5";
  posterior.dataset_hash = "def";
  posterior.created_by = "didicm-sample 0.1.0";
  posterior.command_line = "didicm-sample --steps 2";
  posterior.attributes = {{"model", "didirn18"}, {"resolution", "32"}};
  posterior.trajectory_points = 3;
  posterior.trajectory.assign(2 * 3 * 3, 1.0F / 3.0F);
  return posterior;
}

void check_same(const Posterior& read, const Posterior& written) {
  CHECK(read.rows == written.rows);
  CHECK(read.num_classes == written.num_classes);
  CHECK(read.probs == written.probs);
  CHECK(read.targets == written.targets);
  CHECK(read.classes == written.classes);
  CHECK(read.indices == written.indices);
  CHECK(read.sampler == written.sampler);
  CHECK(read.steps == written.steps);
  CHECK(read.select == written.select);
  CHECK(read.samples == written.samples);
  CHECK(read.nfe == written.nfe);
  CHECK(read.seed == written.seed);
  CHECK(read.checkpoint == written.checkpoint);
  CHECK(read.checkpoint_hash == written.checkpoint_hash);
  CHECK(read.dataset == written.dataset);
  CHECK(read.dataset_hash == written.dataset_hash);
  CHECK(read.created_by == written.created_by);
  CHECK(read.command_line == written.command_line);
  CHECK(read.attributes == written.attributes);
}

// Writes `posterior` without the checks of write_posterior's reader.
std::string write_bad(const TempDir& folder, const Posterior& posterior) {
  std::string path = folder.file("bad.h5");
  write_posterior(posterior, path, true);
  return path;
}

}  // namespace

TEST_CASE("posterior round trip through a file") {
  TempDir folder;
  Posterior written = sample_posterior();
  std::string path = folder.file("posterior.h5");
  write_posterior(written, path, false);

  Posterior read = read_posterior(path);
  check_same(read, written);
  CHECK(read.source == path);
  CHECK(read.trajectory.empty());

  Posterior with_trajectory = read_posterior(path, true);
  CHECK(with_trajectory.trajectory_points == 3);
  CHECK(with_trajectory.trajectory_topk == 0);
  CHECK(with_trajectory.trajectory == written.trajectory);

  CHECK_THROWS_WITH_AS(write_posterior(written, path, false), doctest::Contains("--force"), Error);
  CHECK_NOTHROW(write_posterior(written, path, true));
}

TEST_CASE("posterior round trip of a top-k trajectory") {
  TempDir folder;
  Posterior written = sample_posterior();
  written.trajectory_topk = 2;
  written.trajectory.assign(2 * 3 * 2, 0.5F);
  written.trajectory_indices.assign(2 * 3 * 2, 1);
  std::string path = folder.file("topk.h5");
  write_posterior(written, path, false);

  Posterior read = read_posterior(path, true);
  CHECK(read.trajectory_topk == 2);
  CHECK(read.trajectory_points == 3);
  CHECK(read.trajectory == written.trajectory);
  CHECK(read.trajectory_indices == written.trajectory_indices);
}

TEST_CASE("posterior round trip through an in-memory image") {
  TempDir folder;
  Posterior written = sample_posterior();
  std::vector<char> bytes = posterior_image(written);
  std::string path = folder.file("image.h5");
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));

  check_same(read_posterior(path), written);
  auto file = h5::File::open_image(bytes, "<stdin>");
  CHECK(file.string_attribute("format") == "didicm-posterior");
  CHECK(file.int_attribute("format_version") == 1);
}

TEST_CASE("posterior write rejects wrong shapes") {
  TempDir folder;
  Posterior posterior = sample_posterior();
  posterior.probs.pop_back();
  CHECK_THROWS_WITH_AS(write_posterior(posterior, folder.file("a.h5"), false),
                       doctest::Contains("/probs contains 5 values"), Error);
  CHECK_FALSE(std::filesystem::exists(folder.file("a.h5")));

  posterior = sample_posterior();
  posterior.attributes["sampler"] = "cl";
  CHECK_THROWS_WITH_AS(write_posterior(posterior, folder.file("a.h5"), false),
                       doctest::Contains("clashes"), Error);
  CHECK_FALSE(std::filesystem::exists(folder.file("a.h5")));
}

TEST_CASE("posterior read rejects bad probabilities") {
  TempDir folder;
  struct Case {
    std::size_t index;
    float value;
    const char* message;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const Case& bad : {Case{4, nan, "row 1, class 1: nan is not a probability"},
                          Case{5, -0.25F, "row 1, class 2: -0.25 is not a probability"},
                          Case{0, 0.5F, "row 0 sums to 0.8"}}) {
    Posterior posterior = sample_posterior();
    posterior.probs[bad.index] = bad.value;
    std::string path = write_bad(folder, posterior);
    CAPTURE(bad.message);
    CHECK_THROWS_WITH_AS(read_posterior(path), doctest::Contains((path + ": /probs " + bad.message).c_str()),
                         Error);
  }
}

TEST_CASE("posterior read accepts sums within tolerance") {
  TempDir folder;
  Posterior posterior = sample_posterior();
  posterior.probs[0] += 0.5F * static_cast<float>(probability_sum_tolerance);
  CHECK_NOTHROW(read_posterior(write_bad(folder, posterior)));
  posterior.probs[0] += 2.0F * static_cast<float>(probability_sum_tolerance);
  CHECK_THROWS_AS(read_posterior(write_bad(folder, posterior)), Error);
}

TEST_CASE("posterior read rejects out-of-range targets") {
  TempDir folder;
  for (std::int32_t target : {3, -1}) {
    Posterior posterior = sample_posterior();
    posterior.targets[1] = target;
    std::string path = write_bad(folder, posterior);
    CHECK_THROWS_WITH_AS(
        read_posterior(path),
        doctest::Contains((path + ": /targets row 1: class " + std::to_string(target)).c_str()), Error);
  }
}

TEST_CASE("posterior read rejects missing parts") {
  TempDir folder;
  for (const std::string omitted : {"probs", "targets", "classes", "format"}) {
    std::string path = folder.file(omitted + ".h5");
    {
      auto file = h5::File::create(path);
      if (omitted != "format") {
        file.set_attribute("format", posterior_format);
      }
      if (omitted != "probs") {
        file.write("probs", std::vector<float>{0.5F, 0.5F}.data(), {1, 2});
      }
      if (omitted != "targets") {
        file.write("targets", std::vector<std::int32_t>{0});
      }
      if (omitted != "classes") {
        file.write_strings("classes", {"a", "b"});
      }
    }
    CAPTURE(omitted);
    CHECK_THROWS_WITH_AS(read_posterior(path), doctest::Contains((path + ":").c_str()), Error);
    CHECK_THROWS_WITH_AS(read_posterior(path), doctest::Contains(omitted.c_str()), Error);
  }
}

TEST_CASE("posterior read rejects other formats and shapes") {
  TempDir folder;
  std::string path = folder.file("dataset.h5");
  {
    auto file = h5::File::create(path);
    file.set_attribute("format", "didicm-dataset");
  }
  CHECK_THROWS_WITH_AS(read_posterior(path), doctest::Contains("is a \"didicm-dataset\" file"),
                       Error);

  path = folder.file("classes.h5");
  {
    auto file = h5::File::create(path);
    file.set_attribute("format", posterior_format);
    file.write("probs", std::vector<float>{0.5F, 0.5F}.data(), {1, 2});
    file.write("targets", std::vector<std::int32_t>{0});
    file.write_strings("classes", {"a", "b", "c"});
  }
  CHECK_THROWS_WITH_AS(read_posterior(path), doctest::Contains("/classes contains 3 names"), Error);

  std::ofstream(folder.file("text.h5")) << "text";
  CHECK_THROWS_WITH_AS(read_posterior(folder.file("text.h5")), doctest::Contains("not an HDF5 file"),
                       Error);
}

TEST_CASE("posterior numeric attributes read as text") {
  TempDir folder;
  std::string path = folder.file("numbers.h5");
  write_posterior(sample_posterior(), path, false);
  {
    auto file = h5::File::open(path, true);
    file.set_attribute("ratio", 0.25);
    file.set_attribute("input_size", std::int64_t{224});
  }
  Posterior posterior = read_posterior(path);
  CHECK(posterior.attributes.at("ratio") == "0.25");
  CHECK(posterior.attributes.at("input_size") == "224");
  CHECK(posterior_attribute(posterior, "ratio") == "0.25");
  CHECK(posterior_attribute(posterior, "sampler") == "cp");
  CHECK(posterior_attribute(posterior, "steps") == "2");
  CHECK(posterior_attribute(posterior, "file") == path);
  CHECK_THROWS_WITH_AS(posterior_attribute(posterior, "width"),
                       doctest::Contains("has no attribute 'width'; available:"), Error);
}

TEST_CASE("class lists compared by index") {
  CHECK_NOTHROW(check_same_classes({"a", "b"}, "x.h5", {"a", "b"}, "y.h5"));
  CHECK_THROWS_WITH_AS(check_same_classes({"a", "b"}, "x.h5", {"a", "c"}, "y.h5"),
                       doctest::Contains("x.h5 and y.h5: class lists differ at index 1"), Error);
  CHECK_THROWS_WITH_AS(check_same_classes({"a", "b"}, "x.h5", {"a"}, "y.h5"),
                       doctest::Contains("differ at index 1 (2 vs 1 classes)"), Error);
}

TEST_CASE("posterior written to stdout reads back") {
  TempDir folder;
  std::string path = folder.file("stdout.h5");
  Posterior written = sample_posterior();

  // Point file descriptor 1 at a file for the duration of the write.
  std::fflush(stdout);
  int saved = dup(STDOUT_FILENO);
  int target = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(saved >= 0);
  REQUIRE(target >= 0);
  dup2(target, STDOUT_FILENO);
  ::close(target);
  write_posterior_to_stdout(written);
  std::fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  ::close(saved);

  check_same(read_posterior(path), written);
}
