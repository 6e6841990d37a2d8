"""Data sets from NumPy arrays: `from_arrays` and `read_npz`.

Features of any shape ([N, 8, 8], [N, 30], [N, 32, 32, 3], ...) and
integer labels of any class count become `Datasets(train, validation,
test)` of `dataset.DataSet`s, checked before anything else happens: counts
that differ, NaN or infinite features, negative or out-of-range labels and
splits of different shapes raise `errors.DataError` naming the split and
array (and the file, for `.npz`). uint8 images are scaled to [0, 1] as in
TF1; float features are kept as given. `graphnet.input_data` re-exports
both functions.

Example:
  digits = sklearn.datasets.load_digits()
  data = arrays.from_arrays(
      train=(digits.images[:1500], digits.target[:1500]),
      test=(digits.images[1500:], digits.target[1500:]),
      validation_size=100, seed=0)
  data.feature_shape, data.num_classes  # (8, 8), 10
  data = arrays.read_npz('data.npz')    # x_train, y_train, x_test, y_test
"""

import os
import zipfile

import numpy as np

from graphnet import errors
from graphnet.data import checks as data_checks
from graphnet.data import dataset

__all__ = ['from_arrays', 'read_npz']

_NPZ_KEYS = ('x_train', 'y_train', 'x_test', 'y_test')
_NPZ_VALIDATION_KEYS = ('x_val', 'y_val')
_SPLITS = ('train', 'validation', 'test')


def _infer_num_classes(label_arrays):
  """The class count the labels imply: largest id + 1, or one-hot width.

  Labels that are not valid are skipped here; DataSet rejects them with a
  message naming them.
  """
  found = 0
  for labels in label_arrays:
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.dtype.kind in 'uif':
      found = max(found, labels.shape[1])
    elif labels.ndim == 1 and labels.dtype.kind in 'ui' and labels.size:
      found = max(found, int(labels.max()) + 1)
  return found


def _as_pair(pair, split):
  """Returns (images, labels) as arrays, or raises naming the split."""
  if not isinstance(pair, (tuple, list)) or len(pair) != 2:
    raise errors.DataError(
      f'{split}: expected a pair (images, labels), found {type(pair).__name__}.'
    )
  images, labels = np.asarray(pair[0]), np.asarray(pair[1])
  if not images.ndim or not labels.ndim:
    raise errors.DataError(
      f'{split}: expected arrays with one row per example, found shapes '
      f'{list(images.shape)} and {list(labels.shape)}.'
    )
  return images, labels


def _options(dtype, one_hot, seed, num_classes, reshape):
  """The DataSet keyword arguments `_build_datasets` takes as `options`."""
  return dict(
    dtype=dtype,
    one_hot=one_hot,
    seed=seed,
    num_classes=num_classes,
    reshape=reshape,
  )


def _build_datasets(splits, names, validation_size, options):
  """Datasets from `splits` {'train'|'validation'|'test': (x, y) or None}.

  `names[split]` is the (images, labels) pair of names its messages use.
  The validation split, when None, is the first `validation_size`
  training examples.
  """
  data_checks.as_dtype(options['dtype'])
  data_checks.check_seed(options['seed'])
  data_checks.check_num_classes(options['num_classes'])
  if validation_size is not None:
    data_checks.check_validation_size(validation_size)
  # Only the validation split may be left out.
  pairs = {
    split: _as_pair(pair, split)
    for split, pair in splits.items()
    if pair is not None or split != 'validation'
  }
  if 'validation' in pairs and validation_size:
    raise errors.DataError(
      f'validation_size: {validation_size} asks to split the validation '
      'set off the training set, but a validation set was given too; pass '
      'one of them.'
    )
  if 'validation' not in pairs:
    train_x, train_y = pairs['train']
    if validation_size is None:
      validation_size = data_checks.default_validation_size(train_x.shape[0])
    data_checks.check_validation_size(
      validation_size, train_x.shape[0], names['train'][0]
    )
    pairs['validation'] = (train_x[:validation_size], train_y[:validation_size])
    pairs['train'] = (train_x[validation_size:], train_y[validation_size:])
    names = dict(names, validation=names['train'])
  if options['num_classes'] is None:
    num_classes = _infer_num_classes(y for _, y in pairs.values())
    options = dict(options, num_classes=num_classes)
  seeds = data_checks.split_seeds(options['seed'])
  built = {}
  for split, seed in zip(_SPLITS, seeds, strict=True):
    x, y = pairs[split]
    built[split] = dataset.DataSet(
      x, y, names=names[split], **dict(options, seed=seed)
    )
  expected = built['train'].feature_shape
  for split in ('validation', 'test'):
    found = built[split].feature_shape
    if found != expected and built[split].num_examples:
      raise errors.DataError(
        f'{names[split][0]}: expected examples of shape {list(expected)} '
        f'like {names["train"][0]}, found {list(found)}.'
      )
  return dataset.Datasets(**built)


