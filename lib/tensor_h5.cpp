#include "tensor_h5.h"

#include "errors.h"

#include <torch/torch.h>

#include <fmt/format.h>

namespace didicm {
namespace {

h5::Dims dims_of(const at::Tensor& tensor) {
  h5::Dims dims;
  for (auto size : tensor.sizes()) {
    dims.push_back(static_cast<std::uint64_t>(size));
  }
  return dims;
}

std::vector<std::int64_t> sizes_of(const h5::Dims& dims) {
  return std::vector<std::int64_t>(dims.begin(), dims.end());
}

at::ScalarType scalar_type_of(h5::ElementType type, const std::string& description) {
  switch (type) {
    case h5::ElementType::uint8:
      return torch::kUInt8;
    case h5::ElementType::int32:
      return torch::kInt32;
    case h5::ElementType::int64:
      return torch::kInt64;
    case h5::ElementType::float32:
      return torch::kFloat32;
    case h5::ElementType::float64:
      return torch::kFloat64;
    case h5::ElementType::other:
      break;
  }
  throw Error(fmt::format("{}: unsupported element type; expected uint8, int32, int64, float32 "
                          "or float64",
                          description));
}

// Reads the whole dataset into `cpu`, a contiguous CPU tensor of matching size.
void read_into_cpu(const h5::Group& group, const std::string& name, at::Tensor& cpu) {
  auto count = static_cast<std::uint64_t>(cpu.numel());
  switch (cpu.scalar_type()) {
    case torch::kUInt8:
      return group.read(name, cpu.data_ptr<std::uint8_t>(), count);
    case torch::kInt32:
      return group.read(name, cpu.data_ptr<std::int32_t>(), count);
    case torch::kInt64:
      return group.read(name, cpu.data_ptr<std::int64_t>(), count);
    case torch::kFloat32:
      return group.read(name, cpu.data_ptr<float>(), count);
    case torch::kFloat64:
      return group.read(name, cpu.data_ptr<double>(), count);
    default:
      throw Error(fmt::format("{}: cannot read into a {} tensor", group.describe(name),
                              c10::toString(cpu.scalar_type())));
  }
}

}  // namespace

std::string shape_string(at::IntArrayRef shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

void write_tensor(const h5::Group& group, const std::string& name, const at::Tensor& tensor) {
  at::Tensor cpu = tensor.detach().to(torch::kCPU).contiguous();
  h5::Dims dims = dims_of(cpu);
  switch (cpu.scalar_type()) {
    case torch::kUInt8:
      return group.write(name, cpu.data_ptr<std::uint8_t>(), dims);
    case torch::kInt32:
      return group.write(name, cpu.data_ptr<std::int32_t>(), dims);
    case torch::kInt64:
      return group.write(name, cpu.data_ptr<std::int64_t>(), dims);
    case torch::kFloat32:
      return group.write(name, cpu.data_ptr<float>(), dims);
    case torch::kFloat64:
      return group.write(name, cpu.data_ptr<double>(), dims);
    default:
      throw Error(fmt::format("{}: cannot store a {} tensor; expected uint8, int32, int64, "
                              "float32 or float64",
                              group.describe(name), c10::toString(cpu.scalar_type())));
  }
}

at::Tensor read_tensor(const h5::Group& group, const std::string& name) {
  h5::Dataset dataset = group.open_dataset(name);
  at::ScalarType type = scalar_type_of(dataset.element_type(), group.describe(name));
  at::Tensor cpu = torch::empty(sizes_of(dataset.dims()), torch::dtype(type));
  read_into_cpu(group, name, cpu);
  return cpu;
}

void read_tensor_into(const h5::Group& group, const std::string& name, const at::Tensor& target) {
  h5::Dataset dataset = group.open_dataset(name);
  std::vector<std::int64_t> stored = sizes_of(dataset.dims());
  if (at::IntArrayRef(stored) != target.sizes()) {
    throw Error(fmt::format("{}: shape {} in the file, expected {}", group.describe(name),
                            shape_string(stored), shape_string(target.sizes())));
  }

  at::ScalarType stored_type = scalar_type_of(dataset.element_type(), group.describe(name));
  bool stored_floating = at::isFloatingType(stored_type);
  if (stored_floating != at::isFloatingType(target.scalar_type())) {
    throw Error(fmt::format("{}: type {} in the file, expected {}", group.describe(name),
                            c10::toString(stored_type), c10::toString(target.scalar_type())));
  }

  at::Tensor cpu = torch::empty(target.sizes(), torch::dtype(target.scalar_type()));
  read_into_cpu(group, name, cpu);
  torch::NoGradGuard no_grad;
  target.copy_(cpu);
}

}  // namespace didicm
