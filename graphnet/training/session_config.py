"""Session configuration: device choice, GPU memory and threads.

`make_config()` builds the `tf.ConfigProto` every graphnet session uses
(soft placement always on, so a graph pinned to a GPU still runs where there
is none); `resolve_device()` turns `device` (auto, cpu or gpu) into the device
string the graph is built under; `monitored_session()` opens TF1's
`MonitoredTrainingSession` with TF's own savers and step counter off, for
loops whose hooks save, summarise and log, and `run_until_stopped()` is
such a loop (the trainer's, the Estimator's).
`SessionOptions` and `DEVICES` are `config`'s (which loads no TensorFlow),
re-exported here.

Example:
    options = SessionOptions(device='auto', allow_growth=True)
    device = resolve_device(options.device)       # '/gpu:0' or '/cpu:0'
    with tf.device(device):
      ...build the graph...
    config = make_config(options)
"""

import tensorflow as tf2
import tensorflow.compat.v1 as tf
from absl import logging

from graphnet import errors
from graphnet import options
from graphnet.training.config import DEVICES as DEVICES
from graphnet.training.config import SessionOptions as SessionOptions

__all__ = [
  'DEVICES',
  'SessionOptions',
  'gpu_count',
  'resolve_device',
  'make_config',
  'monitored_session',
  'run_until_stopped',
]

# MonitoredTrainingSession's own hooks, all off: its checkpoint saver, its
# summary saver (both fetch the global step every run and, with runs of
# N > 1 steps, would act one run late and summarise N times too rarely) and
# its steps/sec counter. graphnet's hooks do each of these instead.
_TF_HOOKS_OFF = {
  'save_checkpoint_secs': None,
  'save_checkpoint_steps': None,
  'save_summaries_steps': None,
  'save_summaries_secs': None,
  'log_step_count_steps': None,
}


def gpu_count():
  """Number of GPUs TensorFlow can see in this process."""
  return len(tf2.config.list_physical_devices('GPU'))


def resolve_device(device, num_gpus=None, names=options.as_argument):
  """The device to build the graph under.

  Args:
    device: 'auto', 'cpu' or 'gpu'.
    num_gpus: GPUs available; default: ask TensorFlow.
    names: how the warning names the `device` field (`options.as_argument`,
      or `options.as_flag` on the command line).

  Returns:
    '/gpu:0' when a GPU is asked for (or 'auto') and present, else '/cpu:0'.
    Asking for 'gpu' without one logs a warning and returns '/cpu:0'.
  """
  if device not in DEVICES:
    raise errors.ConfigError(
      f'resolve_device: expected one of {DEVICES}, got {device!r}.'
    )
  if device == 'cpu':
    return '/cpu:0'
  if num_gpus is None:
    num_gpus = gpu_count()
  if num_gpus:
    return '/gpu:0'
  if device == 'gpu':
    logging.warning(
      f'{names("device")}=gpu but TensorFlow sees no GPU (is the CUDA build '
      "installed? see BUILD.md: pip install -e '.[gpu]'); running on the "
      'CPU.'
    )
  return '/cpu:0'


def make_config(options):
  """Builds the `tf.ConfigProto` for `options` (a `SessionOptions`).

  Soft placement is always on: ops without a GPU kernel, or a graph saved
  on a GPU machine and restored on a CPU one, fall back to the CPU.
  """
  gpu_options = tf.GPUOptions(
    allow_growth=options.allow_growth,
    per_process_gpu_memory_fraction=options.gpu_memory_fraction,
  )
  config = tf.ConfigProto(
    allow_soft_placement=True,
    log_device_placement=options.log_device_placement,
    gpu_options=gpu_options,
    intra_op_parallelism_threads=options.intra_op_parallelism_threads,
    inter_op_parallelism_threads=options.inter_op_parallelism_threads,
  )
  if options.device == 'cpu':
    # Keep TF from claiming GPU memory at all.
    config.device_count['GPU'] = 0
  return config


def monitored_session(**kwargs):
  """`tf.train.MonitoredTrainingSession(**kwargs)` without TF's own hooks.

  No checkpoint or summary saver and no steps/sec counter is added: the
  caller's `hooks` / `chief_only_hooks` save, summarise and log.

  Args:
    **kwargs: MonitoredTrainingSession's other arguments (`master`,
      `is_chief`, `checkpoint_dir`, `scaffold`, `hooks`, `config` ...).

  Returns:
    the `MonitoredSession`, to use in a `with` block.
  """
  return tf.train.MonitoredTrainingSession(**kwargs, **_TF_HOOKS_OFF)


def run_until_stopped(fetches, watchdog=None, feed=None, **kwargs):
  """Runs `fetches` in a `monitored_session(**kwargs)` until it stops.

  Args:
    fetches: what each `session.run` fetches (the train op, ...).
    watchdog: None, or a cluster task's watchdog, told (`reached()`) once
      the session is open.
    feed: None, or a function returning each run's feed_dict.
    **kwargs: `monitored_session`'s.

  Returns:
    the last run's values, or None when no run was made.
  """
  values = None
  with monitored_session(**kwargs) as session:
    if watchdog is not None:
      watchdog.reached()
    while not session.should_stop():
      values = session.run(fetches, feed_dict=feed() if feed else None)
  return values
