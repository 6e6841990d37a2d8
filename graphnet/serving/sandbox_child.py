"""The sandbox worker process: checks, freezes and runs one untrusted graph.

Started by `sandbox_process` as `python -m graphnet.serving.sandbox_child
FD MEMFD MEMORY_BYTES`: it asks Linux to kill it with its parent, imports
TensorFlow, caps its address space at what it holds then plus
MEMORY_BYTES (`RLIMIT_AS`), and answers the messages of `sandbox.Worker`
on socket FD, reading batches from the shared memory file MEMFD. While it
checks and freezes a checkpoint its CPU time is capped too (`RLIMIT_CPU`).

Messages are tuples (kind, *args), answered ('ok', *results) or ('error',
error class name, text, path); kinds: ('freeze', path, caps, cpu_secs),
('load', frozen GraphDef bytes), ('run', fetches, shape, dtype), ('reset',),
('quit',).

Example:
    python -m graphnet.serving.sandbox_child 3 4 3221225472
"""

import contextlib
import mmap
import os
import signal
import sys
import time
from multiprocessing import connection

import numpy as np

from graphnet import errors

__all__ = []


def _limit_memory(extra_bytes):
  """Caps the address space at what it is now plus `extra_bytes`."""
  import resource  # noqa: PLC0415

  with open('/proc/self/statm') as f:
    pages = int(f.read().split()[0])
  limit = pages * os.sysconf('SC_PAGE_SIZE') + extra_bytes
  _, hard = resource.getrlimit(resource.RLIMIT_AS)
  if hard != resource.RLIM_INFINITY:
    limit = min(limit, hard)
  resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _limit_cpu(secs):
  """Caps the CPU seconds from now on (None: no cap)."""
  import resource  # noqa: PLC0415

  _, hard = resource.getrlimit(resource.RLIMIT_CPU)
  if secs is None:
    resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
    return
  used = int(time.process_time()) + 1
  soft = used + secs
  if hard != resource.RLIM_INFINITY:
    soft = min(soft, hard)
  resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _die_with_parent():
  """Asks Linux to kill this process when its parent dies."""
  with contextlib.suppress(Exception):
    import ctypes  # noqa: PLC0415

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


class _Child:
  """The worker side: one session of one checked, frozen graph."""

  def __init__(self, conn, memfd):
    self._conn = conn
    self._memfd = memfd
    self._session = None
    self._graph = None

  def _open(self, graph_def):
    import tensorflow.compat.v1 as tf  # noqa: PLC0415

    from graphnet.serving import cost_model  # noqa: PLC0415

    self._graph = tf.Graph()
    with self._graph.as_default():
      tf.import_graph_def(graph_def, name='')
    self._graph.finalize()
    self._session = tf.Session(
      graph=self._graph, config=cost_model.session_config()
    )

  def freeze(self, path, caps, cpu_secs):
    from graphnet.serving import cost_model  # noqa: PLC0415
    from graphnet.serving import freezing  # noqa: PLC0415
    from graphnet.serving.shapes import inference  # noqa: PLC0415

    _limit_cpu(cpu_secs)
    try:
      prefix, graph_def = freezing.frozen_graph_def(path, caps)
      cost = cost_model.graph_cost(graph_def)
      self._open(graph_def)
      # The first run of a graph is where TF prepares it: a file it would
      # abort on dies here, in the worker, while the deadline is checked.
      batch = np.zeros((1, *inference.images_feature_shape(graph_def)))
      self._run_feed(['probabilities:0'], batch.astype(np.float32))
    finally:
      _limit_cpu(None)
    return prefix, graph_def.SerializeToString(), cost

  def reset(self):
    if self._session is not None:
      self._session.close()
    self._session = self._graph = None
    return ()

  def load(self, data):
    import tensorflow.compat.v1 as tf  # noqa: PLC0415

    graph_def = tf.GraphDef()
    graph_def.ParseFromString(data)
    self._open(graph_def)
    return ()

  def run(self, fetches, shape, dtype):
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    with mmap.mmap(self._memfd, max(nbytes, 1), prot=mmap.PROT_READ) as m:
      batch = np.frombuffer(m, dtype, count=nbytes // dtype.itemsize)
      # TF copies the feed into its own tensor: no copy here.
      results = self._run_feed(fetches, batch.reshape(shape))
      del batch
    return (results,)

  def _run_feed(self, fetches, batch):
    from graphnet import contract  # noqa: PLC0415

    feed = {contract.tensor(contract.IMAGES): batch}
    return self._session.run(list(fetches), feed)

  def serve(self):
    import tensorflow.compat.v1 as tf  # noqa: PLC0415

    while True:
      try:
        kind, *args = self._conn.recv()
      except EOFError:
        return
      if kind == 'quit':
        return
      try:
        answer = ('ok', *getattr(self, kind)(*args))
      except errors.GraphnetError as e:
        answer = ('error', type(e).__name__, str(e), getattr(e, 'path', None))
      except (tf.errors.OpError, ValueError, MemoryError) as e:
        detail = getattr(e, 'message', None) or str(e)
        first = detail.splitlines()[0] if detail else ''
        text = f'{type(e).__name__}: {errors.printable(first)}'
        answer = ('error', 'TFError', text, None)
      self._conn.send(answer)


def _child_main(argv):
  fd, memfd, memory_bytes = (int(a) for a in argv[1:4])
  _die_with_parent()
  conn = connection.Connection(fd)
  # TF is loaded before the limit, as the entry points load it: without
  # the Keras it would import and this process never uses (about a third
  # of the CPU time of starting a worker).
  from graphnet import tf_loader  # noqa: PLC0415

  tf_loader.import_tensorflow()
  import tensorflow.compat.v1  # noqa: PLC0415, F401 - what freezing uses

  _limit_memory(memory_bytes)
  _Child(conn, memfd).serve()


if __name__ == '__main__':
  _child_main(sys.argv)
