"""Session configuration: device choice, GPU memory and threads.

`make_config()` builds the `tf.ConfigProto` every graphnet session uses
(soft placement always on, so a graph pinned to a GPU still runs where there
is none); `resolve_device()` turns `--device auto|cpu|gpu` into the device
string the graph is built under.

Example:
    options = SessionOptions(device='auto', allow_growth=True)
    device = resolve_device(options.device)       # '/gpu:0' or '/cpu:0'
    with tf.device(device):
      ...build the graph...
    config = make_config(options)
"""

import dataclasses

import tensorflow as tf2
import tensorflow.compat.v1 as tf
from absl import logging

from graphnet import errors

__all__ = [
  'DEVICES',
  'SessionOptions',
  'gpu_count',
  'resolve_device',
  'make_config',
]

DEVICES = ('auto', 'cpu', 'gpu')


@dataclasses.dataclass(frozen=True)
class SessionOptions:
  """What the session config is made of (the trainer's session flags)."""

  # 'auto' (GPU when there is one), 'cpu' or 'gpu'.
  device: str = 'auto'
  # Let GPU memory grow as needed instead of taking it all at start.
  allow_growth: bool = True
  # Fraction of each GPU's memory the process may take; 0 = TF's default.
  gpu_memory_fraction: float = 0.0
  # Log the device of every op (to stderr).
  log_device_placement: bool = False
  # Threads inside one op; 0 = TF chooses.
  intra_op_parallelism_threads: int = 0
  # Ops run in parallel; 0 = TF chooses.
  inter_op_parallelism_threads: int = 0

  def __post_init__(self):
    if self.device not in DEVICES:
      raise errors.ConfigError(
        f'SessionOptions: device must be one of {DEVICES}, got '
        f'{self.device!r}.',
        field='device',
      )
    if not 0.0 <= self.gpu_memory_fraction <= 1.0:
      raise errors.ConfigError(
        'SessionOptions: gpu_memory_fraction must be in [0, 1], got '
        f'{self.gpu_memory_fraction}.',
        field='gpu_memory_fraction',
      )
    if (
      self.intra_op_parallelism_threads < 0
      or self.inter_op_parallelism_threads < 0
    ):
      raise errors.ConfigError(
        'SessionOptions: thread counts must be >= 0, got '
        f'intra={self.intra_op_parallelism_threads}, '
        f'inter={self.inter_op_parallelism_threads}.',
        field='intra_op_parallelism_threads'
        if self.intra_op_parallelism_threads < 0
        else 'inter_op_parallelism_threads',
      )


def gpu_count():
  """Number of GPUs TensorFlow can see in this process."""
  return len(tf2.config.list_physical_devices('GPU'))


def resolve_device(device, num_gpus=None):
  """The device to build the graph under.

  Args:
    device: 'auto', 'cpu' or 'gpu'.
    num_gpus: GPUs available; default: ask TensorFlow.

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
      '--device=gpu but TensorFlow sees no GPU (is the CUDA build '
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
