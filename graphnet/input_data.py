"""MNIST as in-memory NumPy data sets: graphnet's `read_data_sets`.

The successor of TF1's `tensorflow.examples.tutorials.mnist.input_data`.
`read_data_sets(train_dir)` returns `Datasets(train, validation, test)` of
55000 / 5000 / 10000 examples; each `DataSet` hands out shuffled mini-batches
with `next_batch`, epoch by epoch, as TF1 did, but with its own random
generator: numpy's global random state is never touched.

The data comes from, in order: the four gzipped IDX files in `train_dir`
(used as given, so any data set in that format works); else, without a
`source_url`, the MNIST copy bundled in the package (checksum-verified and
copied into `train_dir`); else a download from `source_url` (verified too).

Example:
  data = input_data.read_data_sets('/tmp/mnist', seed=0)
  images, labels = data.train.next_batch(100)  # [100, 784] f32, [100] i32
  data.test.images.shape                        # (10000, 784)
"""

import collections
import importlib.resources
import numbers
import os
import shutil

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
  'TRAIN_IMAGES',
  'TRAIN_LABELS',
  'TEST_IMAGES',
  'TEST_LABELS',
  'MNIST_FILES',
  'MNIST_MD5',
  'DataSet',
  'Datasets',
  'read_data_sets',
]

# TF1's fake data sets each pretended to hold this many examples.
NUM_FAKE_EXAMPLES = 10000

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

_BUNDLED_DIR = ('data', 'mnist')
_SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.uint8))

Datasets = collections.namedtuple('Datasets', ['train', 'validation', 'test'])
Datasets.__doc__ = """The three MNIST splits, each a `DataSet`."""


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


