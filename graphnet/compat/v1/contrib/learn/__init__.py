"""TF1's `tf.contrib.learn`: only `datasets.mnist` (graphnet's input_data).

Programs of 2017 read MNIST through it.

Example:
    mnist = tf.contrib.learn.datasets.mnist.read_data_sets('MNIST_data')
"""

from graphnet.compat.v1.contrib.learn import datasets

__all__ = ['datasets']
