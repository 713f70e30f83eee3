#include "errors.h"
#include "image_file.h"
#include "jpeg.h"
#include "png_codec.h"

#include <doctest/doctest.h>

#include <cstdlib>

using namespace didicm;

namespace {

Image solid(int width, int height, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  Image image(width, height);
  for (std::size_t i = 0; i < image.pixels.size(); i += 3) {
    image.pixels[i] = r;
    image.pixels[i + 1] = g;
    image.pixels[i + 2] = b;
  }
  return image;
}

Image gradient(int width, int height) {
  Image image(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      std::uint8_t* p = image.at(x, y);
      p[0] = static_cast<std::uint8_t>(x * 255 / std::max(1, width - 1));
      p[1] = static_cast<std::uint8_t>(y * 255 / std::max(1, height - 1));
      p[2] = 128;
    }
  }
  return image;
}

int max_difference(const Image& a, const Image& b) {
  int worst = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) {
    worst = std::max(worst, std::abs(int(a.pixels[i]) - int(b.pixels[i])));
  }
  return worst;
}

// Inserts an APP1 Exif segment with one IFD0 entry: orientation = `value`.
std::vector<std::uint8_t> with_exif_orientation(const std::vector<std::uint8_t>& jpeg, int value) {
  std::vector<std::uint8_t> tiff = {'I', 'I', 42, 0, 8, 0, 0, 0,  // little-endian header, IFD0 at 8
                                    1, 0,                          // one entry
                                    0x12, 0x01, 3, 0, 1, 0, 0, 0,  // tag 0x0112, SHORT, count 1
                                    static_cast<std::uint8_t>(value), 0, 0, 0,
                                    0, 0, 0, 0};                   // no next IFD
  std::vector<std::uint8_t> segment = {'E', 'x', 'i', 'f', 0, 0};
  segment.insert(segment.end(), tiff.begin(), tiff.end());
  std::size_t length = segment.size() + 2;
  std::vector<std::uint8_t> result(jpeg.begin(), jpeg.begin() + 2);
  result.insert(result.end(), {0xFF, 0xE1, static_cast<std::uint8_t>(length >> 8),
                               static_cast<std::uint8_t>(length & 0xFF)});
  result.insert(result.end(), segment.begin(), segment.end());
  result.insert(result.end(), jpeg.begin() + 2, jpeg.end());
  return result;
}

}  // namespace

TEST_CASE("cmyk conversion of cyan") {
  std::uint8_t rgb[3];
  // Adobe files store inverted values: cyan ink 100% is stored as C = 0.
  const std::uint8_t inverted_cyan[4] = {0, 255, 255, 255};
  cmyk_to_rgb(inverted_cyan, rgb, true);
  CHECK(int(rgb[0]) == 0);
  CHECK(int(rgb[1]) == 255);
  CHECK(int(rgb[2]) == 255);

  const std::uint8_t plain_cyan[4] = {255, 0, 0, 0};
  cmyk_to_rgb(plain_cyan, rgb, false);
  CHECK(int(rgb[0]) == 0);
  CHECK(int(rgb[1]) == 255);
  CHECK(int(rgb[2]) == 255);

  // 50% black halves every channel.
  const std::uint8_t gray[4] = {255, 255, 255, 128};
  cmyk_to_rgb(gray, rgb, true);
  CHECK(int(rgb[0]) == 128);
}

TEST_CASE("jpeg ycck cyan decodes to cyan") {
  std::vector<std::uint8_t> cmyk(32 * 24 * 4);
  for (std::size_t i = 0; i < cmyk.size(); i += 4) {
    cmyk[i] = 0;
    cmyk[i + 1] = 255;
    cmyk[i + 2] = 255;
    cmyk[i + 3] = 255;
  }
  auto bytes = encode_cmyk_jpeg(cmyk.data(), 32, 24, 95);
  JpegInfo info;
  Image image = decode_jpeg(bytes.data(), bytes.size(), {}, &info);
  CHECK(info.adobe_marker);
  REQUIRE(image.width == 32);
  const std::uint8_t* p = image.at(10, 10);
  CHECK(int(p[0]) <= 4);
  CHECK(int(p[1]) >= 251);
  CHECK(int(p[2]) >= 251);
}

