r"""What isolating untrusted checkpoints costs a prediction (issue 23).

    python scripts/bench_isolation.py --checkpoint_dir /tmp/logs
    python scripts/bench_isolation.py  # trains a 300-step MNIST MLP first

Compares, on the same checkpoint, alternating calls (so that a loaded
machine slows both alike):

* before: the checked, frozen graph imported in the caller's process with
  the caller's session config, as graphnet did before issue 23;
* isolated: `Predictor.from_checkpoint` today: checked and frozen in a
  worker process (`sandbox`), runs priced under `IN_PROCESS_FLOPS` in the
  caller's process without graph rewrites, larger ones in the worker;
* worker: every run in the worker (`IN_PROCESS_FLOPS = 0`).

Prints a markdown table of median wall times: one image, 100 images and
the 10000-image MNIST test set per `predict` call, and the restore.
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
from graphnet.serving import freezing  # noqa: E402
from graphnet.serving import predictor  # noqa: E402
from graphnet.serving import sandbox  # noqa: E402
from graphnet.training import config  # noqa: E402
from graphnet.training import trainer  # noqa: E402

flags.DEFINE_string(
  'checkpoint_dir', None, 'Checkpoint directory; default: train one.'
)
flags.DEFINE_integer('rounds', 7, 'Alternating rounds timed.', lower_bound=1)
flags.DEFINE_integer('calls', 200, 'Calls per round for 1 and 100 images.')
FLAGS = flags.FLAGS


def _before(prefix):
  """The pre-issue-23 Predictor: frozen graph in-process, no worker."""
  prefix, frozen = freezing.frozen_graph_def(prefix)
  _, graph, session = predictor._open_session(prefix, frozen, None)  # noqa: SLF001
  return predictor.Predictor(graph, session, prefix, 10000, 300.0)


def _per_call(model, images, calls):
  start = time.perf_counter()
  for _ in range(calls):
    model.predict(images)
  return (time.perf_counter() - start) / calls


def _restore_secs(make):
  start = time.perf_counter()
  make().close()
  return time.perf_counter() - start


def main(argv):
  del argv
  work = tempfile.mkdtemp(prefix='bench_isolation_')
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
  test = idx.read_idx_images(os.path.join(data_dir, mnist_files.TEST_IMAGES))
  test = test[..., 0]
  restores = {
    'before': _restore_secs(lambda: _before(prefix)),
    'isolated (first, starts the worker)': _restore_secs(
      lambda: predictor.Predictor.from_checkpoint(prefix)
    ),
    'isolated (worker reused)': _restore_secs(
      lambda: predictor.Predictor.from_checkpoint(prefix)
    ),
  }
  before = _before(prefix)
  isolated = predictor.Predictor.from_checkpoint(prefix)
  workloads = {
    '1 image': (test[:1], FLAGS.calls),
    '100 images': (test[:100], FLAGS.calls // 4),
    '10000 images': (test, 2),
  }
  times = {(w, m): [] for w in workloads for m in ('before', 'isolated')}
  times.update({(w, 'worker'): [] for w in workloads})
  for model in (before, isolated):
    model.predict(test)  # Warm up both paths.
  for _ in range(FLAGS.rounds):
    for name, (images, calls) in workloads.items():
      times[name, 'before'].append(_per_call(before, images, calls))
      times[name, 'isolated'].append(_per_call(isolated, images, calls))
      flops = sandbox.IN_PROCESS_FLOPS
      sandbox.IN_PROCESS_FLOPS = 0
      times[name, 'worker'].append(_per_call(isolated, images, calls))
      sandbox.IN_PROCESS_FLOPS = flops
  before.close()
  isolated.close()
  print(f'checkpoint: {prefix}; load average {os.getloadavg()[0]:.1f}\n')
  print(
    '| predict call | before | isolated | isolated/before | all in worker |'
  )
  print('|---|---:|---:|---:|---:|')
  for name in workloads:
    b, i, w = (
      statistics.median(times[name, m])
      for m in ('before', 'isolated', 'worker')
    )
    print(
      f'| {name} | {b * 1e3:.3f} ms | {i * 1e3:.3f} ms | {i / b:.2f}x '
      f'| {w * 1e3:.3f} ms ({w / b:.2f}x) |'
    )
  print('\n| restore | seconds |\n|---|---:|')
  for name, secs in restores.items():
    print(f'| {name} | {secs:.2f} |')


if __name__ == '__main__':
  app.run(main)
