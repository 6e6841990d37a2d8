r"""What checking a checkpoint's files costs a prediction of the MNIST MLP.

    python scripts/bench_untrusted_files.py
    python scripts/bench_untrusted_files.py --checkpoint_dir /tmp/logs

Times, on the committed tutorial MLP (tests/fixtures/pre_layout_mlp) or
the given directory: `bundle_index.check_checkpoint` (the `.index` parsed
and checked, every shard stat'ed), reading the `checkpoint` state file as
graphnet now does against TF's `get_checkpoint_state`, and a whole
`Predictor.from_checkpoint` plus prediction of the 10000 MNIST test images
with the index check and with it replaced by a no-op, interleaved, median
of several rounds. Prints a markdown table for BENCHMARKS.md.
"""

import os
import statistics
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

_FIXTURE = os.path.join(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
  'tests',
  'fixtures',
  'pre_layout_mlp',
)

flags.DEFINE_string('checkpoint_dir', _FIXTURE, 'Checkpoint directory.')
flags.DEFINE_string('data_dir', '/tmp/mnist_bench', 'MNIST data directory.')
flags.DEFINE_integer('rounds', 5, 'Rounds of the whole prediction.')
flags.DEFINE_integer('calls', 200, 'Calls of the small functions timed.')
FLAGS = flags.FLAGS


def _median(fn, repeats):
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def main(argv):
  del argv
  import tensorflow.compat.v1 as tf  # noqa: PLC0415

  from graphnet.checkpoints import state  # noqa: PLC0415
  from graphnet.data import mnist_reader  # noqa: PLC0415
  from graphnet.serving import bundle_index  # noqa: PLC0415
  from graphnet.serving import freezing  # noqa: PLC0415
  from graphnet.serving import predictor  # noqa: PLC0415

  directory = FLAGS.checkpoint_dir
  prefix = freezing.resolve_checkpoint(directory)
  images = mnist_reader.read_data_sets(FLAGS.data_dir).test.images
  check = _median(lambda: bundle_index.check_checkpoint(prefix), FLAGS.calls)
  ours = _median(lambda: state._read_state(directory), FLAGS.calls)
  theirs = _median(
    lambda: tf.train.get_checkpoint_state(directory), FLAGS.calls
  )

  def predict():
    with predictor.Predictor.from_checkpoint(directory) as p:
      p.predict(images)

  real = bundle_index.check_checkpoint
  stand_in = _no_check(real)
  stand_in(prefix)
  checked, unchecked = [], []
  predict()  # Warm-up: first session, kernels, page cache.
  for _ in range(FLAGS.rounds):
    checked.append(_median(predict, 1))
    bundle_index.check_checkpoint = stand_in
    unchecked.append(_median(predict, 1))
    bundle_index.check_checkpoint = real
  with_check = statistics.median(checked)
  without = statistics.median(unchecked)
  print('| what | median |')
  print('|---|---|')
  print(
    f'| `check_checkpoint` (index parsed, shards checked) | '
    f'{check * 1e6:.0f} us |'
  )
  print(f'| state file, graphnet (`_read_state`) | {ours * 1e6:.0f} us |')
  print(f'| state file, TF (`get_checkpoint_state`) | {theirs * 1e6:.0f} us |')
  print(f'| restore + predict 10000 images, checked | {with_check:.3f} s |')
  print(f'| same, index check a no-op | {without:.3f} s |')
  print(
    f'| index check share of the prediction | '
    f'{check / with_check * 100:.3f} % |'
  )


def _no_check(real):
  """A stand-in returning what `real` returned the first time (a cache)."""
  cached = {}

  def stand_in(prefix):
    if prefix not in cached:
      cached[prefix] = real(prefix)
    return cached[prefix]

  return stand_in


if __name__ == '__main__':
  app.run(main)
