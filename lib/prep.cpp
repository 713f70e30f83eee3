#include "prep.h"

#include "atomic_file.h"
#include "dataset.h"
#include "errors.h"
#include "idx.h"
#include "image_file.h"
#include "image_listing.h"
#include "jpeg.h"
#include "logging.h"
#include "progress.h"
#include "resize.h"
#include "subset.h"
#include "version.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sys/resource.h>
#include <thread>
#include <unordered_map>

namespace didicm {
namespace {

namespace fs = std::filesystem;

// One image to produce: from a file, or from row `idx_index` of IDX data.
struct WorkItem {
  std::string path;
  std::string source;
  std::int32_t label = 0;
  std::int64_t idx_index = -1;
};

struct Input {
  std::string kind;  // tree, flat or idx
  std::vector<std::string> classes;
  std::vector<WorkItem> items;
  std::vector<SkippedFile> missing;
  std::optional<IdxDataset> idx;
};

// The transform applied to every image, fixed before decoding starts.
struct Transform {
  bool resize = true;  // false: IDX at native size, copied as is
  int short_side = 0;  // shorter side after resizing
  int crop = 0;        // stored square side
  ResizeFilter filter = ResizeFilter::bilinear;
  DecodeOptions decode;
  bool encode_jpeg = false;
  int jpeg_quality = 90;
};

bool is_idx_folder(const std::string& folder) {
  std::error_code error;
  for (const char* split : {"train", "t10k"}) {
    for (const char* suffix : {"", ".gz"}) {
      if (fs::exists(fmt::format("{}/{}-images-idx3-ubyte{}", folder, split, suffix), error)) {
        return true;
      }
    }
  }
  return false;
}

std::string input_kind(const PrepOptions& options) {
  if (!options.idx_images.empty() || !options.idx_labels.empty()) {
    return "idx";
  }
  if (!options.labels.empty()) {
    return "flat";
  }
  return is_idx_folder(options.input) ? "idx" : "tree";
}

Input read_idx_input(const PrepOptions& options) {
  std::string images = options.idx_images;
  std::string labels = options.idx_labels;
  if (images.empty()) {
    if (options.split != "train" && options.split != "t10k") {
      throw UsageError(fmt::format("{}: contains IDX files; select the split with --split train or --split t10k",
                                   options.input));
    }
    std::tie(images, labels) = idx_split_files(options.input, options.split);
  }

  Input input;
  input.kind = "idx";
  input.idx = read_idx(images, labels);
  bool fashion = options.idx_names == "fashion-mnist" ||
                 (options.idx_names == "auto" && looks_like_fashion_mnist(fs::absolute(images).string()));
  input.classes = fashion ? fashion_mnist_classes() : digit_classes();

  auto num_classes = static_cast<std::int32_t>(input.classes.size());
  std::string name = fs::path(images).filename().string();
  for (std::int64_t i = 0; i < input.idx->count; ++i) {
    std::int32_t label = input.idx->labels[static_cast<std::size_t>(i)];
    if (label < 0 || label >= num_classes) {
      throw Error(fmt::format("{}: label {} of item {} is outside 0..{}; is it the label file of an "
                              "MNIST-style dataset?",
                              labels, label, i, num_classes - 1));
    }
    input.items.push_back({images, fmt::format("{}#{}", name, i), label, i});
  }
  // Output order is class, then item: stable sort keeps file order within a class.
  std::stable_sort(input.items.begin(), input.items.end(),
                   [](const WorkItem& a, const WorkItem& b) { return a.label < b.label; });
  return input;
}

Input read_folder_input(const PrepOptions& options, const std::string& kind) {
  std::optional<std::vector<std::string>> class_list;
  if (!options.class_list.empty()) {
    class_list = read_class_list(options.class_list);
  }
  ImageListing listing = kind == "tree" ? list_class_tree(options.input, class_list)
                                        : list_flat_folder(options.input, options.labels, class_list);
  Input input;
  input.kind = kind;
  input.classes = listing.classes;
  input.missing = listing.missing;
  for (auto& entry : listing.entries) {
    input.items.push_back({entry.path, entry.source, entry.label, -1});
  }
  return input;
}

// --classes K|FILE: keeps the first K classes or the listed ones, in label
// order, and renumbers the labels.
void select_classes(Input& input, const std::string& selection) {
  if (selection.empty()) {
    return;
  }
  std::vector<bool> keep(input.classes.size(), false);
  bool is_count = std::all_of(selection.begin(), selection.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (is_count) {
    std::size_t count = std::stoul(selection);
    if (count == 0 || count > input.classes.size()) {
      throw UsageError(fmt::format("--classes {}: the input has {} classes; give 1..{}", selection,
                                   input.classes.size(), input.classes.size()));
    }
    std::fill(keep.begin(), keep.begin() + static_cast<std::ptrdiff_t>(count), true);
  } else {
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < input.classes.size(); ++i) {
      index[input.classes[i]] = i;
    }
    for (const auto& name : read_class_list(selection)) {
      auto found = index.find(name);
      if (found == index.end()) {
        throw Error(fmt::format("{}: class '{}' is not a class of the input; check its spelling "
                                "against the input's class names",
                                selection, name));
      }
      keep[found->second] = true;
    }
  }

  std::vector<std::int32_t> new_label(input.classes.size(), -1);
  std::vector<std::string> classes;
  for (std::size_t i = 0; i < input.classes.size(); ++i) {
    if (keep[i]) {
      new_label[i] = static_cast<std::int32_t>(classes.size());
      classes.push_back(input.classes[i]);
    }
  }
  std::vector<WorkItem> items;
  for (auto& item : input.items) {
    if (new_label[static_cast<std::size_t>(item.label)] >= 0) {
      item.label = new_label[static_cast<std::size_t>(item.label)];
      items.push_back(std::move(item));
    }
  }
  input.classes = std::move(classes);
  input.items = std::move(items);
}

void select_subset(Input& input, const PrepOptions& options) {
  if (options.ratio >= 1.0 && options.max_per_class == 0) {
    return;
  }
  std::vector<std::int32_t> labels;
  for (const auto& item : input.items) {
    labels.push_back(item.label);
  }
  SubsetOptions subset{options.ratio, static_cast<std::uint64_t>(options.seed), options.max_per_class};
  std::vector<WorkItem> items;
  for (std::int64_t index : choose_subset(labels, input.classes, subset)) {
    items.push_back(std::move(input.items[static_cast<std::size_t>(index)]));
  }
  log_debug("subset: kept {} of {} images (--ratio {}, --seed {}, --max-per-class {})",
            items.size(), input.items.size(), options.ratio, options.seed, options.max_per_class);
  input.items = std::move(items);
}

Transform make_transform(const PrepOptions& options, const Input& input) {
  Transform transform;
  transform.filter = parse_resize_filter(options.filter);
  transform.encode_jpeg = options.store == "jpeg";
  transform.jpeg_quality = options.jpeg_quality;
  if (input.kind == "idx" && options.size == 0) {
    if (input.idx->rows != input.idx->columns) {
      throw UsageError(fmt::format("IDX images are {}x{}, not square; give --size",
                                   input.idx->columns, input.idx->rows));
    }
    transform.resize = false;
    transform.crop = input.idx->rows;
    return transform;
  }
  // With --store-size the whole central square is kept (no crop_pct margin),
  // so that a loader can still take random crops or the evaluation crop.
  if (options.store_size > 0) {
    transform.short_side = options.store_size;
    transform.crop = options.store_size;
  } else {
    transform.short_side = resize_short_side(options.size, options.crop_pct);
    transform.crop = options.size;
  }
  transform.decode.target_short_side = transform.short_side;
  transform.decode.scaled_decode = options.scaled_decode;
  transform.decode.apply_exif_orientation = options.exif_orientation;
  return transform;
}

Image load_item(const WorkItem& item, const Input& input, const Transform& transform,
                std::vector<std::string>& warnings) {
  Image image;
  if (item.idx_index >= 0) {
    const IdxDataset& idx = *input.idx;
    image = Image(idx.columns, idx.rows);
    const std::uint8_t* gray = idx.images.data() + std::size_t(item.idx_index) * idx.rows * idx.columns;
    for (std::size_t i = 0; i < std::size_t(idx.rows) * idx.columns; ++i) {
      std::memset(image.pixels.data() + i * 3, gray[i], 3);
    }
  } else {
    image = decode_image(read_file_bytes(item.path), transform.decode, &warnings);
  }
  if (!transform.resize) {
    return image;
  }
  CropGeometry geometry = center_crop_geometry(image.width, image.height, transform.short_side, transform.crop);
  return resize_and_crop(image, geometry, transform.filter);
}

// One batch of consecutive work items, filled by the workers.
struct Batch {
  std::size_t first = 0;
  std::size_t count = 0;
  std::vector<std::uint8_t> pixels;              // raw store: count images
  std::vector<std::vector<std::uint8_t>> jpegs;  // jpeg store
  std::vector<std::string> errors;               // empty string: image is fine
  std::vector<std::vector<std::string>> warnings;
};

constexpr std::size_t batch_size = 256;

void fill_batch(Batch& batch, const Input& input, const Transform& transform, int threads,
                Progress& progress) {
  std::size_t image_bytes = std::size_t(transform.crop) * transform.crop * 3;
  batch.pixels.resize(batch.count * image_bytes);
  batch.jpegs.assign(batch.count, {});
  batch.errors.assign(batch.count, {});
  batch.warnings.assign(batch.count, {});

  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t slot = next++; slot < batch.count; slot = next++) {
      const WorkItem& item = input.items[batch.first + slot];
      try {
        Image image = load_item(item, input, transform, batch.warnings[slot]);
        if (transform.encode_jpeg) {
          batch.jpegs[slot] = encode_jpeg(image, {transform.jpeg_quality, false, false});
        } else {
          std::memcpy(batch.pixels.data() + slot * image_bytes, image.pixels.data(), image_bytes);
        }
      } catch (const Error& e) {
        batch.errors[slot] = e.what();
      } catch (const std::bad_alloc&) {
        batch.errors[slot] = "out of memory while decoding";
      }
      progress.advance();
    }
  };
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) {
    workers.emplace_back(work);
  }
  work();
  for (auto& worker : workers) {
    worker.join();
  }
}

