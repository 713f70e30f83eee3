#include "image_listing.h"

#include "errors.h"
#include "logging.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

namespace didicm {
namespace {

namespace fs = std::filesystem;

std::string to_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(const std::string& text) {
  std::size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) {
    return "";
  }
  std::size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

std::string unquote(const std::string& text) {
  std::string value = trim(text);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    return value.substr(1, value.size() - 2);
  }
  return value;
}

// Maps class ids to label ids, either from a fixed list or from the sorted ids found.
std::vector<std::string> resolve_classes(std::vector<std::string> found,
                                         const std::optional<std::vector<std::string>>& class_list) {
  if (class_list) {
    return *class_list;
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

// Image files under `folder`, as paths relative to `base`, sorted byte-wise.
std::vector<std::string> find_images(const fs::path& folder, const fs::path& base) {
  std::vector<std::string> names;
  std::error_code error;
  auto options = fs::directory_options::follow_directory_symlink;
  fs::recursive_directory_iterator it(folder, options, error);
  if (error) {
    throw Error(fmt::format("{}: cannot list folder: {}", folder.string(), error.message()));
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) {
      throw Error(fmt::format("{}: cannot list folder: {}", folder.string(), error.message()));
    }
    std::error_code status_error;
    // A dangling link is kept: it fails later as an unreadable image.
    if (it->is_directory(status_error)) {
      continue;
    }
    if (has_image_extension(it->path().filename().string())) {
      names.push_back(it->path().lexically_relative(base).string());
    }
  }
  if (error) {
    throw Error(fmt::format("{}: cannot list folder: {}", folder.string(), error.message()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

bool has_image_extension(const std::string& name) {
  std::string extension = to_lower(fs::path(name).extension().string());
  return extension == ".jpg" || extension == ".jpeg" || extension == ".jpe" || extension == ".png";
}

std::vector<std::string> read_class_list(const std::string& path) {
  std::ifstream stream(path);
  if (!stream) {
    throw Error(fmt::format("{}: cannot open class list; check the path", path));
  }
  std::vector<std::string> classes;
  std::map<std::string, int> seen;
  std::string line;
  int number = 0;
  while (std::getline(stream, line)) {
    ++number;
    std::string name = trim(line);
    if (name.empty()) {
      continue;
    }
    auto [it, inserted] = seen.emplace(name, number);
    if (!inserted) {
      throw Error(fmt::format("{}:{}: class '{}' is listed twice (first on line {}); remove one "
                              "of the two lines",
                              path, number, name, it->second));
    }
    classes.push_back(name);
  }
  if (classes.empty()) {
    throw Error(fmt::format("{}: class list is empty; write one class name per line", path));
  }
  return classes;
}

ImageListing list_class_tree(const std::string& root,
                             const std::optional<std::vector<std::string>>& class_list) {
  std::error_code error;
  if (!fs::is_directory(root, error)) {
    throw Error(fmt::format("{}: input folder not found; check the path", root));
  }

  std::vector<std::string> folders;
  int loose_files = 0;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    std::error_code status_error;
    if (entry.is_directory(status_error)) {
      folders.push_back(entry.path().filename().string());
    } else if (has_image_extension(entry.path().filename().string())) {
      ++loose_files;
    }
  }
  if (error) {
    throw Error(fmt::format("{}: cannot list folder: {}", root, error.message()));
  }
  if (loose_files > 0) {
    log_warning("{}: ignoring {} image files outside class folders (a flat folder needs --labels)",
                root, loose_files);
  }

  ImageListing listing;
  listing.classes = resolve_classes(folders, class_list);
  std::unordered_map<std::string, std::int32_t> label_of;
  for (std::size_t i = 0; i < listing.classes.size(); ++i) {
    label_of[listing.classes[i]] = static_cast<std::int32_t>(i);
  }
  for (const auto& folder : folders) {
    if (label_of.count(folder) == 0) {
      throw Error(fmt::format("{}/{}: class folder is not in the class list; add '{}' to the "
                              "--class-list file or move the folder away",
                              root, folder, folder));
    }
  }

  fs::path base(root);
  for (std::size_t label = 0; label < listing.classes.size(); ++label) {
    fs::path folder = base / listing.classes[label];
    if (!fs::is_directory(folder, error)) {
      continue;  // a listed class this split lacks
    }
    for (auto& source : find_images(folder, base)) {
      listing.entries.push_back({(base / source).string(), source, static_cast<std::int32_t>(label)});
    }
  }
  return listing;
}

ImageListing list_flat_folder(const std::string& folder, const std::string& labels_path,
                              const std::optional<std::vector<std::string>>& class_list) {
  std::error_code error;
  if (!fs::is_directory(folder, error)) {
    throw Error(fmt::format("{}: input folder not found; check the path", folder));
  }

  // Files of the folder, by name and by stem (for ids without extension).
  std::set<std::string> names;
  std::unordered_map<std::string, std::string> name_of_stem;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    std::string name = entry.path().filename().string();
    std::error_code status_error;
    if (!entry.is_directory(status_error) && has_image_extension(name)) {
      names.insert(name);
      name_of_stem.emplace(entry.path().stem().string(), name);
    }
  }

  std::ifstream stream(labels_path);
  if (!stream) {
    throw Error(fmt::format("{}: cannot open label file; check the --labels path", labels_path));
  }
  struct Row {
    std::string name;
    std::string class_id;
    int line;
  };
  std::vector<Row> rows;
  std::string line;
  int number = 0;
  bool kaggle = false;
  while (std::getline(stream, line)) {
    ++number;
    if (trim(line).empty()) {
      continue;
    }
    std::size_t comma = line.find(',');
    if (comma == std::string::npos) {
      throw Error(fmt::format("{}:{}: expected 'filename,class', found '{}'", labels_path, number, trim(line)));
    }
    std::string first = unquote(line.substr(0, comma));
    std::string second = unquote(line.substr(comma + 1));
    if (number == 1 || rows.empty()) {
      std::string header = to_lower(first);
      if (header == "imageid" && to_lower(second) == "predictionstring") {
        kaggle = true;
        continue;
      }
      if (header == "filename" || header == "file" || header == "path" || header == "image") {
        continue;
      }
    }
    if (kaggle) {
      // "n01751748 0 0 100 100 n01751748 ...": the first token is the class.
      second = second.substr(0, second.find(' '));
    }
    if (first.empty() || second.empty()) {
      throw Error(fmt::format("{}:{}: empty file name or class in '{}'", labels_path, number, trim(line)));
    }
    rows.push_back({first, second, number});
  }

  ImageListing listing;
  std::vector<std::string> found;
  for (const auto& row : rows) {
    found.push_back(row.class_id);
  }
  listing.classes = resolve_classes(found, class_list);
  std::unordered_map<std::string, std::int32_t> label_of;
  for (std::size_t i = 0; i < listing.classes.size(); ++i) {
    label_of[listing.classes[i]] = static_cast<std::int32_t>(i);
  }

  std::map<std::string, int> used;
  for (const auto& row : rows) {
    auto label = label_of.find(row.class_id);
    if (label == label_of.end()) {
      throw Error(fmt::format("{}:{}: class '{}' is not in the class list; add it to the "
                              "--class-list file",
                              labels_path, row.line, row.class_id));
    }
    std::string name = row.name;
    if (names.count(name) == 0) {
      auto by_stem = name_of_stem.find(name);
      if (by_stem == name_of_stem.end()) {
        listing.missing.push_back({name, fmt::format("listed in {} line {} but not found", labels_path, row.line)});
        continue;
      }
      name = by_stem->second;
    }
    auto [it, inserted] = used.emplace(name, row.line);
    if (!inserted) {
      throw Error(fmt::format("{}:{}: '{}' is listed twice (first on line {}); remove one of the "
                              "two lines",
                              labels_path, row.line, row.name, it->second));
    }
    listing.entries.push_back({(fs::path(folder) / name).string(), name, label->second});
  }

  std::size_t unlabeled = names.size() - used.size();
  if (unlabeled > 0) {
    log_info("{}: ignoring {} image files not listed in {}", folder, unlabeled, labels_path);
  }
  std::sort(listing.entries.begin(), listing.entries.end(), [](const ImageEntry& a, const ImageEntry& b) {
    return a.label != b.label ? a.label < b.label : a.source < b.source;
  });
  return listing;
}

}  // namespace didicm
