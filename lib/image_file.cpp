#include "image_file.h"

#include "errors.h"
#include "png_codec.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace didicm {

ImageFormat detect_image_format(const std::uint8_t* data, std::size_t size) {
  static const std::uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
    return ImageFormat::jpeg;
  }
  if (size >= 8 && std::memcmp(data, png_signature, 8) == 0) {
    return ImageFormat::png;
  }
  return ImageFormat::unknown;
}

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  // O_NONBLOCK keeps a named pipe from blocking the open; it does not change
  // reads of regular files.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    throw Error(fmt::format("cannot open: {}", std::strerror(errno)));
  }
  struct stat status {};
  if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    ::close(fd);
    throw Error(S_ISDIR(status.st_mode) ? "is a folder, not an image file" : "not a regular file");
  }

  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(status.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t count = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count <= 0) {
      int error = errno;
      ::close(fd);
      throw Error(count < 0 ? fmt::format("read failed: {}", std::strerror(error))
                            : std::string("file shrank while being read"));
    }
    done += static_cast<std::size_t>(count);
  }
  ::close(fd);
  return bytes;
}

Image decode_image(const std::vector<std::uint8_t>& bytes, const DecodeOptions& options,
                   std::vector<std::string>* warnings) {
  if (bytes.empty()) {
    throw Error("empty file (0 bytes)");
  }
  switch (detect_image_format(bytes.data(), bytes.size())) {
    case ImageFormat::jpeg: {
      JpegInfo info;
      Image image = decode_jpeg(bytes.data(), bytes.size(), options, &info);
      if (warnings != nullptr) {
        warnings->insert(warnings->end(), info.warnings.begin(), info.warnings.end());
      }
      return image;
    }
    case ImageFormat::png:
      return decode_png(bytes.data(), bytes.size());
    case ImageFormat::unknown:
      break;
  }
  std::string start;
  for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 4); ++i) {
    start += fmt::format("{:02x}", bytes[i]);
  }
  throw Error(fmt::format("not a JPEG or PNG image (starts with bytes {})", start));
}

}  // namespace didicm
