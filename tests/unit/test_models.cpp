#include "didirn.h"
#include "errors.h"
#include "h5.h"
#include "model_factory.h"
#include "resnet.h"
#include "support.h"
#include "tensor_h5.h"

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

using namespace didicm;

namespace {

// One line of state_dict_names.txt: name, shape as "[64, 3, 3, 3]", dtype.
struct NameEntry {
  std::string name;
  std::string shape;
  std::string dtype;
};

std::vector<NameEntry> read_state_dict_names() {
  std::ifstream input(didicm::testing::golden_file("state_dict_names.txt"));
  REQUIRE(input.good());
  std::vector<NameEntry> entries;
  std::string line;
  while (std::getline(input, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::istringstream fields(line);
    std::string index;
    NameEntry entry;
    std::getline(fields, index, '\t');
    std::getline(fields, entry.name, '\t');
    std::getline(fields, entry.shape, '\t');
    std::getline(fields, entry.dtype, '\t');
    entries.push_back(entry);
  }
  return entries;
}

std::string dtype_name(const torch::Tensor& tensor) {
  return tensor.scalar_type() == torch::kInt64 ? "int64" : "float32";
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Position-weighted byte sum of a name: sum over j of (j + 1) * byte_j.
double name_hash(const std::string& name) {
  double sum = 0;
  for (std::size_t j = 0; j < name.size(); ++j) {
    sum += static_cast<double>(j + 1) * static_cast<unsigned char>(name[j]);
  }
  return sum;
}

// Overwrites every state_dict entry with the deterministic golden pattern:
// r_i = sin(0.37 i + h(name)) in float64, rounded to float32, then scaled by
// a rule chosen by the name's suffix and the tensor's rank.
void fill_golden_weights(const Model& model) {
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : state_dict(*model.module())) {
    if (ends_with(name, "num_batches_tracked")) {
      continue;
    }
    auto n = tensor.numel();
    torch::Tensor r =
        torch::sin(torch::arange(n, torch::kFloat64) * 0.37 + name_hash(name)).to(torch::kFloat32);
    torch::Tensor value;
    if (ends_with(name, "running_mean") || ends_with(name, ".bias")) {
      value = 0.1 * r;
    } else if (ends_with(name, "running_var")) {
      value = 1 + 0.25 * r * r;
    } else if (tensor.dim() == 1) {
      value = 1 + 0.1 * r;
    } else {
      double fan_in = static_cast<double>(n / tensor.size(0));
      value = r / std::sqrt(fan_in);
    }
    tensor.copy_(value.reshape(tensor.sizes()));
  }
}

torch::Tensor read_golden(const h5::Group& group, const std::string& name) {
  return read_tensor(group, name);
}

double max_abs_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

ModelConfig small_config(const std::string& name, std::int64_t classes, double width) {
  ModelConfig config;
  config.name = name;
  config.num_classes = classes;
  config.width = width;
  config.input_size = 16;
  return config;
}

}  // namespace

TEST_CASE("didirn state_dict names equal golden list") {
  auto golden = read_state_dict_names();
  REQUIRE(golden.size() > 2);
  std::int64_t classes = 0;
  for (const auto& entry : golden) {
    if (entry.name == "label_embedder.weight") {
      classes = std::stoll(entry.shape.substr(1));
    }
  }
  REQUIRE(classes > 0);

  ModelConfig config;
  config.name = "didirn18";
  config.num_classes = classes;
  Model model = build_model(config);
  auto entries = state_dict(*model.module());
  REQUIRE(entries.size() == golden.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    INFO("entry " << i << ": " << golden[i].name);
    CHECK(entries[i].first == golden[i].name);
    CHECK(shape_string(entries[i].second.sizes()) == golden[i].shape);
    CHECK(dtype_name(entries[i].second) == golden[i].dtype);
  }

  auto file = h5::File::open(didicm::testing::golden_file("didirn.h5").string());
  CHECK(static_cast<std::int64_t>(entries.size()) == file.int_attribute("state_dict_len"));
}

TEST_CASE("didirn golden forward pass") {
  auto file = h5::File::open(didicm::testing::golden_file("didirn.h5").string());
  torch::Tensor labels = read_golden(file, "labels");
  torch::Tensor sigma = read_golden(file, "sigma");

  int cases = 0;
  for (const auto& group_name : file.children()) {
    if (group_name.rfind("fwd", 0) != 0) {
      continue;
    }
    ++cases;
    h5::Group group = file.open_group(group_name);
    torch::Tensor x = read_golden(group, "x");
    torch::Tensor expected = read_golden(group, "logits_f32");

    ModelConfig config;
    config.name = "didirn18";
    config.num_classes = expected.size(1);
    config.input_size = x.size(2);
    Model model = build_model(config);
    fill_golden_weights(model);
    model.eval();
    torch::NoGradGuard no_grad;

    INFO("group " << group_name);
    torch::Tensor logits = model.forward(x, labels, sigma);
    REQUIRE(logits.sizes() == expected.sizes());
    CHECK(max_abs_difference(logits, expected) < 1e-4);

    if (!group.exists("intermediates_f32")) {
      continue;
    }
    // Recompute the forward pass step by step and compare what the reference stored.
    h5::Group stored = group.open_group("intermediates_f32");
    DiDiRN net = model.didirn();
    std::map<std::string, torch::Tensor> mine;
    mine["t_freq"] = SigmaEmbedderImpl::sinusoidal_features(sigma);
    mine["time_emb"] = net->named_modules()["ff_emb"]->as<SigmaEmbedderImpl>()->forward(sigma);
    mine["label_emb"] = net->named_parameters()["label_embedder.weight"].index_select(0, labels);
    torch::Tensor out = net->forward_stem(x);
    mine["stem_out"] = out;
    torch::Tensor emb = net->embed(labels, sigma);
    for (int stage = 0; stage < 4; ++stage) {
      const auto& blocks = net->stage(stage);
      for (std::size_t j = 0; j < blocks.size(); ++j) {
        DiDiRNBlock block = blocks[j];
        out = block->forward(out, emb);
        mine[fmt::format("layer{}.{}_out", stage + 1, j)] = out;
      }
    }
    mine["avgpool_out"] = torch::adaptive_avg_pool2d(out, {1, 1});

    for (const auto& name : stored.children()) {
      INFO("intermediate " << name);
      REQUIRE(mine.count(name) == 1);
      torch::Tensor reference = read_golden(stored, name);
      REQUIRE(mine[name].sizes() == reference.sizes());
      double scale = std::max(1.0, reference.abs().max().item<double>());
      CHECK(max_abs_difference(mine[name], reference) < 1e-4 * scale);
    }
  }
  CHECK(cases >= 1);
}

TEST_CASE("model parameter counts match golden") {
  auto file = h5::File::open(didicm::testing::golden_file("didirn.h5").string());
  h5::Group counts = file.open_group("param_counts");

  // Attribute names are "<kind>_<depth>"; build each depth's two models once.
  std::map<int, std::map<std::string, std::int64_t>> expected;
  for (const auto& attribute : counts.attribute_names()) {
    auto split = attribute.rfind('_');
    REQUIRE(split != std::string::npos);
    int depth = std::stoi(attribute.substr(split + 1));
    expected[depth][attribute.substr(0, split)] = counts.int_attribute(attribute);
  }
  REQUIRE(expected.size() == 5);

  for (const auto& [depth, kinds] : expected) {
    std::map<std::string, std::int64_t> found;
    {
      ModelConfig config;
      config.name = fmt::format("didirn{}", depth);
      config.num_classes = 1000;
      Model model = build_model(config);
      found["didirn"] = model.parameter_count();
      found["didirn_buffers"] = model.buffer_count();
      for (const auto& parameter : model.module()->named_parameters()) {
        const std::string& name = parameter.key();
        std::int64_t size = parameter.value().numel();
        if (name.rfind("ff_emb.", 0) == 0) {
          found["ff_emb"] += size;
        } else if (name.rfind("label_embedder.", 0) == 0) {
          found["label_embedder"] += size;
        } else if (name.find(".emb_layers.") != std::string::npos ||
                   name.find(".out_layers.") != std::string::npos) {
          found["block_cond"] += size;
        } else if (name == "conv1.weight") {
          found["stem"] += size;
        }
      }
    }
    {
      ModelConfig config;
      config.name = fmt::format("resnet{}", depth);
      config.num_classes = 1000;
      Model model = build_model(config);
      found["resnet"] = model.parameter_count();
      found["tv_stem"] = model.module()->named_parameters()["conv1.weight"].numel();
    }
    for (const auto& [kind, count] : kinds) {
      INFO("depth " << depth << ", " << kind);
      REQUIRE(found.count(kind) == 1);
      CHECK(found[kind] == count);
    }
  }
}

TEST_CASE("didirn18 with 10 classes size") {
  Model model = build_model(small_config("didirn18", 10, 1.0));
  CHECK(model.parameter_count() == 11476170);
  CHECK(state_dict(*model.module()).size() == 159);
}

TEST_CASE("model output independent of batch in eval mode") {
  torch::manual_seed(7);
  for (const std::string name : {"didirn18", "resnet18", "didirn50"}) {
    INFO(name);
    Model model = build_model(small_config(name, 6, 0.25));
    model.eval();
    torch::NoGradGuard no_grad;
    torch::Tensor images = torch::randn({8, 3, 32, 32});
    torch::Tensor labels = torch::randint(0, 6, {8}, torch::kInt64);
    torch::Tensor sigma = torch::rand({8}) * 6.9;
    torch::Tensor batch, alone;
    if (model.is_score_model()) {
      batch = model.forward(images, labels, sigma);
      alone = model.forward(images.slice(0, 3, 4), labels.slice(0, 3, 4), sigma.slice(0, 3, 4));
    } else {
      batch = model.forward(images);
      alone = model.forward(images.slice(0, 3, 4));
    }
    CHECK(max_abs_difference(batch.slice(0, 3, 4), alone) < 1e-5);
  }
}

TEST_CASE("model forward and backward at every depth") {
  torch::manual_seed(3);
  for (const auto& name : model_names()) {
    INFO(name);
    Model model = build_model(small_config(name, 3, 0.125));
    model.train();
    torch::Tensor images = torch::randn({2, 3, 16, 16});
    torch::Tensor output = model.is_score_model()
                               ? model.forward(images, torch::tensor({0, 2}, torch::kInt64),
                                               torch::tensor({0.5F, 3.0F}))
                               : model.forward(images);
    CHECK(output.sizes() == torch::IntArrayRef({2, 3}));
    output.square().mean().backward();
    bool all_gradients = true;
    for (const auto& parameter : model.module()->named_parameters()) {
      if (!parameter.value().grad().defined() ||
          !torch::isfinite(parameter.value().grad()).all().item<bool>()) {
        all_gradients = false;
        MESSAGE("no finite gradient for " << parameter.key());
      }
    }
    CHECK(all_gradients);
  }
}

TEST_CASE("model width and group norm groups") {
  CHECK(group_norm_groups(64) == 32);
  CHECK(group_norm_groups(8) == 8);
  CHECK(group_norm_groups(48) == 16);
  CHECK(group_norm_groups(100) == 4);
  CHECK(base_channels(0.125) == 8);
  CHECK(base_channels(1.0) == 64);

  Model model = build_model(small_config("didirn18", 4, 0.375));
  auto parameters = model.module()->named_parameters();
  CHECK(parameters["conv1.weight"].size(0) == 24);
  CHECK(parameters["layer4.1.out_layers.0.weight"].size(0) == 192);
  CHECK(parameters["fc.weight"].size(1) == 192);
}

TEST_CASE("model factory rejects bad configurations") {
  CHECK_THROWS_WITH_AS(build_model(small_config("didirn19", 10, 1.0)),
                       doctest::Contains("valid models are didirn18"), UsageError);
  CHECK_THROWS_WITH_AS(build_model(small_config("resnet18", 1, 1.0)),
                       doctest::Contains("number of classes 1"), UsageError);
  CHECK_THROWS_WITH_AS(build_model(small_config("resnet18", 10, 0.001)),
                       doctest::Contains("width 0.001"), UsageError);
  ModelConfig stem = small_config("didirn18", 10, 1.0);
  stem.stem = "cifar";
  CHECK_THROWS_WITH_AS(build_model(stem), doctest::Contains("compact, imagenet"), UsageError);
  ModelConfig embedding = small_config("didirn18", 10, 1.0);
  embedding.embed_dim = 0;
  CHECK_THROWS_WITH_AS(build_model(embedding), doctest::Contains("embedding width 0"), UsageError);
}

TEST_CASE("model factory defaults and misuse") {
  Model didirn = build_model(small_config("didirn34", 10, 0.125));
  CHECK(didirn.is_score_model());
  CHECK(didirn.config().stem == "compact");
  CHECK(didirn.config().embed_dim == 128);
  Model resnet = build_model(small_config("resnet34", 10, 0.125));
  CHECK_FALSE(resnet.is_score_model());
  CHECK(resnet.config().stem == "imagenet");
  CHECK(resnet.config().embed_dim == 0);
  CHECK(resnet.module()->named_parameters()["conv1.weight"].size(3) == 7);

  torch::Tensor images = torch::zeros({2, 3, 16, 16});
  CHECK_THROWS_AS(didirn.forward(images), Error);
  CHECK_THROWS_AS(resnet.forward(images, torch::zeros({2}, torch::kInt64), torch::ones({2})),
                  Error);
  CHECK_THROWS_WITH_AS(didirn.forward(images, torch::zeros({3}, torch::kInt64), torch::ones({2})),
                       doctest::Contains("labels have shape [3]"), Error);
  CHECK_THROWS_WITH_AS(didirn.forward(images, torch::zeros({2}), torch::ones({2})),
                       doctest::Contains("expected int64 [2]"), Error);
}
