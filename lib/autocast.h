#pragma once

// Mixed precision: bfloat16 autocast around a network's forward pass.
//
// Under autocast, convolutions and matrix products run in bfloat16 while the
// weights, their gradients and the optimizer stay float32. Callers cast the
// network's output back to float32 before any loss or sampler arithmetic, so
// only the network's own layers see the lower precision.

#include <c10/core/Device.h>

namespace didicm {

// Enables bfloat16 autocast on `device`'s type for its lifetime when `enabled`
// is true, and restores the previous state when it ends. Guards nest. The
// outermost one clears autocast's cache of cast weights on exit, so the next
// forward pass uses the weights of the latest optimizer step.
class AutocastGuard {
 public:
  AutocastGuard(bool enabled, const c10::Device& device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool enabled_;
  c10::DeviceType device_type_;
  bool was_enabled_ = false;
};

// "bfloat16" or "float32": the value of the precision attribute that
// checkpoints and posterior files record.
const char* precision_name(bool amp);

}  // namespace didicm