struct Collected {
  std::vector<std::int32_t> labels;
  std::vector<std::string> sources;
  std::vector<SkippedFile> skipped;
};

// Writes the good images of a batch in order; handles bad ones.
void write_batch(Batch& batch, const Input& input, const Transform& transform, bool skip_bad,
                 DatasetWriter& writer, Collected& collected) {
  std::size_t image_bytes = std::size_t(transform.crop) * transform.crop * 3;
  std::size_t good = 0;
  std::vector<std::vector<std::uint8_t>> jpegs;
  for (std::size_t slot = 0; slot < batch.count; ++slot) {
    const WorkItem& item = input.items[batch.first + slot];
    for (const auto& warning : batch.warnings[slot]) {
      log_warning("{}: {} (image kept)", item.path, warning);
    }
    if (!batch.errors[slot].empty()) {
      if (!skip_bad) {
        throw Error(fmt::format("{}: {} (--skip-bad skips bad files)", item.path, batch.errors[slot]));
      }
      log_warning("{}: {} (skipped)", item.path, batch.errors[slot]);
      collected.skipped.push_back({item.source, batch.errors[slot]});
      continue;
    }
    if (transform.encode_jpeg) {
      jpegs.push_back(std::move(batch.jpegs[slot]));
    } else if (good != slot) {
      std::memmove(batch.pixels.data() + good * image_bytes, batch.pixels.data() + slot * image_bytes,
                   image_bytes);
    }
    collected.labels.push_back(item.label);
    collected.sources.push_back(item.source);
    ++good;
  }
  if (transform.encode_jpeg) {
    writer.append_jpeg(jpegs);
  } else {
    writer.append_raw(batch.pixels.data(), static_cast<std::int64_t>(good));
  }
}

