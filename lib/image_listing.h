#pragma once

// Finding the images of a class-folder tree or of a flat folder with a label
// file, and the class list that fixes label ids.

#include "dataset.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace didicm {

struct ImageEntry {
  std::string path;    // as opened: input folder + source
  std::string source;  // relative to the input folder, stored in /sources
  std::int32_t label = 0;
};

struct ImageListing {
  std::vector<std::string> classes;  // index = label id
  std::vector<ImageEntry> entries;   // sorted by label, then source (byte-wise)
  std::vector<SkippedFile> missing;  // listed in a label file but absent
};

// True for names ending in .jpg, .jpeg, .jpe or .png, in any case. The format
// itself is found from the file's first bytes when it is decoded.
bool has_image_extension(const std::string& name);

// Reads one class id per line (surrounding blanks and blank lines ignored).
// Throws Error on a duplicate, naming the line.
std::vector<std::string> read_class_list(const std::string& path);

// Lists ROOT/<class>/**/<image>. Class ids are the folder names in byte-wise
// sorted order, as torchvision's ImageFolder sorts them, so "10" sorts before
// "2". A `class_list` fixes another order. A folder missing from the list is an
// error, and a listed class without a folder or without images is kept with
// no images. Folders are walked recursively and symbolic links followed.
ImageListing list_class_tree(const std::string& root,
                             const std::optional<std::vector<std::string>>& class_list);

// A flat folder plus a CSV label file: "filename,class" lines, or the Kaggle
// ImageNet "ImageId,PredictionString" file, whose PredictionString starts
// with the WordNet id. An id without extension matches a file of that stem
// with an image extension. Classes are the sorted distinct labels, or
// `class_list`. Files of the folder missing from the CSV are ignored (and
// counted in a log line); CSV rows without a file go to `missing`.
ImageListing list_flat_folder(const std::string& folder, const std::string& labels_path,
                              const std::optional<std::vector<std::string>>& class_list);

}  // namespace didicm
