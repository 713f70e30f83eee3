// Writes odd and ordinary test images for the CLI tests and benchmarks.
//
//   didicm-test-images jpeg OUT W H [gray|progressive|photo] [QUALITY]
//   didicm-test-images ycck-cyan OUT W H     (TurboJPEG: YCCK with Adobe marker)
//   didicm-test-images cmyk-cyan OUT W H     (libjpeg: plain CMYK with Adobe marker)
//   didicm-test-images png OUT W H
//   didicm-test-images photos ROOT CLASSES PER_CLASS W H QUALITY
//   didicm-test-images idx-tree IMAGES LABELS ROOT COUNT

#include "idx.h"
#include "jpeg.h"
#include "png_codec.h"

#include <cstdio>
#include <jpeglib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

using namespace didicm;

namespace {

void save(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream stream(path, std::ios::binary);
  stream.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!stream) {
    throw std::runtime_error(path + ": write failed");
  }
}

// Smooth shapes plus fine luminance texture, like a photograph: most detail
// is in brightness, colour changes slowly. At 500x375 and quality 90 this
// gives files of 90 to 100 KB; ImageNet's training JPEGs average about 110 KB.
Image photo(int width, int height, std::uint32_t seed) {
  Image image(width, height);
  std::uint32_t state = seed * 2654435761U + 1;
  double phase = (seed % 97) * 0.1;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      state = state * 1664525U + 1013904223U;
      double noise = static_cast<int>(state >> 26) - 32;
      std::uint8_t* p = image.at(x, y);
      double u = double(x) / width;
      double v = double(y) / height;
      double base = 128 + 60 * std::sin(6 * u + phase) * std::cos(5 * v - phase) +
                    20 * std::sin(40 * u * v + phase);
      p[0] = static_cast<std::uint8_t>(std::clamp(base + 40 * u + noise, 0.0, 255.0));
      p[1] = static_cast<std::uint8_t>(std::clamp(base - 30 * v + noise, 0.0, 255.0));
      p[2] = static_cast<std::uint8_t>(std::clamp(0.6 * base + 50 + noise, 0.0, 255.0));
    }
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
      p[2] = 100;
    }
  }
  return image;
}

void write_plain_cmyk(const std::string& path, int width, int height) {
  jpeg_compress_struct info;
  jpeg_error_mgr errors;
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  FILE* file = std::fopen(path.c_str(), "wb");
  jpeg_stdio_dest(&info, file);
  info.image_width = static_cast<JDIMENSION>(width);
  info.image_height = static_cast<JDIMENSION>(height);
  info.input_components = 4;
  info.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&info);
  jpeg_set_colorspace(&info, JCS_CMYK);  // stored as CMYK, with an Adobe marker
  jpeg_set_quality(&info, 95, TRUE);
  jpeg_start_compress(&info, TRUE);
  // Adobe-inverted cyan: C stored as 0 (full ink), M, Y, K as 255 (no ink).
  std::vector<JSAMPLE> row(std::size_t(width) * 4);
  for (int x = 0; x < width; ++x) {
    row[x * 4] = 0;
    row[x * 4 + 1] = 255;
    row[x * 4 + 2] = 255;
    row[x * 4 + 3] = 255;
  }
  while (info.next_scanline < info.image_height) {
    JSAMPROW pointer = row.data();
    jpeg_write_scanlines(&info, &pointer, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::fclose(file);
}

int run(int argc, char** argv) {
  std::string command = argc > 1 ? argv[1] : "";
  if (command == "jpeg" && argc >= 5) {
    int width = std::stoi(argv[3]);
    int height = std::stoi(argv[4]);
    std::string style = argc > 5 ? argv[5] : "";
    int quality = argc > 6 ? std::stoi(argv[6]) : 90;
    EncodeOptions options{quality, style == "progressive", style == "gray"};
    Image image = style == "photo" ? photo(width, height, 1) : gradient(width, height);
    if (style == "gray") {
      for (std::size_t i = 0; i < image.pixels.size(); i += 3) {
        image.pixels[i + 1] = image.pixels[i + 2] = image.pixels[i];
      }
    }
    save(argv[2], encode_jpeg(image, options));
  } else if (command == "ycck-cyan" && argc == 5) {
    int width = std::stoi(argv[3]);
    int height = std::stoi(argv[4]);
    std::vector<std::uint8_t> cmyk(std::size_t(width) * height * 4, 255);
    for (std::size_t i = 0; i < cmyk.size(); i += 4) {
      cmyk[i] = 0;
    }
    save(argv[2], encode_cmyk_jpeg(cmyk.data(), width, height, 95));
  } else if (command == "cmyk-cyan" && argc == 5) {
    write_plain_cmyk(argv[2], std::stoi(argv[3]), std::stoi(argv[4]));
  } else if (command == "png" && argc == 5) {
    save(argv[2], encode_png(gradient(std::stoi(argv[3]), std::stoi(argv[4]))));
  } else if (command == "photos" && argc == 8) {
    std::filesystem::path root = argv[2];
    int classes = std::stoi(argv[3]);
    int per_class = std::stoi(argv[4]);
    int quality = std::stoi(argv[7]);
    for (int c = 0; c < classes; ++c) {
      auto folder = root / ("n" + std::to_string(1000000 + c));
      std::filesystem::create_directories(folder);
      for (int i = 0; i < per_class; ++i) {
        Image image = photo(std::stoi(argv[5]), std::stoi(argv[6]), static_cast<std::uint32_t>(c * 1000 + i));
        save((folder / (std::to_string(i) + ".JPEG")).string(), encode_jpeg(image, {quality, false, false}));
      }
    }
  } else if (command == "idx-tree" && argc == 6) {
    // The first COUNT IDX images as ROOT/<label>/<index>.JPEG (quality 95, RGB).
    IdxDataset data = read_idx(argv[2], argv[3]);
    std::filesystem::path root = argv[4];
    std::int64_t count = std::min<std::int64_t>(std::stoll(argv[5]), data.count);
    for (std::int64_t i = 0; i < count; ++i) {
      Image image(data.columns, data.rows);
      const std::uint8_t* gray = data.images.data() + i * data.rows * data.columns;
      for (int p = 0; p < data.rows * data.columns; ++p) {
        std::fill_n(image.pixels.data() + p * 3, 3, gray[p]);
      }
      auto folder = root / std::to_string(data.labels[static_cast<std::size_t>(i)]);
      std::filesystem::create_directories(folder);
      char name[32];
      std::snprintf(name, sizeof(name), "%06lld.JPEG", static_cast<long long>(i));
      save((folder / name).string(), encode_jpeg(image, {95, false, false}));
    }
  } else {
    std::cerr << "usage: see the comment at the top of tests/tools/didicm-test-images.cpp\n";
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "didicm-test-images: " << e.what() << "\n";
    return 1;
  }
}