def from_arrays(
  train,
  test,
  validation=None,
  validation_size=0,
  dtype=np.float32,
  one_hot=False,
  seed=None,
  *,
  num_classes=None,
  reshape=False,
):
  """Wraps NumPy arrays as Datasets(train, validation, test).

  Args:
    train: (images, labels): images [N, features...] of any feature shape
      ([N, 8, 8], [N, 30], [N, 32, 32, 3], ...), uint8 pixels (scaled to
      [0, 1] with dtype float32, as TF1 did) or float features (kept as
      given); labels integer class ids [N] or one-hot rows [N, C].
    test: (images, labels), likewise.
    validation: (images, labels), or None to take the first
      `validation_size` training examples (none by default).
    validation_size: see `validation`; 0 when `validation` is given.
    dtype: float32 (tf, numpy or string) or uint8 (uint8 images only).
    one_hot: labels as float64 one-hot rows [N, num_classes].
    seed: None (nondeterministic batches) or an int; the splits get
      distinct seeds derived from it.
    num_classes: the class count; None reads it from the labels of all
      splits (largest id + 1). Given, every label must be below it.
    reshape: flatten each example to [N, prod(features)].

  Returns:
    Datasets, whose `feature_shape` and `num_classes` tell a trainer the
    input shape and the number of logits.

  Raises:
    DataError: naming the split and array: a split that is not a pair,
      images and labels that differ in number, images that are not uint8
      or float or hold NaN/Inf, labels that are negative, out of range or
      not integer, splits whose feature shapes differ, or a bad argument.
  """
  splits = dict(train=train, validation=validation, test=test)
  names = {split: (f'{split} images', f'{split} labels') for split in splits}
  options = _options(dtype, one_hot, seed, num_classes, reshape)
  return _build_datasets(splits, names, validation_size, options)


def _load_npz(path):
  """Returns {name: array} of the .npz file `path`, or raises naming it."""
  try:
    loaded = np.load(path, allow_pickle=False)
  except FileNotFoundError:
    raise errors.DataError(
      f'{path}: file not found; expected a NumPy .npz file with '
      f'{", ".join(_NPZ_KEYS)}.',
      path=path,
    ) from None
  except (OSError, ValueError, EOFError) as e:
    raise _npz_format_error(path, e) from None
  if not isinstance(loaded, np.lib.npyio.NpzFile):
    raise errors.DataFormatError(
      f'{path}: expected a NumPy .npz archive, found a single .npy array; '
      'save with np.savez(path, x_train=..., y_train=..., x_test=..., '
      'y_test=...).',
      path=path,
    )
  try:
    with loaded:
      return {key: loaded[key] for key in loaded.files}
  except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
    raise _npz_format_error(path, e) from None


def _npz_format_error(path, error):
  return errors.DataFormatError(
    f'{path}: not a readable NumPy .npz file ({error}); expected arrays '
    f'{", ".join(_NPZ_KEYS)} of numbers (object arrays are refused).',
    path=path,
  )


def read_npz(
  path,
  dtype=np.float32,
  one_hot=False,
  validation_size=0,
  seed=None,
  *,
  num_classes=None,
  reshape=False,
):
  """Reads Datasets from a NumPy .npz file (as `np.savez` writes).

  The file holds `x_train`, `y_train`, `x_test`, `y_test` and optionally
  `x_val`, `y_val` (else the first `validation_size` training examples
  are the validation set); other arrays are ignored. Arrays are checked
  as by `from_arrays`; no pickled objects are loaded.

  Args:
    path: the .npz file.
    dtype: float32 (uint8 pixels scaled to [0, 1], floats kept) or uint8.
    one_hot: labels as float64 one-hot rows [N, num_classes].
    validation_size: first training examples that form the validation set
      when the file has no x_val / y_val; None: min(5000, 10%) of them.
    seed: None (nondeterministic batches) or an int.
    num_classes: the class count; None reads it from the labels.
    reshape: flatten each example to [N, prod(features)].

  Returns:
    Datasets(train, validation, test).

  Raises:
    DataError: the file is missing, or an array is bad; the message names
      the file and the array (e.g. `y_train`).
    DataFormatError: the file is not a .npz archive or lacks an array.
  """
  path = os.fspath(path)
  arrays = _load_npz(path)
  wanted = list(_NPZ_KEYS)
  if any(key in arrays for key in _NPZ_VALIDATION_KEYS):
    wanted += _NPZ_VALIDATION_KEYS
  missing = [key for key in wanted if key not in arrays]
  if missing:
    raise errors.DataFormatError(
      f'{path}: missing array(s) {", ".join(missing)}; expected '
      f'{", ".join(_NPZ_KEYS)} (and optionally both x_val and y_val), '
      f'found {", ".join(sorted(arrays)) or "none"}.',
      path=path,
    )
  splits = {'train': 'train', 'validation': 'val', 'test': 'test'}
  pairs = {
    split: (arrays[f'x_{key}'], arrays[f'y_{key}'])
    if f'x_{key}' in arrays
    else None
    for split, key in splits.items()
  }
  names = {
    split: (f'{path}: x_{key}', f'{path}: y_{key}')
    for split, key in splits.items()
  }
  options = _options(dtype, one_hot, seed, num_classes, reshape)
  try:
    return _build_datasets(pairs, names, validation_size, options)
  except errors.DataError as e:
    # Bad arrays are the file's fault: name it for callers too.
    if e.path is None and str(e).startswith(path):
      e.path = path
    raise
