// didicm-train: trains a DiDiCM score model or a baseline classifier. This
// build supports --dry-run only: it builds the model and prints its summary.

#include "train_command.h"
#include "tool.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  didicm::TrainOptions options;
  auto define = [&](CLI::App& app) {
    app.add_flag("--dry-run", options.dry_run,
                 "Build the model, run one forward pass on a zero image and print a JSON summary");
    app.add_option("--model", options.model.name,
                   "Architecture: didirn18, didirn34, didirn50, didirn101, didirn152, resnet18, "
                   "resnet34, resnet50, resnet101, resnet152")
        ->required();
    app.add_option("--num-classes", options.model.num_classes, "Number of classes N")->required();
    app.add_option("--input-size", options.model.input_size,
                   "Input image height and width in pixels (default: 224)");
    app.add_option("--stem", options.model.stem,
                   "First layers: compact (conv 3x3 stride 1) or imagenet (conv 7x7 stride 2) "
                   "(default: compact for DiDiRN, imagenet for ResNet)");
    app.add_option("--width", options.model.width,
                   "Multiplier of the 64 base channels (default: 1)");
    app.add_option("--embed-dim", options.model.embed_dim,
                   "Width of DiDiRN's label and sigma embedding (default: 128)");
    app.add_option("--device", options.device, "auto, cpu, cuda or cuda:N (default: auto)");
  };
  return didicm::run_tool(argc, argv, "didicm-train",
                          "Train a DiDiCM score model or a baseline classifier", define,
                          [&] { return didicm::run_train(options); });
}
