#pragma once

// PNG decoding with libpng's simplified API.

#include "image.h"

#include <cstdint>
#include <vector>

namespace didicm {

// Decodes any PNG (gray, palette, 16-bit, with or without alpha) to 8-bit RGB.
// Alpha is dropped, not composited, as PIL's convert("RGB") does. Throws Error
// with the reason only.
Image decode_png(const std::uint8_t* data, std::size_t size);

// Encodes an RGB image as PNG (used by tests and test helpers).
std::vector<std::uint8_t> encode_png(const Image& image);

}  // namespace didicm
