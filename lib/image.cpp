#include "image.h"

#include <cstring>

namespace didicm {

Image apply_exif_orientation(const Image& image, int orientation) {
  if (orientation < 2 || orientation > 8) {
    return image;
  }

  // Orientations 5..8 swap the axes (the camera was held sideways).
  bool transpose = orientation >= 5;
  Image result(transpose ? image.height : image.width, transpose ? image.width : image.height);
  for (int y = 0; y < result.height; ++y) {
    for (int x = 0; x < result.width; ++x) {
      int source_x = 0;
      int source_y = 0;
      switch (orientation) {
        case 2: source_x = image.width - 1 - x; source_y = y; break;                     // mirror
        case 3: source_x = image.width - 1 - x; source_y = image.height - 1 - y; break;  // 180
        case 4: source_x = x; source_y = image.height - 1 - y; break;                    // flip
        case 5: source_x = y; source_y = x; break;                                       // transpose
        case 6: source_x = y; source_y = image.height - 1 - x; break;                    // 90 clockwise
        case 7: source_x = image.width - 1 - y; source_y = image.height - 1 - x; break;  // transverse
        case 8: source_x = image.width - 1 - y; source_y = x; break;                     // 90 counter-clockwise
      }
      std::memcpy(result.at(x, y), image.at(source_x, source_y), 3);
    }
  }
  return result;
}

}  // namespace didicm
