#pragma once

// A dataset file as the ImageSource of a DataLoader.

#include "data_loader.h"
#include "dataset.h"

#include <memory>

namespace didicm {

class DatasetSource : public ImageSource {
 public:
  explicit DatasetSource(std::shared_ptr<const DatasetReader> reader) : reader_(std::move(reader)) {}

  std::int64_t size() const override { return reader_->info().count; }
  int image_size() const override { return reader_->info().size; }
  std::int32_t label(std::int64_t index) const override {
    return reader_->labels()[static_cast<std::size_t>(index)];
  }
  void read_image(std::int64_t index, std::uint8_t* out) const override {
    reader_->read_image(index, out);
  }

 private:
  std::shared_ptr<const DatasetReader> reader_;
};

}  // namespace didicm