TEST_CASE("jpeg grayscale gives equal channels") {
  auto bytes = encode_jpeg(solid(20, 10, 90, 90, 90), {90, false, true});
  Image image = decode_jpeg(bytes.data(), bytes.size(), {});
  REQUIRE(image.pixels.size() == 20 * 10 * 3);
  for (std::size_t i = 0; i < image.pixels.size(); i += 3) {
    CHECK(image.pixels[i] == image.pixels[i + 1]);
    CHECK(image.pixels[i] == image.pixels[i + 2]);
  }
  CHECK(std::abs(int(image.pixels[0]) - 90) <= 2);
}

TEST_CASE("jpeg progressive matches baseline") {
  Image source = gradient(64, 48);
  auto baseline = encode_jpeg(source, {95, false, false});
  auto progressive = encode_jpeg(source, {95, true, false});
  CHECK(baseline != progressive);
  Image a = decode_jpeg(baseline.data(), baseline.size(), {});
  Image b = decode_jpeg(progressive.data(), progressive.size(), {});
  CHECK(max_difference(a, b) <= 2);
  CHECK(max_difference(a, source) <= 12);
}

TEST_CASE("jpeg one pixel image") {
  auto bytes = encode_jpeg(solid(1, 1, 200, 30, 30), {95, false, false});
  Image image = decode_jpeg(bytes.data(), bytes.size(), {56, true, false});
  CHECK(image.width == 1);
  CHECK(image.height == 1);
  CHECK(std::abs(int(image.pixels[0]) - 200) <= 8);
}

TEST_CASE("jpeg scaling factor covers target") {
  int numerator = 0;
  int denominator = 0;
  // 375 / 8 = 47 < 64, 375 * 2 / 8 = 94 >= 64.
  choose_scaling_factor(500, 375, 64, &numerator, &denominator);
  CHECK(double(numerator) / denominator == doctest::Approx(0.25));
  choose_scaling_factor(500, 375, 256, &numerator, &denominator);
  CHECK(double(numerator) / denominator == doctest::Approx(0.75));
  choose_scaling_factor(50, 40, 64, &numerator, &denominator);
  CHECK(numerator == denominator);
}

TEST_CASE("jpeg huge image decodes scaled") {
  // 10000x8000 gray: a full RGB decode would need 240 MB; at 1/8 it is 3.75 MB.
  Image gray(10000, 8000);
  std::fill(gray.pixels.begin(), gray.pixels.end(), std::uint8_t{77});
  auto bytes = encode_jpeg(gray, {50, false, true});
  gray = Image();
  Image image = decode_jpeg(bytes.data(), bytes.size(), {64, true, false});
  CHECK(image.width == 1250);
  CHECK(image.height == 1000);
  CHECK(std::abs(int(image.pixels[0]) - 77) <= 2);
}

static Image noise(int width, int height) {
  Image image(width, height);
  std::uint32_t state = 12345;
  for (auto& value : image.pixels) {
    state = state * 1664525U + 1013904223U;
    value = static_cast<std::uint8_t>(state >> 24);
  }
  return image;
}

