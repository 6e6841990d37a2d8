"""TF1's `tf.contrib.learn.datasets`: `mnist` and `load_dataset('mnist')`.

Example:
    data = load_dataset('mnist')  # MNIST under ./MNIST_data, one_hot=False.
"""

from graphnet import errors

# The module behind the `input_data` drop-in: the same names, from below.
from graphnet.data import mnist_reader as mnist

__all__ = ['load_dataset', 'mnist']


def load_dataset(name, size='small', test_with_fake_data=False):
  """TF1's `load_dataset`; graphnet has only 'mnist'.

  Raises:
    NotProvidedError: another data set is asked for.
  """
  del size  # TF 1.15 ignores it for MNIST too.
  if name != 'mnist':
    raise errors.NotProvidedError(
      f'tf.contrib.learn.datasets.load_dataset({name!r}) is not provided by '
      "graphnet: only 'mnist' is.",
      name='tf.contrib.learn.datasets.load_dataset',
    )
  return mnist.read_data_sets('MNIST_data', fake_data=test_with_fake_data)
