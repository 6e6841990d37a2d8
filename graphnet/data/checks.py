"""Checks of data-set arguments, shared by every data source.

`DataSet`, `input_data.read_data_sets` and `arrays.from_arrays` /
`read_npz` check their arguments here, so each rule and its message live in
one place: dtypes, seeds, class counts, validation sizes, batch sizes, and
the images and labels themselves. Each check raises
`graphnet.errors.DataError` naming the argument, what was expected and what
was found.

Example:
    dtype = data_checks.as_dtype('float32')        # np.dtype('float32')
    data_checks.check_seed(-1)                     # raises DataError
    images = data_checks.check_images(x, 'x_train')
"""

import numbers

import numpy as np

from graphnet import errors

__all__ = [
  'VALIDATION_SIZE',
  'as_dtype',
  'is_int',
  'check_seed',
  'check_num_classes',
  'check_validation_size',
  'default_validation_size',
  'split_seeds',
  'check_images',
  'check_labels',
  'check_batch_size',
  'first_bad',
]

_SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.uint8))

# TF1's validation set: MNIST's first 5000 training examples (read_data_sets'
# default); also the most `default_validation_size` holds out.
VALIDATION_SIZE = 5000


def as_dtype(dtype):
  """Returns the numpy dtype float32 or uint8 that `dtype` names.

  Accepts TF DTypes (anything with `as_numpy_dtype`), numpy dtypes and
  their names, so TensorFlow need not be imported here.
  """
  try:
    found = np.dtype(getattr(dtype, 'as_numpy_dtype', dtype))
  except TypeError:
    found = None
  if dtype is None or found not in _SUPPORTED_DTYPES:
    raise errors.DataError(
      'dtype: expected tf.float32 or tf.uint8 (or numpy float32 / uint8, '
      f"'float32' / 'uint8'), found {dtype!r}."
    )
  return found


def is_int(value):
  """True for ints (numpy ones too), False for bools and the rest."""
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_seed(seed):
  """Raises DataError unless `seed` is None, an int >= 0 or a SeedSequence."""
  if seed is None or isinstance(seed, np.random.SeedSequence):
    return
  if not is_int(seed) or seed < 0:
    raise errors.DataError(
      'seed: expected None, a non-negative int or a numpy SeedSequence, '
      f'found {seed!r}.'
    )


def check_num_classes(num_classes):
  """Raises DataError unless `num_classes` is None or an int >= 1."""
  if num_classes is not None and (not is_int(num_classes) or num_classes < 1):
    raise errors.DataError(
      f'num_classes: expected None (read from the labels) or an int >= 1, '
      f'found {num_classes!r}.'
    )


def check_validation_size(validation_size, num_train=None, source=''):
  """Raises DataError unless `validation_size` is an int in [0, num_train].

  Args:
    validation_size: the value to check.
    num_train: number of training examples, or None when not known yet.
    source: where the training examples come from, for the message.
  """
  if not is_int(validation_size) or validation_size < 0:
    raise errors.DataError(
      'validation_size: expected a non-negative int, found '
      f'{validation_size!r}.'
    )
  if num_train is not None and validation_size > num_train:
    raise errors.DataError(
      f'validation_size: expected an int in [0, {num_train}] (the number of '
      f'training examples in {source}), found {validation_size}.'
    )


