r"""Benchmarks graphnet.predictor: restore time, latency, throughput.

    python scripts/bench_predict.py --checkpoint_dir /tmp/logs
    python scripts/bench_predict.py  # trains a 300-step model first

Prints a markdown table: time to restore a checkpoint
(`Predictor.from_checkpoint`), latency of one image (median of many
calls) and throughput on the 10000-image MNIST test set (median of
several passes).
"""

import os
import shutil
import statistics
import tempfile
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

from graphnet.checkpoints import state as checkpoints  # noqa: E402
from graphnet.data import idx  # noqa: E402
from graphnet.data import mnist_files  # noqa: E402
from graphnet.data import mnist_reader as input_data  # noqa: E402
from graphnet.serving import predictor  # noqa: E402
from graphnet.training import config  # noqa: E402
from graphnet.training import trainer  # noqa: E402

flags.DEFINE_string(
  'checkpoint_dir', None, 'Checkpoint directory; default: train one.'
)
flags.DEFINE_integer('restores', 5, 'Restores timed.', lower_bound=1)
flags.DEFINE_integer('calls', 500, 'Single-image calls timed.', lower_bound=1)
flags.DEFINE_integer('passes', 5, 'Test-set passes timed.', lower_bound=1)
FLAGS = flags.FLAGS


def _median_seconds(fn, repeats):
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def main(argv):
  del argv
  work = tempfile.mkdtemp(prefix='bench_predict_')
  try:
    _bench(work)
  finally:
    shutil.rmtree(work, ignore_errors=True)


def _bench(work):
  data_dir = os.path.join(work, 'data')
  input_data.read_data_sets(data_dir)
  ckpt_dir = FLAGS.checkpoint_dir
  if ckpt_dir is None:
    ckpt_dir = os.path.join(work, 'logs')
    trainer.run_training(
      config.TrainConfig(
        log_dir=ckpt_dir, input_data_dir=data_dir, max_steps=300
      ),
      printer=lambda line: None,
    )
  prefix = checkpoints.latest_checkpoint(ckpt_dir)
  images = idx.read_idx_images(os.path.join(data_dir, mnist_files.TEST_IMAGES))[
    ..., 0
  ]

  def restore():
    predictor.Predictor.from_checkpoint(prefix).close()

  restore()  # Warm up TF's kernels and file cache.
  restore_s = _median_seconds(restore, FLAGS.restores)
  with predictor.Predictor.from_checkpoint(prefix) as model:
    one = images[:1]
    model.predict(one)
    latency_s = _median_seconds(lambda: model.predict(one), FLAGS.calls)
    model.predict(images)
    pass_s = _median_seconds(lambda: model.predict(images), FLAGS.passes)
  print(f'checkpoint: {prefix}\n')
  print('| measure | value |')
  print('|---|---|')
  print(
    f'| restore (from_checkpoint), median of {FLAGS.restores} '
    f'| {restore_s * 1e3:.1f} ms |'
  )
  print(
    f'| latency, 1 image, median of {FLAGS.calls} calls '
    f'| {latency_s * 1e3:.3f} ms |'
  )
  print(
    f'| throughput, 10000 test images, median of {FLAGS.passes} '
    f'| {len(images) / pass_s:,.0f} images/s ({pass_s * 1e3:.1f} ms) |'
  )


if __name__ == '__main__':
  app.run(main)
