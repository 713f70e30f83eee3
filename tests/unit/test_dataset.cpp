#include "dataset.h"
#include "errors.h"
#include "h5.h"
#include "jpeg.h"
#include "support.h"

#include <doctest/doctest.h>

#include <thread>

using namespace didicm;
using didicm::testing::TempDir;

namespace {

DatasetAttributes attributes_for(const std::string& store, int size) {
  DatasetAttributes attributes;
  attributes.created_by = "didicm-prep test";
  attributes.command_line = "test";
  attributes.size = size;
  attributes.resolution = size;
  attributes.split = "train";
  attributes.ratio = 0.5;
  attributes.seed = 3;
  attributes.source_kind = "tree";
  attributes.store = store;
  attributes.filter = "bilinear";
  return attributes;
}

// Image i is filled with the value 10 * i + 5.
void write_dataset(const std::string& path, const std::string& store, int count, int size,
                   const std::vector<std::int32_t>& labels, int capacity = -1) {
  DatasetWriter writer(path, capacity < 0 ? count : capacity, size, store, 0);
  std::vector<std::string> sources;
  for (int i = 0; i < count; ++i) {
    Image image(size, size);
    std::fill(image.pixels.begin(), image.pixels.end(), static_cast<std::uint8_t>(10 * i + 5));
    if (store == "raw") {
      writer.append_raw(image.pixels.data(), 1);
    } else {
      writer.append_jpeg({encode_jpeg(image, {95, false, false})});
    }
    sources.push_back("class/" + std::to_string(i) + ".JPEG");
  }
  writer.finish(labels, {"a", "b"}, sources, {{"class/bad.JPEG", "empty file"}},
                attributes_for(store, size));
}

}  // namespace

TEST_CASE("dataset raw round trip") {
  TempDir folder;
  std::string path = folder.file("d.h5");
  // Capacity 5 but 3 images written: the arrays shrink to 3.
  write_dataset(path, "raw", 3, 8, {0, 1, 1}, 5);
  DatasetReader reader(path);
  CHECK(reader.info().count == 3);
  CHECK(reader.info().size == 8);
  CHECK(reader.info().store == "raw");
  CHECK(reader.info().split == "train");
  CHECK(reader.info().ratio == 0.5);
  CHECK(reader.info().seed == 3);
  CHECK(reader.info().classes == std::vector<std::string>{"a", "b"});
  CHECK(reader.labels() == std::vector<std::int32_t>{0, 1, 1});
  std::vector<std::uint8_t> pixels(8 * 8 * 3);
  reader.read_image(2, pixels.data());
  CHECK(int(pixels[0]) == 25);
  CHECK_THROWS_AS(reader.read_image(3, pixels.data()), Error);

  auto file = h5::File::open(path);
  CHECK(file.read_strings("skipped/sources") == std::vector<std::string>{"class/bad.JPEG"});
  CHECK(file.string_attribute("format") == "didicm-dataset");
  CHECK(file.dims("images") == h5::Dims{3, 8, 8, 3});
}

TEST_CASE("dataset jpeg round trip") {
  TempDir folder;
  std::string path = folder.file("j.h5");
  write_dataset(path, "jpeg", 4, 16, {1, 0, 1, 0});
  DatasetReader reader(path);
  CHECK(reader.info().store == "jpeg");
  std::vector<std::uint8_t> pixels(16 * 16 * 3);
  reader.read_image(3, pixels.data());
  CHECK(std::abs(int(pixels[100]) - 35) <= 2);
}

TEST_CASE("dataset reads from many threads") {
  TempDir folder;
  std::string path = folder.file("t.h5");
  write_dataset(path, "jpeg", 20, 8, std::vector<std::int32_t>(20, 1));
  DatasetReader reader(path);
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::uint8_t> pixels(8 * 8 * 3);
      for (int round = 0; round < 10; ++round) {
        for (int i = t; i < 20; i += 4) {
          reader.read_image(i, pixels.data());
          wrong[t] += std::abs(int(pixels[0]) - (10 * i + 5)) > 3;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(wrong == std::vector<int>(4, 0));
}

TEST_CASE("dataset content hash") {
  TempDir folder;
  write_dataset(folder.file("a.h5"), "raw", 3, 4, {0, 1, 0});
  write_dataset(folder.file("b.h5"), "raw", 3, 4, {0, 1, 0});
  write_dataset(folder.file("c.h5"), "raw", 3, 4, {0, 1, 1});
  std::string a = DatasetReader(folder.file("a.h5")).content_hash();
  CHECK(a.size() == 16);
  CHECK(a == DatasetReader(folder.file("b.h5")).content_hash());
  CHECK(a != DatasetReader(folder.file("c.h5")).content_hash());
}

TEST_CASE("dataset reader rejects bad files") {
  TempDir folder;
  silence_hdf5_errors();

  std::string wrong_format = folder.file("wrong_format.h5");
  write_dataset(wrong_format, "raw", 2, 4, {0, 1});
  h5::File::open(wrong_format, true).set_attribute("format", "didicm-checkpoint");
  CHECK_THROWS_WITH_AS(DatasetReader{wrong_format}, doctest::Contains("didicm-checkpoint"), Error);

  std::string bad_label = folder.file("bad_label.h5");
  {
    DatasetWriter writer(bad_label, 1, 4, "raw", 0);
    std::vector<std::uint8_t> pixels(4 * 4 * 3);
    writer.append_raw(pixels.data(), 1);
    writer.finish({7}, {"a", "b"}, {"x"}, {}, attributes_for("raw", 4));
  }
  CHECK_THROWS_WITH_AS(DatasetReader{bad_label}, doctest::Contains("label 7"), Error);

  std::string wrong_size = folder.file("wrong_size.h5");
  write_dataset(wrong_size, "raw", 2, 4, {0, 1});
  h5::File::open(wrong_size, true).set_attribute("size", std::int64_t{5});
  CHECK_THROWS_WITH_AS(DatasetReader{wrong_size}, doctest::Contains("/images has shape"), Error);

  CHECK_THROWS_AS(DatasetReader{folder.file("missing.h5")}, Error);
}
