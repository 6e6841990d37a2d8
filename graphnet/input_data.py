"""Data sets in memory, handed out in mini-batches: graphnet's `input_data`.

A drop-in successor of TF1's `tensorflow.examples.tutorials.mnist.input_data`
(same names, same positional signatures), for MNIST and for any other data:

* `read_data_sets(train_dir)` reads the four gzipped IDX files in
  `train_dir`, of any image size and class count (both read from the
  files); missing MNIST files come from the copy bundled in the package
  whenever `source_url` serves the same content (TF1's
  `DEFAULT_SOURCE_URL` does), else they are downloaded and verified.
* `from_arrays(train=(x, y), test=(x, y))` wraps NumPy arrays of any
  feature shape; `read_npz(path)` reads them from a `.npz` file.

Each returns `Datasets(train, validation, test)` of `DataSet`s, which hand
out shuffled mini-batches with `next_batch`, epoch by epoch, as TF1 did,
but with their own random generator: numpy's global random state is never
touched. uint8 images are scaled to [0, 1] float32 (x / 255) as in TF1;
float features are kept as given (TF1 divided them by 255 once more).

Example:
  data = input_data.read_data_sets('/tmp/mnist', seed=0)
  images, labels = data.train.next_batch(100)  # [100, 784] f32, [100] u8
  data.test.images.shape                        # (10000, 784)
  data.num_classes, data.feature_shape          # 10, (784,)
  digits = sklearn.datasets.load_digits()
  small = input_data.from_arrays(
      train=(digits.images[:1500], digits.target[:1500]),
      test=(digits.images[1500:], digits.target[1500:]))
  small.feature_shape                           # (8, 8)
"""

import collections
import importlib.resources
import math
import numbers
import os
import shutil
import zipfile

import numpy as np
from absl import logging

from graphnet import download
from graphnet import errors
from graphnet import idx
from graphnet.contract import IMAGE_PIXELS
from graphnet.contract import IMAGE_SIZE
from graphnet.contract import NUM_CLASSES

__all__ = [
  'IMAGE_SIZE',
  'IMAGE_PIXELS',
  'NUM_CLASSES',
  'NUM_FAKE_EXAMPLES',
  'DEFAULT_SOURCE_URL',
  'TRAIN_IMAGES',
  'TRAIN_LABELS',
  'TEST_IMAGES',
  'TEST_LABELS',
  'MNIST_FILES',
  'MNIST_MD5',
  'DataSet',
  'Datasets',
  'read_data_sets',
  'from_arrays',
  'read_npz',
  'check_batch_size',
  'extract_images',
  'extract_labels',
  'dense_to_one_hot',
  'maybe_download',
]

# TF1's fake data sets each pretended to hold this many examples.
NUM_FAKE_EXAMPLES = 10000

# TF1's default, still passed by old code; its files are the bundled ones.
DEFAULT_SOURCE_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/'

TRAIN_IMAGES = 'train-images-idx3-ubyte.gz'
TRAIN_LABELS = 'train-labels-idx1-ubyte.gz'
TEST_IMAGES = 't10k-images-idx3-ubyte.gz'
TEST_LABELS = 't10k-labels-idx1-ubyte.gz'
MNIST_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

# MD5 of each file's decompressed content (graphnet/data/mnist/README.md).
# The decompressed bytes are what every MNIST mirror agrees on; the .gz
# bytes differ between mirrors and the bundled copy.
MNIST_MD5 = {
  TRAIN_IMAGES: '6bbc9ace898e44ae57da46a324031adb',
  TRAIN_LABELS: 'a25bea736e30d166cdddb491f175f624',
  TEST_IMAGES: '2646ac647ad5339dbf082846283269ea',
  TEST_LABELS: '27ae3e4e09519cfbb04c329615203637',
}

# URL prefixes whose MNIST files decompress to exactly MNIST_MD5's content,
# so the bundled copy (verified against MNIST_MD5) is what they would give.
_MNIST_MIRRORS = (
  DEFAULT_SOURCE_URL,
  'http://yann.lecun.com/exdb/mnist/',
  'https://yann.lecun.com/exdb/mnist/',
)

