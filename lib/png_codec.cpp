#include "png_codec.h"

#include "errors.h"

#include <fmt/format.h>
#include <png.h>

#include <cstring>

namespace didicm {

Image decode_png(const std::uint8_t* data, std::size_t size) {
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&png, data, size) == 0) {
    std::string reason = png.message;
    png_image_free(&png);
    throw Error(fmt::format("invalid PNG: {}", reason));
  }

  // NOTE: the simplified API takes 16-bit samples as linear light and encodes
  // them as sRGB, so a 16-bit value of 30000 becomes 179, not 30000 / 257 = 117.
  png.format = PNG_FORMAT_RGBA;
  std::vector<std::uint8_t> rgba(PNG_IMAGE_SIZE(png));
  if (png_image_finish_read(&png, nullptr, rgba.data(), 0, nullptr) == 0) {
    std::string reason = png.message;
    png_image_free(&png);
    throw Error(fmt::format("decoding PNG failed: {}", reason));
  }

  Image image(static_cast<int>(png.width), static_cast<int>(png.height));
  std::size_t pixels = std::size_t(image.width) * image.height;
  for (std::size_t i = 0; i < pixels; ++i) {
    std::memcpy(image.pixels.data() + i * 3, rgba.data() + i * 4, 3);
  }
  return image;
}

std::vector<std::uint8_t> encode_png(const Image& image) {
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (png_image_write_to_memory(&png, nullptr, &size, 0, image.pixels.data(), 0, nullptr) == 0) {
    throw Error(fmt::format("encoding a {}x{} PNG failed: {}", image.width, image.height, png.message));
  }
  std::vector<std::uint8_t> bytes(size);
  if (png_image_write_to_memory(&png, bytes.data(), &size, 0, image.pixels.data(), 0, nullptr) == 0) {
    throw Error(fmt::format("encoding a {}x{} PNG failed: {}", image.width, image.height, png.message));
  }
  bytes.resize(size);
  return bytes;
}

}  // namespace didicm
