"""TF1's `tf.contrib.learn`: only `datasets.mnist` (graphnet's input_data).

Programs of 2017 read MNIST through it.

Example:
    mnist = tf.contrib.learn.datasets.mnist.read_data_sets('MNIST_data')
"""

from graphnet import compat as _compat
from graphnet.compat.v1.contrib.learn import datasets

__all__ = ['datasets']


# Anything but `datasets`: NotProvidedError naming it.
__getattr__ = _compat.not_provided(
  'tf.contrib.learn',
  'is not provided by graphnet: only tf.contrib.learn.datasets.mnist is. '
  'Use tf.estimator (README, "Coming from tf.estimator") or graphnet.train '
  'instead.',
)