class DataSet:
  """Images and labels in memory, handed out in shuffled mini-batches.

  `images` and `labels` are plain C-contiguous numpy arrays (the full data,
  in file order), ready to load into graph variables. Batches follow the
  current epoch's order, `permutation`, from position `index_in_epoch`.
  """

  def __init__(
    self,
    images,
    labels,
    *,
    dtype=np.float32,
    reshape=True,
    one_hot=False,
    seed=None,
    fake_data=False,
  ):
    """Builds a data set from raw MNIST arrays.

    Args:
      images: uint8 array [N, 28, 28, 1], [N, 28, 28] or [N, 784] of raw
        pixels 0..255. Ignored when `fake_data` is true.
      labels: integer array [N] with values 0..9. Ignored when `fake_data`.
      dtype: tf.float32 / np.float32 / 'float32' scales pixels to [0, 1]
        (x / 255); tf.uint8 / np.uint8 / 'uint8' keeps the raw bytes.
      reshape: if true `images` is [N, 784], else [N, 28, 28, 1].
      one_hot: if true `labels` is float32 [N, 10], else int32 [N] (int32,
        not TF1's uint8, so it feeds an int32 placeholder directly).
      seed: None (nondeterministic), a non-negative int or a numpy
        SeedSequence; the same seed gives the same batch sequence.
      fake_data: build TF1's fake data set instead: NUM_FAKE_EXAMPLES
        copies of an all-white image (1.0 in float32, 255 in uint8) with
        label 0; `images` and `labels` are read-only broadcast views.

    Raises:
      DataError: an argument has the wrong dtype, shape or values, or
        images and labels differ in number.
    """
    dtype = _as_dtype(dtype)
    _check_seed(seed)
    self._dtype = dtype
    self._reshape = bool(reshape)
    self._one_hot = bool(one_hot)
    self._fake_data = bool(fake_data)
    self._rng = np.random.default_rng(seed)
    self._fake_image, self._fake_label = self._make_fake_example()
    if self._fake_data:
      n = NUM_FAKE_EXAMPLES
      self._images = np.broadcast_to(
        self._fake_image, (n,) + self._fake_image.shape
      )
      self._pixels = np.broadcast_to(
        np.full(IMAGE_PIXELS, 255, np.uint8), (n, IMAGE_PIXELS)
      )
      self._labels = np.broadcast_to(
        self._fake_label, (n,) + self._fake_label.shape
      )
    else:
      self._images = self._convert_images(images)
      n = self._images.shape[0]
      # A view of the caller's bytes: what `images` was scaled from.
      self._pixels = np.asarray(images).reshape(n, IMAGE_PIXELS)
      self._labels = self._convert_labels(labels, n)
    self._num_examples = n
    self._epochs_completed = 0
    self._index_in_epoch = 0
    # Batches gather through this index instead of permuting the (up to
    # 172 MB) image array itself every epoch.
    self._perm = np.arange(n)

  def _make_fake_example(self):
    """Returns (image, label) of the fake data set, in this set's format."""
    shape = (IMAGE_PIXELS,) if self._reshape else (IMAGE_SIZE, IMAGE_SIZE, 1)
    white = 1.0 if self._dtype == np.float32 else 255
    image = np.full(shape, white, dtype=self._dtype)
    if self._one_hot:
      label = np.zeros(NUM_CLASSES, dtype=np.float32)
      label[0] = 1.0
    else:
      label = np.zeros((), dtype=np.int32)
    image.flags.writeable = False
    label.flags.writeable = False
    return image, label

  def _convert_images(self, images):
    images = np.asarray(images)
    if images.dtype != np.uint8:
      raise errors.DataError(
        f'images: expected raw uint8 pixels, found dtype {images.dtype}.'
      )
    accepted = (
      (IMAGE_SIZE, IMAGE_SIZE, 1),
      (IMAGE_SIZE, IMAGE_SIZE),
      (IMAGE_PIXELS,),
    )
    if images.ndim < 2 or images.shape[1:] not in accepted:
      raise errors.DataError(
        'images: expected shape [N, 28, 28, 1], [N, 28, 28] or [N, 784], '
        f'found {list(images.shape)}.'
      )
    n = images.shape[0]
    shape = (
      (n, IMAGE_PIXELS) if self._reshape else (n, IMAGE_SIZE, IMAGE_SIZE, 1)
    )
    images = images.reshape(shape)
    if self._dtype == np.float32:
      return np.divide(images, np.float32(255.0), dtype=np.float32)
    return np.ascontiguousarray(images)

  def _convert_labels(self, labels, num_images):
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
      raise errors.DataError(
        'labels: expected an integer vector [N], found dtype '
        f'{labels.dtype} shape {list(labels.shape)}.'
      )
    if labels.shape[0] != num_images:
      raise errors.DataError(
        f'labels: expected one label per image ({num_images}), found '
        f'{labels.shape[0]}.'
      )
    bad = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
    if bad.size:
      raise errors.DataError(
        f'labels: expected values in 0..{NUM_CLASSES - 1}, found '
        f'{labels[bad[0]]} at index {bad[0]}.'
      )
    if self._one_hot:
      return np.eye(NUM_CLASSES, dtype=np.float32)[labels]
    return labels.astype(np.int32)

  @property
  def images(self):
    """All images in file order: [N, 784] or [N, 28, 28, 1], float32/uint8."""
    return self._images

  @property
  def pixels(self):
    """All images as raw uint8 pixels [N, 784], in file order.

    Whatever `dtype` was asked for; float32 `images` are `pixels / 255`.
    Four times smaller than float32 images, for copies such as the
    graph-resident input pipeline's.
    """
    return self._pixels

  @property
  def labels(self):
    """All labels in file order: int32 [N], or float32 [N, 10] if one-hot."""
    return self._labels

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
      (images, labels): new arrays, images [batch_size, 784] or
      [batch_size, 28, 28, 1] of this set's dtype; labels int32
      [batch_size] or float32 [batch_size, 10].

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


def _copy_bundled(filename, train_dir):
  """Copies the bundled `filename` into `train_dir` after verifying it.

  The copy goes to a temporary file in `train_dir`, is checked there, and
  is renamed into place, so `train_dir` never holds a partial file, not
  even after SIGTERM.

  Raises:
    DataError: the bundled file is missing or `train_dir` is not writable.
    ChecksumError: the bundled file is not canonical MNIST.
  """
  source = importlib.resources.files('graphnet').joinpath(*_BUNDLED_DIR)
  source = source.joinpath(filename)
  destination = os.path.join(train_dir, filename)
  # partial_file removes the copy on any error or SIGTERM, and leftovers
  # of killed runs before it starts.
  with download.partial_file(train_dir, filename) as tmp:
    try:
      with open(tmp, 'wb') as out, source.open('rb') as src:
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


