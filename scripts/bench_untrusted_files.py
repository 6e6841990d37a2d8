r"""What checking a checkpoint's files costs a prediction of the MNIST MLP.

    python scripts/bench_untrusted_files.py
    python scripts/bench_untrusted_files.py --checkpoint_dir /tmp/logs

Times, on the committed tutorial MLP (tests/fixtures/pre_layout_mlp) or
the given directory: `bundle_index.check_checkpoint` (the `.index` parsed
and checked, every shard stat'ed), reading the `checkpoint` state file as
graphnet now does against TF's `get_checkpoint_state`, and a whole
`Predictor.from_checkpoint` plus prediction of the 10000 MNIST test images
(median of several rounds), of which the check is a share: the check runs
in the sandbox worker that freezes the graph, so it cannot be switched off
from here, and its own time is what it adds. Prints a markdown table for
BENCHMARKS.md.
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

  predict()  # Warm-up: first session, kernels, page cache.
  whole = _median(predict, FLAGS.rounds)
  print('| what | median |')
  print('|---|---|')
  print(
    f'| `check_checkpoint` (index parsed, shards checked) | '
    f'{check * 1e6:.0f} us |'
  )
  print(f'| state file, graphnet (`_read_state`) | {ours * 1e6:.0f} us |')
  print(f'| state file, TF (`get_checkpoint_state`) | {theirs * 1e6:.0f} us |')
  print(f'| restore + predict 10000 images | {whole:.3f} s |')
  print(f'| index check share of that | {check / whole * 100:.3f} % |')


if __name__ == '__main__':
  app.run(main)
