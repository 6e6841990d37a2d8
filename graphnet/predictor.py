"""Restores a trained graphnet checkpoint and classifies images with it.

`Predictor.from_checkpoint(log_dir)` reads the latest checkpoint's `.meta`
graph, refuses it if it holds ops unfit for inference
(`graph_safety.check_meta_graph_def`), imports it into a graph and session
of its own (never the caller's default graph, so several predictors live
side by side in one process, in eager or graph mode) and restores the
weights. Predictions use the graph's `probabilities` and `predictions`
tensors, i.e. the moving averages of the weights when the model was
trained with them.

Example:
    with predictor.Predictor.from_checkpoint('/tmp/logs') as p:
      p.predict(images)         # int64 [N]; images uint8 [N, 28, 28] ...
      p.predict_proba(images)   # float32 [N, 10]
    predictor.load_images(['seven.png'], invert=True)  # uint8 [1, 28, 28]
"""

import os

import numpy as np
import tensorflow.compat.v1 as tf
from google.protobuf import message

from graphnet import checkpoints
from graphnet import contract
from graphnet import errors
from graphnet import graph_safety
from graphnet.images import load_images

__all__ = [
  'IMAGE_SIZE',
  'IMAGE_PIXELS',
  'NUM_CLASSES',
  'INPUT_NAME',
  'OUTPUT_NAMES',
  'Predictor',
  'resolve_checkpoint',
  'read_meta_graph',
  'to_batch',
  'load_images',
]

# Re-exported from `contract` for callers of earlier versions.
IMAGE_SIZE = contract.IMAGE_SIZE
IMAGE_PIXELS = contract.IMAGE_PIXELS
NUM_CLASSES = contract.NUM_CLASSES
INPUT_NAME = contract.IMAGES
OUTPUT_NAMES = contract.OUTPUTS

_FORMATS = (
  'uint8 pixels 0..255 or floats in [0, 1], shaped [N, 28, 28], '
  '[N, 784], [N, 28, 28, 1], or one image [28, 28] / [784] / [28, 28, 1]'
)
_SINGLE_SHAPES = ((IMAGE_SIZE, IMAGE_SIZE), (IMAGE_PIXELS,))
_SINGLE_SHAPES += ((IMAGE_SIZE, IMAGE_SIZE, 1),)
_BATCH_TAILS = ((IMAGE_PIXELS,), (IMAGE_SIZE, IMAGE_SIZE))
_BATCH_TAILS += ((IMAGE_SIZE, IMAGE_SIZE, 1),)


def resolve_checkpoint(path):
  """The checkpoint prefix `path` names: itself, or a directory's latest.

  Args:
    path: a checkpoint prefix (`logs/model.ckpt-2000`) or a directory
      holding a `checkpoint` file.

  Returns:
    the checkpoint prefix (str); its `.meta` and `.index` files exist.

  Raises:
    CheckpointError: no checkpoint there, or its files are missing.
  """
  path = os.fspath(path)
  if os.path.isdir(path):
    prefix = checkpoints.latest_checkpoint(path)
    if prefix is None:
      raise errors.CheckpointError(
        f'{path} holds no checkpoint (no usable "checkpoint" file); expected '
        'the --log_dir of a finished training run, e.g. one holding '
        'model.ckpt-2000.{index,meta,data-*}.',
        path=path,
      )
  else:
    prefix = path
  for suffix, what in (('.meta', 'graph'), ('.index', 'variable index')):
    if not os.path.isfile(prefix + suffix):
      raise errors.CheckpointError(
        f'checkpoint {prefix}: the {what} file {prefix + suffix} is missing. '
        'Pass a checkpoint prefix such as logs/model.ckpt-2000 (without '
        'extension) or the directory holding the checkpoints.',
        path=prefix,
      )
  return prefix


