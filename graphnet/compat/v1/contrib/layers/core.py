"""The dense and shape layer functions of `tf.contrib.layers` of TF 1.15.

Built on `tf.get_variable` and `tf.nn`, without Keras, with TF 1.15's
names, defaults and collections, so that TF 1.15 checkpoints restore:

- `fully_connected(x, n)`: scope 'fully_connected' (uniquified:
  'fully_connected_1', ...), variables 'weights' [in, n] (xavier) and
  'biases' [n] (zeros), ReLU unless `activation_fn=None`; `relu`, `relu6`,
  `elu`, `linear` are it with that activation.
- `flatten`, `dropout` (`keep_prob` 0.5, `is_training`),
  `one_hot_encoding`, `softmax`, `bias_add`.

The convolutions are in `convolutional`, the pooling in `pooling`, `repeat`
and `stack` in `stacking`.

Every variable is a model variable (`GLOBAL_VARIABLES`,
`MODEL_VARIABLES`, and `TRAINABLE_VARIABLES` unless `trainable=False`);
`weights_regularizer` / `biases_regularizer` losses go to
`REGULARIZATION_LOSSES`; a `normalizer_fn` (e.g. `batch_norm`) replaces the
biases and runs before the activation; `outputs_collections` collects the
output under the scope's name. Every function honours `arg_scope`.

Example:
    net = flatten(net)
    logits = fully_connected(net, 10, activation_fn=None, scope='logits')
"""

import functools

import tensorflow.compat.v1 as tf

from graphnet.compat.v1 import _signatures
from graphnet.compat.v1.contrib import framework
from graphnet.compat.v1.contrib.layers import _layer_helpers as _helpers
from graphnet.compat.v1.contrib.layers import utils

__all__ = [
  'bias_add',
  'dropout',
  'elu',
  'flatten',
  'fully_connected',
  'linear',
  'one_hot_encoding',
  'relu',
  'relu6',
  'softmax',
]


@framework.add_arg_scope
@_signatures.takes(_helpers.WEIGHTED)
def fully_connected(inputs, num_outputs, **layer):
  """A dense layer: `activation(normalizer(inputs @ weights + biases))`.

  Args:
    inputs: a float tensor [batch, ..., in] with `in` known (higher ranks
      multiply along the last axis).
    num_outputs: an int, the layer's width.
    **layer: TF1's arguments after `num_outputs` (`_helpers.WEIGHTED`,
      which the convolutions share), positional or by keyword:
      activation_fn: default ReLU; None for a linear layer.
      normalizer_fn: e.g. `batch_norm`, applied before the activation;
        then no biases are made.
      normalizer_params: the normalizer's keyword arguments (a dict).
      weights_initializer: for 'weights' [in, num_outputs] (default
        xavier).
      weights_regularizer: its loss goes to `REGULARIZATION_LOSSES`.
      biases_initializer: for 'biases' [num_outputs] (default zeros; None:
        no biases).
      biases_regularizer: as `weights_regularizer`, for the biases.
      reuse: True to share the variables of `scope`.
      variables_collections: more collections for the variables (a list,
        or a dict by 'weights' / 'biases').
      outputs_collections: collections for the output, aliased by scope
        name.
      trainable: whether the variables are in `TRAINABLE_VARIABLES`.
      scope: the variable scope (default 'fully_connected', made unique).

  Returns:
    a tensor [batch, ..., num_outputs].

  Raises:
    ValueError: `num_outputs` is not an int or `in` is unknown.
  """
  if not isinstance(num_outputs, int):
    raise ValueError(
      f'fully_connected: num_outputs should be int, got {num_outputs!r}.'
    )
  with tf.variable_scope(
    layer['scope'], 'fully_connected', [inputs], reuse=layer['reuse']
  ) as sc:
    inputs = tf.convert_to_tensor(inputs)
    dtype = inputs.dtype.base_dtype
    in_size = utils.last_dimension(inputs.shape, min_rank=2)
    weights, biases = _helpers.weights_and_biases(
      [in_size, num_outputs], num_outputs, dtype, layer
    )
    if inputs.shape.ndims == 2:
      outputs = tf.matmul(inputs, weights)
    else:
      outputs = tf.tensordot(inputs, weights, [[inputs.shape.ndims - 1], [0]])
      outputs.set_shape(inputs.shape[:-1].concatenate([num_outputs]))
    return _helpers.finish(outputs, biases, layer, sc.name)


@framework.add_arg_scope
def flatten(inputs, outputs_collections=None, scope=None):
  """[batch, d1, d2, ...] -> [batch, d1 * d2 * ...] (name scope 'Flatten').

  Raises:
    ValueError: the rank of `inputs` is unknown or below 2.
  """
  with tf.name_scope(scope, 'Flatten', [inputs]) as sc:
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.ndims is None or inputs.shape.ndims < 2:
      raise ValueError(
        f'flatten: inputs must have rank >= 2, got shape {inputs.shape}.'
      )
    batch = tf.dimension_value(inputs.shape[0])
    outputs = tf.reshape(inputs, [batch or tf.shape(inputs)[0], -1])
    rest = inputs.shape[1:]
    width = rest.num_elements() if rest.is_fully_defined() else None
    outputs.set_shape([batch, width])
    return utils.collect_named_outputs(outputs_collections, sc, outputs)


