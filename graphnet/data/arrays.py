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
from graphnet.data import builder
from graphnet.data import dataset

__all__ = ['from_arrays', 'read_npz']

_NPZ_KEYS = ('x_train', 'y_train', 'x_test', 'y_test')
_NPZ_VALIDATION_KEYS = ('x_val', 'y_val')


def from_arrays(
  train,
  test,
  validation=None,
  validation_size=0,
  dtype=dataset.DEFAULTS.dtype,
  one_hot=dataset.DEFAULTS.one_hot,
  seed=dataset.DEFAULTS.seed,
  *,
  num_classes=dataset.DEFAULTS.num_classes,
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
  options = dataset.Options(dtype, one_hot, seed, num_classes, reshape)
  return builder.build_datasets(splits, names, validation_size, options)


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
  dtype=dataset.DEFAULTS.dtype,
  one_hot=dataset.DEFAULTS.one_hot,
  validation_size=0,
  seed=dataset.DEFAULTS.seed,
  *,
  num_classes=dataset.DEFAULTS.num_classes,
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
  options = dataset.Options(dtype, one_hot, seed, num_classes, reshape)
  try:
    return builder.build_datasets(pairs, names, validation_size, options)
  except errors.DataError as e:
    # Bad arrays are the file's fault: name it for callers too.
    if e.path is None and str(e).startswith(path):
      e.path = path
    raise