_BUNDLED_DIR = ('data', 'mnist')
_SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.uint8))
_NPZ_KEYS = ('x_train', 'y_train', 'x_test', 'y_test')
_NPZ_VALIDATION_KEYS = ('x_val', 'y_val')


class Datasets(
  collections.namedtuple('Datasets', ['train', 'validation', 'test'])
):
  """The three splits, each a `DataSet`; unpacks as (train, validation, test).

  `feature_shape` and `num_classes` are the training split's, which every
  split shares.
  """

  __slots__ = ()

  @property
  def feature_shape(self):
    """Shape of one example's features (tuple), e.g. (784,) or (8, 8)."""
    return self.train.feature_shape

  @property
  def num_classes(self):
    """Number of classes (int); labels are 0..num_classes-1."""
    return self.train.num_classes


# How a DataSet's messages name its arrays (and the file they came from).
_Names = collections.namedtuple('_Names', ['images', 'labels', 'path'])
_DEFAULT_NAMES = _Names('images', 'labels', None)


def _as_dtype(dtype):
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


def _is_int(value):
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_seed(seed):
  """Raises DataError unless `seed` is None, an int >= 0 or a SeedSequence."""
  if seed is None or isinstance(seed, np.random.SeedSequence):
    return
  if not _is_int(seed) or seed < 0:
    raise errors.DataError(
      'seed: expected None, a non-negative int or a numpy SeedSequence, '
      f'found {seed!r}.'
    )


def _check_num_classes(num_classes):
  """Raises DataError unless `num_classes` is None or an int >= 1."""
  if num_classes is not None and (not _is_int(num_classes) or num_classes < 1):
    raise errors.DataError(
      f'num_classes: expected None (read from the labels) or an int >= 1, '
      f'found {num_classes!r}.'
    )


def _data_error(names, message):
  return errors.DataError(message, path=names.path)


def _check_images(images, name, names):
  """Returns `images` as an array after checking dtype, rank and values.

  Raises:
    DataError: not uint8 or float, fewer than 2 dimensions, or a float
      feature that is NaN or infinite.
  """
  images = np.asarray(images)
  if images.dtype != np.uint8 and images.dtype.kind != 'f':
    raise _data_error(
      names,
      f'{name}: expected uint8 pixels (scaled to [0, 1]) or float '
      f'features (kept as given), found dtype {images.dtype}; convert '
      'with .astype(np.uint8) or .astype(np.float32).',
    )
  if images.ndim < 2:
    raise _data_error(
      names,
      f'{name}: expected one example per row, shape [N, features...], '
      f'found shape {list(images.shape)}.',
    )
  if images.dtype.kind == 'f':
    finite = np.isfinite(images)
    if not finite.all():
      where = np.unravel_index(np.argmin(finite), images.shape)
      raise _data_error(
        names,
        f'{name}: features must be finite; found {images[where]} in '
        f'example {where[0]} (at {list(where)}); remove or impute it.',
      )
  return images


def _check_labels(labels, num_examples, num_classes, name, names):
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
    raise _data_error(
      names,
      f'{name}: expected one label per example ({num_examples} examples in '
      f'{names.images}), found {found}.',
    )
  if labels.ndim == 2 and labels.dtype.kind in 'uif':
    return _check_one_hot(labels, num_classes, name, names)
  if labels.ndim != 1 or labels.dtype.kind not in 'ui':
    raise _data_error(
      names,
      f'{name}: expected integer class ids [N] or one-hot rows '
      f'[N, classes], found dtype {labels.dtype} shape '
      f'{list(labels.shape)}.',
    )
  if labels.dtype.kind == 'i':
    bad = np.flatnonzero(labels < 0)
    if bad.size:
      raise _data_error(
        names,
        f'{name}: class ids must be >= 0; found {labels[bad[0]]} at index '
        f'{bad[0]} ({bad.size} negative labels).',
      )
  if num_classes is None:
    num_classes = int(labels.max()) + 1 if labels.size else 0
  bad = np.flatnonzero(labels >= num_classes)
  if bad.size:
    raise _data_error(
      names,
      f'{name}: expected class ids in 0..{num_classes - 1} '
      f'(num_classes={num_classes}), found {labels[bad[0]]} at index '
      f'{bad[0]} ({bad.size} labels out of range).',
    )
  return np.ascontiguousarray(labels), num_classes


