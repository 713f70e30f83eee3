#pragma once

// Antialiased image resizing and the evaluation crop (resize the shorter side,
// then take the center square), following PIL's resampling: a separable
// filter whose support is widened by the downscale factor, so that every input
// pixel contributes when shrinking.

#include "image.h"

#include <string>

namespace didicm {

enum class ResizeFilter { bilinear, bicubic };

// "bilinear" or "bicubic"; throws UsageError otherwise.
ResizeFilter parse_resize_filter(const std::string& name);
const char* resize_filter_name(ResizeFilter filter);

// Size of the resized image and the square window of it that is kept.
struct CropGeometry {
  int resized_width = 0;
  int resized_height = 0;
  int left = 0;  // crop window inside the resized image
  int top = 0;
  int crop = 0;  // side of the square window
};

// Shorter side to `short_side` (the longer one scaled and truncated to an
// integer, as torchvision's Resize does), then a centered crop x crop window
// whose offsets are rounded half to even, as torchvision's center_crop does.
// Throws Error when the crop does not fit.
CropGeometry center_crop_geometry(int width, int height, int short_side, int crop);

// The shorter side before the center crop: round(size / crop_pct).
int resize_short_side(int size, double crop_pct);

// Resamples `image` to geometry.resized_width x resized_height and returns the
// crop window only; pixels outside the window are never computed.
Image resize_and_crop(const Image& image, const CropGeometry& geometry, ResizeFilter filter);

// Plain resize to width x height.
Image resize(const Image& image, int width, int height, ResizeFilter filter);

}  // namespace didicm