TEST_CASE("jpeg truncated file is an error") {
  // Noise makes the entropy-coded data much longer than the headers, so the
  // cut falls inside the image data.
  auto bytes = encode_jpeg(noise(64, 64), {90, false, false});
  bytes.resize(bytes.size() * 2 / 3);
  try {
    decode_jpeg(bytes.data(), bytes.size(), {});
    FAIL("a truncated JPEG decoded without error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("truncated") != std::string::npos);
  }
}

TEST_CASE("jpeg handle survives a bad header") {
  auto bytes = encode_jpeg(gradient(64, 64), {90, false, false});
  std::vector<std::uint8_t> headers_only(bytes.begin(), bytes.begin() + 200);
  CHECK_THROWS_AS(decode_jpeg(headers_only.data(), headers_only.size(), {}), Error);
  Image image = decode_jpeg(bytes.data(), bytes.size(), {});
  CHECK(image.width == 64);
}

TEST_CASE("jpeg extraneous bytes are a warning") {
  auto bytes = encode_jpeg(gradient(64, 64), {90, false, false});
  // Garbage between the entropy-coded data and the EOI marker, longer than
  // what the Huffman decoder reads ahead.
  bytes.insert(bytes.end() - 2, 100, std::uint8_t{0x12});
  JpegInfo info;
  Image image = decode_jpeg(bytes.data(), bytes.size(), {}, &info);
  CHECK(image.width == 64);
  REQUIRE(info.warnings.size() == 1);
  CHECK(info.warnings[0].find("extraneous") != std::string::npos);
}

TEST_CASE("jpeg exif orientation flag") {
  // Left half red, right half blue, 40x20.
  Image source(40, 20);
  for (int y = 0; y < 20; ++y) {
    for (int x = 0; x < 40; ++x) {
      std::uint8_t* p = source.at(x, y);
      p[0] = x < 20 ? 255 : 0;
      p[2] = x < 20 ? 0 : 255;
    }
  }
  auto bytes = with_exif_orientation(encode_jpeg(source, {95, false, false}), 6);

  JpegInfo info;
  Image ignored = decode_jpeg(bytes.data(), bytes.size(), {}, &info);
  CHECK(info.exif_orientation == 6);
  CHECK(ignored.width == 40);
  CHECK(ignored.height == 20);

  // Orientation 6 rotates 90 degrees clockwise: the red left half goes to the top.
  Image upright = decode_jpeg(bytes.data(), bytes.size(), {0, true, true});
  CHECK(upright.width == 20);
  CHECK(upright.height == 40);
  CHECK(int(upright.at(10, 5)[0]) > 200);
  CHECK(int(upright.at(10, 35)[2]) > 200);
}

TEST_CASE("image format by signature") {
  auto jpeg = encode_jpeg(solid(8, 8, 1, 2, 3));
  auto png = encode_png(solid(8, 8, 1, 2, 3));
  CHECK(detect_image_format(jpeg.data(), jpeg.size()) == ImageFormat::jpeg);
  CHECK(detect_image_format(png.data(), png.size()) == ImageFormat::png);
  const std::uint8_t text[] = "hello";
  CHECK(detect_image_format(text, 5) == ImageFormat::unknown);
}

TEST_CASE("image png decodes exactly") {
  Image source = gradient(13, 7);
  auto bytes = encode_png(source);
  Image image = decode_image(bytes, {});
  CHECK(image.pixels == source.pixels);
}

TEST_CASE("image empty and text files fail") {
  CHECK_THROWS_WITH_AS(decode_image({}, {}), doctest::Contains("empty file"), Error);
  std::vector<std::uint8_t> text{'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'};
  CHECK_THROWS_WITH_AS(decode_image(text, {}), doctest::Contains("not a JPEG or PNG"), Error);
  std::vector<std::uint8_t> broken_png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0};
  CHECK_THROWS_AS(decode_image(broken_png, {}), Error);
}

TEST_CASE("image exif orientations") {
  Image image(3, 2);
  for (std::size_t i = 0; i < image.pixels.size(); i += 3) {
    image.pixels[i] = static_cast<std::uint8_t>(i / 3);  // pixel number 0..5
  }
  // Pixel numbers: row 0 = 0 1 2, row 1 = 3 4 5.
  CHECK(int(apply_exif_orientation(image, 2).at(0, 0)[0]) == 2);
  CHECK(int(apply_exif_orientation(image, 3).at(0, 0)[0]) == 5);
  CHECK(int(apply_exif_orientation(image, 4).at(0, 0)[0]) == 3);
  CHECK(int(apply_exif_orientation(image, 5).at(1, 0)[0]) == 3);
  CHECK(int(apply_exif_orientation(image, 6).at(0, 0)[0]) == 3);
  CHECK(int(apply_exif_orientation(image, 7).at(0, 0)[0]) == 5);
  CHECK(int(apply_exif_orientation(image, 8).at(0, 0)[0]) == 2);
  CHECK(apply_exif_orientation(image, 6).width == 2);
}
