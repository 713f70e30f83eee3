#include "checkpoint.h"
#include "device.h"
#include "errors.h"
#include "h5.h"
#include "support.h"
#include "tensor_h5.h"
#include "train_command.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace didicm;
using didicm::testing::TempDir;

namespace {

Checkpoint small_checkpoint(const std::string& name, std::int64_t classes) {
  ModelConfig config;
  config.name = name;
  config.num_classes = classes;
  config.width = 0.125;
  config.input_size = 16;

  Checkpoint checkpoint;
  checkpoint.model = build_model(config);
  checkpoint.objective = checkpoint.model.is_score_model() ? "didicm" : "ce";
  for (std::int64_t i = 0; i < classes; ++i) {
    checkpoint.classes.push_back(fmt::format("class-{}", i));
  }
  checkpoint.mean = {0.485, 0.456, 0.406};
  checkpoint.stddev = {0.229, 0.224, 0.225};
  checkpoint.epoch = 3;
  checkpoint.step = 1200;
  checkpoint.config_json = R"({"lr":0.002})";
  checkpoint.command_line = "didicm-train --model " + name;

  // Training-mode passes move the BatchNorm statistics away from their defaults.
  torch::manual_seed(11);
  checkpoint.model.train();
  torch::NoGradGuard no_grad;
  for (int i = 0; i < 2; ++i) {
    torch::Tensor images = torch::randn({4, 3, 16, 16}) * 2 + 0.5;
    if (checkpoint.model.is_score_model()) {
      checkpoint.model.forward(images, torch::randint(0, classes, {4}, torch::kInt64),
                               torch::rand({4}) * 6);
    } else {
      checkpoint.model.forward(images);
    }
  }
  checkpoint.model.eval();
  return checkpoint;
}

torch::Tensor run(const Model& model, const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  if (!model.is_score_model()) {
    return model.forward(images);
  }
  auto batch = images.size(0);
  return model.forward(images, torch::arange(batch, torch::kInt64) % model.num_classes(),
                       torch::linspace(0.01, 6.9, batch));
}

std::string caught_message(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("checkpoint round trip reproduces outputs") {
  TempDir folder;
  for (const std::string name : {"didirn18", "resnet50"}) {
    INFO(name);
    Checkpoint saved = small_checkpoint(name, 5);
    saved.optimizer["state/0/exp_avg"] = torch::randn({3, 4});
    saved.optimizer["step"] = torch::tensor(1200, torch::kInt64);
    saved.rng["cpu"] = torch::randint(0, 255, {16}, torch::kUInt8);
    std::string path = folder.file(name + ".h5");
    save_checkpoint(path, saved, false);

    Checkpoint loaded = load_checkpoint(path, torch::kCPU);
    CHECK(loaded.model.config().name == name);
    CHECK(loaded.model.config().stem == saved.model.config().stem);
    CHECK(loaded.model.config().width == 0.125);
    CHECK(loaded.model.config().embed_dim == saved.model.config().embed_dim);
    CHECK(loaded.model.config().input_size == 16);
    CHECK(loaded.objective == saved.objective);
    CHECK(loaded.classes == saved.classes);
    CHECK(loaded.mean == saved.mean);
    CHECK(loaded.stddev == saved.stddev);
    CHECK(loaded.epoch == 3);
    CHECK(loaded.step == 1200);
    CHECK(loaded.config_json == saved.config_json);
    CHECK(loaded.command_line == saved.command_line);
    CHECK(loaded.created_by.find("didicm") != std::string::npos);

    auto saved_state = state_dict(*saved.model.module());
    auto loaded_state = state_dict(*loaded.model.module());
    REQUIRE(saved_state.size() == loaded_state.size());
    for (std::size_t i = 0; i < saved_state.size(); ++i) {
      INFO(saved_state[i].first);
      CHECK((loaded_state[i].second.scalar_type() == saved_state[i].second.scalar_type()));
      CHECK(torch::equal(loaded_state[i].second, saved_state[i].second));
    }

    torch::Tensor images = torch::randn({3, 3, 16, 16});
    CHECK(torch::equal(run(loaded.model, images), run(saved.model, images)));

    REQUIRE(loaded.optimizer.size() == 2);
    CHECK(torch::equal(loaded.optimizer["state/0/exp_avg"], saved.optimizer["state/0/exp_avg"]));
    CHECK(loaded.optimizer["step"].item<std::int64_t>() == 1200);
    CHECK(loaded.optimizer["step"].dim() == 0);
    CHECK(torch::equal(loaded.rng["cpu"], saved.rng["cpu"]));
    CHECK(load_checkpoint(path, torch::kCPU, /*training_state=*/false).optimizer.empty());
  }
}

TEST_CASE("checkpoint file attributes and layout") {
  TempDir folder;
  std::string path = folder.file("model.h5");
  save_checkpoint(path, small_checkpoint("didirn18", 4), false);
  auto file = h5::File::open(path);
  CHECK(file.string_attribute("format") == "didicm-checkpoint");
  CHECK(file.int_attribute("format_version") == 1);
  CHECK(file.string_attribute("arch") == "didirn18");
  CHECK(file.int_attribute("num_classes") == 4);
  CHECK(file.read_strings("classes").size() == 4);
  CHECK(file.dims("model/bn1.num_batches_tracked").empty());
  CHECK(file.open_dataset("model/bn1.num_batches_tracked").element_type() == h5::ElementType::int64);
  CHECK(file.open_dataset("model/fc.weight").element_type() == h5::ElementType::float32);
  CHECK(file.dims("model/layer1.0.emb_layers.1.weight") == h5::Dims{8, 128});

  CHECK_THROWS_WITH_AS(save_checkpoint(path, small_checkpoint("didirn18", 4), false),
                       doctest::Contains("--force"), Error);
  CHECK_NOTHROW(save_checkpoint(path, small_checkpoint("didirn18", 4), true));
}

TEST_CASE("checkpoint training settings round trip") {
  TempDir folder;
  std::string old_path = folder.file("old.h5");
  save_checkpoint(old_path, small_checkpoint("didirn18", 4), false);
  CHECK_FALSE(read_checkpoint_settings(old_path).has_value());
  CHECK(load_checkpoint(old_path, torch::kCPU).data_hash.empty());

  Checkpoint saved = small_checkpoint("didirn18", 4);
  saved.train_settings = {{"lr", "0.002"}, {"mean", "0.5 0.5 0.5"}, {"aa", ""}};
  saved.data_hash = "0123456789abcdef";
  std::string path = folder.file("new.h5");
  save_checkpoint(path, saved, false);

  auto settings = read_checkpoint_settings(path);
  REQUIRE(settings.has_value());
  CHECK(*settings == saved.train_settings);
  Checkpoint loaded = load_checkpoint(path, torch::kCPU);
  CHECK(loaded.train_settings == saved.train_settings);
  CHECK(loaded.data_hash == "0123456789abcdef");
  CHECK_THROWS_AS(read_checkpoint_settings(folder.file("missing.h5")), Error);
}

TEST_CASE("checkpoint save rejects inconsistent metadata") {
  TempDir folder;
  Checkpoint checkpoint = small_checkpoint("didirn18", 4);
  checkpoint.classes.pop_back();
  CHECK_THROWS_WITH_AS(save_checkpoint(folder.file("a.h5"), checkpoint, false),
                       doctest::Contains("3 class names for a model with 4 classes"), Error);
  Checkpoint resnet = small_checkpoint("resnet18", 4);
  resnet.objective = "didicm";
  CHECK_THROWS_WITH_AS(save_checkpoint(folder.file("b.h5"), resnet, false),
                       doctest::Contains("needs a score model"), Error);
  CHECK_FALSE(std::filesystem::exists(folder.file("a.h5")));
  CHECK_FALSE(std::filesystem::exists(folder.file("b.h5")));
}

TEST_CASE("checkpoint truncated or foreign file rejected") {
  silence_hdf5_errors();
  TempDir folder;
  std::string path = folder.file("model.h5");
  save_checkpoint(path, small_checkpoint("didirn34", 4), false);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) * 2 / 3);
  std::string message = caught_message([&] { load_checkpoint(path, torch::kCPU); });
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);

  std::ofstream(folder.file("text.h5")) << "weights\n";
  message = caught_message([&] { load_checkpoint(folder.file("text.h5"), torch::kCPU); });
  CHECK(message.find("not an HDF5 file") != std::string::npos);

  std::string dataset = folder.file("dataset.h5");
  h5::File::create(dataset).set_attribute("format", "didicm-dataset");
  CHECK_THROWS_WITH_AS(load_checkpoint(dataset, torch::kCPU),
                       doctest::Contains("is a didicm-dataset file, expected a didicm-checkpoint"),
                       Error);
}

