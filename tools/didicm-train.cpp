// didicm-train: trains a DiDiCM score model (DiDiRN) or a baseline classifier
// (ResNet, cross-entropy) on dataset files made by didicm-prep.

#include "tool.h"
#include "train_command.h"

#include <CLI/CLI.hpp>

namespace {

void add_model_options(CLI::App& app, didicm::TrainOptions& options) {
  app.add_option("--model", options.model.name,
                 "Architecture: didirn18, didirn34, didirn50, didirn101, didirn152, resnet18, "
                 "resnet34, resnet50, resnet101, resnet152 (required, except with --resume, "
                 "which restores it)");
  app.add_option("--num-classes", options.model.num_classes,
                 "Number of classes N for --dry-run (training takes it from --data)");
  app.add_option("--input-size", options.model.input_size,
                 "Input image height and width in pixels (default: the dataset's stored size; "
                 "224 for --dry-run)");
  app.add_option("--stem", options.model.stem,
                 "First layers: compact (conv 3x3 stride 1) or imagenet (conv 7x7 stride 2) "
                 "(default: compact for DiDiRN, imagenet for ResNet)");
  app.add_option("--width", options.model.width, "Multiplier of the 64 base channels (default: 1)");
  app.add_option("--embed-dim", options.model.embed_dim,
                 "Width of DiDiRN's label and sigma embedding (default: 128)");
  app.add_option("--objective", options.objective,
                 "didicm (score entropy, DiDiRN) or ce (cross-entropy, ResNet) "
                 "(default: from --model)");
  app.add_flag("--dry-run", options.dry_run,
               "Build the model, run one forward pass on a zero image and print a JSON summary");
}

void add_data_options(CLI::App& app, didicm::TrainOptions& options) {
  app.add_option("--data", options.data, "Training dataset file (from didicm-prep)");
  app.add_option("--val", options.val, "Validation dataset file (optional)");
  app.add_option("--output", options.output,
                 "Run folder for last.h5, best.h5 (with --val), config.json, summary.csv, "
                 "metrics.jsonl (default with --resume: the checkpoint's folder)");
  app.add_option("--resume", options.resume,
                 "Continue the run stored in this checkpoint with the settings it started with; "
                 "--output defaults to the checkpoint's folder");
  app.add_flag("--force", options.force, "Start over in an output folder that holds a run");
  app.add_option("-j,--workers", options.workers,
                 "Threads that decode and augment batches (default: 4)");
  app.add_option("--mean", options.mean, "Normalization mean per RGB channel, in [0, 1] "
                                         "(default: 0.485 0.456 0.406)")
      ->expected(3);
  app.add_option("--std", options.stddev, "Normalization standard deviation per RGB channel "
                                          "(default: 0.229 0.224 0.225)")
      ->expected(3);
}

void add_optimization_options(CLI::App& app, didicm::TrainOptions& options) {
  app.add_option("--epochs", options.epochs, "Training epochs (default: 100)");
  app.add_option("-b,--batch-size", options.batch_size, "Images per step (default: 1024)");
  app.add_option("--lr", options.lr, "Base learning rate (default: 0.002)");
  app.add_option("--lr-ratio-scaling", options.lr_ratio_scaling,
                 "none, or sqrt: multiply --lr by sqrt(1 / ratio) of the training file "
                 "(default: none)");
  app.add_option("--warmup-epochs", options.warmup_epochs,
                 "Epochs of linear warmup, may be fractional (default: 5)");
  app.add_option("--warmup-lr", options.warmup_lr, "Learning rate at step 0 (default: 1e-05)");
  app.add_option("--min-lr", options.min_lr, "Learning rate at the end of the cosine (default: 1e-06)");
  app.add_option("--opt", options.opt, "Optimizer: lamb, adamw or sgd (default: lamb)");
  app.add_option("--momentum", options.momentum, "SGD momentum (default: 0.9)");
  app.add_option("--weight-decay", options.weight_decay,
                 "Decoupled weight decay; none on biases and norms (default: 0.01)");
  app.add_option("--sched", options.sched,
                 "Learning-rate schedule, updated every step: cosine, step or none (default: cosine)");
  app.add_option("--decay-epochs", options.decay_epochs, "Epochs between step decays (default: 30)");
  app.add_option("--decay-rate", options.decay_rate, "Factor of each step decay (default: 0.1)");
  app.add_option("--smoothing", options.smoothing, "Label smoothing of the targets (default: 0)");
  app.add_option("--recipe", options.recipe,
                 "Training recipe: weak or strong; sets every option of the recipe that is not "
                 "given (default: none, the defaults listed here)");
  app.add_option("--diffusion-eps", options.diffusion_eps,
                 "Lower bound of the training time t (default: 1e-05)");
}

void add_augmentation_options(CLI::App& app, didicm::TrainOptions& options) {
  app.add_option("--color-jitter", options.color_jitter,
                 "Strength of brightness, contrast and saturation jitter; 0: off (default: 0.4)");
  app.add_option("--aa", options.aa,
                 "RandAugment spec rand-mM-mstdS-inc1[-nN], for example rand-m7-mstd0.5-inc1 "
                 "(default: none)");
  app.add_option("--mixup", options.mixup, "Mixup alpha; 0: off (default: 0)");
  app.add_option("--cutmix", options.cutmix, "CutMix alpha; 0: off (default: 0)");
  app.add_option("--mixup-switch-prob", options.mixup_switch_prob,
                 "Probability of CutMix for a batch when Mixup and CutMix are both on "
                 "(default: 0.5)");
  app.add_option("--aug-repeats", options.aug_repeats,
                 "Repeated augmentation: each chosen image appears this many times per epoch "
                 "(default: 1, off)");
}

void add_run_options(CLI::App& app, didicm::TrainOptions& options) {
  app.add_option("--seed", options.seed, "Seed of data order, augmentation and diffusion draws "
                                         "(default: 42)");
  app.add_option("--device", options.device, "auto, cpu, cuda or cuda:N (default: auto)");
  app.add_flag("--amp", options.amp,
               "bfloat16 autocast for the network's forward pass; weights, loss and optimizer "
               "stay float32");
  app.add_option("--val-every", options.val_every, "Epochs between validations (default: 1)");
  app.add_option("--val-steps", options.val_steps,
                 "DiDiCM-CP steps of the validation sampler (default: 2)");
  app.add_option("--checkpoint-every", options.checkpoint_every,
                 "Minutes between extra writes of last.h5 within an epoch; 0: per epoch only "
                 "(default: 0)");
  app.add_option("--stop-after-steps", options.stop_after_steps,
                 "Stop after this many steps in all, writing last.h5 as an interruption would "
                 "(default: 0, never)");
}

}  // namespace

int main(int argc, char** argv) {
  didicm::TrainOptions options;
  options.model.input_size = 0;
  CLI::App* parsed = nullptr;
  auto define = [&](CLI::App& app) {
    add_model_options(app, options);
    add_data_options(app, options);
    add_optimization_options(app, options);
    add_augmentation_options(app, options);
    add_run_options(app, options);
    parsed = &app;
  };
  auto run = [&] {
    // A recipe fills only the options that were not given.
    for (const CLI::Option* option : parsed->get_options()) {
      if (option->count() > 0) {
        for (const std::string& name : option->get_lnames()) {
          options.given.insert(name);
        }
      }
    }
    return didicm::run_train(options);
  };
  return didicm::run_tool(argc, argv, "didicm-train",
                          "Train a DiDiCM score model or a baseline classifier", define, run);
}
