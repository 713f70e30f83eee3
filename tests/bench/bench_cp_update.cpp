// Times one DiDiCM-CP step (update, clamp, renormalisation) in the O(N) form
// against the dense B x N x N form, and the closed-form forward process
// against the eigendecomposition route. Each measurement runs in its own
// forked child, so that its peak memory is the child's VmHWM minus its VmRSS
// before the inputs were made (inputs included), and so that the parent never
// starts LibTorch's thread pool before a fork.
//
// Usage: bench_cp_update [--batch B] [--classes N,N,...] [--quick]
// Prints a Markdown table on stdout.

#include "cp_sampler.h"
#include "forward_process.h"

#include <torch/torch.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Measurement {
  bool ok = false;
  double seconds = 0.0;    // median over the repetitions
  double peak_mib = 0.0;   // VmHWM - VmRSS at the start of the child
  int repetitions = 0;
  char note[160] = {};
};

// A field of /proc/self/status in KiB, for example "VmRSS".
double status_kib(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) {
      return std::stod(line.substr(line.find(':') + 1));
    }
  }
  return 0.0;
}

double available_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      return std::stod(line.substr(13)) * 1024.0;
    }
  }
  return 0.0;
}

void warm_up_torch();

// Runs `setup` in a child. It returns a callable that performs one repetition;
// the setup (making the inputs) counts toward peak memory but not toward time.
Measurement measure(const std::function<std::function<void()>()>& setup, double min_seconds,
                    int max_repetitions) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    Measurement failed;
    std::snprintf(failed.note, sizeof failed.note, "pipe failed");
    return failed;
  }
  pid_t child = fork();
  if (child == 0) {
    close(pipe_fds[0]);
    Measurement result;
    warm_up_torch();
    double start_rss = status_kib("VmRSS");
    try {
      auto repetition = setup();
      repetition();  // warm-up
      std::vector<double> times;
      Clock::time_point begin = Clock::now();
      while (static_cast<int>(times.size()) < max_repetitions &&
             (times.size() < 3 ||
              std::chrono::duration<double>(Clock::now() - begin).count() < min_seconds)) {
        Clock::time_point t0 = Clock::now();
        repetition();
        times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      }
      std::sort(times.begin(), times.end());
      result.ok = true;
      result.seconds = times[times.size() / 2];
      result.repetitions = static_cast<int>(times.size());
    } catch (const std::exception& error) {
      std::snprintf(result.note, sizeof result.note, "failed: %.120s", error.what());
    }
    result.peak_mib = (status_kib("VmHWM") - start_rss) / 1024.0;
    ssize_t written = write(pipe_fds[1], &result, sizeof result);
    _exit(written == sizeof result ? 0 : 1);
  }
  close(pipe_fds[1]);
  Measurement result;
  ssize_t got = read(pipe_fds[0], &result, sizeof result);
  close(pipe_fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (got != static_cast<ssize_t>(sizeof result)) {
    result = Measurement{};
    std::snprintf(result.note, sizeof result.note, "child ended without a result (status %d)",
                  status);
  }
  return result;
}

