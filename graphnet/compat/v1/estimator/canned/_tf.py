"""The `tensorflow.compat.v1` module for the premade estimators, no Keras."""

from graphnet import tf_loader

__all__ = ['v1']


def v1():
  """Returns `tensorflow.compat.v1`, TF imported without Keras."""
  return tf_loader.import_tensorflow().compat.v1
