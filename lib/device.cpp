#include "device.h"

#include "errors.h"

#include <torch/cuda.h>

#include <fmt/format.h>

#include <cctype>

namespace didicm {
namespace {

bool is_number(const std::string& text) {
  if (text.empty() || text.size() > 4) {
    return false;
  }
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

c10::Device select_cuda(const std::string& request, int index) {
  if (!torch::cuda::is_available()) {
    throw Error(fmt::format("device '{}': CUDA is not available (this LibTorch has no CUDA "
                            "support, or no GPU is visible); use --device cpu",
                            request));
  }
  auto count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    throw Error(fmt::format("device '{}': no such GPU; this machine has {} (cuda:0 to cuda:{})",
                            request, count, count - 1));
  }
  return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace

c10::Device select_device(const std::string& request) {
  if (request == "auto") {
    return torch::cuda::is_available() ? c10::Device(c10::DeviceType::CUDA, 0)
                                       : c10::Device(c10::DeviceType::CPU);
  }
  if (request == "cpu") {
    return c10::Device(c10::DeviceType::CPU);
  }
  if (request == "cuda") {
    return select_cuda(request, 0);
  }
  const std::string prefix = "cuda:";
  if (request.rfind(prefix, 0) == 0 && is_number(request.substr(prefix.size()))) {
    return select_cuda(request, std::stoi(request.substr(prefix.size())));
  }
  throw UsageError(
      fmt::format("device '{}': unknown; valid devices are auto, cpu, cuda, cuda:N", request));
}

std::string device_name(const c10::Device& device) { return device.str(); }

}  // namespace didicm
