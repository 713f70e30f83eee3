#pragma once

// LibTorch tensors as HDF5 datasets: same shape (a 0-dim tensor is a scalar
// dataset), same element type (uint8, int32, int64, float32 or float64).

#include "h5.h"

#include <ATen/core/Tensor.h>

#include <string>

namespace didicm {

// Writes `tensor` (on any device) as dataset `name`, creating missing groups.
// Throws Error for another dtype.
void write_tensor(const h5::Group& group, const std::string& name, const at::Tensor& tensor);

// Reads dataset `name` as a CPU tensor with the stored shape and dtype.
at::Tensor read_tensor(const h5::Group& group, const std::string& name);

// Copies dataset `name` into `target` (on any device, gradients not recorded).
// The stored shape must equal the target's, and the stored type must be of
// the same kind (floating point or integer). Throws Error naming the dataset
// and both shapes, or both types.
void read_tensor_into(const h5::Group& group, const std::string& name, const at::Tensor& target);

// "[64, 3, 3, 3]"; "[]" for a scalar.
std::string shape_string(at::IntArrayRef shape);

}  // namespace didicm