def _check_one_hot(labels, num_classes, name, names):
  """_check_labels for one-hot labels [N, C]."""
  if num_classes is not None and labels.shape[1] != num_classes:
    raise _data_error(
      names,
      f'{name}: expected one-hot rows of num_classes={num_classes} '
      f'columns, found {labels.shape[1]}.',
    )
  if labels.dtype.kind == 'f' and not np.isfinite(labels).all():
    raise _data_error(
      names, f'{name}: one-hot labels must be finite; found NaN or Inf.'
    )
  return np.ascontiguousarray(labels), labels.shape[1]


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
  _check_num_classes(num_classes)
  if num_classes is None:
    raise errors.DataError('num_classes: expected an int >= 1, found None.')
  labels = np.asarray(labels_dense)
  n = labels.shape[0] if labels.ndim else 0
  labels, _ = _check_labels(
    labels, n, num_classes, 'labels_dense', _Names('labels_dense', '', None)
  )
  if labels.ndim != 1:
    raise errors.DataError(
      f'labels_dense: expected integer class ids [N], found shape '
      f'{list(labels.shape)}.'
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
  ):
    """Builds a data set; TF1's positional signature, plus `num_classes`.

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

    Raises:
      DataError: an argument has the wrong dtype, shape or values (NaN or
        infinite features, negative or out-of-range labels), or images and
        labels differ in number.
    """
    self._build(
      images,
      labels,
      fake_data,
      one_hot,
      dtype,
      reshape,
      seed,
      num_classes,
      _DEFAULT_NAMES,
    )

  def _build(
    self,
    images,
    labels,
    fake_data,
    one_hot,
    dtype,
    reshape,
    seed,
    num_classes,
    names,
  ):
    """__init__'s work; `names` says how messages name the arrays."""
    self._dtype = _as_dtype(dtype)
    _check_seed(seed)
    _check_num_classes(num_classes)
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
    self._num_examples = n

  def _build_real(self, images, labels, num_classes, names):
    images = _check_images(images, names.images, names)
    n = images.shape[0]
    labels, self._num_classes = _check_labels(
      labels, n, num_classes, names.labels, names
    )
    if self._one_hot and labels.ndim == 1:
      labels = dense_to_one_hot(labels, self._num_classes)
    self._labels = labels
    width = math.prod(images.shape[1:])
    if self._reshape:
      images = images.reshape(n, width)
    if images.dtype == np.uint8:
      # A view of the caller's bytes: what `images` is scaled from.
      self._pixels = images.reshape(n, width)
      if self._dtype == np.float32:
        images = np.divide(images, np.float32(255.0), dtype=np.float32)
    elif self._dtype == np.uint8:
      raise _data_error(
        names,
        f'dtype: uint8 keeps raw pixels, but {names.images} holds float '
        f'features ({images.dtype}); pass dtype=float32, or uint8 images.',
      )
    else:
      # Derived from the floats on first use (see `pixels`).
      self._pixels = None
      images = images.astype(np.float32, copy=False)
    self._images = np.ascontiguousarray(images)
    self._num_examples = n
    self._fake_image, self._fake_label = self._make_fake_example()

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

    MNIST: [N, 784], or [N, 28, 28, 1] with reshape=False.
    """
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
  def labels(self):
    """All labels in the order given: integer [N] or one-hot [N, C]."""
    return self._labels

  @property
  def feature_shape(self):
    """Shape of one example in `images` (tuple), e.g. (784,) or (8, 8)."""
    return self._images.shape[1:]

  @property
  def num_classes(self):
    """Number of classes (int): labels are in 0..num_classes-1."""
    return self._num_classes

  @property
  def num_examples(self):
    """Number of examples (int)."""
    return self._num_examples

  @property
  def epochs_completed(self):
    """Epochs finished by `next_batch` (int)."""
    return self._epochs_completed

  @property
  def index_in_epoch(self):
    """Position in `permutation` where the next batch starts (int)."""
    return self._index_in_epoch

  @property
  def permutation(self):
    """The current epoch's example order: read-only int64 [N] indices."""
    view = self._perm.view()
    view.flags.writeable = False
    return view

  def _check_batch_size(self, batch_size):
    if not _is_int(batch_size) or not 1 <= batch_size <= self._num_examples:
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
    return (
      np.take(self._images, indices, axis=0),
      np.take(self._labels, indices, axis=0),
    )


