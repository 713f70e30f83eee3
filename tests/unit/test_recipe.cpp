#include "train_command.h"
#include "errors.h"

#include <doctest/doctest.h>

using namespace didicm;

namespace {

TrainOptions training(const std::string& model, const std::string& recipe) {
  TrainOptions options;
  options.model.name = model;
  options.data = "train.h5";
  options.output = "run";
  options.recipe = recipe;
  return options;
}

}  // namespace

TEST_CASE("recipe strong for didicm") {
  TrainOptions resolved = resolve_train_options(training("didirn18", "strong"));
  CHECK(resolved.objective == "didicm");
  CHECK(resolved.batch_size == 2048);
  CHECK(resolved.lr == 3.5e-3);
  CHECK(resolved.lr_ratio_scaling == "none");
  CHECK(resolved.opt == "lamb");
  CHECK(resolved.sched == "cosine");
  CHECK(resolved.warmup_epochs == 5);
  CHECK(resolved.aa == "rand-m7-mstd0.5-inc1");
  CHECK(resolved.aug_repeats == 3);
  CHECK(resolved.mixup == 0.2);
  CHECK(resolved.cutmix == 1.0);
  CHECK(resolved.mixup_switch_prob == 0.5);
  CHECK(resolved.smoothing == 0.1);
  CHECK(resolved.color_jitter == 0.0);
}

TEST_CASE("recipe strong for classifiers") {
  TrainOptions resolved = resolve_train_options(training("resnet18", "strong"));
  CHECK(resolved.objective == "ce");
  CHECK(resolved.lr == 5e-3);
  CHECK(resolved.lr_ratio_scaling == "sqrt");
}

TEST_CASE("recipe weak") {
  TrainOptions options = training("didirn18", "weak");
  options.smoothing = 0.3;  // not given: the recipe resets it
  TrainOptions resolved = resolve_train_options(options);
  CHECK(resolved.batch_size == 1024);
  CHECK(resolved.lr == 2e-3);
  CHECK(resolved.lr_ratio_scaling == "sqrt");
  CHECK(resolved.color_jitter == 0.4);
  CHECK(resolved.aa.empty());
  CHECK(resolved.aug_repeats == 1);
  CHECK(resolved.mixup == 0);
  CHECK(resolved.cutmix == 0);
  CHECK(resolved.smoothing == 0);
}

TEST_CASE("recipe keeps given options") {
  TrainOptions options = training("didirn18", "strong");
  options.batch_size = 16;
  options.lr = 1e-3;
  options.aug_repeats = 1;
  options.aa = "rand-m9-mstd0.5-inc1";
  options.given = {"batch-size", "lr", "aug-repeats", "aa"};
  TrainOptions resolved = resolve_train_options(options);
  CHECK(resolved.batch_size == 16);
  CHECK(resolved.lr == 1e-3);
  CHECK(resolved.aug_repeats == 1);
  CHECK(resolved.aa == "rand-m9-mstd0.5-inc1");
  CHECK(resolved.mixup == 0.2);  // not given: from the recipe
}

TEST_CASE("recipe rejects bad values") {
  CHECK_THROWS_AS(resolve_train_options(training("didirn18", "medium")), UsageError);
  TrainOptions options = training("didirn18", "");
  options.aa = "rand-m7";
  CHECK_THROWS_AS(resolve_train_options(options), UsageError);
  options.aa.clear();
  options.aug_repeats = 0;
  CHECK_THROWS_AS(resolve_train_options(options), UsageError);
  options.aug_repeats = 1;
  options.mixup_switch_prob = 1.5;
  CHECK_THROWS_AS(resolve_train_options(options), UsageError);
}
