// didicm-prep: make a dataset file from an image folder or IDX files.

#include "prep.h"
#include "tool.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

int main(int argc, char** argv) {
  didicm::PrepOptions options;
  std::string command_line;
  for (int i = 0; i < argc; ++i) {
    command_line += (i > 0 ? " " : "") + std::string(argv[i]);
  }

  auto define = [&](CLI::App& app) {
    app.add_option("ROOT", options.input,
                   "Class-folder tree ROOT/<class>/<image>, a flat folder (with --labels), or a "
                   "folder of IDX files (with --split train|t10k)");
    app.add_option("-o,--output", options.output, "Dataset file to write (HDF5)")->required();
    app.add_flag("--force", options.force, "Overwrite an existing output file");
    app.add_option("--labels", options.labels,
                   "CSV for a flat folder: 'filename,class' lines or Kaggle 'ImageId,PredictionString'");
    app.add_option("--idx-images", options.idx_images, "IDX image file (gzip or plain)");
    app.add_option("--idx-labels", options.idx_labels, "IDX label file (gzip or plain)");
    app.add_option("--idx-names", options.idx_names,
                   "IDX class names: fashion-mnist, digits, or auto (Fashion-MNIST names when the "
                   "image path contains 'fashion') (default: auto)");
    app.add_option("--size", options.size,
                   "Output side in pixels: shorter side resized to round(size / crop-pct), then the "
                   "center size x size crop (required for image folders; IDX default: native 28)");
    app.add_option("--store-size", options.store_size,
                   "Store the central square at this side instead, for random crops at training "
                   "time (pixels, >= --size; default: --size)");
    app.add_option("--crop-pct", options.crop_pct, "Center crop fraction (default: 0.875)");
    app.add_option("--filter", options.filter, "Resize filter: bilinear or bicubic (default: bilinear)");
    app.add_option("--store", options.store,
                   "raw (uint8 N x S x S x 3) or jpeg (re-encoded, decoded at load time) (default: raw)");
    app.add_option("--jpeg-quality", options.jpeg_quality, "JPEG quality for --store jpeg (default: 90)");
    app.add_option("--gzip", options.gzip_level, "gzip level 1-9 for --store raw (default: 0, none)");
    app.add_option("--class-list", options.class_list,
                   "File with one class id per line: fixes label order; every class folder must be listed");
    app.add_option("--classes", options.classes, "Keep the first K classes, or the classes listed in FILE");
    app.add_option("--ratio", options.ratio, "Keep floor(n_c * ratio) images of every class (default: 1)");
    app.add_option("--seed", options.seed, "Seed of the subset permutation (default: 0)");
    app.add_option("--max-per-class", options.max_per_class, "Keep at most this many images per class (default: 0, all)");
    app.add_flag("--skip-bad", options.skip_bad,
                 "Skip unreadable or broken images, list them on stderr and in /skipped (default: stop)");
    app.add_flag("--exif-orientation", options.exif_orientation,
                 "Rotate images as their EXIF orientation says (default: ignore it, as torchvision does)");
    app.add_flag_callback("--no-scaled-decode", [&options] { options.scaled_decode = false; },
                 "Decode JPEGs at full size, then resize (slower; for comparisons)");
    app.add_option("--split", options.split,
                   "Split name stored in the file; for an IDX folder: train or t10k");
  };

  auto run = [&] {
    options.threads = didicm::worker_threads();
    options.command_line = command_line;
    didicm::PrepSummary summary = didicm::run_prep(options);
    std::printf("%s\n", summary.to_json().c_str());
    return 0;
  };

  return didicm::run_tool(argc, argv, "didicm-prep",
                          "Make a didicm dataset file (HDF5) from an image folder or IDX files.",
                          define, run);
}
