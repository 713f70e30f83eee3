#include "jpeg.h"

#include "errors.h"

#include <fmt/format.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace didicm {
namespace {

// One decompressor per thread, reused: TurboJPEG handles are not thread-safe.
struct DecompressorHandle {
  tjhandle handle = nullptr;
  ~DecompressorHandle() {
    if (handle != nullptr) tjDestroy(handle);
  }
};

thread_local DecompressorHandle decompressor_handle;

tjhandle decompressor() {
  if (decompressor_handle.handle == nullptr) {
    decompressor_handle.handle = tjInitDecompress();
    if (decompressor_handle.handle == nullptr) {
      throw Error(fmt::format("creating a TurboJPEG decompressor failed: {}", tjGetErrorStr2(nullptr)));
    }
  }
  return decompressor_handle.handle;
}

// TurboJPEG 2.1.5 leaves a decompressor unusable after a failed call (the
// next header read reports success and a 0x0 image), so a failed handle is
// replaced by a fresh one.
void discard_decompressor() {
  if (decompressor_handle.handle != nullptr) {
    tjDestroy(decompressor_handle.handle);
    decompressor_handle.handle = nullptr;
  }
}

// A fresh compressor per image: with TurboJPEG 2.1.5, a baseline encode
// that follows a progressive one on the same handle wrote wrong pixels.
class Compressor {
 public:
  Compressor() : handle_(tjInitCompress()) {
    if (handle_ == nullptr) {
      throw Error(fmt::format("creating a TurboJPEG compressor failed: {}", tjGetErrorStr2(nullptr)));
    }
  }
  ~Compressor() { tjDestroy(handle_); }
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
  tjhandle get() const { return handle_; }

 private:
  tjhandle handle_;
};

int read_u16(const std::uint8_t* p, bool big_endian) {
  return big_endian ? (p[0] << 8) | p[1] : p[0] | (p[1] << 8);
}

std::uint32_t read_u32(const std::uint8_t* p, bool big_endian) {
  return big_endian ? (std::uint32_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3]
                    : p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t(p[3]) << 24);
}

// Reads the orientation tag (0x0112) from IFD0 of an APP1 "Exif" segment.
int parse_exif_orientation(const std::uint8_t* segment, std::size_t size) {
  if (size < 14 || std::memcmp(segment, "Exif\0\0", 6) != 0) {
    return 1;
  }
  const std::uint8_t* tiff = segment + 6;
  std::size_t tiff_size = size - 6;
  bool big_endian = tiff[0] == 'M' && tiff[1] == 'M';
  if (!big_endian && !(tiff[0] == 'I' && tiff[1] == 'I')) {
    return 1;
  }
  std::uint32_t ifd = read_u32(tiff + 4, big_endian);
  if (ifd + 2 > tiff_size) {
    return 1;
  }
  int entries = read_u16(tiff + ifd, big_endian);
  for (int i = 0; i < entries; ++i) {
    std::size_t entry = ifd + 2 + std::size_t(i) * 12;
    if (entry + 12 > tiff_size) {
      break;
    }
    if (read_u16(tiff + entry, big_endian) == 0x0112) {
      int value = read_u16(tiff + entry + 8, big_endian);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}

// Walks the marker segments before the first scan, looking for EXIF
// orientation (APP1) and the Adobe marker (APP14). Damaged headers are left
// for TurboJPEG to report.
void scan_markers(const std::uint8_t* data, std::size_t size, JpegInfo& info) {
  std::size_t position = 2;  // after SOI
  while (position + 4 <= size) {
    if (data[position] != 0xFF) {
      return;
    }
    std::uint8_t marker = data[position + 1];
    if (marker == 0xFF) {  // fill byte
      ++position;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) {  // start of scan, end of image
      return;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length field
      position += 2;
      continue;
    }
    std::size_t length = read_u16(data + position + 2, true);
    if (length < 2 || position + 2 + length > size) {
      return;
    }
    const std::uint8_t* segment = data + position + 4;
    std::size_t segment_size = length - 2;
    if (marker == 0xE1) {
      int orientation = parse_exif_orientation(segment, segment_size);
      if (orientation != 1) {
        info.exif_orientation = orientation;
      }
    } else if (marker == 0xEE && segment_size >= 5 && std::memcmp(segment, "Adobe", 5) == 0) {
      info.adobe_marker = true;
    }
    position += 2 + length;
  }
}

std::vector<std::uint8_t> take_buffer(unsigned char* buffer, unsigned long size) {
  std::vector<std::uint8_t> bytes(buffer, buffer + size);
  tjFree(buffer);
  return bytes;
}

}  // namespace

void cmyk_to_rgb(const std::uint8_t* cmyk, std::uint8_t* rgb, bool inverted) {
  int k = inverted ? cmyk[3] : 255 - cmyk[3];
  for (int channel = 0; channel < 3; ++channel) {
    int c = inverted ? cmyk[channel] : 255 - cmyk[channel];
    rgb[channel] = static_cast<std::uint8_t>((c * k + 127) / 255);
  }
}

void choose_scaling_factor(int width, int height, int target, int* numerator, int* denominator) {
  *numerator = 1;
  *denominator = 1;
  int count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&count);
  int short_side = std::min(width, height);
  double best = 1.0;
  for (int i = 0; i < count; ++i) {
    const tjscalingfactor& factor = factors[i];
    double value = double(factor.num) / factor.denom;
    if (value >= best) {
      continue;
    }
    if (TJSCALED(short_side, factor) >= target) {
      best = value;
      *numerator = factor.num;
      *denominator = factor.denom;
    }
  }
}

