"""Data sets in memory: `DataSet` hands out shuffled mini-batches.

The container behind every graphnet data source (`input_data.read_data_sets`
for IDX files, `arrays.from_arrays` / `arrays.read_npz` for NumPy data):
features of any shape and integer (or one-hot) labels of any class count,
with TF1's `next_batch` order but its own random generator, so numpy's
global random state is never touched. uint8 images are scaled to [0, 1]
float32 (x / 255) as in TF1; float features are kept as given.

`graphnet.input_data` re-exports these names under TF1's module.

Example:
  ds = dataset.DataSet(images, labels, seed=0)  # uint8 [N, 28, 28, 1], [N]
  batch_images, batch_labels = ds.next_batch(100)  # [100, 784] f32, [100]
  ds.feature_shape, ds.num_classes                 # (784,), 10
"""

import collections
import dataclasses
import inspect
import math

import numpy as np

from graphnet import attributes
from graphnet import errors
from graphnet.contract import IMAGE_PIXELS
from graphnet.contract import IMAGE_SIZE
from graphnet.contract import NUM_CLASSES
from graphnet.data import checks as data_checks
from graphnet.data.checks import check_batch_size

__all__ = [
  'SPLITS',
  'NUM_FAKE_EXAMPLES',
  'Options',
  'DEFAULTS',
  'DataSet',
  'Datasets',
  'dense_to_one_hot',
  'check_batch_size',
]

# The names of the three splits, in `Datasets` order: the one definition.
SPLITS = ('train', 'validation', 'test')

# TF1's fake data sets each pretended to hold this many examples.
NUM_FAKE_EXAMPLES = 10000


@dataclasses.dataclass(frozen=True)
class Options:
  """How every split of a `Datasets` holds its examples.

  `DataSet`'s arguments that a reader passes to all three splits;
  `DEFAULTS` holds DataSet's defaults for them.
  """

  # float32 (uint8 pixels scaled to [0, 1], floats kept) or uint8.
  dtype: object
  # Labels as float64 one-hot rows [N, num_classes] instead of ids [N].
  one_hot: bool
  # None (nondeterministic batches) or an int; each split derives its own.
  seed: object
  # The class count; None reads it from the labels.
  num_classes: object
  # Each example flattened to [prod(features)].
  reshape: bool


class Datasets(collections.namedtuple('Datasets', SPLITS)):
  """The three splits, each a `DataSet`; unpacks as (train, validation, test).

  `feature_shape` and `num_classes` are the training split's, which every
  split shares.
  """

  __slots__ = ()

  feature_shape = attributes.ReadOnly(
    "Shape of one example's features (tuple), e.g. (784,) or (8, 8).",
    source='train.feature_shape',
  )
  num_classes = attributes.ReadOnly(
    'Number of classes (int); labels are 0..num_classes-1.',
    source='train.num_classes',
  )


def dense_to_one_hot(labels_dense, num_classes):
  """Converts class ids to one-hot rows, as TF1's function did.

  Args:
    labels_dense: integer array [N] of class ids in 0..num_classes-1.
    num_classes: int >= 1, the width of each row.

  Returns:
    float64 array [N, num_classes] with a single 1.0 per row.

  Raises:
    DataError: `labels_dense` is not integer [N], or an id is negative or
      >= `num_classes` (TF1 wrote out of place or raised IndexError).
  """
  data_checks.check_num_classes(num_classes)
  if num_classes is None:
    raise errors.DataError('num_classes: expected an int >= 1, found None.')
  labels = np.asarray(labels_dense)
  if labels.ndim != 1:
    raise errors.DataError(
      f'labels_dense: expected integer class ids [N], found shape '
      f'{list(labels.shape)}.'
    )
  n = labels.shape[0]
  labels, _ = data_checks.check_labels(
    labels, n, num_classes, 'labels_dense', ''
  )
  one_hot = np.zeros((n, num_classes), dtype=np.float64)
  one_hot[np.arange(n), labels] = 1.0
  return one_hot