void log_transform(const Transform& transform, const PrepOptions& options) {
  if (!transform.resize) {
    log_debug("images kept at {}x{}, store {}", transform.crop, transform.crop, options.store);
    return;
  }
  log_debug("decode {}, resize the short side to {} ({} filter), center crop {}x{}, store {}, "
            "{} threads",
            options.scaled_decode ? "with DCT scaling" : "at full size", transform.short_side,
            resize_filter_name(transform.filter), transform.crop, transform.crop, options.store,
            std::max(1, options.threads));
}

void log_class_counts(const Input& input) {
  std::vector<std::int64_t> counts(input.classes.size(), 0);
  for (const auto& item : input.items) {
    ++counts[static_cast<std::size_t>(item.label)];
  }
  for (std::size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] == 0) {
      log_warning("class '{}' (label {}) has no images", input.classes[c], c);
    }
    log_debug("class '{}' (label {}): {} images", input.classes[c], c, counts[c]);
  }
  auto [low, high] = std::minmax_element(counts.begin(), counts.end());
  log_info("{} images in {} classes ({} to {} per class)", input.items.size(), input.classes.size(),
           counts.empty() ? 0 : *low, counts.empty() ? 0 : *high);
}

void validate_inputs(const PrepOptions& options) {
  if (options.output.empty()) {
    throw UsageError("give the output file with -o/--output");
  }
  bool idx_files = !options.idx_images.empty() || !options.idx_labels.empty();
  if (idx_files && (options.idx_images.empty() || options.idx_labels.empty())) {
    throw UsageError("IDX input needs both --idx-images and --idx-labels");
  }
  if (idx_files && (!options.input.empty() || !options.labels.empty())) {
    throw UsageError("give either IDX files or an input folder, not both");
  }
  if (!idx_files && options.input.empty()) {
    throw UsageError("give the input folder (ROOT) or --idx-images and --idx-labels");
  }
  if (!options.class_list.empty() && input_kind(options) == "idx") {
    throw UsageError("--class-list applies to image folders; IDX classes come from --idx-names");
  }
  if (options.idx_names != "auto" && options.idx_names != "fashion-mnist" && options.idx_names != "digits") {
    throw UsageError(fmt::format("--idx-names {}: use auto, fashion-mnist or digits", options.idx_names));
  }
}

