"""What the layer functions of `tf.contrib.layers` share (private).

TF 1.15's default initializers, the data-format names, argument checks and
the making of 'weights' / 'biases' model variables, used by `core`,
`convolutional` and `pooling`.
"""

import tensorflow.compat.v1 as tf

from graphnet.compat.v1.contrib import framework
from graphnet.compat.v1.contrib.layers import initializers
from graphnet.compat.v1.contrib.layers import utils

__all__ = [
  'NCHW',
  'NHWC',
  'XAVIER',
  'ZEROS',
  'channels',
  'finish',
  'int_list',
  'weights_and_biases',
]

NHWC = 'NHWC'
NCHW = 'NCHW'
# TF 1.15's default initializers (one instance each, as its defaults).
XAVIER = initializers.xavier_initializer()
ZEROS = tf.zeros_initializer()


def int_list(value, rank, name):
  """`value` (an int or a sequence of `rank` ints) as a list of `rank`."""
  if isinstance(value, int):
    return [value] * rank
  try:
    values = [int(v) for v in value]
  except (TypeError, ValueError):
    values = None
  if values is None or len(values) != rank:
    raise ValueError(f'{name} must be an int or {rank} ints, got {value!r}.')
  return values


def channels(inputs, channels_first, what):
  """The static channel count of `inputs` (an int)."""
  dim = tf.dimension_value(inputs.shape[1 if channels_first else -1])
  if dim is None:
    raise ValueError(
      f'{what}: the channel dimension of {inputs.name} must be known, got '
      f'shape {inputs.shape}.'
    )
  return dim


def weights_and_biases(
  weights_shape,
  num_outputs,
  dtype,
  normalizer_fn,
  weights_initializer,
  weights_regularizer,
  biases_initializer,
  biases_regularizer,
  variables_collections,
  trainable,
):
  """Makes 'weights' and, unless normalized, 'biases' in the current scope."""
  weights = framework.model_variable(
    'weights',
    shape=weights_shape,
    dtype=dtype,
    initializer=weights_initializer,
    regularizer=weights_regularizer,
    trainable=trainable,
  )
  utils.add_variable_to_collections(weights, variables_collections, 'weights')
  biases = None
  # As TF 1.15: a normalizer replaces the biases, and so does a None
  # biases_initializer.
  if not normalizer_fn and biases_initializer:
    biases = framework.model_variable(
      'biases',
      shape=[num_outputs],
      dtype=dtype,
      initializer=biases_initializer,
      regularizer=biases_regularizer,
      trainable=trainable,
    )
    utils.add_variable_to_collections(biases, variables_collections, 'biases')
  return weights, biases


def finish(outputs, normalizer_fn, normalizer_params, activation_fn):
  """Applies the normalizer, then the activation."""
  if normalizer_fn is not None:
    outputs = normalizer_fn(outputs, **(normalizer_params or {}))
  if activation_fn is not None:
    outputs = activation_fn(outputs)
  return outputs