def _make_data_set(images, labels, names, **options):
  """A DataSet whose messages name its arrays by `names`."""
  data_set = DataSet.__new__(DataSet)
  data_set._build(images, labels, fake_data=False, names=names, **options)
  return data_set


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
  if not _is_int(batch_size) or batch_size < 1:
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


def extract_images(f):
  """Reads a gzipped IDX image file from an open file object (TF1's name).

  Args:
    f: a binary file object holding a gzipped IDX3 file, of any image size.

  Returns:
    uint8 array [N, rows, cols, 1] of raw pixels (read-only, as in TF1).

  Raises:
    DataFormatError: not a well-formed gzipped IDX image file (a
      ValueError, as TF1 raised for a bad magic number).
  """
  return idx.read_idx_images(f)


def extract_labels(f, one_hot=False, num_classes=NUM_CLASSES):
  """Reads a gzipped IDX label file from an open file object (TF1's name).

  Args:
    f: a binary file object holding a gzipped IDX1 file.
    one_hot: return float64 one-hot rows instead of class ids.
    num_classes: labels must be below it (TF1 did not check).

  Returns:
    uint8 array [N], or float64 [N, num_classes] if `one_hot`.

  Raises:
    DataFormatError: not a well-formed gzipped IDX label file, or a label
      >= `num_classes`.
  """
  labels = idx.read_idx_labels(f, num_classes)
  if one_hot:
    return dense_to_one_hot(labels, num_classes)
  return labels


def _is_mnist_mirror(prefix):
  """Whether `prefix` serves MNIST files of exactly MNIST_MD5's content."""
  return prefix.rstrip('/') + '/' in _MNIST_MIRRORS


def maybe_download(
  filename,
  work_directory,
  source_url,
  expected_md5=None,
  *,
  retries=3,
  backoff=1.0,
  timeout=30.0,
):
  """Returns the path of `filename` in `work_directory`, fetching it if missing.

  TF1's name and signature. An existing file is used as it is. A missing
  MNIST file from a URL that serves the canonical MNIST content (TF1's
  `DEFAULT_SOURCE_URL`, LeCun's site) is copied from the bundled copy,
  without the network. Otherwise it is downloaded and renamed into place
  only after its decompressed content matches `expected_md5` (MNIST's own
  for MNIST file names); TF1 saved whatever came back.

  Args:
    filename: the file name in `work_directory`.
    work_directory: destination directory; created if missing.
    source_url: the file's URL (TF1: `source_url + filename`), or a URL
      prefix ending in '/' to which `filename` is appended.
    expected_md5: lowercase hex MD5 of the gzip-decompressed content; None
      means MNIST's for MNIST file names.
    retries: download retries after the first failure.
    backoff: seconds before the first retry, doubled each time.
    timeout: socket timeout of each attempt, in seconds.

  Returns:
    The path of the file (str).

  Raises:
    DataError: `work_directory` cannot be created or written, or no
      checksum is known for the file.
    ChecksumError: the file's content is not the expected one.
    DownloadError: the file cannot be downloaded.
  """
  work_directory = os.fspath(work_directory)
  path = os.path.join(work_directory, filename)
  if os.path.exists(path):
    return path
  prefix = source_url
  if source_url.endswith(filename):
    prefix = source_url[: -len(filename)]
  expected_md5 = expected_md5 or MNIST_MD5.get(filename)
  download.make_directory(work_directory)
  if filename in MNIST_MD5 and expected_md5 == MNIST_MD5[filename]:
    if _is_mnist_mirror(prefix):
      _copy_bundled(filename, work_directory)
      logging.info(
        'Copied the bundled %s into %s (the content %s serves; checksum '
        'verified).',
        filename,
        work_directory,
        prefix,
      )
      return path
  if expected_md5 is None:
    raise errors.DataError(
      f'{path}: no checksum is known for {prefix + filename}; pass '
      'expected_md5 (the MD5 of its decompressed content) or put the file '
      'there yourself.',
      path=path,
    )
  return download.maybe_download(
    filename,
    work_directory,
    prefix,
    expected_md5,
    retries=retries,
    backoff=backoff,
    timeout=timeout,
  )


