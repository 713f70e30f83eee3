#include "autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace didicm {
namespace {

// LibTorch 2.4 added autocast setters that take the device type and
// deprecated the per-device ones.
// NOTE: this branch follows LibTorch's public header and has not been compiled
// against LibTorch 2.4 or later.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(c10::DeviceType type) { return at::autocast::is_autocast_enabled(type); }

void set_autocast(c10::DeviceType type, bool enabled) {
  at::autocast::set_autocast_dtype(type, at::kBFloat16);
  at::autocast::set_autocast_enabled(type, enabled);
}
#else
bool autocast_enabled(c10::DeviceType type) {
  return type == c10::DeviceType::CUDA ? at::autocast::is_enabled()
                                       : at::autocast::is_cpu_enabled();
}

void set_autocast(c10::DeviceType type, bool enabled) {
  if (type == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(enabled);
  }
}
#endif

}  // namespace

AutocastGuard::AutocastGuard(bool enabled, const c10::Device& device)
    : enabled_(enabled), device_type_(device.type()) {
  if (!enabled_) {
    return;
  }
  was_enabled_ = autocast_enabled(device_type_);
  set_autocast(device_type_, true);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!enabled_) {
    return;
  }
  set_autocast(device_type_, was_enabled_);
  if (at::autocast::decrement_nesting() == 0) {
    at::autocast::clear_cache();
  }
}

const char* precision_name(bool amp) { return amp ? "bfloat16" : "float32"; }

}  // namespace didicm
