// Measures images/s of model forward passes (eval mode, no gradients) and of
// forward+backward passes (train mode), in the default and channels-last
// memory formats. Prints Markdown table rows on stdout.

#include "model_factory.h"

#include <CLI/CLI.hpp>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

namespace {

struct Case {
  std::string model;
  std::int64_t size;
  std::int64_t batch;
};

struct Inputs {
  torch::Tensor images, labels, sigma, targets;
};

torch::Tensor run(const didicm::Model& model, const Inputs& inputs) {
  return model.is_score_model() ? model.forward(inputs.images, inputs.labels, inputs.sigma)
                                : model.forward(inputs.images);
}

// Converts every 4-d parameter (the convolution kernels) to channels-last (NHWC) strides.
void use_channels_last(const didicm::Model& model) {
  for (auto& tensor : model.module()->parameters()) {
    if (tensor.dim() == 4) {
      tensor.set_data(tensor.data().contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
}

// Runs `step` once to warm up, then repeatedly for at least `seconds`; returns images/s.
template <typename Step>
double images_per_second(std::int64_t batch, double seconds, Step step) {
  step();
  auto start = std::chrono::steady_clock::now();
  int iterations = 0;
  double elapsed = 0;
  while (iterations < 2 || elapsed < seconds) {
    step();
    ++iterations;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return static_cast<double>(batch) * iterations / elapsed;
}

void measure(const Case& item, bool channels_last, double seconds) {
  didicm::ModelConfig config;
  config.name = item.model;
  config.num_classes = 1000;
  config.input_size = item.size;
  didicm::Model model = didicm::build_model(config);

  torch::manual_seed(0);
  Inputs inputs;
  inputs.images = torch::randn({item.batch, 3, item.size, item.size});
  inputs.labels = torch::randint(0, 1000, {item.batch}, torch::kInt64);
  inputs.sigma = torch::rand({item.batch}) * 6.9;
  inputs.targets = torch::randint(0, 1000, {item.batch}, torch::kInt64);
  if (channels_last) {
    use_channels_last(model);
    inputs.images = inputs.images.contiguous(at::MemoryFormat::ChannelsLast);
  }

  model.eval();
  double forward = images_per_second(item.batch, seconds, [&] {
    torch::NoGradGuard no_grad;
    run(model, inputs);
  });

  model.train();
  double backward = images_per_second(item.batch, seconds, [&] {
    model.module()->zero_grad();
    torch::nn::functional::cross_entropy(run(model, inputs), inputs.targets).backward();
  });

  std::printf("| %s | %lldx%lld | %lld | %s | %.1f | %.1f |\n", item.model.c_str(),
              static_cast<long long>(item.size), static_cast<long long>(item.size),
              static_cast<long long>(item.batch), channels_last ? "channels-last" : "contiguous",
              forward, backward);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Model throughput benchmark: forward and forward+backward images/s");
  int threads = 2;
  double seconds = 3.0;
  app.add_option("--threads", threads, "CPU threads (default: 2)");
  app.add_option("--seconds", seconds, "Minimum time per measurement in seconds (default: 3)");
  CLI11_PARSE(app, argc, argv);

  at::set_num_threads(threads);
  std::printf("Threads: %d (at::get_num_threads() = %d). 1000 classes, float32, CPU.\n\n", threads,
              at::get_num_threads());
  std::printf("| model | input | batch | memory format | forward images/s | forward+backward images/s |\n");
  std::printf("|---|---|---|---|---|---|\n");
  const std::vector<Case> cases{{"didirn18", 32, 128}, {"resnet18", 32, 128}, {"didirn50", 56, 32}};
  for (const auto& item : cases) {
    for (bool channels_last : {false, true}) {
      measure(item, channels_last, seconds);
    }
  }
  return 0;
}
