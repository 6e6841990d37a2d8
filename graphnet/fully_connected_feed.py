r"""Trains the fully connected MNIST network: TF1's `fully_connected_feed.py`.

    python -m graphnet.fully_connected_feed --max_steps 30000
    python -m graphnet.fully_connected_feed --preset book
    python -m graphnet.fully_connected_feed --flagfile my.flags

Any data and model (sizes and class count read from the data):

    python -m graphnet.fully_connected_feed --input_data_dir DIR  # IDX files
    python -m graphnet.fully_connected_feed --data_npz data.npz
    python -m graphnet.fully_connected_feed --model mypkg.mymod:build

Distributed (one command per task, same host lists everywhere; a ps task
serves until the workers report done):

    python -m graphnet.fully_connected_feed --ps_hosts h0:2222 \
        --worker_hosts h1:2222,h2:2222 --job_name worker --task_index 0

Flags keep TF1's names and defaults (defined in `train_flags`). This file
only reads them once into a `config.TrainConfig` and calls
`trainer.run_training`; a bad value stops with absl's usage error before
TensorFlow is loaded (in well under a second) or any graph is built or
file written.
"""

import sys

from absl import app
from absl import flags

from graphnet import errors
from graphnet import options
from graphnet.cli import common as cli
from graphnet.cli import quiet
from graphnet.cli import train_flags
from graphnet.data import mnist_files
from graphnet.data import read_ahead
from graphnet.nn import models

__all__ = ['main', 'run', 'config_from_flags']

# Flags, presets and their reading into a TrainConfig live there; --help
# lists them as this program's own.
flags.adopt_module_key_flags(train_flags)
config_from_flags = train_flags.config_from_flags


def _train(train_config):
  """Trains, or serves the variables as a ps task; returns the exit code."""
  # TensorFlow's modules, imported once the flags are read (quiet.setup).
  from graphnet.distributed import tasks as cluster_tasks  # noqa: PLC0415
  from graphnet.training import trainer  # noqa: PLC0415

  cluster = train_config.cluster
  try:
    if cluster is not None and cluster.job_name == 'ps':
      # A ps task reads no data; it serves the variables until the workers
      # report done.
      read_ahead.clear()
      cluster_tasks.serve_ps(
        cluster,
        printer=lambda line: print(line, flush=True),
        names=options.as_flag,
      )
    else:
      trainer.run_training(train_config)
  except errors.TrainingInterruptedError as e:
    # Exit as a shell reports death by the signal (130, 143), after the
    # final checkpoint is safely written.
    print(f'graphnet: {e}', file=sys.stderr, flush=True)
    return e.exit_code
  return 0


def _evaluate(train_config):
  """Runs the cluster's evaluator task; returns the exit code."""
  from graphnet.training import evaluator_task  # noqa: PLC0415

  evaluator_task.run(train_config)
  return 0


def main(argv):
  """Trains (or serves as a ps task); exits 1 on a graphnet error."""
  cli.no_arguments(argv)
  if models.names_a_module(flags.FLAGS.model):
    # The user's module may import TensorFlow: quiet it first. (Presets
    # name only registered networks.)
    quiet.setup()
  train_config = config_from_flags()
  # Only now, with the flags checked (a usage error comes back at once):
  # inflating MNIST costs no wall time while TF imports (one core of
  # Python; zlib releases the GIL), and the training read reuses it if its
  # files hold the bundled bytes. TF's start-up chatter and INFO logs hide
  # graphnet's lines unless the user asks for them (-v 1).
  mnist_files.read_bundled_ahead()
  quiet.setup()
  if train_flags.is_evaluator():
    return cli.exit_code(_evaluate, train_config)
  return cli.exit_code(_train, train_config)


def run():
  """Console-script entry point."""
  app.run(main)


if __name__ == '__main__':
  run()