def default_validation_size(num_train):
  """The validation examples held out when none is asked for: TF1's 5000.

  At most a tenth of the training examples, so a small data set keeps
  most of them for training (MNIST's 60000 give 5000).
  """
  return min(VALIDATION_SIZE, num_train // 10)


def split_seeds(seed):
  """Distinct seeds for train, validation and test, derived from `seed`.

  Args:
    seed: None or a non-negative int.

  Returns:
    A list of three: None each for None, else numpy SeedSequences.
  """
  if seed is None:
    return [None, None, None]
  return np.random.SeedSequence(seed).spawn(3)


def check_images(images, name):
  """Returns `images` as an array after checking dtype, rank and values.

  Raises:
    DataError: not uint8 or float, fewer than 2 dimensions, or a float
      feature that is NaN or infinite.
  """
  images = np.asarray(images)
  if images.dtype != np.uint8 and images.dtype.kind != 'f':
    raise errors.DataError(
      f'{name}: expected uint8 pixels (scaled to [0, 1]) or float '
      f'features (kept as given), found dtype {images.dtype}; convert '
      'with .astype(np.uint8) or .astype(np.float32).',
    )
  if images.ndim < 2:
    raise errors.DataError(
      f'{name}: expected one example per row, shape [N, features...], '
      f'found shape {list(images.shape)}.',
    )
  if images.dtype.kind == 'f':
    finite = np.isfinite(images)
    if not finite.all():
      where = np.unravel_index(np.argmin(finite), images.shape)
      raise errors.DataError(
        f'{name}: features must be finite; found {images[where]} in '
        f'example {where[0]} (at {list(where)}); remove or impute it.',
      )
  return images


def check_labels(labels, num_examples, num_classes, name, images_name):
  """Returns (labels, num_classes) after checking count, dtype and range.

  Integer labels [N] are class ids; float or integer labels [N, C] are
  one-hot rows. `num_classes` None is read from the labels.

  Raises:
    DataError: a label count other than `num_examples`, a wrong dtype or
      rank, a negative id, an id >= `num_classes`, a one-hot width other
      than `num_classes`, or a non-finite one-hot value.
  """
  labels = np.asarray(labels)
  found = labels.shape[0] if labels.ndim else 'a scalar'
  if found != num_examples:
    raise errors.DataError(
      f'{name}: expected one label per example ({num_examples} examples in '
      f'{images_name}), found {found}.',
    )
  if labels.ndim == 2 and labels.dtype.kind in 'uif':
    return _check_one_hot(labels, num_classes, name)
  if labels.ndim != 1 or labels.dtype.kind not in 'ui':
    raise errors.DataError(
      f'{name}: expected integer class ids [N] or one-hot rows '
      f'[N, classes], found dtype {labels.dtype} shape '
      f'{list(labels.shape)}.',
    )
  if labels.dtype.kind == 'i':
    found = first_bad(labels, labels < 0, 'negative labels')
    if found:
      raise errors.DataError(f'{name}: class ids must be >= 0; {found}.')
  if num_classes is None:
    num_classes = int(labels.max()) + 1 if labels.size else 0
  found = first_bad(labels, labels >= num_classes, 'labels out of range')
  if found:
    raise errors.DataError(
      f'{name}: expected class ids in 0..{num_classes - 1} '
      f'(num_classes={num_classes}), {found}.',
    )
  return np.ascontiguousarray(labels), num_classes


def first_bad(values, bad, what):
  """Where `values` are refused, for a message; None if nowhere.

  Args:
    values: a 1-D array.
    bad: a bool array of its shape, True where a value is refused.
    what: what the count counts, e.g. 'negative labels'.

  Returns:
    'found <value> at index <i> (<count> <what>)' of the first refused
    value, or None.
  """
  where = np.flatnonzero(bad)
  if not where.size:
    return None
  return f'found {values[where[0]]} at index {where[0]} ({where.size} {what})'


def _check_one_hot(labels, num_classes, name):
  """check_labels for one-hot labels [N, C]."""
  if num_classes is not None and labels.shape[1] != num_classes:
    raise errors.DataError(
      f'{name}: expected one-hot rows of num_classes={num_classes} '
      f'columns, found {labels.shape[1]}.',
    )
  if labels.dtype.kind == 'f' and not np.isfinite(labels).all():
    raise errors.DataError(
      f'{name}: one-hot labels must be finite; found NaN or Inf.'
    )
  return np.ascontiguousarray(labels), labels.shape[1]


def check_batch_size(data_sets, batch_size, splits=('train',)):
  """Checks that each split in `splits` holds at least one batch.

  Call it before building a graph, so a too-small data set fails before
  anything is written.

  Args:
    data_sets: a `Datasets`.
    batch_size: examples per training step.
    splits: names of the splits that are drawn in batches of `batch_size`.

  Raises:
    DataError: `batch_size` is not a positive int, or a split holds fewer
      examples; the message names `batch_size` and the split.
  """
  if not is_int(batch_size) or batch_size < 1:
    raise errors.DataError(
      f'batch_size: expected a positive int, found {batch_size!r}.'
    )
  for split in splits:
    count = getattr(data_sets, split).num_examples
    if count < batch_size:
      raise errors.DataError(
        f'batch_size: {batch_size} is more than the {count} examples of the '
        f'{split} split; use a batch_size of at most {count}, or more data.'
      )