def read_meta_graph(prefix):
  """Parses `prefix.meta` into a `tf.MetaGraphDef` without importing it.

  Raises:
    CheckpointError: the file cannot be read or is not a MetaGraphDef.
  """
  meta_path = prefix + '.meta'
  try:
    with open(meta_path, 'rb') as f:
      data = f.read()
  except OSError as e:
    raise errors.CheckpointError(
      f'{meta_path} cannot be read: {e.strerror or e}.', path=meta_path
    ) from e
  meta_graph_def = tf.MetaGraphDef()
  try:
    meta_graph_def.ParseFromString(data)
  except message.DecodeError as e:
    raise errors.CheckpointError(
      f'{meta_path} is not a valid MetaGraphDef ({e}); the file is '
      'truncated or damaged. Use another checkpoint or retrain.',
      path=meta_path,
    ) from e
  names = {node.name for node in meta_graph_def.graph_def.node}
  missing = [n for n in (INPUT_NAME,) + OUTPUT_NAMES if n not in names]
  if missing:
    raise errors.CheckpointError(
      f'{meta_path} lacks the tensors {missing} of the graphnet graph '
      f'contract ({INPUT_NAME}:0 -> {", ".join(OUTPUT_NAMES)}); the file is '
      'truncated or was not written by graphnet.',
      path=meta_path,
    )
  return meta_graph_def


def _shape_error(found):
  return errors.InputShapeError(f'images: expected {_FORMATS}; found {found}.')


def to_batch(images):
  """Converts images in any accepted format to float32 `[N, 784]` in [0, 1].

  Args:
    images: array-like, uint8 (pixels 0..255) or floating point (values in
      [0, 1]) of shape `[N, 28, 28]`, `[N, 784]` or `[N, 28, 28, 1]`; or one
      image `[28, 28]`, `[784]` or `[28, 28, 1]`, treated as `N = 1`.

  Returns:
    float32 array `[N, 784]`.

  Raises:
    InputShapeError: another shape, dtype, or values outside [0, 1].
  """
  try:
    array = np.asarray(images)
  except (TypeError, ValueError) as e:
    raise _shape_error(f'an object numpy cannot convert ({e})') from e
  if array.shape in _SINGLE_SHAPES:
    array = array[np.newaxis]
  if array.ndim < 2 or array.shape[1:] not in _BATCH_TAILS:
    raise _shape_error(f'shape {list(array.shape)}, dtype {array.dtype}')
  if array.dtype == np.uint8:
    batch = array.reshape(-1, IMAGE_PIXELS).astype(np.float32) / 255.0
  elif np.issubdtype(array.dtype, np.floating):
    batch = array.reshape(-1, IMAGE_PIXELS).astype(np.float32)
    if batch.size and not np.isfinite(batch).all():
      raise _shape_error(f'{array.dtype} values including NaN or infinity')
    if batch.size and (batch.min() < 0 or batch.max() > 1):
      raise _shape_error(
        f'{array.dtype} values from {batch.min()} to {batch.max()}; divide '
        '0..255 pixels by 255 or pass them as uint8'
      )
  else:
    hint = '; convert 0..255 pixels with .astype(np.uint8)'
    if array.dtype.kind not in 'iu':
      hint = ''
    raise _shape_error(f'dtype {array.dtype}{hint}')
  return batch


