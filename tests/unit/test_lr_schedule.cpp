#include "errors.h"
#include "lr_schedule.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace didicm;

namespace {

const double kPi = std::acos(-1.0);

LrScheduleConfig cosine_config() {
  LrScheduleConfig config;
  config.name = "cosine";
  config.base_lr = 2e-3;
  config.min_lr = 1e-5;
  config.warmup_lr = 1e-6;
  config.warmup_steps = 50;
  config.total_steps = 1000;
  return config;
}

}  // namespace

TEST_CASE("cosine schedule with warmup prefix") {
  LrScheduleConfig config = cosine_config();
  config.warmup_prefix = true;
  const LrSchedule schedule(config);
  const double base = config.base_lr;
  const double low = config.min_lr;

  CHECK(schedule.lr_at(0) == doctest::Approx(1e-6).epsilon(1e-12));
  CHECK(schedule.lr_at(25) == doctest::Approx(1e-6 + (base - 1e-6) * 0.5).epsilon(1e-12));
  CHECK(schedule.lr_at(50) == doctest::Approx(base).epsilon(1e-12));
  // Halfway through the cosine part: (1000 - 50) / 2 steps after the warmup.
  CHECK(schedule.lr_at(525) == doctest::Approx(low + 0.5 * (base - low)).epsilon(1e-12));
  const double at_900 = low + 0.5 * (base - low) * (1 + std::cos(kPi * 850.0 / 950.0));
  CHECK(schedule.lr_at(900) == doctest::Approx(at_900).epsilon(1e-12));
  CHECK(schedule.lr_at(999) > low);
  CHECK(schedule.lr_at(1000) == low);
  CHECK(schedule.lr_at(5000) == low);
}

TEST_CASE("cosine schedule as timm default") {
  // Without warmup_prefix the cosine runs over all steps, under the warmup.
  const LrScheduleConfig config = cosine_config();
  const LrSchedule schedule(config);
  const double base = config.base_lr;
  const double low = config.min_lr;

  CHECK(schedule.lr_at(0) == doctest::Approx(1e-6).epsilon(1e-12));
  const double at_50 = low + 0.5 * (base - low) * (1 + std::cos(kPi * 50.0 / 1000.0));
  CHECK(schedule.lr_at(50) == doctest::Approx(at_50).epsilon(1e-12));
  CHECK(schedule.lr_at(500) == doctest::Approx(low + 0.5 * (base - low)).epsilon(1e-12));
  CHECK(schedule.lr_at(1000) == low);
}

TEST_CASE("cosine schedule without warmup") {
  LrScheduleConfig config = cosine_config();
  config.warmup_steps = 0;
  const LrSchedule schedule(config);
  CHECK(schedule.lr_at(0) == doctest::Approx(config.base_lr).epsilon(1e-12));
  CHECK(schedule.lr_at(500) ==
        doctest::Approx(config.min_lr + 0.5 * (config.base_lr - config.min_lr)).epsilon(1e-12));
}

TEST_CASE("step and none schedules") {
  LrScheduleConfig config;
  config.name = "step";
  config.base_lr = 0.1;
  config.warmup_lr = 0.01;
  config.warmup_steps = 10;
  config.decay_steps = 30;
  config.decay_rate = 0.5;
  const LrSchedule step(config);
  CHECK(step.lr_at(0) == doctest::Approx(0.01));
  CHECK(step.lr_at(5) == doctest::Approx(0.055));
  CHECK(step.lr_at(10) == doctest::Approx(0.1));
  CHECK(step.lr_at(29) == doctest::Approx(0.1));
  CHECK(step.lr_at(30) == doctest::Approx(0.05));
  CHECK(step.lr_at(95) == doctest::Approx(0.0125));

  config.name = "none";
  const LrSchedule none(config);
  CHECK(none.lr_at(0) == 0.1);
  CHECK(none.lr_at(1000000) == 0.1);
}

TEST_CASE("lr schedule rejects bad settings") {
  LrScheduleConfig config = cosine_config();
  config.name = "linear";
  CHECK_THROWS_AS(LrSchedule{config}, UsageError);

  config = cosine_config();
  config.warmup_steps = -1;
  CHECK_THROWS_AS(LrSchedule{config}, UsageError);

  config = cosine_config();
  config.warmup_prefix = true;
  config.warmup_steps = config.total_steps;
  CHECK_THROWS_AS(LrSchedule{config}, UsageError);

  config = cosine_config();
  config.base_lr = -1;
  CHECK_THROWS_AS(LrSchedule{config}, UsageError);
}

TEST_CASE("lr scaling by subset ratio") {
  CHECK(scale_lr_by_ratio(2e-3, 1.0) == 2e-3);
  CHECK(scale_lr_by_ratio(2e-3, 0.25) == doctest::Approx(4e-3).epsilon(1e-15));
  CHECK(scale_lr_by_ratio(2e-3, 0.5) == doctest::Approx(2e-3 * std::sqrt(2.0)).epsilon(1e-15));
  CHECK_THROWS_AS(scale_lr_by_ratio(2e-3, 0.0), UsageError);
  CHECK_THROWS_AS(scale_lr_by_ratio(2e-3, 1.5), UsageError);
}
