// Throughput of one fully connected layer, the part of DiDiRN that LibTorch
// runs through the system BLAS (convolutions go through oneDNN). Used to
// compare BLAS implementations: run it once per libblas.so.3 alternative.
// Prints one Markdown table row on stdout; --header prints the header first.

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  CLI::App app("Linear layer benchmark: GFLOP/s of forward and forward+backward");
  std::int64_t rows = 128, inputs = 512, outputs = 1000;
  int threads = 2;
  bool header = false;
  app.add_option("--rows", rows, "Batch rows (default: 128)");
  app.add_option("--inputs", inputs, "Input features (default: 512, DiDiRN-18's fc)");
  app.add_option("--outputs", outputs, "Output features (default: 1000 classes)");
  app.add_option("--threads", threads, "Intra-op threads (default: 2)");
  app.add_flag("--header", header, "Print the table header first");
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(threads);

  torch::manual_seed(0);
  torch::nn::Linear layer(inputs, outputs);
  const torch::Tensor x = torch::randn({rows, inputs});

  // Best of 5 rounds of 20 calls, in seconds per call.
  auto best_seconds = [](auto call) {
    call();
    double best = 1e30;
    for (int round = 0; round < 5; ++round) {
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < 20; ++i) {
        call();
      }
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 20);
    }
    return best;
  };
  const double forward = best_seconds([&] {
    torch::NoGradGuard no_grad;
    layer(x);
  });
  const double backward = best_seconds([&] {
    layer->zero_grad();
    layer(x).sum().backward();
  });

  const double flops = 2.0 * static_cast<double>(rows * inputs * outputs);
  const char* blas = std::getenv("DIDICM_BLAS_NAME");
  if (header) {
    std::fputs("| BLAS | shape | forward ms | forward GFLOP/s | forward+backward ms | forward+backward GFLOP/s |\n"
               "|---|---|---|---|---|---|\n",
               stdout);
  }
  // Forward+backward does three matrix products of the forward's size.
  std::printf("| %s | [%lld, %lld] x [%lld, %lld]^T | %.3f | %.1f | %.3f | %.1f |\n",
              blas ? blas : "-", static_cast<long long>(rows), static_cast<long long>(inputs),
              static_cast<long long>(outputs), static_cast<long long>(inputs), 1e3 * forward,
              flops / forward / 1e9, 1e3 * backward, 3 * flops / backward / 1e9);
  return 0;
}
