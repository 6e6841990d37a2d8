"""TF1's `tensorflow.examples.tutorials.mnist.input_data`, as a drop-in.

The names users type; `graphnet.data.mnist_reader` implements them.
"""

from graphnet.data import mnist_reader as _impl

# The MNIST file names, still found here by code written against earlier
# graphnet versions; their home is `graphnet.data.mnist_files`.
from graphnet.data.mnist_files import MNIST_FILES as MNIST_FILES
from graphnet.data.mnist_files import MNIST_MD5 as MNIST_MD5
from graphnet.data.mnist_files import TEST_IMAGES as TEST_IMAGES
from graphnet.data.mnist_files import TEST_LABELS as TEST_LABELS
from graphnet.data.mnist_files import TRAIN_IMAGES as TRAIN_IMAGES
from graphnet.data.mnist_files import TRAIN_LABELS as TRAIN_LABELS
from graphnet.data.mnist_reader import DEFAULT_SOURCE_URL as DEFAULT_SOURCE_URL
from graphnet.data.mnist_reader import IMAGE_PIXELS as IMAGE_PIXELS
from graphnet.data.mnist_reader import IMAGE_SIZE as IMAGE_SIZE
from graphnet.data.mnist_reader import NUM_CLASSES as NUM_CLASSES
from graphnet.data.mnist_reader import NUM_FAKE_EXAMPLES as NUM_FAKE_EXAMPLES
from graphnet.data.mnist_reader import DataSet as DataSet
from graphnet.data.mnist_reader import Datasets as Datasets
from graphnet.data.mnist_reader import check_batch_size as check_batch_size
from graphnet.data.mnist_reader import dense_to_one_hot as dense_to_one_hot
from graphnet.data.mnist_reader import extract_images as extract_images
from graphnet.data.mnist_reader import extract_labels as extract_labels
from graphnet.data.mnist_reader import from_arrays as from_arrays
from graphnet.data.mnist_reader import maybe_download as maybe_download
from graphnet.data.mnist_reader import read_bundled_ahead as read_bundled_ahead
from graphnet.data.mnist_reader import read_data_sets as read_data_sets
from graphnet.data.mnist_reader import read_npz as read_npz

__all__ = list(_impl.__all__)