def _copy_bundled(filename, train_dir):
  """Copies the bundled `filename` into `train_dir` after verifying it.

  The copy goes to a temporary file in `train_dir`, is checked there, and
  is renamed into place, so `train_dir` never holds a partial file.

  Raises:
    DataError: the bundled file is missing or `train_dir` is not writable.
    ChecksumError: the bundled file is not canonical MNIST.
  """
  source = importlib.resources.files('graphnet').joinpath(*_BUNDLED_DIR)
  source = source.joinpath(filename)
  destination = os.path.join(train_dir, filename)
  try:
    fd, tmp = idx.create_temp_file(train_dir, filename)
  except OSError as e:
    raise errors.DataError(
      f'{train_dir}: cannot write {filename} there ({e.strerror or e}); '
      'choose a writable train_dir.',
      path=train_dir,
    ) from None
  try:
    try:
      with os.fdopen(fd, 'wb') as out, source.open('rb') as src:
        shutil.copyfileobj(src, out)
    except FileNotFoundError:
      raise errors.DataError(
        f'{source}: the bundled MNIST file is missing from the package; '
        'reinstall graphnet or pass source_url.',
        path=str(source),
      ) from None
    except OSError as e:
      raise errors.DataError(
        f'{destination}: cannot copy the bundled MNIST file there '
        f'({e.strerror or e}).',
        path=destination,
      ) from None
    found = idx.md5_of_decompressed(tmp)
    if found != MNIST_MD5[filename]:
      raise errors.ChecksumError(
        f'{source}: the bundled MNIST file is damaged: expected '
        f'decompressed MD5 {MNIST_MD5[filename]}, found {found}; '
        'reinstall graphnet.',
        path=str(source),
      )
    os.replace(tmp, destination)
  except BaseException:
    try:
      os.remove(tmp)
    except OSError:
      pass
    raise


def _fake_datasets(dtype, reshape, one_hot):
  def fake():
    return DataSet(
      None,
      None,
      dtype=dtype,
      reshape=reshape,
      one_hot=one_hot,
      fake_data=True,
    )

  return Datasets(train=fake(), validation=fake(), test=fake())


def _split_seeds(seed):
  """Distinct seeds for train, validation and test, derived from `seed`."""
  if seed is None:
    return [None, None, None]
  return np.random.SeedSequence(seed).spawn(3)


def _read_pair(images_path, labels_path, num_classes):
  """Reads matching image and label files; raises if counts differ."""
  images = idx.read_idx_images(images_path)
  labels = idx.read_idx_labels(labels_path, num_classes)
  if images.shape[0] != labels.shape[0]:
    raise errors.DataFormatError(
      f'{labels_path}: expected one label per image of {images_path} '
      f'({images.shape[0]} images), found {labels.shape[0]} labels.',
      path=labels_path,
    )
  return images, labels


def _fetch_missing(train_dir, source_url, download_options):
  """Copies or downloads the MNIST files missing from `train_dir`."""
  missing = [
    f for f in MNIST_FILES if not os.path.exists(os.path.join(train_dir, f))
  ]
  if not missing:
    return
  if _is_mnist_mirror(source_url):
    for filename in missing:
      _copy_bundled(filename, train_dir)
    logging.info(
      'Copied the bundled MNIST %s into %s (the content %s serves; '
      'checksums verified).',
      ', '.join(missing),
      train_dir,
      source_url,
    )
    return
  for filename in missing:
    download.maybe_download(
      filename,
      train_dir,
      source_url,
      MNIST_MD5[filename],
      **download_options,
    )