class Predictor:
  """A restored graphnet model in its own graph and session.

  Build it with `from_checkpoint`; close it (or use `with`) to free the
  session. Not thread-safe to close while predicting.
  """

  def __init__(self, graph, session, prefix, batch_size):
    """Use `Predictor.from_checkpoint` instead."""
    self._graph = graph
    self._session = session
    self._prefix = prefix
    self._batch_size = batch_size
    self._images = graph.get_tensor_by_name(contract.tensor(INPUT_NAME))
    self._probabilities = graph.get_tensor_by_name(
      contract.tensor(contract.PROBABILITIES)
    )
    self._predictions = graph.get_tensor_by_name(
      contract.tensor(contract.PREDICTIONS)
    )

  @classmethod
  def from_checkpoint(
    cls, path, allow_unsafe=False, config=None, batch_size=10000
  ):
    """Restores the checkpoint at `path` (a prefix or a directory).

    Args:
      path: a checkpoint prefix or a directory (its latest checkpoint).
      allow_unsafe: skip the `graph_safety` check of the `.meta` graph.
        Only for graphs you trust: restoring runs ops of the file.
      config: optional `tf.ConfigProto` of the session.
      batch_size: images per `session.run` (bounds memory for big inputs).

    Returns:
      a `Predictor`.

    Raises:
      CheckpointError: no checkpoint, or a missing, truncated or damaged
        `.meta`, `.index` or data file.
      UnsafeGraphError: the graph holds an op refused by `graph_safety`.
      ValueError: `batch_size` < 1.
    """
    if batch_size < 1:
      raise ValueError(f'batch_size must be >= 1, got {batch_size}.')
    prefix = resolve_checkpoint(path)
    meta_graph_def = read_meta_graph(prefix)
    if not allow_unsafe:
      graph_safety.check_meta_graph_def(meta_graph_def)
    graph = tf.Graph()
    session = None
    try:
      with graph.as_default():
        saver = tf.train.import_meta_graph(meta_graph_def, clear_devices=True)
        if saver is None:
          raise errors.CheckpointError(
            f'{prefix}.meta declares no saver and holds no variables; it '
            'was not written by a graphnet training run.',
            path=prefix,
          )
        # Resource variables take any shape on restore, so weights of
        # another model would load silently and fail (or mislead) later.
        checkpoints.check_compatible(
          prefix, tf.global_variables(), flag=f'{prefix}.meta'
        )
        session = tf.Session(graph=graph, config=config)
        saver.restore(session, prefix)
      graph.finalize()
    except (tf.errors.OpError, ValueError, KeyError) as e:
      if session is not None:
        session.close()
      if isinstance(e, errors.GraphnetError):
        raise
      raise errors.CheckpointError(
        f'checkpoint {prefix} cannot be restored: '
        f'{type(e).__name__}: {str(e).splitlines()[0]}. Its files are '
        'damaged, truncated or of another model; use another checkpoint.',
        path=prefix,
      ) from e
    return cls(graph, session, prefix, batch_size)

  @property
  def checkpoint(self):
    """The restored checkpoint prefix (str)."""
    return self._prefix

  @property
  def graph(self):
    """The `tf.Graph` holding the restored model (finalized)."""
    return self._graph

  @property
  def session(self):
    """The `tf.Session` the weights live in."""
    return self._session

  def _run(self, fetches, images):
    batch = to_batch(images)
    if self._session is None:
      raise RuntimeError('Predictor is closed; restore it again.')
    parts = [
      self._session.run(
        fetches, {self._images: batch[i : i + self._batch_size]}
      )
      for i in range(0, len(batch), self._batch_size)
    ]
    return parts, len(batch)

  def classify(self, images):
    """Class ids and probabilities in one pass.

    Returns:
      (int64 `[N]`, float32 `[N, 10]`); N = 1 for a single image.
    """
    fetches = (self._predictions, self._probabilities)
    parts, n = self._run(fetches, images)
    if not n:
      return np.zeros([0], np.int64), np.zeros([0, NUM_CLASSES], np.float32)
    return (
      np.concatenate([p[0] for p in parts]),
      np.concatenate([p[1] for p in parts]),
    )

  def predict(self, images):
    """Most likely class of each image.

    Args:
      images: see `to_batch`; a single image gives a result of shape [1].

    Returns:
      int64 array `[N]` of class ids in 0..9.

    Raises:
      InputShapeError: images of a wrong shape, dtype or value range.
    """
    parts, n = self._run(self._predictions, images)
    return np.concatenate(parts) if n else np.zeros([0], np.int64)

  def predict_proba(self, images):
    """Class probabilities (softmax of the logits) of each image.

    Args:
      images: see `to_batch`; a single image gives a result of shape [1, 10].

    Returns:
      float32 array `[N, 10]`, rows summing to 1.

    Raises:
      InputShapeError: images of a wrong shape, dtype or value range.
    """
    parts, n = self._run(self._probabilities, images)
    if not n:
      return np.zeros([0, NUM_CLASSES], np.float32)
    return np.concatenate(parts)

  def close(self):
    """Frees the session; later calls raise RuntimeError."""
    if self._session is not None:
      self._session.close()
      self._session = None

  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    self.close()