class DataSet:
  """Features and labels in memory, handed out in shuffled mini-batches.

  `images` and `labels` are plain C-contiguous numpy arrays (the full data,
  in the order given), ready to load into graph variables. Batches follow
  the current epoch's order, `permutation`, from position `index_in_epoch`.
  """

  labels = attributes.ReadOnly(
    'All labels in the order given: integer [N] or one-hot [N, C].'
  )
  num_classes = attributes.ReadOnly(
    'Number of classes (int): labels are in 0..num_classes-1.'
  )
  num_examples = attributes.ReadOnly('Number of examples (int).')
  epochs_completed = attributes.ReadOnly(
    'Epochs finished by `next_batch` (int).'
  )
  index_in_epoch = attributes.ReadOnly(
    'Position in `permutation` where the next batch starts (int).'
  )

  def __init__(
    self,
    images,
    labels,
    fake_data=False,
    one_hot=False,
    dtype=np.float32,
    reshape=True,
    seed=None,
    *,
    num_classes=None,
    names=('images', 'labels'),
  ):
    """Builds a data set; TF1's positional signature, plus keywords.

    Args:
      images: array [N, features...] of uint8 pixels 0..255 or of float
        features, e.g. MNIST's [N, 28, 28, 1] or [N, 784], or [N, 8, 8],
        [N, 30], [N, 32, 32, 3]. Ignored when `fake_data` is true.
      labels: integer class ids [N] (any integer dtype, kept as given:
        MNIST's files give uint8), or one-hot rows [N, num_classes] (kept
        as given, as in TF1). Ignored when `fake_data` is true.
      fake_data: build TF1's fake data set instead: NUM_FAKE_EXAMPLES
        copies of an all-white 28x28 image (1.0 in float32, 255 in uint8)
        with label 0; `images` and `labels` are read-only broadcast views.
      one_hot: turn class ids into float64 one-hot rows [N, num_classes],
        as TF1's `dense_to_one_hot` did (TF1's DataSet applied it to fake
        data only).
      dtype: tf.float32 / np.float32 / 'float32': uint8 pixels are scaled
        to [0, 1] (x / 255) and float features are kept as given (not
        divided by 255 again as in TF1, so a DataSet of another DataSet's
        `images` holds the same values); tf.uint8 / np.uint8 / 'uint8'
        keeps raw uint8 pixels (float features are then refused).
      reshape: if true `images` are flattened to [N, prod(features)]
        (MNIST: [N, 784]); else kept in the shape given.
      seed: None (nondeterministic), a non-negative int or a numpy
        SeedSequence; the same seed gives the same batch sequence.
      num_classes: the class count; None reads it from the labels (the
        largest id + 1, or the one-hot width). Labels must be below it.
      names: how error messages name `images` and `labels`, e.g.
        ('x_train', 'y_train') for arrays read from a file.

    Raises:
      DataError: an argument has the wrong dtype, shape or values (NaN or
        infinite features, negative or out-of-range labels), or images and
        labels differ in number.
    """
    self._dtype = data_checks.as_dtype(dtype)
    data_checks.check_seed(seed)
    data_checks.check_num_classes(num_classes)
    self._reshape = bool(reshape)
    self._one_hot = bool(one_hot)
    self._fake_data = bool(fake_data)
    self._rng = np.random.default_rng(seed)
    if self._fake_data:
      self._build_fake()
    else:
      self._build_real(images, labels, num_classes, names)
    self._epochs_completed = 0
    self._index_in_epoch = 0
    # Batches gather through this index instead of permuting the (up to
    # 172 MB) image array itself every epoch.
    self._perm = np.arange(self._num_examples)

  def _build_fake(self):
    n = NUM_FAKE_EXAMPLES
    self._num_classes = NUM_CLASSES
    self._fake_image, self._fake_label = self._make_fake_example()
    self._images = np.broadcast_to(
      self._fake_image, (n,) + self._fake_image.shape
    )
    self._pixels = np.broadcast_to(
      np.full(IMAGE_PIXELS, 255, np.uint8), (n, IMAGE_PIXELS)
    )
    self._labels = np.broadcast_to(
      self._fake_label, (n,) + self._fake_label.shape
    )
    self._image_shape = self._images.shape
    self._num_examples = n

  def _build_real(self, images, labels, num_classes, names):
    images_name, labels_name = names
    images = data_checks.check_images(images, images_name)
    n = images.shape[0]
    labels, self._num_classes = data_checks.check_labels(
      labels, n, num_classes, labels_name, images_name
    )
    if self._one_hot and labels.ndim == 1 and labels.size:
      labels = dense_to_one_hot(labels, self._num_classes)
    elif self._one_hot and labels.ndim == 1:
      labels = np.zeros((0, self._num_classes), np.float64)
    self._labels = labels
    width = math.prod(images.shape[1:])
    if self._reshape:
      images = images.reshape(n, width)
    self._image_shape = images.shape
    self._num_examples = n
    self._fake_image, self._fake_label = self._make_fake_example()
    if images.dtype == np.uint8:
      # What `images` is scaled from, so it must not change under them: a
      # view of read-only bytes (the IDX reader's), else a private copy.
      if images.flags.writeable:
        images = images.copy()
      self._pixels = images.reshape(n, width)
      # Float32 images are made on first use: the in-graph loops train on
      # the pixels, and scaling MNIST's 55000 training images costs a
      # tenth of a second and 172 MB they may never need.
      keep_bytes = self._dtype == np.uint8
      self._images = np.ascontiguousarray(images) if keep_bytes else None
      return
    if self._dtype == np.uint8:
      raise errors.DataError(
        f'dtype: uint8 keeps raw pixels, but {images_name} holds float '
        f'features ({images.dtype}); pass dtype=float32, or uint8 images.',
      )
    # Derived from the floats on first use (see `pixels`).
    self._pixels = None
    self._images = np.ascontiguousarray(images.astype(np.float32, copy=False))

  def _make_fake_example(self):
    """Returns (image, label) of the fake data set, in this set's format.

    TF1's fake example: an all-white MNIST image labelled 0 (one-hot
    float64 like `dense_to_one_hot`, else uint8 like MNIST's files).
    """
    shape = (IMAGE_PIXELS,) if self._reshape else (IMAGE_SIZE, IMAGE_SIZE, 1)
    white = 1.0 if self._dtype == np.float32 else 255
    image = np.full(shape, white, dtype=self._dtype)
    if self._one_hot:
      label = np.zeros(NUM_CLASSES, dtype=np.float64)
      label[0] = 1.0
    else:
      label = np.zeros((), dtype=np.uint8)
    image.flags.writeable = False
    label.flags.writeable = False
    return image, label

  @property
  def images(self):
    """All examples in the order given: float32 or uint8 [N, features...].

    MNIST: [N, 784], or [N, 28, 28, 1] with reshape=False. Float32 images
    of uint8 pixels are scaled (x / 255) on first use and kept.
    """
    if self._images is None:
      scaled = np.divide(self._pixels, np.float32(255.0), dtype=np.float32)
      self._images = scaled.reshape(self._image_shape)
    return self._images

  @property
  def pixels(self):
    """All examples as raw uint8 pixels [N, prod(feature_shape)].

    Whatever `dtype` was asked for; float32 `images` are `pixels / 255`.
    Four times smaller than float32 images, for copies such as the
    graph-resident input pipeline's. A set built from float features has
    pixels only if every feature is exactly a byte / 255 (as the `images`
    of a float32 MNIST DataSet are).

    Raises:
      DataError: the features are floats that are not bytes / 255.
    """
    if self._pixels is None:
      self._pixels = self._pixels_from_floats()
    return self._pixels

  def _pixels_from_floats(self):
    flat = self._images.reshape(self._num_examples, -1)
    pixels = np.rint(np.clip(flat, 0.0, 1.0) * np.float32(255.0))
    pixels = pixels.astype(np.uint8)
    scaled = np.divide(pixels, np.float32(255.0), dtype=np.float32)
    if not np.array_equal(scaled, flat):
      raise errors.DataError(
        'pixels: this data set holds float features that are not raw '
        'bytes / 255, so it has no uint8 pixels (the resident input '
        'pipeline needs them); feed its `images` instead, or build it from '
        'uint8 images.'
      )
    return pixels

  @property
  def feature_shape(self):
    """Shape of one example in `images` (tuple), e.g. (784,) or (8, 8)."""
    return self._image_shape[1:]

  @property
  def permutation(self):
    """The current epoch's example order: read-only int64 [N] indices."""
    view = self._perm.view()
    view.flags.writeable = False
    return view

  def _check_batch_size(self, batch_size):
    if (
      not data_checks.is_int(batch_size)
      or not 1 <= batch_size <= self._num_examples
    ):
      raise errors.DataError(
        f'batch_size: expected an int in [1, {self._num_examples}] (the '
        f'data set has {self._num_examples} examples), found '
        f'{batch_size!r}.'
      )

  def next_batch(self, batch_size, fake_data=False, shuffle=True):
    """Returns the next `batch_size` examples.

    As in TF1: the order is shuffled at the start of every epoch, the first
    included (unless `shuffle` is false, which keeps the current order); a
    batch that crosses the end of an epoch is the old epoch's tail followed
    by the new epoch's head, and `epochs_completed` then increments.

    Args:
      batch_size: int in [1, num_examples].
      fake_data: return copies of the fake example instead (as does any
        call on a data set built with `fake_data=True`); the epoch does not
        advance.
      shuffle: whether to reshuffle at epoch starts.

    Returns:
      (images, labels): new arrays, images [batch_size, features...] of
      this set's dtype; labels [batch_size] or [batch_size, num_classes]
      of the labels' dtype.

    Raises:
      DataError: `batch_size` is not an int in [1, num_examples].
    """
    self._check_batch_size(batch_size)
    if fake_data or self._fake_data:
      images = np.repeat(self._fake_image[np.newaxis], batch_size, axis=0)
      labels = np.repeat(self._fake_label[np.newaxis], batch_size, axis=0)
      return images, labels
    indices = self._advance(batch_size, shuffle)
    return (
      np.take(self.images, indices, axis=0),
      np.take(self._labels, indices, axis=0),
    )

  def next_batch_indices(self, batch_size, shuffle=True):
    """Where the next `batch_size` examples are, advancing as `next_batch`.

    A call consumes the batch `next_batch` would have returned, so callers
    that gather many batches at once (the fed in-graph training loop)
    follow exactly the batch order of `next_batch` calls.

    Args:
      batch_size: int in [1, num_examples].
      shuffle: whether to reshuffle at epoch starts.

    Returns:
      int64 [batch_size] indices into `images`, `pixels` and `labels`
      (zeros for a fake data set, whose examples are all the same).

    Raises:
      DataError: `batch_size` is not an int in [1, num_examples].
    """
    self._check_batch_size(batch_size)
    if self._fake_data:
      return np.zeros(batch_size, np.int64)
    return self._advance(batch_size, shuffle)

  def _advance(self, batch_size, shuffle):
    """TF1's epoch rules: the next `batch_size` indices of the order."""
    start = self._index_in_epoch
    if self._epochs_completed == 0 and start == 0 and shuffle:
      self._perm = self._rng.permutation(self._num_examples)
    end = start + batch_size
    if end <= self._num_examples:
      indices = self._perm[start:end]
    else:
      self._epochs_completed += 1
      tail = self._perm[start:]
      if shuffle:
        self._perm = self._rng.permutation(self._num_examples)
      end = batch_size - tail.size
      indices = np.concatenate([tail, self._perm[:end]])
    self._index_in_epoch = end
    return indices


def _defaults():
  """DataSet's defaults for the `Options` fields, read off its signature."""
  parameters = inspect.signature(DataSet).parameters
  fields = dataclasses.fields(Options)
  return Options(**{f.name: parameters[f.name].default for f in fields})


# DataSet's (TF1's) defaults, the one source of the readers' defaults:
# `read_data_sets`, `from_arrays` and `read_npz` take theirs from here (the
# NumPy readers keep the feature shape: their `reshape` is False).
DEFAULTS = _defaults()
