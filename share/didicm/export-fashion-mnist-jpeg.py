#!/usr/bin/python3
"""Export Fashion-MNIST images as JPEG files in the two layouts didicm-prep reads.

    export-fashion-mnist-jpeg.py [--split t10k] [--count N] [--quality Q] OUT

writes OUT/tree/<label>-<name>/<index>.JPEG (an ImageNet-style class-folder
tree whose byte-wise folder order is the label order) and OUT/flat/<index>.JPEG
with OUT/flat/labels.csv ("filename,class" lines). It uses Debian's python3-pil
and python3-numpy and reads the IDX files of dataset-fashion-mnist.
"""

import argparse
import gzip
import os
import sys

import numpy as np
from PIL import Image

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    """Return the array stored in an IDX file (gzip-compressed or plain)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as stream:
        data = stream.read()
    dimensions = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dimensions)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dimensions).reshape(shape)


def folder_name(label):
    # A single leading digit keeps the byte-wise folder order equal to the label order.
    return f"{label}-{CLASSES[label].replace('/', '_').replace(' ', '_')}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="folder to create the tree/ and flat/ folders in")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist",
                        help="folder of the IDX files (default: %(default)s)")
    parser.add_argument("--split", default="t10k", choices=["train", "t10k"],
                        help="which IDX files to read (default: %(default)s)")
    parser.add_argument("--count", type=int, default=0,
                        help="export only the first N images (default: 0, all)")
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality (default: %(default)s)")
    args = parser.parse_args()

    images = read_idx(os.path.join(args.data, f"{args.split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(args.data, f"{args.split}-labels-idx1-ubyte.gz"))
    count = len(images) if args.count <= 0 else min(args.count, len(images))

    tree = os.path.join(args.output, "tree")
    flat = os.path.join(args.output, "flat")
    for label in range(len(CLASSES)):
        os.makedirs(os.path.join(tree, folder_name(label)), exist_ok=True)
    os.makedirs(flat, exist_ok=True)

    with open(os.path.join(flat, "labels.csv"), "w") as csv:
        for index in range(count):
            label = int(labels[index])
            name = f"{index:05d}.JPEG"
            picture = Image.fromarray(images[index], mode="L").convert("RGB")
            picture.save(os.path.join(tree, folder_name(label), name), quality=args.quality)
            picture.save(os.path.join(flat, name), quality=args.quality)
            csv.write(f"{name},{folder_name(label)}\n")
    print(f"exported {count} images to {tree} and {flat}", file=sys.stderr)


if __name__ == "__main__":
    main()
