#include "atomic_file.h"
#include "errors.h"
#include "h5.h"
#include "support.h"

#include <doctest/doctest.h>

#include <fstream>

using namespace didicm;
using didicm::testing::TempDir;

TEST_CASE("h5 round trip of arrays, strings and attributes") {
  silence_hdf5_errors();
  TempDir folder;
  std::string path = folder.file("a.h5");
  {
    auto file = h5::File::create(path);
    std::vector<float> values{1.5F, -2.0F, 3.25F, 4.0F, 5.0F, 6.0F};
    file.write("group/values", values.data(), {2, 3});
    file.write_strings("classes", {"n01440764", "T-shirt/top", ""});
    file.set_attribute("format", "didicm-dataset");
    file.set_attribute("format_version", std::int64_t{1});
    file.open_group("group").set_attribute("ratio", 0.25);
  }
  auto file = h5::File::open(path);
  CHECK(file.dims("group/values") == h5::Dims{2, 3});
  CHECK(file.read<float>("group/values")[2] == 3.25F);
  CHECK(file.read_strings("classes") == std::vector<std::string>{"n01440764", "T-shirt/top", ""});
  CHECK(file.string_attribute("format") == "didicm-dataset");
  CHECK(file.int_attribute("format_version") == 1);
  CHECK(file.open_group("group").double_attribute("ratio") == 0.25);
  CHECK(file.exists("group/values"));
  CHECK_FALSE(file.exists("missing/values"));
  CHECK(file.is_group("group"));
  CHECK_FALSE(file.is_group("group/values"));
  CHECK_FALSE(file.is_group("missing"));
  CHECK(file.children() == std::vector<std::string>{"classes", "group"});
}

TEST_CASE("h5 row ranges and byte strings") {
  TempDir folder;
  std::string path = folder.file("rows.h5");
  {
    auto file = h5::File::create(path);
    auto images = file.create_dataset("images", H5T_NATIVE_UINT8, {4, 2, 2, 3}, {{1, 2, 2, 3}, 4});
    std::vector<std::uint8_t> two_images(24);
    for (std::size_t i = 0; i < two_images.size(); ++i) {
      two_images[i] = static_cast<std::uint8_t>(i);
    }
    images.write_rows(1, 2, two_images.data());
    h5::Handle type(H5Tvlen_create(H5T_NATIVE_UINT8), H5Tclose);
    auto jpeg = file.create_dataset("jpeg", type.get(), {2}, {{1}, 0});
    jpeg.write_bytes(0, {0xFF, 0xD8, 0xFF});
    jpeg.write_bytes(1, {});
  }
  auto file = h5::File::open(path);
  std::vector<std::uint8_t> row(12);
  file.open_dataset("images").read_rows(2, 1, row.data());
  CHECK(row[0] == 12);
  CHECK(row[11] == 23);
  CHECK(file.open_dataset("jpeg").read_bytes(0) == std::vector<std::uint8_t>{0xFF, 0xD8, 0xFF});
  CHECK(file.open_dataset("jpeg").read_bytes(1).empty());
  CHECK_THROWS_AS(file.open_dataset("images").read_rows(3, 2, row.data()), Error);
}

TEST_CASE("h5 open rejects missing, text and truncated files") {
  TempDir folder;
  CHECK_THROWS_WITH_AS(h5::File::open(folder.file("none.h5")), doctest::Contains("not found"), Error);

  std::ofstream(folder.file("text.h5")) << "not hdf5\n";
  CHECK_THROWS_WITH_AS(h5::File::open(folder.file("text.h5")), doctest::Contains("not an HDF5 file"),
                       Error);

  std::string whole = folder.file("whole.h5");
  {
    auto file = h5::File::create(whole);
    std::vector<double> values(10000, 1.0);
    file.write("values", values);
  }
  std::filesystem::resize_file(whole, std::filesystem::file_size(whole) / 2);
  CHECK_THROWS_AS(
      {
        auto file = h5::File::open(whole);
        file.read<double>("values");
      },
      Error);
}