TEST_CASE("checkpoint wrong arch or class count rejected") {
  TempDir folder;
  std::string path = folder.file("model.h5");
  save_checkpoint(path, small_checkpoint("didirn18", 4), false);
  {
    auto file = h5::File::open(path, /*writable=*/true);
    file.set_attribute("num_classes", std::int64_t{5});
  }
  CHECK_THROWS_WITH_AS(load_checkpoint(path, torch::kCPU),
                       doctest::Contains("/classes has 4 names but num_classes is 5"), Error);
  {
    auto file = h5::File::open(path, /*writable=*/true);
    file.set_attribute("num_classes", std::int64_t{4});
    file.set_attribute("arch", "didirn20");
  }
  CHECK_THROWS_WITH_AS(load_checkpoint(path, torch::kCPU),
                       doctest::Contains("model 'didirn20': unknown; valid models are"), Error);
}

TEST_CASE("checkpoint model state mismatches named") {
  TempDir folder;
  Model target = small_checkpoint("didirn18", 5).model;

  // Another class count: the first tensor of a different shape is the label table.
  {
    auto file = h5::File::create(folder.file("six.h5"));
    write_model_state(file.create_group("model"), small_checkpoint("didirn18", 6).model);
  }
  std::string message = caught_message(
      [&] { read_model_state(h5::File::open(folder.file("six.h5")).open_group("model"), target); });
  CHECK(message.find("/model/label_embedder.weight") != std::string::npos);
  CHECK(message.find("[6, 128]") != std::string::npos);
  CHECK(message.find("[5, 128]") != std::string::npos);

  // A ResNet with the same stem lacks the embedding tensors.
  {
    ModelConfig config;
    config.name = "resnet18";
    config.num_classes = 5;
    config.width = 0.125;
    config.stem = "compact";
    auto file = h5::File::create(folder.file("resnet.h5"));
    write_model_state(file.create_group("model"), build_model(config));
  }
  message = caught_message([&] {
    read_model_state(h5::File::open(folder.file("resnet.h5")).open_group("model"), target);
  });
  CHECK(message.find("/model/ff_emb.mlp.0.weight: missing") != std::string::npos);
  CHECK(message.find("[128, 256]") != std::string::npos);

  // One tensor too many.
  {
    auto file = h5::File::create(folder.file("extra.h5"));
    h5::Group group = file.create_group("model");
    write_model_state(group, target);
    write_tensor(group, "head.weight", torch::zeros({2, 2}));
  }
  message = caught_message([&] {
    read_model_state(h5::File::open(folder.file("extra.h5")).open_group("model"), target);
  });
  CHECK(message.find("/model/head.weight: unexpected tensor") != std::string::npos);

  // A float tensor where the model has int64.
  {
    auto file = h5::File::create(folder.file("types.h5"));
    h5::Group group = file.create_group("model");
    for (auto& [name, tensor] : state_dict(*target.module())) {
      write_tensor(group, name, tensor.to(torch::kFloat32));
    }
  }
  message = caught_message([&] {
    read_model_state(h5::File::open(folder.file("types.h5")).open_group("model"), target);
  });
  CHECK(message.find("bn1.num_batches_tracked: type Float in the file, expected Long") !=
        std::string::npos);
}