void validate_transform(const PrepOptions& options) {
  if (input_kind(options) != "idx" && options.size <= 0) {
    throw UsageError("--size is required for image folders (for example --size 224)");
  }
  if (options.size < 0 || options.store_size < 0) {
    throw UsageError("--size and --store-size must be positive");
  }
  if (options.store_size > 0 && options.store_size < options.size) {
    throw UsageError(fmt::format("--store-size {} is smaller than --size {}", options.store_size, options.size));
  }
  if (options.store_size > 0 && options.size == 0) {
    throw UsageError("--store-size needs --size");
  }
  if (!(options.crop_pct > 0.0 && options.crop_pct <= 1.0)) {
    throw UsageError(fmt::format("--crop-pct {}: must be in (0, 1]", options.crop_pct));
  }
  parse_resize_filter(options.filter);
}

void validate_output(const PrepOptions& options) {
  if (!(options.ratio > 0.0 && options.ratio <= 1.0)) {
    throw UsageError(fmt::format("--ratio {}: must be in (0, 1]", options.ratio));
  }
  if (options.max_per_class < 0) {
    throw UsageError("--max-per-class must be positive");
  }
  if (options.store != "raw" && options.store != "jpeg") {
    throw UsageError(fmt::format("--store {}: use raw or jpeg", options.store));
  }
  if (options.jpeg_quality < 1 || options.jpeg_quality > 100) {
    throw UsageError(fmt::format("--jpeg-quality {}: must be in 1..100", options.jpeg_quality));
  }
  if (options.gzip_level < 0 || options.gzip_level > 9) {
    throw UsageError(fmt::format("--gzip {}: must be in 0..9", options.gzip_level));
  }
  if (options.gzip_level > 0 && options.store != "raw") {
    throw UsageError("--gzip applies to --store raw only");
  }
}

// User plus system CPU time of the whole process, in seconds.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& time) { return double(time.tv_sec) + time.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The message for an input with no image to write. `listed` counts the images
// before --ratio, which is the only subset option that can keep none of them.
std::string no_images_message(const PrepOptions& options, const std::string& kind,
                              std::size_t listed) {
  const std::string& input = kind == "idx" ? options.idx_images : options.input;
  if (listed > 0) {
    return fmt::format("{}: no images left: --ratio {} keeps none of the {} images; raise --ratio",
                       input, options.ratio, listed);
  }
  if (kind == "idx") {
    return fmt::format("{}: no images found", input);
  }
  return fmt::format("{}: no images found; expected JPEG or PNG files in one subfolder per class, "
                     "or a flat folder with --labels",
                     input);
}

}  // namespace

void validate_prep_options(const PrepOptions& options) {
  validate_inputs(options);
  validate_transform(options);
  validate_output(options);
}

