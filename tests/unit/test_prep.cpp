#include "dataset.h"
#include "errors.h"
#include "jpeg.h"
#include "prep.h"
#include "support.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace didicm;
using didicm::testing::TempDir;

namespace {

// ROOT/<class>/<i>.JPEG with `per_class` images of varied size per class.
void make_tree(const std::filesystem::path& root, const std::vector<std::string>& classes, int per_class) {
  for (std::size_t c = 0; c < classes.size(); ++c) {
    std::filesystem::create_directories(root / classes[c]);
    for (int i = 0; i < per_class; ++i) {
      Image image(40 + i, 30 + 2 * i);
      for (std::size_t p = 0; p < image.pixels.size(); ++p) {
        image.pixels[p] = static_cast<std::uint8_t>((p * (c + 3) + i * 7) % 256);
      }
      auto bytes = encode_jpeg(image, {90, false, false});
      std::ofstream(root / classes[c] / (std::to_string(i) + ".JPEG"), std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
  }
}

PrepOptions tree_options(const TempDir& folder, const std::string& output, int threads) {
  PrepOptions options;
  options.input = folder.file("tree");
  options.output = folder.file(output);
  options.size = 16;
  options.ratio = 0.5;
  options.seed = 11;
  options.threads = threads;
  return options;
}

}  // namespace

TEST_CASE("prep output is independent of threads") {
  TempDir folder;
  make_tree(folder.path() / "tree", {"10", "2", "n01"}, 300);
  PrepSummary one = run_prep(tree_options(folder, "one.h5", 1));
  PrepSummary four = run_prep(tree_options(folder, "four.h5", 4));
  CHECK(one.images == 450);
  CHECK(four.images == 450);
  DatasetReader a(folder.file("one.h5"));
  DatasetReader b(folder.file("four.h5"));
  CHECK(a.content_hash() == b.content_hash());
  // Byte-wise class order: "10" < "2" < "n01".
  CHECK(a.info().classes == std::vector<std::string>{"10", "2", "n01"});
  CHECK(a.labels().front() == 0);
  CHECK(a.labels().back() == 2);
}

TEST_CASE("prep validates options") {
  PrepOptions options;
  options.input = "x";
  options.output = "y.h5";
  CHECK_THROWS_WITH_AS(validate_prep_options(options), doctest::Contains("--size"), UsageError);
  options.size = 56;
  options.ratio = 0.0;
  CHECK_THROWS_AS(validate_prep_options(options), UsageError);
  options.ratio = 1.0;
  options.crop_pct = 1.5;
  CHECK_THROWS_AS(validate_prep_options(options), UsageError);
  options.crop_pct = 0.875;
  options.store_size = 32;
  CHECK_THROWS_WITH_AS(validate_prep_options(options), doctest::Contains("--store-size"), UsageError);
  options.store_size = 0;
  options.store = "png";
  CHECK_THROWS_AS(validate_prep_options(options), UsageError);
  options.store = "jpeg";
  options.gzip_level = 4;
  CHECK_THROWS_AS(validate_prep_options(options), UsageError);
  options.gzip_level = 0;
  CHECK_NOTHROW(validate_prep_options(options));
}
