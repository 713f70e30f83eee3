#pragma once

// Learning-rate schedules, evaluated per optimizer step as timm's schedulers
// are with t_in_epochs=False (timm/scheduler/cosine_lr.py and step_lr.py,
// cycle_limit 1, no noise, k_decay 1).

#include <cstdint>
#include <string>

namespace didicm {

struct LrScheduleConfig {
  std::string name = "cosine";  // cosine, step or none
  double base_lr = 1e-3;
  double min_lr = 0.0;           // cosine: the value at and after total_steps
  double warmup_lr = 1e-5;       // the value at step 0 of the warmup
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;  // cosine: length of the cosine
  // timm's warmup_prefix: false (timm's default) runs the cosine over
  // [0, total_steps) underneath the warmup, true starts it when the warmup ends.
  bool warmup_prefix = false;
  std::int64_t decay_steps = 1;  // step: steps between decays
  double decay_rate = 0.1;       // step: factor per decay
};

// The learning rate after `step` completed optimizer steps (step 0: the first
// update). With w = warmup_steps and t = step:
//   t < w:     warmup_lr + (base_lr - warmup_lr) t / w           (every schedule but none)
//   cosine:    t' = t - w with warmup_prefix, else t; T = total_steps - w with
//              warmup_prefix, else total_steps;
//              min_lr + (base_lr - min_lr) (1 + cos(pi t' / T)) / 2 for t' < T,
//              min_lr for t' >= T
//   step:      base_lr decay_rate^floor(t' / decay_steps)
//   none:      base_lr (timm without a scheduler: no warmup either)
// Throws UsageError from the constructor for an unknown name or inconsistent
// values (negative rates or step counts, warmup_prefix with total_steps <= warmup).
class LrSchedule {
 public:
  explicit LrSchedule(LrScheduleConfig config);

  double lr_at(std::int64_t step) const;
  const LrScheduleConfig& config() const { return config_; }

 private:
  LrScheduleConfig config_;
};

// The base learning rate for a class-balanced training subset that keeps the
// fraction `ratio` in (0, 1] of the images: lr * sqrt(1 / ratio).
// Throws UsageError for a ratio outside (0, 1].
double scale_lr_by_ratio(double lr, double ratio);

}  // namespace didicm