def _read_pair(images_path, labels_path):
  """Reads matching image and label files; raises if counts differ."""
  images = idx.read_idx_images(images_path, IMAGE_SIZE, IMAGE_SIZE)
  labels = idx.read_idx_labels(labels_path)
  if images.shape[0] != labels.shape[0]:
    raise errors.DataFormatError(
      f'{labels_path}: expected one label per image of {images_path} '
      f'({images.shape[0]} images), found {labels.shape[0]} labels.',
      path=labels_path,
    )
  return images, labels


def read_data_sets(
  train_dir,
  fake_data=False,
  one_hot=False,
  dtype=np.float32,
  reshape=True,
  validation_size=5000,
  seed=None,
  source_url=None,
  *,
  retries=3,
  backoff=1.0,
  timeout=30.0,
):
  """Loads MNIST (or any data set in its IDX files) as three DataSets.

  Files missing from `train_dir` are copied from the bundled MNIST (no
  `source_url`) or downloaded from `source_url`, verified against MNIST's
  checksums and renamed into place; files already there are used as they
  are. One log line reports a copy or download.

  Args:
    train_dir: directory holding (or to receive) the four IDX files;
      created if missing.
    fake_data: return TF1's fake data sets (no files are read or written).
    one_hot: labels as float32 [N, 10] instead of int32 [N].
    dtype: tf.float32 (pixels scaled to [0, 1]) or tf.uint8 (raw bytes);
      numpy dtypes and the strings 'float32' / 'uint8' work too.
    reshape: images as [N, 784] instead of [N, 28, 28, 1].
    validation_size: how many of the first training examples form the
      validation set; int in [0, number of training examples].
    seed: None (nondeterministic batches) or an int; train, validation and
      test get distinct seeds derived from it.
    source_url: URL prefix to download missing files from.
    retries: download retries after the first failure.
    backoff: seconds before the first download retry, doubled each time.
    timeout: socket timeout of each download attempt, in seconds.

  Returns:
    Datasets(train, validation, test); for MNIST 55000 / 5000 / 10000
    examples.

  Raises:
    DataError: a bad argument (dtype, validation_size, seed) or a
      `train_dir` that cannot be created or written.
    DataFormatError: a file is not a well-formed gzipped IDX file of 28x28
      images / labels 0..9, or image and label counts differ.
    ChecksumError: the bundled or downloaded data is not canonical MNIST.
    DownloadError: a missing file cannot be downloaded.
  """
  dtype = _as_dtype(dtype)
  _check_seed(seed)
  if not _is_int(validation_size) or validation_size < 0:
    raise errors.DataError(
      'validation_size: expected a non-negative int, found '
      f'{validation_size!r}.'
    )
  if fake_data:
    return _fake_datasets(dtype, reshape, one_hot)

  train_dir = os.fspath(train_dir)
  download.make_directory(train_dir)
  missing = [
    f for f in MNIST_FILES if not os.path.exists(os.path.join(train_dir, f))
  ]
  if missing and source_url is None:
    for filename in missing:
      _copy_bundled(filename, train_dir)
    logging.info(
      'Copied the bundled MNIST %s into %s (checksums verified).',
      ', '.join(missing),
      train_dir,
    )
  elif missing:
    for filename in missing:
      download.maybe_download(
        filename,
        train_dir,
        source_url,
        MNIST_MD5[filename],
        retries=retries,
        backoff=backoff,
        timeout=timeout,
      )

  paths = {f: os.path.join(train_dir, f) for f in MNIST_FILES}
  train_images, train_labels = _read_pair(
    paths[TRAIN_IMAGES], paths[TRAIN_LABELS]
  )
  test_images, test_labels = _read_pair(paths[TEST_IMAGES], paths[TEST_LABELS])
  if validation_size > train_images.shape[0]:
    raise errors.DataError(
      'validation_size: expected an int in [0, '
      f'{train_images.shape[0]}] (the number of training examples in '
      f'{paths[TRAIN_IMAGES]}), found {validation_size}.'
    )

  if seed is None:
    seeds = [None, None, None]
  else:
    seeds = np.random.SeedSequence(seed).spawn(3)
  options = dict(dtype=dtype, reshape=reshape, one_hot=one_hot)
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
