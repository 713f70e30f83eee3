#!/usr/bin/python3
"""The same work as didicm-prep, done with PIL: decode, RGB, antialiased
resize of the shorter side to round(size / crop_pct), center crop, write an
HDF5 file with one image per chunk. Prints one JSON line like didicm-prep.

Usage: prep_pil.py ROOT OUTPUT SIZE PROCESSES [--draft]
--draft lets PIL's JPEG decoder scale in the DCT domain first (Image.draft),
which torchvision and timm loaders do not do.
"""
import json
import multiprocessing
import os
import resource
import sys
import time

import h5py
import numpy as np
from PIL import Image

CROP_PCT = 0.875


def load(args):
    path, size, draft = args
    short_side = round(size / CROP_PCT)
    with Image.open(path) as image:
        if draft:
            image.draft('RGB', (short_side, short_side))
        image = image.convert('RGB')
        width, height = image.size
        if width <= height:
            new_size = (short_side, int(short_side * height / width))
        else:
            new_size = (int(short_side * width / height), short_side)
        image = image.resize(new_size, Image.BILINEAR)
        left = int(round((new_size[0] - size) / 2.0))
        top = int(round((new_size[1] - size) / 2.0))
        image = image.crop((left, top, left + size, top + size))
        return np.asarray(image, dtype=np.uint8)


def cpu_seconds():
    """User plus system time of this process and its finished worker processes."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def main():
    root, output, size, processes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    draft = '--draft' in sys.argv[5:]
    start = time.perf_counter()
    start_cpu = cpu_seconds()
    classes = sorted(entry.name for entry in os.scandir(root) if entry.is_dir())
    files, labels = [], []
    for label, name in enumerate(classes):
        for file_name in sorted(os.listdir(os.path.join(root, name))):
            files.append(os.path.join(root, name, file_name))
            labels.append(label)

    with h5py.File(output, 'w') as out, multiprocessing.Pool(processes) as pool:
        images = out.create_dataset('images', (len(files), size, size, 3), np.uint8,
                                    chunks=(1, size, size, 3))
        tasks = [(path, size, draft) for path in files]
        for index, pixels in enumerate(pool.imap(load, tasks, chunksize=8)):
            images[index] = pixels
        out.create_dataset('labels', data=np.array(labels, dtype=np.int32))
    seconds = time.perf_counter() - start
    print(json.dumps({'images': len(files), 'seconds': round(seconds, 3),
                      'cpu_seconds': round(cpu_seconds() - start_cpu, 3),
                      'images_per_second': round(len(files) / seconds, 1)}))


if __name__ == '__main__':
    main()
