"""The MNIST files: names, checksums, mirrors and the bundled copy.

graphnet ships the canonical MNIST in `graphnet/data/mnist/` (the package
data path). `copy_bundled` puts a verified copy into a directory;
`read_bundled_ahead` inflates the bundled files on a thread while
TensorFlow imports; `is_mnist_mirror` tells whether a URL prefix serves
exactly these files, so that nothing needs downloading.

Example:
    if mnist_files.is_mnist_mirror(source_url):
      mnist_files.copy_bundled(mnist_files.TRAIN_IMAGES, '/tmp/data')
"""

import importlib.resources
import os
import shutil
import sys

from graphnet import errors
from graphnet.data import download
from graphnet.data import idx

__all__ = [
  'DEFAULT_SOURCE_URL',
  'TRAIN_IMAGES',
  'TRAIN_LABELS',
  'TEST_IMAGES',
  'TEST_LABELS',
  'MNIST_FILES',
  'MNIST_MD5',
  'note',
  'is_mnist_mirror',
  'read_bundled_ahead',
  'copy_bundled',
]

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


def note(message):
  """Prints graphnet's one-line `graphnet: note: ...` to stderr.

  A plain line, as TF1 printed its `Extracting ...` lines, but apart from
  stdout's training output, like the other notes of graphnet's commands.
  """
  print(f'graphnet: note: {message}', file=sys.stderr, flush=True)


def is_mnist_mirror(prefix):
  """Whether `prefix` serves MNIST files of exactly MNIST_MD5's content."""
  return prefix.rstrip('/') + '/' in _MNIST_MIRRORS


def read_bundled_ahead():
  """Starts inflating the bundled MNIST on a thread; returns at once.

  `read_data_sets` then reuses it for every file holding exactly the
  bundled bytes (the copies it makes, the files TF1's mirrors serve). The
  command-line trainer calls this before it imports TensorFlow, whose
  import leaves a second core idle; call `read_ahead.clear()` to drop what
  was not used.

  Returns:
    the reading thread, or None when the package holds no MNIST files.
  """
  directory = importlib.resources.files('graphnet').joinpath(*_BUNDLED_DIR)
  magics = (idx.IMAGES_MAGIC, idx.LABELS_MAGIC) * 2
  return idx.read_ahead(
    [
      (os.path.join(str(directory), name), magic)
      for name, magic in zip(MNIST_FILES, magics, strict=True)
    ]
  )


def copy_bundled(filename, train_dir):
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
