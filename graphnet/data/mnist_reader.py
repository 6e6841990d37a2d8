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
The container lives in `graphnet.dataset` and the NumPy sources in
`graphnet.arrays`; this module re-exports them under TF1's names.

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

import os

from graphnet import errors
from graphnet.contract import IMAGE_PIXELS
from graphnet.contract import IMAGE_SIZE
from graphnet.contract import NUM_CLASSES
from graphnet.data import builder
from graphnet.data import checks as data_checks
from graphnet.data import dataset
from graphnet.data import download
from graphnet.data import idx
from graphnet.data import mnist_files
from graphnet.data.arrays import from_arrays
from graphnet.data.arrays import read_npz
from graphnet.data.dataset import NUM_FAKE_EXAMPLES
from graphnet.data.dataset import DataSet
from graphnet.data.dataset import Datasets
from graphnet.data.dataset import check_batch_size
from graphnet.data.dataset import dense_to_one_hot
from graphnet.data.mnist_files import DEFAULT_SOURCE_URL
from graphnet.data.mnist_files import MNIST_FILES
from graphnet.data.mnist_files import MNIST_MD5
from graphnet.data.mnist_files import TEST_IMAGES
from graphnet.data.mnist_files import TEST_LABELS
from graphnet.data.mnist_files import TRAIN_IMAGES
from graphnet.data.mnist_files import TRAIN_LABELS
from graphnet.data.mnist_files import read_bundled_ahead

__all__ = [
  'IMAGE_SIZE',
  'IMAGE_PIXELS',
  'NUM_CLASSES',
  'NUM_FAKE_EXAMPLES',
  'DEFAULT_SOURCE_URL',
  'DataSet',
  'Datasets',
  'read_data_sets',
  'read_bundled_ahead',
  'from_arrays',
  'read_npz',
  'check_batch_size',
  'extract_images',
  'extract_labels',
  'dense_to_one_hot',
  'maybe_download',
]


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


def maybe_download(
  filename,
  work_directory,
  source_url,
  expected_md5=None,
  *,
  retries=download.DEFAULT_RETRIES,
  backoff=download.DEFAULT_BACKOFF,
  timeout=download.DEFAULT_TIMEOUT,
):
  """Returns the path of `filename` in `work_directory`, fetching it if missing.

  TF1's name and signature. An existing file is used as it is. A missing
  MNIST file from a URL that serves the canonical MNIST content (TF1's
  `DEFAULT_SOURCE_URL`, LeCun's site) is copied from the bundled copy,
  without the network, and one line printed to stderr says so. Otherwise
  it is downloaded and renamed into place only after its decompressed
  content matches `expected_md5` (MNIST's own for MNIST file names); TF1
  saved whatever came back.

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
    if mnist_files.is_mnist_mirror(prefix):
      mnist_files.copy_bundled(filename, work_directory)
      mnist_files.note(
        f'copied the bundled {filename} into {work_directory} (checksum '
        'verified).'
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
  if mnist_files.is_mnist_mirror(source_url):
    for filename in missing:
      mnist_files.copy_bundled(filename, train_dir)
    what = 'MNIST'
    if len(missing) < len(MNIST_FILES):
      what = f'MNIST {", ".join(missing)}'
    mnist_files.note(
      f'copied the bundled {what} into {train_dir} (checksums verified).'
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
  one_hot=dataset.DEFAULTS.one_hot,
  dtype=dataset.DEFAULTS.dtype,
  reshape=dataset.DEFAULTS.reshape,
  validation_size=data_checks.VALIDATION_SIZE,
  seed=dataset.DEFAULTS.seed,
  source_url=DEFAULT_SOURCE_URL,
  *,
  num_classes=dataset.DEFAULTS.num_classes,
  retries=download.DEFAULT_RETRIES,
  backoff=download.DEFAULT_BACKOFF,
  timeout=download.DEFAULT_TIMEOUT,
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
  as they are. A copy prints one line to stderr (`graphnet: note: copied
  the bundled MNIST into DIR (checksums verified).`); each download logs
  one.

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
      validation set; int in [0, number of training examples], or None for
      `min(5000, 10%)` of them (`data_checks.default_validation_size`).
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
  dtype = data_checks.as_dtype(dtype)
  data_checks.check_seed(seed)
  data_checks.check_num_classes(num_classes)
  if validation_size is not None:
    data_checks.check_validation_size(validation_size)
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
  splits = {
    'train': (train_images, train_labels),
    'validation': None,
    'test': (test_images, test_labels),
  }
  names = {
    'train': (paths[TRAIN_IMAGES], paths[TRAIN_LABELS]),
    'validation': (paths[TRAIN_IMAGES], paths[TRAIN_LABELS]),
    'test': (paths[TEST_IMAGES], paths[TEST_LABELS]),
  }
  options = dataset.Options(dtype, one_hot, seed, num_classes, reshape)
  return builder.build_datasets(splits, names, validation_size, options)
