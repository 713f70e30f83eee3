#pragma once

// JPEG decoding and encoding with TurboJPEG (libjpeg-turbo 2.1 API).

#include "image.h"

#include <cstdint>
#include <string>
#include <vector>

namespace didicm {

struct DecodeOptions {
  // Shorter side the caller will resize to; 0 decodes at full size. With
  // scaled_decode, the JPEG is decoded at the smallest DCT scaling factor
  // (1/8, 2/8, ..., 8/8) whose shorter side still covers this target.
  int target_short_side = 0;
  bool scaled_decode = true;
  // EXIF orientation is ignored by default, as torchvision and timm do.
  bool apply_exif_orientation = false;
};

// Header facts and warnings that decode_jpeg reports besides the pixels.
struct JpegInfo {
  int width = 0;   // full size stored in the file
  int height = 0;
  int exif_orientation = 1;
  bool adobe_marker = false;         // APP14 "Adobe": CMYK values are stored inverted
  std::vector<std::string> warnings; // recoverable TurboJPEG warnings
};

// Decodes a JPEG to RGB. Grayscale becomes three equal channels; CMYK and
// YCCK are decoded to CMYK and converted (see cmyk_to_rgb). Throws Error
// with the reason only (the caller adds the file name). A truncated file is an
// error; other TurboJPEG warnings are returned in `info` and the image kept.
Image decode_jpeg(const std::uint8_t* data, std::size_t size, const DecodeOptions& options,
                  JpegInfo* info = nullptr);

// Converts one CMYK pixel to RGB without a colour profile. Adobe files store
// inverted values (255 = no ink), so R = C * K / 255; other files store ink
// amounts, so R = (255 - C) * (255 - K) / 255.
void cmyk_to_rgb(const std::uint8_t* cmyk, std::uint8_t* rgb, bool inverted);

// The smallest TurboJPEG scaling factor whose scaled shorter side is at least
// `target`, as numerator/denominator; 1/1 when the image is already smaller.
void choose_scaling_factor(int width, int height, int target, int* numerator, int* denominator);

struct EncodeOptions {
  int quality = 90;
  bool progressive = false;
  bool grayscale = false;  // store one channel (the input must be gray: R = G = B)
};

// Encodes an RGB image as a baseline (or progressive) JPEG, 4:2:0 subsampled.
std::vector<std::uint8_t> encode_jpeg(const Image& image, const EncodeOptions& options = {});

// Encodes width x height CMYK pixels (4 bytes each, Adobe-inverted as TurboJPEG
// expects) as a YCCK JPEG with an Adobe marker.
std::vector<std::uint8_t> encode_cmyk_jpeg(const std::uint8_t* cmyk, int width, int height,
                                           int quality);

}  // namespace didicm
