// Training throughput of one configuration: images/s of full training steps
// (forward, loss, backward, LAMB step) and where a step's time goes. One
// configuration per process, so that the peak resident memory (VmHWM) printed
// at the end belongs to that configuration alone.
//
// Objectives: didicm (DiDiRN, score-entropy loss through diffusion_loss and
// NetworkScoreModel, one-hot or soft targets) and ce (ResNet, cross-entropy,
// as the trainer computes it). Data: random tensors held in memory, or
// batches from a DataLoader (Weak Aug) over a small in-memory image source.
//
// Prints one Markdown table row on stdout; --header prints the header first.

#include "autocast.h"
#include "bench_support.h"
#include "data_loader.h"
#include "lamb.h"
#include "model_factory.h"
#include "network_score_model.h"
#include "score_entropy.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using didicm::bench::cpu_seconds;
using didicm::bench::now_seconds;
using didicm::bench::status_mib;
using didicm::bench::TimedScoreModel;

struct Options {
  std::string objective = "didicm";  // didicm or ce
  std::string model;                 // default: didirn18 for didicm, resnet18 for ce
  std::int64_t classes = 10;
  std::int64_t batch = 128;
  std::int64_t size = 32;
  bool soft = false;  // soft targets p0 (random distributions) instead of one-hot
  int threads = 2;
  int interop_threads = 0;  // 0: LibTorch's default
  bool channels_last = false;
  bool amp = false;
  std::string data = "memory";  // memory or loader
  int workers = 2;
  int steps = 8;  // timed steps after the warm-up
  bool header = false;
};

// Random uint8 images held in memory; read_image is a memcpy, so the loader's
// cost is the Weak Aug transform and the batch assembly only.
class MemorySource : public didicm::ImageSource {
 public:
  MemorySource(std::int64_t count, int side, std::int64_t classes)
      : count_(count), side_(side), classes_(classes),
        bytes_(static_cast<std::size_t>(side) * side * 3), pixels_(bytes_ * count) {
    torch::Tensor random = torch::randint(0, 256, {static_cast<std::int64_t>(pixels_.size())},
                                          torch::kUInt8);
    std::memcpy(pixels_.data(), random.data_ptr<std::uint8_t>(), pixels_.size());
  }
  std::int64_t size() const override { return count_; }
  int image_size() const override { return side_; }
  std::int32_t label(std::int64_t index) const override {
    return static_cast<std::int32_t>(index % classes_);
  }
  void read_image(std::int64_t index, std::uint8_t* out) const override {
    std::memcpy(out, pixels_.data() + static_cast<std::size_t>(index) * bytes_, bytes_);
  }

 private:
  std::int64_t count_;
  int side_;
  std::int64_t classes_;
  std::size_t bytes_;
  std::vector<std::uint8_t> pixels_;
};

