"""TF1's `tf.estimator.inputs`: input functions over NumPy arrays and pandas.

`numpy_input_fn(x, y, batch_size, num_epochs, shuffle)` returns an
`input_fn` whose features are `x` (a dict of arrays, or one array) and
labels `y`, batched along the first axis. The arrays stay in Python
memory: the graph holds only a `tf.data` pipeline of row indices whose
batches gather the rows through one `tf.numpy_function` call per batch, so
a 200 MB training set neither enters `graph.pbtxt` nor hits the 2 GB graph
limit (TF1 fed them through a queue runner instead). The last batch of an
epoch may be smaller, as in TF1.

Example:
    train_input_fn = numpy_input_fn({'x': images}, labels, batch_size=100,
                                    num_epochs=None, shuffle=True)
    estimator.train(train_input_fn, steps=1000)
"""

import collections

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1 import _signatures

__all__ = ['DATASET_FN', 'numpy_input_fn', 'pandas_input_fn']

# Attribute of the input_fns made here: a function returning their batches
# as a `tf.data.Dataset` of what the input_fn returns.
DATASET_FN = 'graphnet_dataset_fn'

# TF1's name for the single array feature when x is not a dict... it kept
# the array as the features tensor itself; this key is only internal.
_SINGLE = '__x__'
_TARGET = '__y__'
# TF 1.15's arguments after `x, y=None` of both input functions.
_BATCHING = _signatures.group(
  batch_size=128,
  num_epochs=1,
  shuffle=None,
  queue_capacity=1000,
  num_threads=1,
)


def _fail(function, field, message):
  raise errors.ConfigError(f'{function}: {field} {message}', field=field)


def _as_arrays(function, field, value):
  """An ordered dict of name -> ndarray; 'x'/'y' alone keep their tag."""
  if isinstance(value, dict):
    if not value:
      _fail(function, field, 'is an empty dict.')
    return collections.OrderedDict(
      (k, np.asarray(v)) for k, v in sorted(value.items())
    )
  return collections.OrderedDict([(None, np.asarray(value))])


def _check_lengths(function, arrays):
  lengths = {name: len(a) for name, a in arrays.items() if a.ndim > 0}
  if not lengths or len(arrays) != len(lengths):
    _fail(function, 'x', 'arrays must have a first (batch) dimension.')
  if len(set(lengths.values())) > 1:
    _fail(
      function,
      'x/y',
      f'arrays must all have the same length (first dimension), got {lengths}.',
    )
  return next(iter(lengths.values()))


def _check_batching(
  function, batch_size, num_epochs, shuffle, queue_capacity, num_threads
):
  """(batch_size, num_epochs, shuffle), checked, of the `_BATCHING` args."""
  del queue_capacity, num_threads  # tf.data prefetches instead.
  if not isinstance(shuffle, bool):
    _fail(
      function,
      'shuffle',
      f'must be given explicitly as True or False, got {shuffle!r}.',
    )
  if not isinstance(batch_size, int) or batch_size < 1:
    _fail(function, 'batch_size', f'must be an integer >= 1, got {batch_size}.')
  if num_epochs is not None and (
    not isinstance(num_epochs, int) or num_epochs < 1
  ):
    _fail(
      function,
      'num_epochs',
      f'must be an integer >= 1 or None, got {num_epochs!r}.',
    )
  return batch_size, num_epochs, shuffle


def _tf_dtype(array):
  if array.dtype.kind in 'US':
    return tf.string
  if array.dtype == object:
    return tf.string
  return tf.as_dtype(array.dtype)


