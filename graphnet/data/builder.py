"""The one builder of `Datasets`: splits, validation split-off, seeds.

Every reader (`read_data_sets` over IDX files, `from_arrays`, `read_npz`)
hands its arrays to `build_datasets`, which checks the arguments, splits
the validation set off the training set when none is given, infers the
class count, derives one seed per split and checks that the splits share
one example shape.

Example:
    splits = {'train': (x, y), 'validation': None, 'test': (tx, ty)}
    names = {s: (f'{s} images', f'{s} labels') for s in splits}
    data = builder.build_datasets(
        splits, names, 100, dataset.Options(np.float32, False, 0, None, False))
"""

import dataclasses

import numpy as np

from graphnet import errors
from graphnet.data import checks as data_checks
from graphnet.data import dataset

__all__ = ['build_datasets']


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


def build_datasets(splits, names, validation_size, options):
  """Datasets from `splits` {'train'|'validation'|'test': (x, y) or None}.

  `names[split]` is the (images, labels) pair of names its messages use.
  The validation split, when None, is the first `validation_size`
  training examples. `read_data_sets`, `from_arrays` and `read_npz` all
  build their splits here, so class counts, one-hot labels, seeds and
  errors agree between them.

  Args:
    splits: split name -> (images, labels) arrays; 'validation' may be
      None.
    names: split name -> (images name, labels name) for messages.
    validation_size: examples taken off the training split when
      'validation' is None (None: `checks.default_validation_size`).
    options: a `dataset.Options`, shared by the splits (its seed is the
      base seed; each split gets its own).

  Returns:
    `dataset.Datasets(train, validation, test)`.

  Raises:
    DataError: naming the split and array.
  """
  data_checks.as_dtype(options.dtype)
  data_checks.check_seed(options.seed)
  data_checks.check_num_classes(options.num_classes)
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
  if options.num_classes is None:
    num_classes = _infer_num_classes(y for _, y in pairs.values())
    options = dataclasses.replace(options, num_classes=num_classes)
  seeds = data_checks.split_seeds(options.seed)
  built = {}
  for split, seed in zip(dataset.SPLITS, seeds, strict=True):
    x, y = pairs[split]
    built[split] = dataset.DataSet(
      x, y, names=names[split], **dict(vars(options), seed=seed)
    )
  expected = built['train'].feature_shape
  for split in dataset.SPLITS[1:]:
    found = built[split].feature_shape
    if found != expected and built[split].num_examples:
      raise errors.DataError(
        f'{names[split][0]}: expected examples of shape {list(expected)} '
        f'like {names["train"][0]}, found {list(found)}.'
      )
  return dataset.Datasets(**built)
