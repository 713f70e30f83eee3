#include "errors.h"
#include "train_settings.h"

#include <doctest/doctest.h>

#include <string>

using namespace didicm;

namespace {

TrainOptions started_run() {
  TrainOptions options;
  options.model.name = "didirn18";
  options.model.stem = "compact";
  options.model.input_size = 28;
  options.model.width = 0.125;
  options.data = "/data/train.h5";
  options.output = "run";
  options.lr = 1.0 / 3.0;  // no short decimal form: tests the round trip
  options.mean = {0.286, 0.286, 0.286};
  options.seed = 7;
  options.amp = true;
  options.aa = "rand-m7-mstd0.5-inc1";
  return options;
}

}  // namespace

TEST_CASE("train settings restore every value") {
  TrainOptions started = started_run();
  TrainSettings stored = train_settings(started, started.model);
  CHECK(stored.at("lr") == "0.3333333333333333");
  CHECK(stored.at("mean") == "0.286 0.286 0.286");
  CHECK(stored.at("amp") == "true");
  CHECK(stored.count("output") == 0);
  CHECK(stored.count("stop-after-steps") == 0);

  TrainOptions resumed;
  resumed.resume = "run/last.h5";
  TrainOptions restored = apply_train_settings(resumed, stored, "run/last.h5");
  CHECK(restored.lr == started.lr);
  CHECK(restored.mean == started.mean);
  CHECK(restored.seed == 7);
  CHECK(restored.amp);
  CHECK(restored.aa == started.aa);
  CHECK(restored.model.width == 0.125);
  CHECK(restored.model.input_size == 28);
  CHECK(restored.data == "/data/train.h5");
  CHECK(restored.resume == "run/last.h5");
  CHECK(restored.given.count("batch-size") == 1);  // so that no recipe replaces it
}

TEST_CASE("train settings reject a changed option") {
  TrainOptions started = started_run();
  TrainSettings stored = train_settings(started, started.model);

  TrainOptions resumed;
  resumed.seed = 8;
  resumed.given = {"seed"};
  try {
    apply_train_settings(resumed, stored, "run/last.h5");
    FAIL("a changed --seed was accepted");
  } catch (const UsageError& e) {
    std::string message = e.what();
    CHECK(message.find("--seed 8") != std::string::npos);
    CHECK(message.find("stores --seed 7") != std::string::npos);
    CHECK(message.find("keeps its settings") != std::string::npos);
  }

  resumed.seed = 7;  // the stored value: accepted
  CHECK(apply_train_settings(resumed, stored, "run/last.h5").seed == 7);
}

TEST_CASE("train settings allow changes") {
  TrainOptions started = started_run();
  TrainSettings stored = train_settings(started, started.model);

  TrainOptions resumed;
  resumed.epochs = 200;
  resumed.workers = 1;
  resumed.val = "/data/val.h5";
  resumed.given = {"epochs", "workers", "val"};
  TrainOptions restored = apply_train_settings(resumed, stored, "run/last.h5");
  CHECK(restored.epochs == 200);
  CHECK(restored.workers == 1);
  CHECK(restored.val == "/data/val.h5");
  CHECK(restored.seed == 7);
  CHECK(may_change_on_resume("device"));
  CHECK_FALSE(may_change_on_resume("amp"));
}

TEST_CASE("train settings damaged value") {
  TrainOptions started = started_run();
  TrainSettings stored = train_settings(started, started.model);
  stored["lr"] = "fast";
  CHECK_THROWS_AS(apply_train_settings(TrainOptions(), stored, "run/last.h5"), Error);
}