def _make_input_fn(x, y, batch_size, num_epochs, shuffle, function, seed=None):
  """The input_fn gathering rows of the arrays `x` (dict) and `y`."""
  arrays = collections.OrderedDict()
  for name, array in x.items():
    arrays[(_SINGLE if name is None else name)] = array
  if y is not None:
    for name, array in y.items():
      key = (_TARGET, name)
      arrays[key] = array
  length = _check_lengths(function, arrays)
  # Object columns (pandas strings) go through as bytes.
  for key, array in arrays.items():
    if array.dtype == object or array.dtype.kind == 'U':
      arrays[key] = array.astype(np.bytes_)
  keys = list(arrays)
  values = [arrays[k] for k in keys]
  dtypes = [_tf_dtype(v) for v in values]

  def gather(indices):
    return [v[indices] for v in values]

  def batches():
    """The dataset of batches: a tuple of tensors in the order of `keys`."""
    data = tf.data.Dataset.range(length)
    if shuffle:
      # A new order every epoch, over the whole set, as TF1's queue did.
      data = data.shuffle(length, seed=seed, reshuffle_each_iteration=True)
    data = data.repeat(num_epochs).batch(batch_size)

    def fetch(indices):
      tensors = tf.numpy_function(gather, [indices], dtypes, stateful=False)
      for tensor, array in zip(tensors, values, strict=True):
        tensor.set_shape([None, *array.shape[1:]])
      return tuple(tensors)

    return data.map(fetch).prefetch(2)

  def structure(*tensors):
    """(features, labels), or features alone without `y`."""
    batch = dict(zip(keys, tensors, strict=True))
    features = collections.OrderedDict(
      (k, v) for k, v in batch.items() if not isinstance(k, tuple)
    )
    if _SINGLE in features:
      features = features[_SINGLE]
    if y is None:
      return features
    labels = {k[1]: v for k, v in batch.items() if isinstance(k, tuple)}
    if None in labels:
      labels = labels[None]
    return features, labels

  def input_fn():
    return structure(*tf.data.make_one_shot_iterator(batches()).get_next())

  # The same batches as a dataset, which an Estimator can read inside its
  # loop of several training steps per run.
  setattr(input_fn, DATASET_FN, lambda: batches().map(structure))
  return input_fn


@_signatures.takes(_BATCHING)
def numpy_input_fn(x, y=None, **batching):
  """Returns an input_fn feeding dicts of NumPy arrays (TF1's signature).

  Args:
    x: an array or a dict of arrays (features), first dimension the rows.
    y: an array or a dict of arrays (labels), or None (prediction).
    **batching: TF1's arguments after `y` (`_BATCHING`, defaults there):
      batch_size: rows per batch.
      num_epochs: passes over the data; None repeats for ever.
      shuffle: True or False (required, as in TF1).
      queue_capacity: accepted for TF1 compatibility (unused).
      num_threads: accepted for TF1 compatibility (unused).

  Returns:
    a function returning `(features, labels)` (or `features` when `y` is
    None): features a dict of tensors (or one tensor when `x` is an
    array), each `[batch, ...]` of the array's dtype.

  Raises:
    ConfigError: `shuffle` is not a bool, the arrays differ in length, or
      a key is both in `x` and `y`.
  """
  function = 'numpy_input_fn'
  batching = _check_batching(function, **batching)
  xs = _as_arrays(function, 'x', x)
  ys = None if y is None else _as_arrays(function, 'y', y)
  if ys is not None and isinstance(x, dict) and isinstance(y, dict):
    both = sorted(set(xs) & set(ys))
    if both:
      _fail(function, 'y', f'has keys {both} that x also has.')
  return _make_input_fn(xs, ys, *batching, function)


@_signatures.takes(_BATCHING)
def pandas_input_fn(x, y=None, *, target_column='target', **batching):
  """Returns an input_fn feeding a pandas DataFrame (TF1's signature).

  Args:
    x: a `pandas.DataFrame`; each column becomes a feature.
    y: a `pandas.Series` (or DataFrame) of labels, or None.
    target_column: accepted for TF1 compatibility (the labels are `y`);
      TF1's last argument, after the batching ones.
    **batching: `batch_size`, `num_epochs`, `shuffle`, `queue_capacity`
      and `num_threads`, as for `numpy_input_fn`.

  Returns:
    a function returning `(features, labels)` or `features`.

  Raises:
    ConfigError: as `numpy_input_fn`, or `x` and `y` have different
      indexes.
  """
  del target_column
  function = 'pandas_input_fn'
  batching = _check_batching(function, **batching)
  if y is not None and not np.array_equal(x.index.values, y.index.values):
    _fail(function, 'y', 'must have the same index as x.')
  xs = collections.OrderedDict((str(c), x[c].to_numpy()) for c in x.columns)
  ys = None
  if y is not None:
    if hasattr(y, 'columns'):
      ys = collections.OrderedDict((str(c), y[c].to_numpy()) for c in y.columns)
    else:
      ys = collections.OrderedDict([(None, y.to_numpy())])
  return _make_input_fn(xs, ys, *batching, function)
