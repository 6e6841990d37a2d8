"""Restores a trained graphnet checkpoint and classifies images with it.

`Predictor.from_checkpoint(log_dir)` reads the latest checkpoint's `.meta`
graph without running any of it: `freezing.frozen_graph_def` prunes it to the
inference subgraph, refuses it if it holds ops or tensors unfit for
inference (`graph_safety`), and replaces the variables by constants read
from exactly the named checkpoint (the file's own saver never runs). The
result is imported into a graph and session of its own (never the
caller's default graph, so several predictors live side by side in one
process, in eager or graph mode), and every run has a deadline.
Predictions use the graph's `probabilities` and `predictions` tensors,
i.e. the moving averages of the weights when the model was trained with
them.

Example:
    with predictor.Predictor.from_checkpoint('/tmp/logs') as p:
      p.predict(images)         # int64 [N]; images uint8 [N, 28, 28] ...
      p.predict_proba(images)   # float32 [N, 10]
      p.feature_shape           # (784,): the saved images' example shape
    predictor.load_images(['seven.png'], invert=True)  # uint8 [1, 28, 28]
"""

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import attributes
from graphnet import contract
from graphnet import errors
from graphnet.checkpoints import contents
from graphnet.data.images import load_images
from graphnet.serving import cost_model
from graphnet.serving import freezing
from graphnet.serving import sandbox
from graphnet.serving.batches import to_batch

__all__ = [
  'DEFAULT_TIMEOUT_SECS',
  'Predictor',
  'to_batch',
  'load_images',
]

# Deadline of one `session.run` of a Predictor: a graph that hangs becomes
# an error instead of a process that must be killed.
DEFAULT_TIMEOUT_SECS = 300.0


def _import_unchecked(prefix, config):
  """Imports the whole `.meta` and runs its saver (trusted files only)."""
  meta_graph_def = freezing.read_meta_graph(prefix)
  graph = tf.Graph()
  with graph.as_default():
    saver = tf.train.import_meta_graph(meta_graph_def, clear_devices=True)
    if saver is None:
      raise errors.CheckpointError(
        f'{prefix}.meta declares no saver and holds no variables; it was '
        'not written by a graphnet training run.',
        path=prefix,
      )
    # Resource variables take any shape on restore, so weights of another
    # model would load silently and fail (or mislead) later.
    contents.check_compatible(
      prefix, tf.global_variables(), where=f'{prefix}.meta'
    )
    session = tf.Session(graph=graph, config=config)
    try:
      saver.restore(session, prefix)
    except BaseException:
      session.close()
      raise
  return graph, session


def _import_frozen(graph_def, config):
  graph = tf.Graph()
  with graph.as_default():
    tf.import_graph_def(graph_def, name='')
  return graph, tf.Session(graph=graph, config=config)


def _open_session(prefix, frozen, config):
  """(prefix, graph, session) of `frozen`, or of the whole `.meta` if None."""
  try:
    if frozen is None:
      graph, session = _import_unchecked(prefix, config)
    else:
      graph, session = _import_frozen(frozen, config)
    graph.finalize()
  except (tf.errors.OpError, ValueError, KeyError) as e:
    if isinstance(e, errors.GraphnetError):
      raise
    raise freezing.restore_error(prefix, e) from e
  return prefix, graph, session


def _feature_shape(images):
  """The saved `images` example shape; MNIST's (784,) when not all known."""
  dims = images.shape.as_list()[1:] if images.shape.ndims else [None]
  return (contract.IMAGE_PIXELS,) if not dims or None in dims else tuple(dims)


