// The cost floor of JPEG preparation, in milliseconds per image on one thread.
// Four decodes are timed:
// - entropy decoding alone (libjpeg's jpeg_read_coefficients: Huffman decoding
//   that stores every coefficient, without inverse DCT, upsampling or color
//   conversion);
// - a 1/8 decode to RGB, where libjpeg-turbo parses the AC codes without
//   storing them and keeps only the DC terms: the least work that reads the
//   whole file;
// - TurboJPEG's scaled decode to RGB at the factor didicm-prep picks for a
//   target short side;
// - a full-size decode.
// Every pipeline that reads baseline JPEGs pays the Huffman parse, whatever it
// scales to.
// Prints one Markdown table row on stdout; --header prints the header first.

#include <CLI/CLI.hpp>
#include <jpeglib.h>
#include <turbojpeg.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<unsigned char>;

std::vector<Bytes> read_files(const std::string& root) {
  std::vector<Bytes> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) {
      std::ifstream input(entry.path(), std::ios::binary);
      files.emplace_back(std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>());
    }
  }
  return files;
}

void entropy_decode(const Bytes& file) {
  jpeg_decompress_struct info;
  jpeg_error_mgr errors;
  info.err = jpeg_std_error(&errors);
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, file.data(), file.size());
  jpeg_read_header(&info, TRUE);
  jpeg_read_coefficients(&info);
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
}

// Returns the smallest TurboJPEG scaling factor whose scaled short side still
// covers `short_side`, as didicm-prep chooses it, or 1/1 when none is smaller.
tjscalingfactor covering_factor(int width, int height, int short_side) {
  int count = 0;
  tjscalingfactor* factors = tjGetScalingFactors(&count);
  tjscalingfactor best{1, 1};
  for (int i = 0; i < count; ++i) {
    const tjscalingfactor factor = factors[i];
    const int scaled = TJSCALED(std::min(width, height), factor);
    if (scaled >= short_side && factor.num * best.denom < best.num * factor.denom) {
      best = factor;
    }
  }
  return best;
}

// Decodes `file` to RGB at the scaling factor that `choose(width, height)`
// returns.
template <typename Choose>
void rgb_decode(tjhandle handle, const Bytes& file, Choose choose, Bytes& pixels) {
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle, file.data(), file.size(), &width, &height, &subsampling,
                          &colorspace) != 0) {
    throw std::runtime_error(tjGetErrorStr2(handle));
  }
  const tjscalingfactor factor = choose(width, height);
  const int out_width = TJSCALED(width, factor);
  const int out_height = TJSCALED(height, factor);
  pixels.resize(static_cast<std::size_t>(out_width) * out_height * 3);
  if (tjDecompress2(handle, file.data(), file.size(), pixels.data(), out_width, 0, out_height,
                    TJPF_RGB, 0) != 0) {
    throw std::runtime_error(tjGetErrorStr2(handle));
  }
}

// Times `rounds` passes over every file and returns the best, in milliseconds
// per image.
template <typename Call>
double best_ms_per_image(const std::vector<Bytes>& files, int rounds, Call call) {
  double best = 1e30;
  for (int round = 0; round < rounds; ++round) {
    const auto start = std::chrono::steady_clock::now();
    for (const Bytes& file : files) {
      call(file);
    }
    const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count() / static_cast<double>(files.size()));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("JPEG decoding benchmark: entropy decoding alone against 1/8, scaled and full decodes");
  std::string root;
  int size = 56;
  double crop_pct = 0.875;
  int rounds = 3;
  bool header = false;
  app.add_option("root", root, "Folder of JPEG files (searched recursively)")->required();
  app.add_option("--size", size, "didicm-prep's --size (default: 56)");
  app.add_option("--crop-pct", crop_pct, "didicm-prep's --crop-pct (default: 0.875)");
  app.add_option("--rounds", rounds, "Passes over the files; the best counts (default: 3)");
  app.add_flag("--header", header, "Print the table header first");
  CLI11_PARSE(app, argc, argv);

  const std::vector<Bytes> files = read_files(root);
  if (files.empty()) {
    std::fprintf(stderr, "bench_jpeg_decode: %s: no files found\n", root.c_str());
    return 1;
  }
  const int short_side = static_cast<int>(std::lround(size / crop_pct));

  tjhandle handle = tjInitDecompress();
  Bytes pixels;
  const auto time_decode = [&](auto choose) {
    return best_ms_per_image(files, rounds,
                             [&](const Bytes& file) { rgb_decode(handle, file, choose, pixels); });
  };
  const double entropy = best_ms_per_image(files, rounds, entropy_decode);
  const double dc_only = time_decode([](int, int) { return tjscalingfactor{1, 8}; });
  const double scaled = time_decode(
      [&](int width, int height) { return covering_factor(width, height, short_side); });
  const double full = time_decode([](int, int) { return tjscalingfactor{1, 1}; });
  tjDestroy(handle);

  if (header) {
    std::printf("| --size | images | entropy decoding ms | 1/8 decode ms | scaled decode ms |"
                " full decode ms |\n");
    std::printf("|---|---|---|---|---|---|\n");
  }
  std::printf("| %d | %zu | %.3f | %.3f | %.3f | %.3f |\n", size, files.size(), entropy, dc_only,
              scaled, full);
  return 0;
}
