#pragma once

#include <cstdint>
#include <vector>

namespace didicm {

// An 8-bit RGB image, rows top to bottom, pixels interleaved: pixel (x, y)
// starts at byte (y * width + x) * 3.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;

  Image() = default;
  Image(int width, int height) : width(width), height(height), pixels(std::size_t(width) * height * 3) {}

  std::uint8_t* row(int y) { return pixels.data() + std::size_t(y) * width * 3; }
  const std::uint8_t* row(int y) const { return pixels.data() + std::size_t(y) * width * 3; }
  std::uint8_t* at(int x, int y) { return row(y) + std::size_t(x) * 3; }
  const std::uint8_t* at(int x, int y) const { return row(y) + std::size_t(x) * 3; }
};

// Applies an EXIF orientation (1..8, as stored in tag 0x0112) so that the
// image shows upright. Values outside 2..8 leave the image unchanged.
Image apply_exif_orientation(const Image& image, int orientation);

}  // namespace didicm
