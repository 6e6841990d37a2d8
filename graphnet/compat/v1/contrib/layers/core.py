"""The layer functions of `tf.contrib.layers` (and slim) of TF 1.15.

Built on `tf.get_variable` and `tf.nn`, without Keras, with TF 1.15's
names, defaults and collections, so that TF 1.15 checkpoints restore:

- `fully_connected(x, n)`: scope 'fully_connected' (uniquified:
  'fully_connected_1', ...), variables 'weights' [in, n] (xavier) and
  'biases' [n] (zeros), ReLU unless `activation_fn=None`.
- `conv2d(x, n, k)`: scope 'Conv', 'weights' [kh, kw, in, n], 'biases';
  ReLU, SAME padding, stride 1.
- `conv2d_transpose(x, n, k)`: scope 'Conv2d_transpose', 'weights'
  [kh, kw, n, in].
- `max_pool2d` / `avg_pool2d` (stride 2, VALID), `flatten`, `dropout`
  (`keep_prob` 0.5, `is_training`), `one_hot_encoding`, `softmax`,
  `bias_add`, `repeat`, `stack`.

Every variable is a model variable (`GLOBAL_VARIABLES`,
`MODEL_VARIABLES`, and `TRAINABLE_VARIABLES` unless `trainable=False`);
`weights_regularizer` / `biases_regularizer` losses go to
`REGULARIZATION_LOSSES`; a `normalizer_fn` (e.g. `batch_norm`) replaces the
biases and runs before the activation; `outputs_collections` collects the
output under the scope's name. Every function honours `arg_scope`.

Example:
    net = conv2d(images, 32, [5, 5], scope='conv1')   # conv1/weights
    net = max_pool2d(net, [2, 2])
    net = flatten(net)
    logits = fully_connected(net, 10, activation_fn=None, scope='logits')
"""

import functools

import tensorflow.compat.v1 as tf

from graphnet.compat.v1.contrib import framework
from graphnet.compat.v1.contrib.layers import initializers
from graphnet.compat.v1.contrib.layers import utils

__all__ = [
  'avg_pool2d',
  'bias_add',
  'conv1d',
  'conv2d',
  'conv2d_transpose',
  'conv3d',
  'convolution',
  'convolution1d',
  'convolution2d',
  'convolution2d_transpose',
  'convolution3d',
  'dropout',
  'elu',
  'flatten',
  'fully_connected',
  'linear',
  'max_pool2d',
  'one_hot_encoding',
  'relu',
  'relu6',
  'repeat',
  'softmax',
  'stack',
]

_NHWC = 'NHWC'
# TF 1.15's default initializers (one instance each, as its defaults).
_XAVIER = initializers.xavier_initializer()
_ZEROS = tf.zeros_initializer()
_NCHW = 'NCHW'


def _tuple(value, rank, name):
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


def _channels(inputs, channels_first, what):
  """The static channel count of `inputs` (an int)."""
  dim = tf.dimension_value(inputs.shape[1 if channels_first else -1])
  if dim is None:
    raise ValueError(
      f'{what}: the channel dimension of {inputs.name} must be known, got '
      f'shape {inputs.shape}.'
    )
  return dim