TEST_CASE("tensor h5 round trip of dtypes") {
  auto file = h5::File::create_in_memory("tensors.h5");
  std::vector<torch::Tensor> tensors{
      torch::randn({2, 3}), torch::randn({4}, torch::kFloat64),
      torch::tensor(7, torch::kInt64), torch::randint(0, 100, {2, 2, 2}, torch::kInt32),
      torch::randint(0, 255, {5}, torch::kUInt8), torch::zeros({0, 3})};
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    write_tensor(file, fmt::format("t{}", i), tensors[i]);
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    torch::Tensor back = read_tensor(file, fmt::format("t{}", i));
    INFO(i);
    CHECK((back.scalar_type() == tensors[i].scalar_type()));
    CHECK(back.sizes() == tensors[i].sizes());
    CHECK(torch::equal(back, tensors[i]));
  }
  CHECK_THROWS_WITH_AS(write_tensor(file, "half", torch::zeros({2}, torch::kFloat16)),
                       doctest::Contains("cannot store a Half tensor"), Error);
  torch::Tensor target = torch::zeros({3, 2});
  CHECK_THROWS_WITH_AS(read_tensor_into(file, "t0", target),
                       doctest::Contains("shape [2, 3] in the file, expected [3, 2]"), Error);
}

TEST_CASE("device selection") {
  CHECK(select_device("cpu") == torch::Device(torch::kCPU));
  CHECK_THROWS_WITH_AS(select_device("gpu"), doctest::Contains("valid devices are auto, cpu"),
                       UsageError);
  CHECK_THROWS_AS(select_device("cuda:x"), UsageError);
  if (torch::cuda::is_available()) {
    CHECK(select_device("auto").is_cuda());
    CHECK(select_device("cuda:0").is_cuda());
  } else {
    CHECK(select_device("auto") == torch::Device(torch::kCPU));
    CHECK_THROWS_WITH_AS(select_device("cuda"), doctest::Contains("CUDA is not available"), Error);
  }
  CHECK_THROWS_AS(select_device("cuda:999"), Error);
}

TEST_CASE("train dry run summary") {
  ModelConfig config;
  config.name = "didirn18";
  config.num_classes = 10;
  config.input_size = 32;
  ModelSummary summary = dry_run_model(config, torch::kCPU);
  CHECK(summary.parameters == 11476170);
  CHECK(summary.state_dict_entries == 159);
  CHECK(summary.buffers == 9620);
  CHECK(summary.output_shape == std::vector<std::int64_t>{1, 10});
  std::string json = summary_json(summary);
  CHECK(json.find(R"("model":"didirn18")") != std::string::npos);
  CHECK(json.find(R"("params":11476170)") != std::string::npos);
  CHECK(json.find(R"("output_shape":[1,10])") != std::string::npos);
  CHECK(json.find('\n') == std::string::npos);

  TrainOptions options;
  options.model = config;
  CHECK_THROWS_WITH_AS(resolve_train_options(options), doctest::Contains("--data"), UsageError);
  options.dry_run = true;
  options.model.name = "vgg16";
  CHECK_THROWS_WITH_AS(resolve_train_options(options), doctest::Contains("vgg16"), UsageError);
}