TEST_CASE("h5 open messages name the expected file") {
  silence_hdf5_errors();
  TempDir folder;
  const std::string expected = "a checkpoint written by didicm-train";
  std::ofstream(folder.file("text.h5")) << "not hdf5\n";
  CHECK_THROWS_WITH_AS(h5::File::open(folder.file("text.h5"), false, expected),
                       doctest::Contains("not an HDF5 file, or truncated; expected a checkpoint "
                                         "written by didicm-train"),
                       Error);
  CHECK_THROWS_WITH_AS(h5::File::open(folder.path().string(), false, expected),
                       doctest::Contains("is a folder, expected a checkpoint written by "
                                         "didicm-train (an HDF5 file)"),
                       Error);
  CHECK_THROWS_WITH_AS(h5::File::open(folder.file("none.h5"), false, expected),
                       doctest::Contains("none.h5: file not found; check the path"), Error);

  std::vector<char> garbage(100, 'x');
  CHECK_THROWS_WITH_AS(h5::File::open_image(garbage, "<stdin>", expected),
                       doctest::Contains("<stdin>: not an HDF5 file, or truncated; expected a "
                                         "checkpoint"),
                       Error);
}

TEST_CASE("h5 missing parts ask about the file kind") {
  silence_hdf5_errors();
  TempDir folder;
  std::string path = folder.file("a.h5");
  {
    auto file = h5::File::create(path);
    file.write("numbers", std::vector<std::int32_t>{1, 2});
    file.set_attribute("name", "x");
  }
  auto file = h5::File::open(path);
  const std::string hint = "; is it the right kind of file, written by this didicm version?";
  CHECK_THROWS_WITH_AS(file.open_group("model"),
                       doctest::Contains((std::string("/model: group not found") + hint).c_str()),
                       Error);
  CHECK_THROWS_WITH_AS(file.open_dataset("labels"),
                       doctest::Contains((std::string("/labels: dataset not found") + hint).c_str()),
                       Error);
  CHECK_THROWS_WITH_AS(
      file.int_attribute("size"),
      doctest::Contains((std::string("attribute 'size' not found") + hint).c_str()), Error);
  CHECK_THROWS_WITH_AS(file.int_attribute("name"),
                       doctest::Contains((std::string("expected a number") + hint).c_str()), Error);
  CHECK_THROWS_WITH_AS(file.read_strings("numbers"),
                       doctest::Contains((std::string("expected a string dataset") + hint).c_str()),
                       Error);
}

TEST_CASE("h5 in-memory image reopens") {
  auto file = h5::File::create_in_memory("memory.h5");
  file.write("values", std::vector<std::int32_t>{7, 8, 9});
  file.set_attribute("sampler", "cp");
  std::vector<char> bytes = file.image();
  file.close();
  CHECK(bytes.size() > 8);
  auto reopened = h5::File::open_image(bytes, "<stdin>");
  CHECK(reopened.read<std::int32_t>("values") == std::vector<std::int32_t>{7, 8, 9});
  CHECK(reopened.string_attribute("sampler") == "cp");
  std::vector<char> garbage(100, 'x');
  CHECK_THROWS_AS(h5::File::open_image(garbage, "<stdin>"), Error);
}

TEST_CASE("atomic file appears only on commit") {
  TempDir folder;
  std::string target = folder.file("out.h5");
  std::string temp;
  {
    AtomicFile output(target, false);
    temp = output.temp_path();
    std::ofstream(temp) << "partial";
    CHECK_FALSE(std::filesystem::exists(target));
  }
  CHECK_FALSE(std::filesystem::exists(temp));
  CHECK_FALSE(std::filesystem::exists(target));

  {
    AtomicFile output(target, false);
    std::ofstream(output.temp_path()) << "complete";
    output.commit();
  }
  CHECK(std::filesystem::exists(target));
  CHECK_THROWS_WITH_AS(AtomicFile(target, false), doctest::Contains("--force"), Error);
  CHECK_NOTHROW(AtomicFile(target, true));
  CHECK_THROWS_AS(check_output_path(folder.file("missing/out.h5"), false), Error);
}