std::string PrepSummary::to_json() const {
  double rate = seconds > 0.0 ? double(images) / seconds : 0.0;
  std::string escaped;
  for (char c : output) {
    if (c == '"' || c == '\\') {
      escaped += '\\';
    }
    escaped += c;
  }
  return fmt::format(
      "{{\"output\": \"{}\", \"images\": {}, \"classes\": {}, \"skipped\": {}, \"bytes\": {}, "
      "\"seconds\": {:.3f}, \"cpu_seconds\": {:.3f}, \"images_per_second\": {:.1f}}}",
      escaped, images, classes, skipped, bytes, seconds, cpu_seconds, rate);
}

PrepSummary run_prep(const PrepOptions& options) {
  validate_prep_options(options);
  check_output_path(options.output, options.force);
  auto start = std::chrono::steady_clock::now();
  double start_cpu = process_cpu_seconds();

  std::string kind = input_kind(options);
  Input input = kind == "idx" ? read_idx_input(options) : read_folder_input(options, kind);
  select_classes(input, options.classes);
  const std::size_t listed = input.items.size();
  select_subset(input, options);
  Transform transform = make_transform(options, input);
  log_transform(transform, options);
  log_class_counts(input);
  if (input.items.empty()) {
    throw Error(no_images_message(options, kind, listed));
  }

  Collected collected;
  for (const auto& missing : input.missing) {
    if (!options.skip_bad) {
      throw Error(fmt::format("{}: {} (--skip-bad skips missing files)", missing.source, missing.reason));
    }
    log_warning("{}: {} (skipped)", missing.source, missing.reason);
    collected.skipped.push_back(missing);
  }

  AtomicFile file(options.output, options.force);
  DatasetWriter writer(file.temp_path(), static_cast<std::int64_t>(input.items.size()), transform.crop,
                       options.store, options.gzip_level);
  Progress progress("prep", static_cast<std::int64_t>(input.items.size()));
  int threads = std::max(1, options.threads);

  // Decode batch k + 1 on the workers while the main thread writes batch k.
  Batch batches[2];
  std::size_t total = input.items.size();
  std::size_t batch_count = (total + batch_size - 1) / batch_size;
  for (std::size_t k = 0; k <= batch_count; ++k) {
    std::thread filler;
    if (k < batch_count) {
      Batch& batch = batches[k % 2];
      batch.first = k * batch_size;
      batch.count = std::min(batch_size, total - batch.first);
      filler = std::thread([&, threads] { fill_batch(batch, input, transform, threads, progress); });
    }
    try {
      if (k > 0) {
        write_batch(batches[(k - 1) % 2], input, transform, options.skip_bad, writer, collected);
      }
    } catch (...) {
      if (filler.joinable()) {
        filler.join();
      }
      throw;
    }
    if (filler.joinable()) {
      filler.join();
    }
  }
  progress.finish();

  if (collected.labels.empty()) {
    throw Error(fmt::format("{}: every image was bad; nothing to write (the warnings above name "
                            "each file and its cause)",
                            options.input));
  }

  DatasetAttributes attributes;
  attributes.created_by = fmt::format("didicm-prep {}", version_string);
  attributes.command_line = options.command_line;
  attributes.size = transform.crop;
  attributes.resolution = options.size > 0 ? options.size : transform.crop;
  attributes.split = options.split;
  attributes.ratio = options.ratio;
  attributes.seed = options.seed;
  attributes.crop_pct = options.crop_pct;
  attributes.source_kind = kind;
  attributes.store = options.store;
  attributes.filter = resize_filter_name(transform.filter);
  attributes.scaled_decode = options.scaled_decode;
  attributes.exif_orientation = options.exif_orientation;
  writer.finish(collected.labels, input.classes, collected.sources, collected.skipped, attributes);
  file.commit();

  PrepSummary summary;
  summary.output = options.output;
  summary.images = static_cast<std::int64_t>(collected.labels.size());
  summary.classes = static_cast<std::int64_t>(input.classes.size());
  summary.skipped = static_cast<std::int64_t>(collected.skipped.size());
  std::error_code error;
  summary.bytes = static_cast<std::int64_t>(fs::file_size(options.output, error));
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary.cpu_seconds = process_cpu_seconds() - start_cpu;
  if (!collected.skipped.empty()) {
    log_warning("skipped {} bad files (listed above and in /skipped of {})", collected.skipped.size(),
                options.output);
  }
  return summary;
}

}  // namespace didicm
