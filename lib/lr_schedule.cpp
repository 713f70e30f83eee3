#include "lr_schedule.h"

#include <fmt/format.h>

#include <cmath>

#include "errors.h"

namespace didicm {

namespace {

void check_non_negative(const std::string& what, double value) {
  if (!std::isfinite(value) || value < 0) {
    throw UsageError(fmt::format("{} {}: invalid value: expected a finite number >= 0", what, value));
  }
}

void check_config(const LrScheduleConfig& config) {
  if (config.name != "cosine" && config.name != "step" && config.name != "none") {
    throw UsageError(
        fmt::format("schedule '{}': unknown name: use cosine, step or none", config.name));
  }
  check_non_negative("learning rate", config.base_lr);
  check_non_negative("minimum learning rate", config.min_lr);
  check_non_negative("warmup learning rate", config.warmup_lr);
  check_non_negative("decay rate", config.decay_rate);
  if (config.warmup_steps < 0) {
    throw UsageError(fmt::format("warmup steps {}: invalid value: expected >= 0", config.warmup_steps));
  }
  if (config.total_steps < 1) {
    throw UsageError(fmt::format("total steps {}: invalid value: expected >= 1", config.total_steps));
  }
  if (config.decay_steps < 1) {
    throw UsageError(fmt::format("decay steps {}: invalid value: expected >= 1", config.decay_steps));
  }
  if (config.name == "cosine" && config.warmup_prefix && config.total_steps <= config.warmup_steps) {
    throw UsageError(fmt::format(
        "warmup steps {}: invalid value: the warmup must end before the last step {}: use fewer "
        "warmup epochs",
        config.warmup_steps, config.total_steps));
  }
}

}  // namespace

LrSchedule::LrSchedule(LrScheduleConfig config) : config_(std::move(config)) {
  check_config(config_);
}

double LrSchedule::lr_at(std::int64_t step) const {
  const LrScheduleConfig& c = config_;
  if (c.name == "none") {
    return c.base_lr;
  }

  if (step < c.warmup_steps) {
    return c.warmup_lr + (c.base_lr - c.warmup_lr) * static_cast<double>(step) /
                             static_cast<double>(c.warmup_steps);
  }
  const std::int64_t t = c.warmup_prefix ? step - c.warmup_steps : step;

  if (c.name == "step") {
    return c.base_lr * std::pow(c.decay_rate, static_cast<double>(t / c.decay_steps));
  }

  const std::int64_t length = c.warmup_prefix ? c.total_steps - c.warmup_steps : c.total_steps;
  if (t >= length) {
    return c.min_lr;
  }
  const double pi = std::acos(-1.0);
  return c.min_lr + 0.5 * (c.base_lr - c.min_lr) *
                        (1.0 + std::cos(pi * static_cast<double>(t) / static_cast<double>(length)));
}

double scale_lr_by_ratio(double lr, double ratio) {
  if (!(ratio > 0.0 && ratio <= 1.0)) {
    throw UsageError(
        fmt::format("training subset ratio {}: invalid value: expected a number in (0, 1]", ratio));
  }
  return lr * std::sqrt(1.0 / ratio);
}

}  // namespace didicm
