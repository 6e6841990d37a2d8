"""Benchmarks graphnet.input_data: loading MNIST and next_batch.

Prints the median of several runs of:
  * read_data_sets on a directory already holding the four .gz files
    (decompress, validate, build train/validation/test; float32, reshape);
  * next_batch(100) on the training set, averaged over many calls (crossing
    many epochs, so per-epoch reshuffles are included).

Usage:

  python scripts/bench_input_data.py [--runs 5] [--batches 20000]
"""

import argparse
import statistics
import tempfile
import time

from graphnet.data import mnist_reader as input_data


def _time_load(train_dir, **kwargs):
  start = time.perf_counter()
  input_data.read_data_sets(train_dir, seed=0, **kwargs)
  return time.perf_counter() - start


def _time_next_batch(data_set, batch_size, batches):
  start = time.perf_counter()
  for _ in range(batches):
    data_set.next_batch(batch_size)
  return (time.perf_counter() - start) / batches


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--runs', type=int, default=5)
  parser.add_argument('--batches', type=int, default=20000)
  parser.add_argument('--batch_size', type=int, default=100)
  args = parser.parse_args()

  with tempfile.TemporaryDirectory() as train_dir:
    start = time.perf_counter()
    data = input_data.read_data_sets(train_dir, seed=0)
    first = time.perf_counter() - start
    print(f'first call (copy + verify bundled MNIST + load): {first:.3f} s')

    for label, kwargs in [
      ('float32, reshape', {}),
      ('uint8, reshape', {'dtype': 'uint8'}),
      ('float32, one_hot', {'one_hot': True}),
    ]:
      times = [_time_load(train_dir, **kwargs) for _ in range(args.runs)]
      print(
        f'read_data_sets ({label}): median {statistics.median(times):.3f} s '
        f'over {args.runs} runs (min {min(times):.3f} s)'
      )

    for label, ds in [('float32', data.train)]:
      times = [
        _time_next_batch(ds, args.batch_size, args.batches)
        for _ in range(args.runs)
      ]
      print(
        f'next_batch({args.batch_size}) ({label}): median '
        f'{statistics.median(times) * 1e6:.1f} us per call over '
        f'{args.runs} x {args.batches} calls '
        f'(min {min(times) * 1e6:.1f} us)'
      )


if __name__ == '__main__':
  main()