def read_data_sets(
  train_dir,
  fake_data=False,
  one_hot=False,
  dtype=np.float32,
  reshape=True,
  validation_size=5000,
  seed=None,
  source_url=DEFAULT_SOURCE_URL,
  *,
  num_classes=None,
  retries=3,
  backoff=1.0,
  timeout=30.0,
):
  """Loads the IDX data set in `train_dir` (MNIST by default) as three DataSets.

  TF1's positional signature. `train_dir` may hold any data set in MNIST's
  four file names (`MNIST_FILES`): the image size and the class count are
  read from the files. Files missing from `train_dir` are copied from the
  bundled MNIST when `source_url` serves the same content (TF1's default
  `DEFAULT_SOURCE_URL` and LeCun's site do; None and '' mean the default
  too, as in TF1), so no network is used; from any other `source_url`
  they are downloaded. Either way they are verified against MNIST's
  checksums before being renamed into place. Files already there are used
  as they are. One log line reports a copy, one per download.

  Args:
    train_dir: directory holding (or to receive) the four IDX files;
      created if missing.
    fake_data: return TF1's fake data sets (no files are read or written).
    one_hot: labels as float64 [N, num_classes] instead of uint8 [N].
    dtype: tf.float32 (pixels scaled to [0, 1]) or tf.uint8 (raw bytes);
      numpy dtypes and the strings 'float32' / 'uint8' work too.
    reshape: images as [N, rows * cols] (MNIST: 784) instead of
      [N, rows, cols, 1].
    validation_size: how many of the first training examples form the
      validation set; int in [0, number of training examples].
    seed: None (nondeterministic batches) or an int; train, validation and
      test get distinct seeds derived from it.
    source_url: URL prefix of missing files.
    num_classes: the class count; None reads it from the labels (the
      largest label + 1 over training and test labels). Given, every label
      must be below it.
    retries: download retries after the first failure.
    backoff: seconds before the first download retry, doubled each time.
    timeout: socket timeout of each download attempt, in seconds.

  Returns:
    Datasets(train, validation, test); for MNIST 55000 / 5000 / 10000
    examples, feature_shape (784,), num_classes 10.

  Raises:
    DataError: a bad argument (dtype, validation_size, seed, num_classes)
      or a `train_dir` that cannot be created or written.
    DataFormatError: a file is not a well-formed gzipped IDX file, image
      and label counts differ, training and test images differ in size, or
      a label is >= the given `num_classes`.
    ChecksumError: the bundled or downloaded data is not canonical MNIST.
    DownloadError: a missing file cannot be downloaded.
  """
  dtype = _as_dtype(dtype)
  _check_seed(seed)
  _check_num_classes(num_classes)
  if not _is_int(validation_size) or validation_size < 0:
    raise errors.DataError(
      'validation_size: expected a non-negative int, found '
      f'{validation_size!r}.'
    )
  if fake_data:
    return _fake_datasets(dtype, reshape, one_hot)

  train_dir = os.fspath(train_dir)
  download.make_directory(train_dir)
  _fetch_missing(
    train_dir,
    source_url or DEFAULT_SOURCE_URL,
    dict(retries=retries, backoff=backoff, timeout=timeout),
  )
  paths = {f: os.path.join(train_dir, f) for f in MNIST_FILES}
  train_images, train_labels = _read_pair(
    paths[TRAIN_IMAGES], paths[TRAIN_LABELS], num_classes
  )
  test_images, test_labels = _read_pair(
    paths[TEST_IMAGES], paths[TEST_LABELS], num_classes
  )
  if test_images.shape[1:] != train_images.shape[1:]:
    rows, cols = train_images.shape[1:3]
    raise errors.DataFormatError(
      f'{paths[TEST_IMAGES]}: expected {rows}x{cols} images like '
      f'{paths[TRAIN_IMAGES]}, found '
      f'{test_images.shape[1]}x{test_images.shape[2]}; put the matching '
      'test files in the directory.',
      path=paths[TEST_IMAGES],
    )
  if validation_size > train_images.shape[0]:
    raise errors.DataError(
      'validation_size: expected an int in [0, '
      f'{train_images.shape[0]}] (the number of training examples in '
      f'{paths[TRAIN_IMAGES]}), found {validation_size}.'
    )
  if num_classes is None:
    largest = max(train_labels.max(initial=0), test_labels.max(initial=0))
    num_classes = int(largest) + 1

  seeds = _split_seeds(seed)
  options = dict(
    dtype=dtype, reshape=reshape, one_hot=one_hot, num_classes=num_classes
  )
  train = DataSet(
    train_images[validation_size:],
    train_labels[validation_size:],
    seed=seeds[0],
    **options,
  )
  validation = DataSet(
    train_images[:validation_size],
    train_labels[:validation_size],
    seed=seeds[1],
    **options,
  )
  test = DataSet(test_images, test_labels, seed=seeds[2], **options)
  return Datasets(train=train, validation=validation, test=test)


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