std::string format_time(const Measurement& m) {
  if (!m.ok) {
    return m.note;
  }
  char text[64];
  if (m.seconds < 1e-3) {
    std::snprintf(text, sizeof text, "%.1f us", m.seconds * 1e6);
  } else if (m.seconds < 1.0) {
    std::snprintf(text, sizeof text, "%.2f ms", m.seconds * 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.2f s", m.seconds);
  }
  return text;
}

std::string format_mib(const Measurement& m) {
  if (!m.ok) {
    return "-";
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", m.peak_mib);
  return text;
}

// Inputs of one CP step: p (float64, as the sampler keeps it), float32 masked
// log-scores (as a network returns them) and step sizes.
struct StepInputs {
  torch::Tensor p, log_scores, h;
};

StepInputs make_step_inputs(std::int64_t batch, std::int64_t n) {
  torch::manual_seed(0);
  StepInputs in;
  in.p = torch::softmax(1.5 * torch::randn({batch, n}, torch::kDouble), 1);
  torch::Tensor labels = torch::randint(n, {batch}, torch::kLong);
  in.log_scores = didicm::mask_own_label(3.0F * torch::randn({batch, n}), labels);
  in.h = torch::full({batch}, 0.125 * 3.5, torch::kDouble);
  return in;
}

// Runs every kernel once on tiny inputs, so that LibTorch's one-time setup
// (thread pool, kernel tables) is not counted as the measured peak.
void warm_up_torch() {
  StepInputs in = make_step_inputs(2, 4);
  didicm::cp_step(in.p, in.log_scores, in.h);
  didicm::cp_step_dense(in.p.to(torch::kFloat), in.log_scores, in.h);
  didicm::forward_marginal(in.p, in.h);
  torch::linalg_eigh(torch::eye(4));
}

void bench_cp(std::int64_t batch, const std::vector<std::int64_t>& sizes, bool quick) {
  std::printf("### One CP step, batch %lld\n\n", static_cast<long long>(batch));
  std::printf("| N | O(N) time | O(N) peak | dense time | dense peak | speed-up |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (std::int64_t n : sizes) {
    Measurement linear = measure(
        [&] {
          auto in = std::make_shared<StepInputs>(make_step_inputs(batch, n));
          return [in] { didicm::cp_step(in->p, in->log_scores, in->h); };
        },
        quick ? 0.2 : 1.0, 1000);

    // The dense form in float32, as the authors' code runs it. It keeps about
    // four B x N x N buffers alive at once (M, R, I + h R and a temporary).
    const double dense_bytes = 4.0 * 4.0 * static_cast<double>(batch) * n * n;
    Measurement dense;
    if (dense_bytes > 0.5 * available_bytes()) {
      std::snprintf(dense.note, sizeof dense.note,
                    "not run: needs about %.0f GiB, %.0f GiB available", dense_bytes / (1 << 30),
                    available_bytes() / (1 << 30));
    } else {
      dense = measure(
          [&] {
            auto in = std::make_shared<StepInputs>(make_step_inputs(batch, n));
            in->p = in->p.to(torch::kFloat);
            return [in] { didicm::cp_step_dense(in->p, in->log_scores, in->h); };
          },
          quick ? 0.2 : 1.0, quick ? 3 : 20);
    }

    std::string speedup = "-";
    if (linear.ok && dense.ok) {
      char text[32];
      std::snprintf(text, sizeof text, "%.0fx", dense.seconds / linear.seconds);
      speedup = text;
    }
    std::printf("| %lld | %s | %s | %s | %s | %s |\n", static_cast<long long>(n),
                format_time(linear).c_str(), format_mib(linear).c_str(), format_time(dense).c_str(),
                format_mib(dense).c_str(), speedup.c_str());
    std::fflush(stdout);
  }
  std::printf("\n");
}

// The route of the authors' PyTorch code (omerb01/didicm): (lambda, V) = eigh(Q) with Q = (1 1^T - N I) / N, then
// p_t = V diag(exp(lambda sigma)) V^T p0 per example, batched in float64.
void bench_forward(std::int64_t batch, std::int64_t n, bool quick) {
  auto inputs = [batch, n] {
    torch::manual_seed(1);
    torch::Tensor p0 = torch::softmax(2.0 * torch::randn({batch, n}, torch::kDouble), 1);
    torch::Tensor sigma = torch::rand({batch}, torch::kDouble) * 6.9;
    return std::make_pair(p0, sigma);
  };
  auto rate_matrix = [n] {
    return (torch::ones({n, n}, torch::kFloat) - n * torch::eye(n, torch::kFloat)) / n;
  };

  Measurement closed = measure(
      [&] {
        auto in = std::make_shared<std::pair<torch::Tensor, torch::Tensor>>(inputs());
        return [in] { didicm::forward_marginal(in->first, in->second); };
      },
      quick ? 0.2 : 1.0, 1000);

  Measurement decomposition = measure(
      [&] {
        torch::Tensor q = rate_matrix();
        return [q] { torch::linalg_eigh(q); };
      },
      quick ? 0.2 : 1.0, quick ? 3 : 10);

  Measurement eigen_route = measure(
      [&] {
        auto in = std::make_shared<std::pair<torch::Tensor, torch::Tensor>>(inputs());
        // The authors' code decomposes in float32 and then casts to float64.
        auto [lambda, v] = torch::linalg_eigh(rate_matrix());
        auto eigen = std::make_shared<std::pair<torch::Tensor, torch::Tensor>>(
            lambda.to(torch::kDouble), v.to(torch::kDouble));
        return [in, eigen] {
          const auto& [values, vectors] = *eigen;
          torch::Tensor scaled = torch::exp(in->second.unsqueeze(1) * values.unsqueeze(0));  // [B, N]
          torch::Tensor transition = torch::matmul(vectors.unsqueeze(0) * scaled.unsqueeze(1),
                                                   vectors.t());                          // [B, N, N]
          torch::bmm(transition, in->first.unsqueeze(2));
        };
      },
      quick ? 0.2 : 2.0, quick ? 2 : 5);

  std::printf("### Forward process, batch %lld, N = %lld (float64)\n\n", static_cast<long long>(batch),
              static_cast<long long>(n));
  std::printf("| route | time | peak |\n|---|---|---|\n");
  std::printf("| closed form e^-sigma p0 + (1 - e^-sigma)/N | %s | %s |\n",
              format_time(closed).c_str(), format_mib(closed).c_str());
  std::printf("| eigh(Q) once (float32, as the authors' code) | %s | %s |\n",
              format_time(decomposition).c_str(), format_mib(decomposition).c_str());
  std::printf("| V diag(exp(lambda sigma)) V^T p0 per batch | %s | %s |\n",
              format_time(eigen_route).c_str(), format_mib(eigen_route).c_str());
  if (closed.ok && eigen_route.ok) {
    std::printf("\nClosed form speed-up per batch: %.0fx.\n", eigen_route.seconds / closed.seconds);
  }
  std::printf("\n");
}

std::vector<std::int64_t> parse_sizes(const std::string& text) {
  std::vector<std::int64_t> sizes;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    sizes.push_back(std::stoll(item));
  }
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t batch = 64;
  std::vector<std::int64_t> sizes{10, 1000, 10000, 21841};
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--batch" && i + 1 < argc) {
      batch = std::stoll(argv[++i]);
    } else if (arg == "--classes" && i + 1 < argc) {
      sizes = parse_sizes(argv[++i]);
    } else if (arg == "--quick") {
      quick = true;
    } else {
      std::fprintf(stderr, "bench_cp_update: unknown argument '%s': use --batch B, --classes N,N or --quick\n",
                   arg.c_str());
      return 2;
    }
  }
  bench_cp(batch, sizes, quick);
  bench_forward(batch, 1000, quick);
  return 0;
}
