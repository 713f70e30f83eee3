#pragma once

// Reading an image file of any supported format into RGB.

#include "image.h"
#include "jpeg.h"

#include <cstdint>
#include <string>
#include <vector>

namespace didicm {

enum class ImageFormat { unknown, jpeg, png };

// Detects the format from the first bytes (the signature), never from the
// file name: ImageNet contains PNG and CMYK files named .JPEG.
ImageFormat detect_image_format(const std::uint8_t* data, std::size_t size);

// Reads a whole file. Throws Error("<reason>") without the path; the caller
// adds it, so that bad-file messages have one shape.
std::vector<std::uint8_t> read_file_bytes(const std::string& path);

// Decodes JPEG or PNG bytes. JPEG warnings are appended to `warnings`.
Image decode_image(const std::vector<std::uint8_t>& bytes, const DecodeOptions& options,
                   std::vector<std::string>* warnings = nullptr);

}  // namespace didicm