void use_channels_last(const didicm::Model& model) {
  for (auto& tensor : model.module()->parameters()) {
    if (tensor.dim() == 4) {
      tensor.set_data(tensor.data().contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
}

// Seconds of each phase of one step.
struct StepTimes {
  double data = 0, forward = 0, loss = 0, backward = 0, optimizer = 0, total = 0, cpu = 0;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

class Bench {
 public:
  explicit Bench(const Options& options) : options_(options) {
    didicm::ModelConfig config;
    config.name = options.model;
    config.num_classes = options.classes;
    config.input_size = options.size;
    model_ = didicm::build_model(config);
    if (options.channels_last) {
      use_channels_last(model_);
    }
    model_.train();
    if (model_.is_score_model()) {
      score_model_.emplace(model_, options.amp);
    }
    std::vector<didicm::NamedTensor> parameters;
    for (const auto& item : model_.module()->named_parameters(/*recurse=*/true)) {
      parameters.emplace_back(item.key(), item.value());
    }
    optimizer_ = didicm::make_optimizer("lamb", parameters, 1e-3, 0.02);

    torch::manual_seed(0);
    images_ = torch::randn({options.batch, 3, options.size, options.size});
    labels_ = torch::randint(0, options.classes, {options.batch}, torch::kInt64);
    if (options.data == "loader") {
      auto source = std::make_shared<MemorySource>(4 * options.batch, static_cast<int>(options.size),
                                                   options.classes);
      didicm::DataLoaderConfig loader_config;
      loader_config.batch_size = options.batch;
      loader_config.input_size = static_cast<int>(options.size);
      loader_config.workers = options.workers;
      loader_.emplace(source, loader_config);
    }
  }

  StepTimes step(std::int64_t index) {
    StepTimes times;
    const double start = now_seconds();
    const double cpu_start = cpu_seconds();

    torch::Tensor images = images_;
    torch::Tensor labels = labels_;
    if (loader_) {
      std::optional<didicm::Batch> batch = loader_->next();
      if (!batch) {
        loader_->start_epoch(++epoch_);
        batch = loader_->next();
      }
      images = batch->images;
      labels = batch->labels;
    }
    if (options_.channels_last) {
      images = images.contiguous(at::MemoryFormat::ChannelsLast);
    }
    torch::Tensor p0 = targets(labels);
    double mark = now_seconds();
    times.data = mark - start;

    torch::Tensor loss;
    // The same autocast scope as didicm-train: the network only.
    if (score_model_) {
      auto generator = at::make_generator<at::CPUGeneratorImpl>(1000 + index);
      score_model_->seconds = 0;
      loss = didicm::diffusion_loss(*score_model_, images, p0, generator, 1e-5).loss;
      times.forward = score_model_->seconds;
    } else {
      torch::Tensor logits;
      {
        didicm::AutocastGuard autocast(options_.amp, torch::kCPU);
        logits = model_.forward(images).to(torch::kFloat32);
      }
      times.forward = now_seconds() - mark;
      loss = -(p0 * torch::log_softmax(logits, 1)).sum(1).mean();
    }
    loss.item<double>();  // the trainer reads the value to check it is finite
    double after_loss = now_seconds();
    times.loss = after_loss - mark - times.forward;

    optimizer_->zero_grad();
    loss.backward();
    double after_backward = now_seconds();
    times.backward = after_backward - after_loss;

    optimizer_->step();
    const double end = now_seconds();
    times.optimizer = end - after_backward;
    times.total = end - start;
    times.cpu = cpu_seconds() - cpu_start;
    return times;
  }

  void start() {
    if (loader_) {
      loader_->start_epoch(epoch_);
    }
  }

 private:
  // One-hot targets, or random distributions (softmax of Gaussian logits)
  // when soft targets are measured.
  torch::Tensor targets(const torch::Tensor& labels) {
    if (options_.soft) {
      return torch::softmax(torch::randn({labels.size(0), options_.classes}, torch::kDouble), 1);
    }
    return torch::one_hot(labels, options_.classes).to(torch::kDouble);
  }

  Options options_;
  didicm::Model model_;
  std::optional<TimedScoreModel> score_model_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  torch::Tensor images_, labels_;
  std::optional<didicm::DataLoader> loader_;
  std::int64_t epoch_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Training step benchmark: images/s and the time of each phase of a step");
  Options options;
  app.add_option("--objective", options.objective, "didicm or ce (default: didicm)")
      ->check(CLI::IsMember({"didicm", "ce"}));
  app.add_option("--model", options.model, "Model name (default: didirn18 or resnet18)");
  app.add_option("--classes", options.classes, "Number of classes N (default: 10)");
  app.add_option("--batch", options.batch, "Batch size (default: 128)");
  app.add_option("--size", options.size, "Input side in pixels (default: 32)");
  app.add_flag("--soft", options.soft, "Soft targets: random distributions instead of one-hot");
  app.add_option("--threads", options.threads, "Intra-op threads (default: 2)");
  app.add_option("--interop-threads", options.interop_threads,
                 "Inter-op threads; 0 keeps LibTorch's default (default: 0)");
  app.add_flag("--channels-last", options.channels_last, "Channels-last weights and inputs");
  app.add_flag("--amp", options.amp, "bfloat16 autocast for the network, as didicm-train --amp");
  app.add_option("--data", options.data, "memory (random tensors) or loader (default: memory)")
      ->check(CLI::IsMember({"memory", "loader"}));
  app.add_option("--workers", options.workers, "DataLoader workers for --data loader (default: 2)");
  app.add_option("--steps", options.steps, "Timed steps after 2 warm-up steps (default: 8)");
  app.add_flag("--header", options.header, "Print the table header first");
  CLI11_PARSE(app, argc, argv);
  if (options.model.empty()) {
    options.model = options.objective == "didicm" ? "didirn18" : "resnet18";
  }

  if (options.interop_threads > 0) {
    at::set_num_interop_threads(options.interop_threads);
  }
  at::set_num_threads(options.threads);

  Bench bench(options);
  bench.start();
  for (int i = 0; i < 2; ++i) {
    bench.step(i);
  }
  std::vector<StepTimes> steps;
  for (int i = 0; i < options.steps; ++i) {
    steps.push_back(bench.step(2 + i));
  }

  auto column = [&](double StepTimes::*field) {
    std::vector<double> values;
    for (const auto& item : steps) {
      values.push_back(item.*field);
    }
    return values;
  };
  const double batch = static_cast<double>(options.batch);
  const double median_total = median(column(&StepTimes::total));
  std::vector<double> totals = column(&StepTimes::total);
  const double best = *std::min_element(totals.begin(), totals.end());
  const double cpu = median(column(&StepTimes::cpu));
  auto share = [&](double StepTimes::*field) {
    return fmt::format("{:.0f}", 100.0 * median(column(field)) / median_total);
  };

  if (options.header) {
    std::fputs("| model | objective | N | batch | variant | images/s (median) | images/s (best) "
               "| images per CPU-second | data % | forward % | loss % | backward % | optimizer % "
               "| step ms | peak MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
               stdout);
  }
  std::string variant = options.data == "loader"
                            ? fmt::format("loader, {} workers", options.workers)
                            : "memory";
  if (options.soft) variant += ", soft targets";
  if (options.channels_last) variant += ", channels-last";
  if (options.amp) variant += ", --amp (bf16 autocast)";
  if (options.interop_threads > 0) variant += fmt::format(", interop {}", options.interop_threads);
  std::printf("| %s | %s | %lld | %lld | %s | %.1f | %.1f | %.1f | %s | %s | %s | %s | %s | %.0f | %.0f |\n",
              options.model.c_str(), options.objective.c_str(),
              static_cast<long long>(options.classes), static_cast<long long>(options.batch),
              variant.c_str(), batch / median_total, batch / best, batch / cpu,
              share(&StepTimes::data).c_str(), share(&StepTimes::forward).c_str(),
              share(&StepTimes::loss).c_str(), share(&StepTimes::backward).c_str(),
              share(&StepTimes::optimizer).c_str(), 1000.0 * median_total,
              status_mib("VmHWM"));
  std::fflush(stdout);
  return 0;
}