def _as_pair(pair, split, names):
  """Returns (images, labels) as arrays, or raises naming the split."""
  if not isinstance(pair, (tuple, list)) or len(pair) != 2:
    raise _data_error(
      names,
      f'{split}: expected a pair (images, labels), found '
      f'{type(pair).__name__}.',
    )
  return np.asarray(pair[0]), np.asarray(pair[1])


def _build_datasets(splits, names, validation_size, options):
  """Datasets from `splits` {'train'|'validation'|'test': (x, y) or None}.

  `names[split]` is the `_Names` its messages use. The validation split,
  when None, is the first `validation_size` training examples.
  """
  _as_dtype(options['dtype'])
  _check_seed(options['seed'])
  _check_num_classes(options['num_classes'])
  if not _is_int(validation_size) or validation_size < 0:
    raise errors.DataError(
      'validation_size: expected a non-negative int, found '
      f'{validation_size!r}.'
    )
  pairs = {
    split: _as_pair(pair, split, names[split])
    for split, pair in splits.items()
    if pair is not None
  }
  train_x, train_y = pairs['train']
  if 'validation' in pairs and validation_size:
    raise errors.DataError(
      f'validation_size: {validation_size} asks to split the validation '
      'set off the training set, but a validation set was given too; pass '
      'one of them.'
    )
  if 'validation' not in pairs:
    count = train_x.shape[0] if train_x.ndim else 0
    if validation_size > count:
      raise errors.DataError(
        f'validation_size: expected an int in [0, {count}] (the number of '
        f'examples in {names["train"].images}), found {validation_size}.'
      )
    pairs['validation'] = (train_x[:validation_size], train_y[:validation_size])
    pairs['train'] = (train_x[validation_size:], train_y[validation_size:])
    names = dict(names, validation=names['train'])
  if options['num_classes'] is None:
    num_classes = _infer_num_classes(y for _, y in pairs.values())
    options = dict(options, num_classes=num_classes)
  seeds = _split_seeds(options['seed'])
  built = {}
  for split, seed in zip(('train', 'validation', 'test'), seeds, strict=True):
    x, y = pairs[split]
    built[split] = _make_data_set(
      x, y, names[split], **dict(options, seed=seed)
    )
  expected = built['train'].feature_shape
  for split in ('validation', 'test'):
    found = built[split].feature_shape
    if found != expected and built[split].num_examples:
      raise _data_error(
        names[split],
        f'{names[split].images}: expected examples of shape '
        f'{list(expected)} like {names["train"].images}, found '
        f'{list(found)}.',
      )
  return Datasets(**built)


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
  names = {
    split: _Names(f'{split} images', f'{split} labels', None)
    for split in splits
  }
  options = dict(
    dtype=dtype,
    one_hot=one_hot,
    seed=seed,
    num_classes=num_classes,
    reshape=reshape,
  )
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
      when the file has no x_val / y_val.
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
    split: _Names(f'{path}: x_{key}', f'{path}: y_{key}', path)
    for split, key in splits.items()
  }
  options = dict(
    dtype=dtype,
    one_hot=one_hot,
    seed=seed,
    num_classes=num_classes,
    reshape=reshape,
  )
  return _build_datasets(pairs, names, validation_size, options)
