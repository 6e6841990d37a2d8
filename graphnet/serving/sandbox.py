"""Checks, freezes and runs an untrusted checkpoint in a child process.

The checks of `graph_safety` and `cost_model` refuse what they can name,
but the file is still handed to TensorFlow's C++ (the checkpoint reader,
the importer, the kernels), which aborts the whole process on some inputs,
and a kernel that is busy cannot be stopped by TF's own run deadline. So
the checkpoint is read, checked and frozen in a `Worker`: a child Python
process (`sandbox_child`, started and reused by `sandbox_process`) with
an address-space limit (`RLIMIT_AS`) and, while it checks, a CPU-time
limit (`RLIMIT_CPU`). The frozen graph then stays loaded there
and predictions run there too: the parent waits at most `timeout_secs` for
a run and kills the child past it. A child that dies (SIGABRT from TF, the
memory limit, the CPU limit) becomes a `CheckpointError` naming the file;
the caller's process (a notebook kernel) lives on.

Batches travel through a shared memory file (`memfd`), results through a
socket: a prediction of the MNIST MLP costs a few hundred microseconds
more than in-process (BENCHMARKS.md, "Untrusted checkpoints, round 2").

Example:
    with sandbox.Worker() as worker:
      prefix, graph_def, cost = worker.freeze('/tmp/logs', timeout_secs=60)
      worker.run(['probabilities:0'], batch, timeout_secs=10)
"""

import contextlib
import dataclasses
import mmap
import os
import re
import signal

import numpy as np

from graphnet import errors
from graphnet.serving import sandbox_process

__all__ = [
  'Limits',
  'DEFAULT_LIMITS',
  'IN_PROCESS_FLOPS',
  'Worker',
  'Isolated',
  'frozen_graph_def',
]

_FATAL = re.compile(r'^F\d{4} |.*Check failed|.*terminate called')
_FRAME = re.compile(r'^\s*(@|\*\*\*|PC:)')

# Deadline of checking and freezing a checkpoint when the caller gives none.
_FREEZE_SECS = 300.0


@dataclasses.dataclass(frozen=True)
class Limits:
  """Resource limits of a worker process."""

  # Address space the worker may add to what TF takes when it loads, in
  # bytes; None: the run cap of the cost model plus its fixed bytes plus
  # 1 GiB for TF's own buffers.
  memory_bytes: int | None = None
  # CPU seconds the check and freeze of one checkpoint may take.
  check_cpu_secs: int = 300


DEFAULT_LIMITS = Limits()


def _error(kind, message, path):
  """The graphnet error of class name `kind` sent by the worker."""
  cls = getattr(errors, kind, None)
  if not (isinstance(cls, type) and issubclass(cls, errors.GraphnetError)):
    cls = errors.CheckpointError
  if issubclass(cls, (errors.CheckpointError, errors.DataError)):
    return cls(message, path=path)
  return cls(message)


def _signal_name(returncode):
  if returncode is None or returncode >= 0:
    return f'exit status {returncode}'
  try:
    return signal.Signals(-returncode).name
  except ValueError:
    return f'signal {-returncode}'


