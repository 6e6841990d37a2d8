"""TF1's `tensorflow.examples.tutorials.mnist.input_data`, as a drop-in.

Implemented in `graphnet.data.mnist_reader`; this module keeps the name
users type.
"""

from graphnet.data.mnist_reader import DEFAULT_SOURCE_URL
from graphnet.data.mnist_reader import IMAGE_PIXELS
from graphnet.data.mnist_reader import IMAGE_SIZE
from graphnet.data.mnist_reader import MNIST_FILES
from graphnet.data.mnist_reader import MNIST_MD5
from graphnet.data.mnist_reader import NUM_CLASSES
from graphnet.data.mnist_reader import NUM_FAKE_EXAMPLES
from graphnet.data.mnist_reader import TEST_IMAGES
from graphnet.data.mnist_reader import TEST_LABELS
from graphnet.data.mnist_reader import TRAIN_IMAGES
from graphnet.data.mnist_reader import TRAIN_LABELS
from graphnet.data.mnist_reader import DataSet
from graphnet.data.mnist_reader import Datasets
from graphnet.data.mnist_reader import check_batch_size
from graphnet.data.mnist_reader import dense_to_one_hot
from graphnet.data.mnist_reader import extract_images
from graphnet.data.mnist_reader import extract_labels
from graphnet.data.mnist_reader import from_arrays
from graphnet.data.mnist_reader import maybe_download
from graphnet.data.mnist_reader import read_bundled_ahead
from graphnet.data.mnist_reader import read_data_sets
from graphnet.data.mnist_reader import read_npz

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
  'read_bundled_ahead',
  'from_arrays',
  'read_npz',
  'check_batch_size',
  'extract_images',
  'extract_labels',
  'dense_to_one_hot',
  'maybe_download',
]