class Predictor:
  """A restored graphnet model in its own graph and session.

  Build it with `from_checkpoint`; close it (or use `with`) to free the
  session. Not thread-safe to close while predicting.
  """

  checkpoint = attributes.ReadOnly(
    'The restored checkpoint prefix (str).', source='_prefix'
  )
  feature_shape = attributes.ReadOnly(
    'Shape of one example the model takes (tuple), e.g. (784,) or (8, 8).'
  )
  graph = attributes.ReadOnly(
    'The `tf.Graph` holding the restored model (finalized).'
  )
  session = attributes.ReadOnly('The `tf.Session` the weights live in.')

  def __init__(
    self,
    graph,
    session,
    prefix,
    batch_size,
    timeout_secs=None,
    isolated=None,
    caps=None,
  ):
    """Use `Predictor.from_checkpoint` instead."""
    self._graph = graph
    self._session = session
    self._prefix = prefix
    self._batch_size = batch_size
    self._isolated = isolated
    if isolated is not None:
      # A run's tensors stay within the memory cap, whatever the batch.
      limit = isolated.cost.batch_limit(caps or cost_model.DEFAULT_CAPS)
      self._batch_size = min(batch_size, limit)
    self._timeout_secs = timeout_secs
    self._run_options = None
    if timeout_secs is not None:
      self._run_options = tf.RunOptions(
        timeout_in_ms=max(1, int(timeout_secs * 1000))
      )
    self._images = graph.get_tensor_by_name(contract.tensor(contract.IMAGES))
    # What the model was trained on: [None, 784] for MNIST.
    self._feature_shape = _feature_shape(self._images)
    self._probabilities = graph.get_tensor_by_name(
      contract.tensor(contract.PROBABILITIES)
    )
    self._num_classes = self._probabilities.shape[-1] or contract.NUM_CLASSES
    self._predictions = graph.get_tensor_by_name(
      contract.tensor(contract.PREDICTIONS)
    )

  @classmethod
  def from_checkpoint(
    cls,
    path,
    allow_unsafe=False,
    config=None,
    batch_size=10000,
    timeout_secs=DEFAULT_TIMEOUT_SECS,
    caps=None,
  ):
    """Restores the checkpoint at `path` (a prefix or a directory).

    Only the checked inference subgraph of the `.meta` file is imported,
    with the weights of exactly this checkpoint as constants
    (`freezing.frozen_graph_def`); none of the file's own ops for saving or
    restoring ever runs. The checkpoint is read, checked and frozen in a
    worker process (`sandbox`), which stays up to run the batches priced
    above `sandbox.IN_PROCESS_FLOPS`: a file TensorFlow aborts on, or a
    run past its deadline, ends the worker, not the caller's process.

    Args:
      path: a checkpoint prefix or a directory (its latest checkpoint).
      allow_unsafe: trust the file: import its whole graph and restore
        with its own saver, unchecked. Restoring then runs ops of the
        file, which may write, read or delete files.
      config: optional `tf.ConfigProto` of the session.
      batch_size: images per `session.run` (bounds memory for big inputs);
        lowered to what `caps.run_bytes` allows for the checked graph.
      timeout_secs: deadline of each `session.run` in seconds, or None
        (checking the checkpoint in the worker has a deadline of 300 s).
        A run past it ends with `PredictionTimeoutError`: the worker
        process running it is killed (and restarted for the next call);
        an in-process run (priced cheap, or a trusted file) ends at TF's
        deadline, which cannot stop an op that is busy.
      caps: `cost_model.Caps` bounding the bytes and FLOPs of the graph
        (default `cost_model.DEFAULT_CAPS`; ignored with allow_unsafe).

    Returns:
      a `Predictor`.

    Raises:
      CheckpointError: no checkpoint, or a missing, truncated or damaged
        `.meta`, `.index` or data file.
      CheckpointMismatchError: the checkpoint holds another model.
      UnsafeGraphError: the graph holds an op or tensor refused by
        `graph_safety`, or costs more than `caps`.
      ConfigError: `batch_size` < 1 or `timeout_secs` <= 0.
    """
    if batch_size < 1:
      raise errors.ConfigError(
        f'batch_size: expected an integer >= 1, found {batch_size}.'
      )
    if timeout_secs is not None and timeout_secs <= 0:
      raise errors.ConfigError(
        f'timeout_secs: expected seconds > 0 or None, found {timeout_secs}.'
      )
    if allow_unsafe:
      prefix, graph, session = freezing.read_checkpoint(
        path, lambda prefix: _open_session(prefix, None, config)
      )
      return cls(graph, session, prefix, batch_size, timeout_secs)
    worker = sandbox.Worker(caps=caps)
    try:
      prefix, frozen, cost = worker.freeze(path)
      # The worker imported and ran nothing else than these bytes without
      # dying, so TF takes them here too.
      prefix, graph, session = _open_session(
        prefix, frozen, cost_model.session_config(config)
      )
    except BaseException:
      worker.close()
      raise
    isolated = sandbox.Isolated(worker, prefix, frozen, cost)
    return cls(graph, session, prefix, batch_size, timeout_secs, isolated, caps)

  def _run(self, fetches, images):
    batch = to_batch(images, self._feature_shape)
    if self._session is None:
      raise errors.PredictorClosedError(
        f'Predictor of {self._prefix} is closed; restore it again with '
        'Predictor.from_checkpoint.'
      )
    parts = []
    for i in range(0, len(batch), self._batch_size):
      part = batch[i : i + self._batch_size]
      if self._isolated is None or self._isolated.in_process(len(part)):
        parts.append(self._run_here(fetches, part))
      else:
        parts.append(self._run_isolated(fetches, part))
    return parts, len(batch)

  def _timeout(self):
    return errors.PredictionTimeoutError(
      f'predicting with {errors.printable(self._prefix)} took longer than '
      f'{self._timeout_secs} s per run; pass a larger timeout_secs or a '
      'smaller batch_size.'
    )

  def _run_here(self, fetches, part):
    try:
      return self._session.run(
        fetches, {self._images: part}, options=self._run_options
      )
    except tf.errors.DeadlineExceededError as e:
      raise self._timeout() from e
    except tf.errors.OpError as e:
      # An Assert or CheckNumerics of the file fired: its message is text
      # of the file, shown escaped (and not chained, which would show it
      # raw in a traceback).
      raise errors.CheckpointError(
        f'checkpoint {errors.printable(self._prefix)}: a prediction failed '
        f'with {type(e).__name__}: {errors.error_text(e)}. The graph '
        'refused these images, or its files are damaged; use another '
        'checkpoint.',
        path=self._prefix,
      ) from None

  def _run_isolated(self, fetches, part):
    several = isinstance(fetches, (tuple, list))
    names = [t.name for t in fetches] if several else [fetches.name]
    results = self._isolated.run(names, part, self._timeout_secs)
    if results is None:
      raise self._timeout()
    return tuple(results) if several else results[0]

  def classify(self, images):
    """Class ids and probabilities in one pass.

    Returns:
      (int64 `[N]`, float32 `[N, num_classes]`); N = 1 for a single image.
    """
    fetches = (self._predictions, self._probabilities)
    parts, n = self._run(fetches, images)
    if not n:
      probabilities = np.zeros([0, self._num_classes], np.float32)
      return np.zeros([0], np.int64), probabilities
    return (
      np.concatenate([p[0] for p in parts]),
      np.concatenate([p[1] for p in parts]),
    )

  def predict(self, images):
    """Most likely class of each image.

    Args:
      images: see `to_batch`; a single image gives a result of shape [1].

    Returns:
      int64 array `[N]` of class ids in 0..num_classes-1.

    Raises:
      InputShapeError: images of a wrong shape, dtype or value range.
      PredictorClosedError: the predictor was closed.
      PredictionTimeoutError: a run exceeded `timeout_secs`.
    """
    parts, n = self._run(self._predictions, images)
    return np.concatenate(parts) if n else np.zeros([0], np.int64)

  def predict_proba(self, images):
    """Class probabilities (softmax of the logits) of each image.

    Args:
      images: see `to_batch`; a single image gives a result of shape
        [1, num_classes].

    Returns:
      float32 array `[N, num_classes]`, rows summing to 1.

    Raises:
      InputShapeError: images of a wrong shape, dtype or value range.
      PredictorClosedError: the predictor was closed.
      PredictionTimeoutError: a run exceeded `timeout_secs`.
    """
    parts, n = self._run(self._probabilities, images)
    if not n:
      return np.zeros([0, self._num_classes], np.float32)
    return np.concatenate(parts)

  def close(self):
    """Frees the session; later calls raise `PredictorClosedError`."""
    if self._session is not None:
      self._session.close()
      self._session = None
    if self._isolated is not None:
      self._isolated.close()
      self._isolated = None

  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    self.close()