class Worker:
  """A child process that checks, freezes and runs one untrusted graph.

  Not thread-safe. Start it with `freeze` (or `load` of a graph already
  frozen); `close` it (or use `with`) to end the process.
  """

  def __init__(self, limits=DEFAULT_LIMITS, caps=None):
    """Starts nothing yet; the process starts with `freeze` or `load`.

    Args:
      limits: `Limits` of the process.
      caps: the `cost_model.Caps` the graph is checked against (they also
        size the default memory limit).
    """
    self._limits = limits
    self._caps = caps
    # The `sandbox_process.Process` while started, and its batch buffer.
    self._process = self._buffer = None
    self._path = None

  def _memory_bytes(self):
    if self._limits.memory_bytes is not None:
      return self._limits.memory_bytes
    from graphnet.serving import cost_model  # noqa: PLC0415

    caps = self._caps or cost_model.DEFAULT_CAPS
    return caps.run_bytes + caps.fixed_bytes + 2**30

  def _start(self):
    self._process = sandbox_process.acquire(self._memory_bytes())

  def _died(self, what):
    """The CheckpointError of a worker that ended; reaps it."""
    self._process.popen.wait()
    self._process.stderr.seek(0)
    lines = self._process.stderr.read().decode('utf-8', 'replace').splitlines()
    # TF's fatal line ('F0000 ... Check failed: ...'), else the last one
    # that is not a frame of the stack trace after it.
    last = [line for line in lines if _FATAL.match(line)][:1] or [
      line for line in lines if line.strip() and not _FRAME.match(line)
    ][-1:]
    detail = f'; its last words: {errors.printable(last[0])}' if last else ''
    how = _signal_name(self._process.popen.returncode)
    self._process.close_files()
    self._discard()
    return errors.CheckpointError(
      f'checkpoint {errors.printable(self._path)}: {what} ended the '
      f'isolated worker process ({how}){detail}. TensorFlow cannot handle '
      'this file; it is damaged or crafted. Use another checkpoint.',
      path=self._path,
    )

  def _call(self, message, timeout_secs, what):
    """Sends `message`; the worker's answer within `timeout_secs`.

    Returns None past the deadline (the worker is killed then).
    """
    try:
      self._process.conn.send(message)
      ready = self._process.conn.poll(timeout_secs)
    except (BrokenPipeError, ConnectionResetError, EOFError):
      raise self._died(what) from None
    if not ready:
      self._kill()
      return None
    try:
      answer = self._process.conn.recv()
    except (EOFError, ConnectionResetError):
      raise self._died(what) from None
    if answer[0] == 'error':
      kind, text, path = answer[1:]
      if kind == 'TFError':
        raise errors.CheckpointError(
          f'checkpoint {errors.printable(self._path)}: {what} failed with '
          f'{text}. Its files are damaged, truncated or of another model; '
          'use another checkpoint.',
          path=self._path,
        )
      raise _error(kind, text, path or self._path)
    return answer[1:]

  def freeze(self, path, timeout_secs=None):
    """Checks and freezes checkpoint `path` in the worker, which keeps it.

    Args:
      path: a checkpoint prefix or a directory (its latest checkpoint).
      timeout_secs: deadline of the whole check, or None (300 s).

    Returns:
      (prefix, frozen `tf.GraphDef`, `cost_model.Cost`).

    Raises:
      CheckpointError: the files are refused, or the worker died or took
        longer than the deadline on them.
      CheckpointMismatchError, UnsafeGraphError: as
        `freezing.frozen_graph_def`.
    """
    import tensorflow.compat.v1 as tf  # noqa: PLC0415

    self._path = os.fspath(path)
    self._close_process()
    self._start()
    secs = timeout_secs or _FREEZE_SECS
    message = ('freeze', self._path, self._caps, self._limits.check_cpu_secs)
    answer = self._call(message, secs, 'checking it')
    if answer is None:
      raise errors.CheckpointError(
        f'checkpoint {errors.printable(self._path)}: checking and freezing '
        f'it took longer than {secs:g} s; the worker was stopped. Its files '
        'are too big or crafted; pass a larger timeout_secs if you expect '
        'that.',
        path=self._path,
      )
    prefix, data, cost = answer
    graph_def = tf.GraphDef()
    graph_def.ParseFromString(data)
    self._path = prefix
    return prefix, graph_def, cost

  def load(self, prefix, graph_def, timeout_secs=None):
    """(Re)starts the worker with a graph `freeze` returned before."""
    self._path = prefix
    self._close_process()
    self._start()
    data = graph_def.SerializeToString()
    secs = timeout_secs or _FREEZE_SECS
    if self._call(('load', data), secs, 'loading it') is None:
      raise errors.CheckpointError(
        f'checkpoint {errors.printable(prefix)}: loading its checked graph '
        f'took longer than {secs:g} s.',
        path=prefix,
      )

  @property
  def alive(self):
    return self._process is not None and self._process.alive()

  def _buffer_for(self, nbytes):
    if self._buffer is None or len(self._buffer) < nbytes:
      if self._buffer is not None:
        self._buffer.close()
      size = max(nbytes, 2**16)
      os.ftruncate(self._process.memfd, size)
      self._buffer = mmap.mmap(self._process.memfd, size)
    return self._buffer

  def run(self, fetches, batch, timeout_secs=None):
    """Runs tensor names `fetches` on float32 `batch` fed to `images`.

    Args:
      fetches: tensor names, e.g. ['predictions:0'].
      batch: a C-contiguous numpy array.
      timeout_secs: deadline of the run in seconds, or None.

    Returns:
      the list of fetched arrays, or None past the deadline (the worker
      is then killed; `load` it again to go on).

    Raises:
      CheckpointError: the worker died while running.
    """
    batch = np.ascontiguousarray(batch)
    buffer = self._buffer_for(batch.nbytes)
    buffer[: batch.nbytes] = memoryview(batch).cast('B')
    message = ('run', tuple(fetches), batch.shape, batch.dtype.str)
    answer = self._call(message, timeout_secs, 'running it')
    return None if answer is None else answer[0]

  def _kill(self):
    if self._process is not None:
      self._process.kill()
    self._discard()

  def _discard(self):
    """Forgets the process (its files already freed) and the buffer."""
    if self._buffer is not None:
      with contextlib.suppress(OSError):
        self._buffer.close()
    self._process = self._buffer = None

  def _close_process(self):
    if self._process is None:
      return
    process = self._process
    self._discard()
    sandbox_process.release(process)

  def close(self):
    """Ends the worker process."""
    self._close_process()

  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    self.close()

  def __del__(self):
    with contextlib.suppress(Exception):
      self._kill()


# A run priced at most this many floating point operations runs in the
# caller's process, where TF's own deadline applies: it cannot stay busy
# for more than a fraction of a second, and a round trip to the worker
# would cost more than the run. Larger runs go to the worker.
IN_PROCESS_FLOPS = 10**8


@dataclasses.dataclass
class Isolated:
  """The worker of a Predictor of an untrusted checkpoint, and its plan."""

  # The `Worker` holding the frozen graph.
  worker: Worker
  # The checkpoint prefix, and its frozen `tf.GraphDef` (to reload the
  # worker after a deadline killed it).
  prefix: str
  graph_def: object
  # The graph's `cost_model.Cost`: what decides where a run goes.
  cost: object

  def in_process(self, batch):
    """Whether a run of `batch` examples is cheap enough for the caller."""
    flops = self.cost.fixed_flops + batch * self.cost.example_flops
    return flops <= IN_PROCESS_FLOPS

  def run(self, fetches, batch, timeout_secs):
    """`Worker.run`, restarting a worker killed at an earlier deadline."""
    if not self.worker.alive:
      self.worker.load(self.prefix, self.graph_def)
    return self.worker.run(fetches, batch, timeout_secs)

  def close(self):
    self.worker.close()


def frozen_graph_def(path, caps=None, timeout_secs=None, limits=DEFAULT_LIMITS):
  """`freezing.frozen_graph_def` of `path`, done in a worker process.

  Returns:
    (prefix, frozen `tf.GraphDef`).
  """
  with Worker(limits, caps) as worker:
    prefix, graph_def, _ = worker.freeze(path, timeout_secs)
  return prefix, graph_def