@framework.add_arg_scope
def dropout(
  inputs,
  keep_prob=0.5,
  noise_shape=None,
  is_training=True,
  outputs_collections=None,
  scope=None,
  seed=None,
):
  """Keeps each value with probability `keep_prob`, scaled by 1/keep_prob.

  Args:
    inputs: a float tensor.
    keep_prob: the probability of keeping a value (a float or tensor).
    noise_shape: the shape of the keep/drop mask (broadcast to inputs).
    is_training: a bool or bool tensor; when false, `inputs` pass as they
      are.
    outputs_collections: collections for the output.
    scope: the variable scope (default 'Dropout').
    seed: the op seed.

  Returns:
    a tensor shaped like `inputs`.
  """
  with tf.variable_scope(scope, 'Dropout', [inputs]) as sc:
    inputs = tf.convert_to_tensor(inputs)

    def dropped():
      return tf.nn.dropout(
        inputs, noise_shape=noise_shape, seed=seed, rate=1 - keep_prob
      )

    outputs = utils.smart_cond(
      is_training, dropped, lambda: tf.identity(inputs)
    )
    return utils.collect_named_outputs(outputs_collections, sc.name, outputs)


@framework.add_arg_scope
def one_hot_encoding(
  labels,
  num_classes,
  on_value=1.0,
  off_value=0.0,
  outputs_collections=None,
  scope=None,
):
  """Integer labels [batch] -> one-hot float [batch, num_classes]."""
  with tf.name_scope(scope, 'OneHotEncoding', [labels, num_classes]) as sc:
    labels = tf.convert_to_tensor(labels)
    if labels.dtype == tf.int32:
      labels = tf.cast(labels, tf.int64)
    outputs = tf.one_hot(
      labels, num_classes, on_value=on_value, off_value=off_value
    )
    return utils.collect_named_outputs(outputs_collections, sc, outputs)


@framework.add_arg_scope
def softmax(logits, scope=None):
  """Softmax over the last axis of a rank >= 2 tensor (scope 'softmax')."""
  with tf.variable_scope(scope, 'softmax', [logits]):
    num_logits = utils.last_dimension(logits.shape, min_rank=2)
    logits_2d = tf.reshape(logits, [-1, num_logits])
    predictions = tf.reshape(tf.nn.softmax(logits_2d), tf.shape(logits))
    predictions.set_shape(logits.shape)
    return predictions


@framework.add_arg_scope
@_signatures.takes(_helpers.SCOPED)
def bias_add(
  inputs,
  activation_fn=None,
  initializer=_helpers.ZEROS,
  regularizer=None,
  *,
  data_format=_helpers.NHWC,
  scope=None,
  **scoped,
):
  """Adds 'biases' [channels] (scope 'BiasAdd'), then the activation.

  Args:
    inputs: a float tensor, channels last (or second with 'NCHW').
    activation_fn: applied to the sum (default none).
    initializer: for 'biases' (default zeros).
    regularizer: its loss goes to `REGULARIZATION_LOSSES`.
    data_format: 'NHWC' or 'NCHW'.
    scope: the variable scope (default 'BiasAdd', made unique).
    **scoped: TF1's arguments after `regularizer` (`_helpers.SCOPED`):
      reuse, variables_collections, outputs_collections and trainable, as
      for `fully_connected`.

  Returns:
    a tensor shaped like `inputs`.
  """
  channels_first = data_format == _helpers.NCHW
  with tf.variable_scope(
    scope, 'BiasAdd', [inputs], reuse=scoped['reuse']
  ) as sc:
    inputs = tf.convert_to_tensor(inputs)
    channels = _helpers.channels(inputs, channels_first, 'bias_add')
    biases = framework.model_variable(
      'biases',
      shape=[channels],
      dtype=inputs.dtype.base_dtype,
      initializer=initializer,
      regularizer=regularizer,
      trainable=scoped['trainable'],
    )
    utils.add_variable_to_collections(
      biases, scoped['variables_collections'], 'biases'
    )
    outputs = tf.nn.bias_add(inputs, biases, data_format=data_format)
    if activation_fn is not None:
      outputs = activation_fn(outputs)
    return utils.collect_named_outputs(
      scoped['outputs_collections'], sc.name, outputs
    )


elu = functools.partial(fully_connected, activation_fn=tf.nn.elu)
relu = functools.partial(fully_connected, activation_fn=tf.nn.relu)
relu6 = functools.partial(fully_connected, activation_fn=tf.nn.relu6)
linear = functools.partial(fully_connected, activation_fn=None)
