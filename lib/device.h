#pragma once

#include <c10/core/Device.h>

#include <string>

namespace didicm {

// Parses a --device request: auto (CUDA when available, else CPU), cpu, cuda
// (the first GPU) or cuda:N. Throws UsageError for any other text, and Error
// when a GPU is requested that this build or machine does not have.
c10::Device select_device(const std::string& request);

// "cpu", "cuda:0": the device as a request string.
std::string device_name(const c10::Device& device);

}  // namespace didicm
