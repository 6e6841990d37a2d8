"""What the layer functions of `tf.contrib.layers` share (private).

TF 1.15's default initializers, the data-format names, the trailing
arguments TF 1.15's layers share (`WEIGHTED`, `SCOPED`), argument checks
and the making of 'weights' / 'biases' model variables, used by `core`,
`convolutional`, `normalization` and `pooling`.
"""

import tensorflow.compat.v1 as tf

from graphnet.compat.v1 import _signatures
from graphnet.compat.v1.contrib import framework
from graphnet.compat.v1.contrib.layers import initializers
from graphnet.compat.v1.contrib.layers import utils

__all__ = [
  'NCHW',
  'NHWC',
  'SCOPED',
  'WEIGHTED',
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

# What every TF 1.15 layer owning variables takes after its own arguments:
# `reuse` (True shares the variables of `scope`), `variables_collections`
# (more collections for the variables: a list, or a dict by variable
# name), `outputs_collections` (collections for the output, aliased by
# the scope's name) and `trainable` (variables in TRAINABLE_VARIABLES).
SCOPED = _signatures.group(
  reuse=None,
  variables_collections=None,
  outputs_collections=None,
  trainable=True,
)
# The arguments `fully_connected` and the convolutions end with, as
# `fully_connected` documents them.
WEIGHTED = [
  *_signatures.group(
    activation_fn=tf.nn.relu,
    normalizer_fn=None,
    normalizer_params=None,
    weights_initializer=XAVIER,
    weights_regularizer=None,
    biases_initializer=ZEROS,
    biases_regularizer=None,
  ),
  *SCOPED,
  *_signatures.group(scope=None),
]


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


def weights_and_biases(weights_shape, num_outputs, dtype, arguments):
  """Makes 'weights' and, unless normalized, 'biases' in the current scope.

  Args:
    weights_shape: the shape of 'weights' (a list of ints).
    num_outputs: the size of 'biases'.
    dtype: the variables' dtype.
    arguments: the layer function's `WEIGHTED` arguments by name.

  Returns:
    (weights, biases); biases is None with a normalizer or a None
    `biases_initializer` (as TF 1.15: the normalizer replaces them).
  """
  collections = arguments['variables_collections']
  made = {}
  for name, shape in (('weights', weights_shape), ('biases', [num_outputs])):
    initializer = arguments[f'{name}_initializer']
    if name == 'biases' and (arguments['normalizer_fn'] or not initializer):
      made[name] = None
      continue
    made[name] = framework.model_variable(
      name,
      shape=shape,
      dtype=dtype,
      initializer=initializer,
      regularizer=arguments[f'{name}_regularizer'],
      trainable=arguments['trainable'],
    )
    utils.add_variable_to_collections(made[name], collections, name)
  return made['weights'], made['biases']


def finish(outputs, biases, arguments, scope_name, data_format=NHWC):
  """Adds `biases`, applies the normalizer and activation, collects.

  Args:
    outputs: the layer's product (convolution or matmul).
    biases: the 'biases' variable, or None.
    arguments: the layer function's `WEIGHTED` arguments by name.
    scope_name: the alias the output is collected under.
    data_format: 'NHWC' or 'NCHW', for the bias.

  Returns:
    the output tensor.
  """
  if biases is not None:
    outputs = tf.nn.bias_add(outputs, biases, data_format=data_format)
  if arguments['normalizer_fn'] is not None:
    outputs = arguments['normalizer_fn'](
      outputs, **(arguments['normalizer_params'] or {})
    )
  if arguments['activation_fn'] is not None:
    outputs = arguments['activation_fn'](outputs)
  return utils.collect_named_outputs(
    arguments['outputs_collections'], scope_name, outputs
  )