Image decode_jpeg(const std::uint8_t* data, std::size_t size, const DecodeOptions& options,
                  JpegInfo* info_out) {
  JpegInfo info;
  tjhandle handle = decompressor();
  int width = 0;
  int height = 0;
  int subsampling = 0;
  int colorspace = 0;
  if (tjDecompressHeader3(handle, data, static_cast<unsigned long>(size), &width, &height,
                          &subsampling, &colorspace) != 0) {
    std::string message = tjGetErrorStr2(handle);
    discard_decompressor();
    throw Error(fmt::format("invalid JPEG header: {}", message));
  }
  if (width <= 0 || height <= 0) {
    discard_decompressor();
    throw Error(fmt::format("invalid JPEG header: image size {}x{}", width, height));
  }
  info.width = width;
  info.height = height;
  scan_markers(data, size, info);

  // Decode directly at a reduced size where the caller downscales anyway:
  // the inverse DCT then produces fewer pixels, which saves most of the work.
  tjscalingfactor factor{1, 1};
  if (options.scaled_decode && options.target_short_side > 0) {
    choose_scaling_factor(width, height, options.target_short_side, &factor.num, &factor.denom);
  }
  int scaled_width = TJSCALED(width, factor);
  int scaled_height = TJSCALED(height, factor);

  // TurboJPEG cannot convert CMYK or YCCK to RGB, so decode to CMYK first.
  bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  int pixel_format = cmyk ? TJPF_CMYK : TJPF_RGB;
  std::vector<std::uint8_t> decoded(std::size_t(scaled_width) * scaled_height * (cmyk ? 4 : 3));
  if (tjDecompress2(handle, data, static_cast<unsigned long>(size), decoded.data(), scaled_width,
                    0, scaled_height, pixel_format, 0) != 0) {
    std::string message = tjGetErrorStr2(handle);
    bool warning = tjGetErrorCode(handle) == TJERR_WARNING;
    discard_decompressor();
    if (!warning) {
      throw Error(fmt::format("decoding JPEG failed: {}", message));
    }
    // libjpeg fills missing data with gray and only warns; a file that ends
    // early has lost part of the picture, so it counts as bad.
    if (message.find("Premature end of JPEG file") != std::string::npos) {
      throw Error("truncated JPEG: the file ends before the image data does");
    }
    info.warnings.push_back(message);
  }

  Image image;
  if (cmyk) {
    image = Image(scaled_width, scaled_height);
    std::size_t pixels = std::size_t(scaled_width) * scaled_height;
    for (std::size_t i = 0; i < pixels; ++i) {
      cmyk_to_rgb(decoded.data() + i * 4, image.pixels.data() + i * 3, info.adobe_marker);
    }
  } else {
    image.width = scaled_width;
    image.height = scaled_height;
    image.pixels = std::move(decoded);
  }

  if (options.apply_exif_orientation && info.exif_orientation != 1) {
    image = apply_exif_orientation(image, info.exif_orientation);
  }
  if (info_out != nullptr) {
    *info_out = std::move(info);
  }
  return image;
}

std::vector<std::uint8_t> encode_jpeg(const Image& image, const EncodeOptions& options) {
  Compressor compressor;
  tjhandle handle = compressor.get();
  int flags = options.progressive ? TJFLAG_PROGRESSIVE : 0;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  int status = 0;
  if (options.grayscale) {
    std::vector<std::uint8_t> gray(std::size_t(image.width) * image.height);
    for (std::size_t i = 0; i < gray.size(); ++i) {
      gray[i] = image.pixels[i * 3];
    }
    status = tjCompress2(handle, gray.data(), image.width, 0, image.height, TJPF_GRAY, &buffer,
                         &size, TJSAMP_GRAY, options.quality, flags);
  } else {
    status = tjCompress2(handle, image.pixels.data(), image.width, 0, image.height, TJPF_RGB,
                         &buffer, &size, TJSAMP_420, options.quality, flags);
  }
  if (status != 0) {
    std::string message = tjGetErrorStr2(handle);
    tjFree(buffer);
    throw Error(fmt::format("encoding a {}x{} JPEG failed: {}", image.width, image.height, message));
  }
  return take_buffer(buffer, size);
}

std::vector<std::uint8_t> encode_cmyk_jpeg(const std::uint8_t* cmyk, int width, int height,
                                           int quality) {
  Compressor compressor;
  tjhandle handle = compressor.get();
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  if (tjCompress2(handle, cmyk, width, 0, height, TJPF_CMYK, &buffer, &size, TJSAMP_444, quality,
                  0) != 0) {
    std::string message = tjGetErrorStr2(handle);
    tjFree(buffer);
    throw Error(fmt::format("encoding a {}x{} CMYK JPEG failed: {}", width, height, message));
  }
  return take_buffer(buffer, size);
}

}  // namespace didicm
