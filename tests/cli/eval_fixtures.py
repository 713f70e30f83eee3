"""Write small posterior and dataset files for the didicm-eval CLI tests.

  eval_fixtures.py posterior OUT --probs '[[...], ...]' --targets '[...]' [options]
  eval_fixtures.py dataset OUT --labels '[...]' --classes a,b,c [--size 4]

Posterior files follow the didicm-posterior schema (format_version 1); the
options can also leave parts out, so the tests can make broken files.
"""

import argparse
import json

import h5py
import numpy as np


def write_posterior(args):
    probs = np.array(json.loads(args.probs), dtype=np.float32)
    targets = np.array(json.loads(args.targets), dtype=np.int32)
    classes = args.classes.split(",") if args.classes else [f"c{i}" for i in range(probs.shape[1])]
    with h5py.File(args.out, "w") as f:
        if "format" not in args.omit:
            f.attrs["format"] = "didicm-posterior"
            f.attrs["format_version"] = 1
        f.attrs["created_by"] = "eval_fixtures.py"
        f.attrs["sampler"] = args.sampler
        f.attrs["steps"] = args.steps
        f.attrs["nfe"] = args.nfe
        if args.dataset:
            f.attrs["dataset"] = args.dataset
        for pair in args.attr:
            key, value = pair.split("=", 1)
            f.attrs[key] = value
        for pair in args.number:
            key, value = pair.split("=", 1)
            f.attrs[key] = float(value)
        if "probs" not in args.omit:
            f["probs"] = probs
        if "targets" not in args.omit:
            f["targets"] = targets
        if "classes" not in args.omit:
            f["classes"] = np.array(classes, dtype=h5py.string_dtype())
        if args.indices:
            f["indices"] = np.array(json.loads(args.indices), dtype=np.int64)


def write_dataset(args):
    labels = np.array(json.loads(args.labels), dtype=np.int32)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(len(labels), args.size, args.size, 3), dtype=np.uint8)
    with h5py.File(args.out, "w") as f:
        f.attrs["format"] = "didicm-dataset"
        f.attrs["format_version"] = 1
        f["images"] = images
        f["labels"] = labels
        f["classes"] = np.array(args.classes.split(","), dtype=h5py.string_dtype())


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)

    posterior = commands.add_parser("posterior")
    posterior.add_argument("out")
    posterior.add_argument("--probs", required=True, help="JSON list of rows")
    posterior.add_argument("--targets", required=True, help="JSON list")
    posterior.add_argument("--classes", default="", help="comma-separated names")
    posterior.add_argument("--sampler", default="cp")
    posterior.add_argument("--steps", type=int, default=2)
    posterior.add_argument("--nfe", type=int, default=2)
    posterior.add_argument("--dataset", default="")
    posterior.add_argument("--indices", default="", help="JSON list of dataset rows")
    posterior.add_argument("--attr", action="append", default=[], help="KEY=VALUE string attribute")
    posterior.add_argument("--number", action="append", default=[], help="KEY=VALUE float attribute")
    posterior.add_argument("--omit", action="append", default=[],
                           help="leave out: format, probs, targets or classes")
    posterior.set_defaults(run=write_posterior)

    dataset = commands.add_parser("dataset")
    dataset.add_argument("out")
    dataset.add_argument("--labels", required=True, help="JSON list")
    dataset.add_argument("--classes", required=True, help="comma-separated names")
    dataset.add_argument("--size", type=int, default=4, help="image height and width in pixels")
    dataset.set_defaults(run=write_dataset)

    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