def _weights_and_biases(
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


def _finish(outputs, normalizer_fn, normalizer_params, activation_fn):
  """Applies the normalizer, then the activation."""
  if normalizer_fn is not None:
    outputs = normalizer_fn(outputs, **(normalizer_params or {}))
  if activation_fn is not None:
    outputs = activation_fn(outputs)
  return outputs


@framework.add_arg_scope
def fully_connected(
  inputs,
  num_outputs,
  activation_fn=tf.nn.relu,
  normalizer_fn=None,
  normalizer_params=None,
  weights_initializer=_XAVIER,
  weights_regularizer=None,
  biases_initializer=_ZEROS,
  biases_regularizer=None,
  reuse=None,
  variables_collections=None,
  outputs_collections=None,
  trainable=True,
  scope=None,
):
  """A dense layer: `activation(normalizer(inputs @ weights + biases))`.

  Args:
    inputs: a float tensor [batch, ..., in] with `in` known (higher ranks
      multiply along the last axis).
    num_outputs: an int, the layer's width.
    activation_fn: default ReLU; None for a linear layer.
    normalizer_fn: e.g. `batch_norm`, applied before the activation; then
      no biases are made.
    normalizer_params: the normalizer's keyword arguments (a dict).
    weights_initializer: for 'weights' [in, num_outputs] (default xavier).
    weights_regularizer: its loss goes to `REGULARIZATION_LOSSES`.
    biases_initializer: for 'biases' [num_outputs] (default zeros; None:
      no biases).
    biases_regularizer: as `weights_regularizer`, for the biases.
    reuse: True to share the variables of `scope`.
    scope: the variable scope (default 'fully_connected', made unique).
    variables_collections: more collections for the variables (a list, or a
      dict by 'weights' / 'biases').
    outputs_collections: collections for the output, aliased by scope name.
    trainable: whether the variables are in `TRAINABLE_VARIABLES`.

  Returns:
    a tensor [batch, ..., num_outputs].

  Raises:
    ValueError: `num_outputs` is not an int or `in` is unknown.
  """
  if not isinstance(num_outputs, int):
    raise ValueError(
      f'fully_connected: num_outputs should be int, got {num_outputs!r}.'
    )
  with tf.variable_scope(scope, 'fully_connected', [inputs], reuse=reuse) as sc:
    inputs = tf.convert_to_tensor(inputs)
    dtype = inputs.dtype.base_dtype
    in_size = utils.last_dimension(inputs.shape, min_rank=2)
    weights, biases = _weights_and_biases(
      [in_size, num_outputs],
      num_outputs,
      dtype,
      normalizer_fn,
      weights_initializer,
      weights_regularizer,
      biases_initializer,
      biases_regularizer,
      variables_collections,
      trainable,
    )
    if inputs.shape.ndims == 2:
      outputs = tf.matmul(inputs, weights)
    else:
      outputs = tf.tensordot(inputs, weights, [[inputs.shape.ndims - 1], [0]])
      outputs.set_shape(inputs.shape[:-1].concatenate([num_outputs]))
    if biases is not None:
      outputs = tf.nn.bias_add(outputs, biases)
    outputs = _finish(outputs, normalizer_fn, normalizer_params, activation_fn)
    return utils.collect_named_outputs(outputs_collections, sc.name, outputs)


@framework.add_arg_scope
def convolution(
  inputs,
  num_outputs,
  kernel_size,
  stride=1,
  padding='SAME',
  data_format=None,
  rate=1,
  activation_fn=tf.nn.relu,
  normalizer_fn=None,
  normalizer_params=None,
  weights_initializer=_XAVIER,
  weights_regularizer=None,
  biases_initializer=_ZEROS,
  biases_regularizer=None,
  reuse=None,
  variables_collections=None,
  outputs_collections=None,
  trainable=True,
  scope=None,
  conv_dims=None,
):
  """An N-d convolution (N from the rank of `inputs`, or `conv_dims`).

  Args:
    inputs: a float tensor [batch, ..., channels] (or channels second when
      `data_format` starts with 'NC'), rank N + 2.
    num_outputs: the number of filters.
    kernel_size: an int or N ints.
    stride: an int or N ints.
    padding: 'SAME' or 'VALID'.
    data_format: None (channels last) or 'NC...' (channels second).
    rate: the dilation, an int or N ints.
    activation_fn: default ReLU; None for none.
    normalizer_fn: as for `fully_connected`.
    normalizer_params: as for `fully_connected`.
    weights_initializer: default xavier.
    weights_regularizer: as for `fully_connected`.
    biases_initializer: default zeros.
    biases_regularizer: as for `fully_connected`.
    reuse: as for `fully_connected`.
    variables_collections: as for `fully_connected`.
    outputs_collections: as for `fully_connected`.
    trainable: as for `fully_connected`.
    scope: the variable scope (default 'Conv', made unique).
    conv_dims: N, or None to take it from the rank of `inputs`.

  Returns:
    the tensor [batch, ..., num_outputs].

  Variables: 'weights' [*kernel_size, in, num_outputs], 'biases'.
  """
  inputs = tf.convert_to_tensor(inputs)
  rank = inputs.shape.ndims if conv_dims is None else conv_dims + 2
  if rank not in (3, 4, 5) or (
    conv_dims is not None and inputs.shape.ndims != rank
  ):
    raise ValueError(
      f'convolution: inputs must have rank 3, 4 or 5 (matching conv_dims='
      f'{conv_dims}), got shape {inputs.shape}.'
    )
  if data_format not in (None, 'NWC', 'NCW', _NHWC, _NCHW, 'NDHWC', 'NCDHW'):
    raise ValueError(f'convolution: invalid data_format {data_format!r}.')
  channels_first = bool(data_format) and data_format.startswith('NC')
  dims = rank - 2
  with tf.variable_scope(scope, 'Conv', [inputs], reuse=reuse) as sc:
    inputs = tf.convert_to_tensor(inputs)
    in_channels = _channels(inputs, channels_first, 'convolution')
    kernel = _tuple(kernel_size, dims, 'kernel_size')
    weights, biases = _weights_and_biases(
      kernel + [in_channels, num_outputs],
      num_outputs,
      inputs.dtype.base_dtype,
      normalizer_fn,
      weights_initializer,
      weights_regularizer,
      biases_initializer,
      biases_regularizer,
      variables_collections,
      trainable,
    )
    outputs = tf.nn.convolution(
      inputs,
      weights,
      padding=padding.upper(),
      strides=_tuple(stride, dims, 'stride'),
      dilation_rate=_tuple(rate, dims, 'rate'),
      data_format=data_format,
    )
    if biases is not None:
      outputs = tf.nn.bias_add(
        outputs, biases, data_format=_NCHW if channels_first else _NHWC
      )
    outputs = _finish(outputs, normalizer_fn, normalizer_params, activation_fn)
    return utils.collect_named_outputs(outputs_collections, sc.name, outputs)


@framework.add_arg_scope
def convolution1d(inputs, num_outputs, kernel_size, **kwargs):
  """`convolution` of a rank-3 input (scope 'Conv')."""
  return convolution(inputs, num_outputs, kernel_size, conv_dims=1, **kwargs)


@framework.add_arg_scope
def convolution2d(inputs, num_outputs, kernel_size, **kwargs):
  """`convolution` of a rank-4 input (scope 'Conv'); see `convolution`."""
  return convolution(inputs, num_outputs, kernel_size, conv_dims=2, **kwargs)


@framework.add_arg_scope
def convolution3d(inputs, num_outputs, kernel_size, **kwargs):
  """`convolution` of a rank-5 input (scope 'Conv')."""
  return convolution(inputs, num_outputs, kernel_size, conv_dims=3, **kwargs)


def _deconv_length(size, kernel, stride, padding):
  """An output length of a transposed convolution (int or tensor)."""
  if size is None:
    return None
  size *= stride
  if padding == 'VALID':
    size += max(kernel - stride, 0)
  return size


@framework.add_arg_scope
def convolution2d_transpose(
  inputs,
  num_outputs,
  kernel_size,
  stride=1,
  padding='SAME',
  data_format=_NHWC,
  activation_fn=tf.nn.relu,
  normalizer_fn=None,
  normalizer_params=None,
  weights_initializer=_XAVIER,
  weights_regularizer=None,
  biases_initializer=_ZEROS,
  biases_regularizer=None,
  reuse=None,
  variables_collections=None,
  outputs_collections=None,
  trainable=True,
  scope=None,
):
  """A transposed 2-D convolution (scope 'Conv2d_transpose').

  With SAME padding the output is `stride` times larger; with VALID, by
  `max(kernel - stride, 0)` more.

  Args:
    inputs: a float tensor [batch, height, width, channels] (NHWC) or
      [batch, channels, height, width] (NCHW).
    num_outputs: the number of output channels.
    kernel_size: an int or two ints.
    stride: an int or two ints.
    padding: 'SAME' or 'VALID'.
    data_format: 'NHWC' or 'NCHW'.
    activation_fn: default ReLU; None for none.
    normalizer_fn: as for `fully_connected`.
    normalizer_params: as for `fully_connected`.
    weights_initializer: default xavier.
    weights_regularizer: as for `fully_connected`.
    biases_initializer: default zeros.
    biases_regularizer: as for `fully_connected`.
    reuse: as for `fully_connected`.
    variables_collections: as for `fully_connected`.
    outputs_collections: as for `fully_connected`.
    trainable: as for `fully_connected`.
    scope: the variable scope (default 'Conv2d_transpose', made unique).

  Returns:
    the tensor [batch, out_height, out_width, num_outputs].

  Variables: 'weights' [kh, kw, num_outputs, in], 'biases' [num_outputs].
  """
  if data_format not in (_NHWC, _NCHW):
    raise ValueError(
      f'conv2d_transpose: data_format has to be NHWC or NCHW, got '
      f'{data_format!r}.'
    )
  channels_first = data_format == _NCHW
  padding = padding.upper()
  with tf.variable_scope(
    scope, 'Conv2d_transpose', [inputs], reuse=reuse
  ) as sc:
    inputs = tf.convert_to_tensor(inputs)
    in_channels = _channels(inputs, channels_first, 'conv2d_transpose')
    kh, kw = _tuple(kernel_size, 2, 'kernel_size')
    sh, sw = _tuple(stride, 2, 'stride')
    weights, biases = _weights_and_biases(
      [kh, kw, num_outputs, in_channels],
      num_outputs,
      inputs.dtype.base_dtype,
      normalizer_fn,
      weights_initializer,
      weights_regularizer,
      biases_initializer,
      biases_regularizer,
      variables_collections,
      trainable,
    )
    h_axis, w_axis = (2, 3) if channels_first else (1, 2)
    dynamic = tf.shape(inputs)
    static = inputs.shape.as_list()
    height = _deconv_length(static[h_axis], kh, sh, padding)
    width = _deconv_length(static[w_axis], kw, sw, padding)
    dyn_height = height or _deconv_length(dynamic[h_axis], kh, sh, padding)
    dyn_width = width or _deconv_length(dynamic[w_axis], kw, sw, padding)
    if channels_first:
      output_shape = [dynamic[0], num_outputs, dyn_height, dyn_width]
      strides = [1, 1, sh, sw]
      static_out = [static[0], num_outputs, height, width]
    else:
      output_shape = [dynamic[0], dyn_height, dyn_width, num_outputs]
      strides = [1, sh, sw, 1]
      static_out = [static[0], height, width, num_outputs]
    outputs = tf.nn.conv2d_transpose(
      inputs,
      weights,
      tf.stack(output_shape),
      strides,
      padding=padding,
      data_format=data_format,
    )
    outputs.set_shape(static_out)
    if biases is not None:
      outputs = tf.nn.bias_add(outputs, biases, data_format=data_format)
    outputs = _finish(outputs, normalizer_fn, normalizer_params, activation_fn)
    return utils.collect_named_outputs(outputs_collections, sc.name, outputs)


def _pool2d(
  pool,
  default_name,
  inputs,
  kernel_size,
  stride,
  padding,
  data_format,
  outputs_collections,
  scope,
):
  if data_format not in (_NHWC, _NCHW):
    raise ValueError(
      f'{default_name}: data_format has to be NHWC or NCHW, got '
      f'{data_format!r}.'
    )
  with tf.name_scope(scope, default_name, [inputs]) as sc:
    inputs = tf.convert_to_tensor(inputs)
    kh, kw = _tuple(kernel_size, 2, 'kernel_size')
    sh, sw = _tuple(stride, 2, 'stride')
    if data_format == _NHWC:
      ksize, strides = [1, kh, kw, 1], [1, sh, sw, 1]
    else:
      ksize, strides = [1, 1, kh, kw], [1, 1, sh, sw]
    outputs = pool(
      inputs, ksize, strides, padding.upper(), data_format=data_format
    )
    return utils.collect_named_outputs(outputs_collections, sc, outputs)


@framework.add_arg_scope
def max_pool2d(
  inputs,
  kernel_size,
  stride=2,
  padding='VALID',
  data_format=_NHWC,
  outputs_collections=None,
  scope=None,
):
  """2-D max pooling (name scope 'MaxPool2D'); no variables.

  Args:
    inputs: [batch, height, width, channels] (or NCHW).
    kernel_size: an int or two ints.
    stride: an int or two ints.
    padding: 'VALID' (default) or 'SAME'.
    data_format: 'NHWC' or 'NCHW'.
    outputs_collections: collections for the output.
    scope: the name scope (default 'MaxPool2D').
  """
  return _pool2d(
    tf.nn.max_pool,
    'MaxPool2D',
    inputs,
    kernel_size,
    stride,
    padding,
    data_format,
    outputs_collections,
    scope,
  )


@framework.add_arg_scope
def avg_pool2d(
  inputs,
  kernel_size,
  stride=2,
  padding='VALID',
  data_format=_NHWC,
  outputs_collections=None,
  scope=None,
):
  """2-D average pooling (name scope 'AvgPool2D'); as `max_pool2d`."""
  return _pool2d(
    tf.nn.avg_pool,
    'AvgPool2D',
    inputs,
    kernel_size,
    stride,
    padding,
    data_format,
    outputs_collections,
    scope,
  )


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
def bias_add(
  inputs,
  activation_fn=None,
  initializer=_ZEROS,
  regularizer=None,
  reuse=None,
  variables_collections=None,
  outputs_collections=None,
  trainable=True,
  data_format=_NHWC,
  scope=None,
):
  """Adds 'biases' [channels] (scope 'BiasAdd'), then the activation."""
  channels_first = data_format == _NCHW
  with tf.variable_scope(scope, 'BiasAdd', [inputs], reuse=reuse) as sc:
    inputs = tf.convert_to_tensor(inputs)
    channels = _channels(inputs, channels_first, 'bias_add')
    biases = framework.model_variable(
      'biases',
      shape=[channels],
      dtype=inputs.dtype.base_dtype,
      initializer=initializer,
      regularizer=regularizer,
      trainable=trainable,
    )
    utils.add_variable_to_collections(biases, variables_collections, 'biases')
    outputs = tf.nn.bias_add(inputs, biases, data_format=data_format)
    if activation_fn is not None:
      outputs = activation_fn(outputs)
    return utils.collect_named_outputs(outputs_collections, sc.name, outputs)


def _layer_name(layer, fallback):
  """The scope prefix `repeat` / `stack` give an unnamed layer."""
  if hasattr(layer, '__name__'):
    return layer.__name__
  if hasattr(layer, 'func') and hasattr(layer.func, '__name__'):
    return layer.func.__name__
  return fallback


def repeat(inputs, repetitions, layer, *args, **kwargs):
  """Applies `layer` `repetitions` times, in scopes `<scope>/<scope>_<i>`.

  `repeat(x, 2, conv2d, 64, [3, 3], scope='conv1')` makes
  'conv1/conv1_1/weights' and 'conv1/conv1_2/weights' (as VGG's slim
  definition). Without a scope the layer's function name is used
  ('convolution2d_1', 'fully_connected_1', ...) under 'Repeat'.
  """
  scope = kwargs.pop('scope', None)
  with tf.variable_scope(scope, 'Repeat', [inputs]):
    outputs = tf.convert_to_tensor(inputs)
    if scope is None:
      scope = _layer_name(layer, 'repeat')
    for i in range(repetitions):
      kwargs['scope'] = f'{scope}_{i + 1}'
      outputs = layer(outputs, *args, **kwargs)
    return outputs


def stack(inputs, layer, stack_args, **kwargs):
  """Applies `layer` once per entry of `stack_args`, in `<scope>_<i>`.

  `stack(x, fully_connected, [32, 64], scope='fc')` makes 'fc/fc_1' (32
  units) and 'fc/fc_2' (64 units); an entry may be a tuple of positional
  arguments.

  Raises:
    ValueError: `stack_args` is not a list or tuple.
  """
  scope = kwargs.pop('scope', None)
  if not isinstance(stack_args, (list, tuple)):
    raise ValueError(
      f'stack: stack_args must be a list or tuple, got {stack_args!r}.'
    )
  with tf.variable_scope(scope, 'Stack', [inputs]):
    outputs = tf.convert_to_tensor(inputs)
    if scope is None:
      scope = _layer_name(layer, 'stack')
    for i, layer_args in enumerate(stack_args):
      kwargs['scope'] = f'{scope}_{i + 1}'
      if not isinstance(layer_args, (list, tuple)):
        layer_args = [layer_args]
      outputs = layer(outputs, *layer_args, **kwargs)
    return outputs


conv1d = convolution1d
conv2d = convolution2d
conv3d = convolution3d
conv2d_transpose = convolution2d_transpose
elu = functools.partial(fully_connected, activation_fn=tf.nn.elu)
relu = functools.partial(fully_connected, activation_fn=tf.nn.relu)
relu6 = functools.partial(fully_connected, activation_fn=tf.nn.relu6)
linear = functools.partial(fully_connected, activation_fn=None)
