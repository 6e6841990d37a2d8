"""The convolutions of `tf.contrib.layers` (and slim) of TF 1.15.

- `conv2d(x, n, k)` (= `convolution2d`; also 1-D and 3-D, and the N-d
  `convolution`): scope 'Conv' (uniquified), 'weights'
  [*kernel, in, n] (xavier), 'biases' [n] (zeros); ReLU, SAME padding,
  stride 1.
- `conv2d_transpose(x, n, k)`: scope 'Conv2d_transpose', 'weights'
  [kh, kw, n, in].

Variables, regularizers, normalizer and collections as `fully_connected`
(see `graphnet.compat.v1.contrib.layers.core`); every function honours
`arg_scope`.

Example:
    net = conv2d(images, 32, [5, 5], scope='conv1')   # conv1/weights
"""

import tensorflow.compat.v1 as tf

from graphnet.compat.v1 import _signatures
from graphnet.compat.v1.contrib import framework
from graphnet.compat.v1.contrib.layers import _layer_helpers as _helpers

__all__ = [
  'conv1d',
  'conv2d',
  'conv2d_transpose',
  'conv3d',
  'convolution',
  'convolution1d',
  'convolution2d',
  'convolution2d_transpose',
  'convolution3d',
]


@framework.add_arg_scope
@_signatures.takes(_helpers.WEIGHTED)
def convolution(
  inputs,
  num_outputs,
  kernel_size,
  stride=1,
  padding='SAME',
  data_format=None,
  rate=1,
  *,
  conv_dims=None,
  **layer,
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
    conv_dims: N, or None to take it from the rank of `inputs`; TF1's
      last argument, after `**layer`'s.
    **layer: TF1's arguments after `rate` (`_helpers.WEIGHTED`), as for
      `fully_connected`: activation_fn (default ReLU; None for none),
      normalizer_fn, normalizer_params, weights_initializer (default
      xavier), weights_regularizer, biases_initializer (default zeros),
      biases_regularizer, reuse, variables_collections,
      outputs_collections, trainable and scope (the variable scope,
      default 'Conv', made unique).

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
  if data_format not in (
    None,
    'NWC',
    'NCW',
    _helpers.NHWC,
    _helpers.NCHW,
    'NDHWC',
    'NCDHW',
  ):
    raise ValueError(f'convolution: invalid data_format {data_format!r}.')
  channels_first = bool(data_format) and data_format.startswith('NC')
  dims = rank - 2
  with tf.variable_scope(
    layer['scope'], 'Conv', [inputs], reuse=layer['reuse']
  ) as sc:
    inputs = tf.convert_to_tensor(inputs)
    in_channels = _helpers.channels(inputs, channels_first, 'convolution')
    kernel = _helpers.int_list(kernel_size, dims, 'kernel_size')
    weights, biases = _helpers.weights_and_biases(
      kernel + [in_channels, num_outputs],
      num_outputs,
      inputs.dtype.base_dtype,
      layer,
    )
    outputs = tf.nn.convolution(
      inputs,
      weights,
      padding=padding.upper(),
      strides=_helpers.int_list(stride, dims, 'stride'),
      dilation_rate=_helpers.int_list(rate, dims, 'rate'),
      data_format=data_format,
    )
    bias_format = _helpers.NCHW if channels_first else _helpers.NHWC
    return _helpers.finish(outputs, biases, layer, sc.name, bias_format)


def _fixed_rank(conv_dims):
  """TF1's `convolution{conv_dims}d`: `convolution` without `conv_dims`."""

  def convolution_nd(**arguments):
    return convolution(conv_dims=conv_dims, **arguments)

  convolution_nd.__name__ = convolution_nd.__qualname__ = (
    f'convolution{conv_dims}d'
  )
  convolution_nd.__doc__ = (
    f"`convolution` of a rank-{conv_dims + 2} input (scope 'Conv'): "
    "`convolution`'s arguments but `conv_dims`."
  )
  # Its own arg_scope key, as TF 1.15's: arg_scope([conv2d]) leaves
  # `convolution` alone.
  bound = _signatures.like(convolution, omit=['conv_dims'])(convolution_nd)
  return framework.add_arg_scope(bound)


convolution1d = _fixed_rank(1)
convolution2d = _fixed_rank(2)
convolution3d = _fixed_rank(3)


def _deconv_length(size, kernel, stride, padding):
  """An output length of a transposed convolution (int or tensor)."""
  if size is None:
    return None
  size *= stride
  if padding == 'VALID':
    size += max(kernel - stride, 0)
  return size


@framework.add_arg_scope
@_signatures.like(
  convolution, omit=['rate', 'conv_dims'], data_format=_helpers.NHWC
)
def convolution2d_transpose(
  inputs, num_outputs, kernel_size, stride, padding, data_format, **layer
):
  """A transposed 2-D convolution (scope 'Conv2d_transpose').

  With SAME padding the output is `stride` times larger; with VALID, by
  `max(kernel - stride, 0)` more. The arguments are `convolution`'s for
  2-D inputs (no `rate` or `conv_dims`): `inputs` [batch, height, width,
  channels] with `data_format` 'NHWC', or [batch, channels, height, width]
  with 'NCHW'; `scope` defaults to 'Conv2d_transpose', made unique.

  Returns:
    the tensor [batch, out_height, out_width, num_outputs].

  Variables: 'weights' [kh, kw, num_outputs, in], 'biases' [num_outputs].
  """
  if data_format not in (_helpers.NHWC, _helpers.NCHW):
    raise ValueError(
      f'conv2d_transpose: data_format has to be NHWC or NCHW, got '
      f'{data_format!r}.'
    )
  channels_first = data_format == _helpers.NCHW
  padding = padding.upper()
  with tf.variable_scope(
    layer['scope'], 'Conv2d_transpose', [inputs], reuse=layer['reuse']
  ) as sc:
    inputs = tf.convert_to_tensor(inputs)
    in_channels = _helpers.channels(inputs, channels_first, 'conv2d_transpose')
    kh, kw = _helpers.int_list(kernel_size, 2, 'kernel_size')
    sh, sw = _helpers.int_list(stride, 2, 'stride')
    weights, biases = _helpers.weights_and_biases(
      [kh, kw, num_outputs, in_channels],
      num_outputs,
      inputs.dtype.base_dtype,
      layer,
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
    return _helpers.finish(outputs, biases, layer, sc.name, data_format)


conv1d = convolution1d
conv2d = convolution2d
conv3d = convolution3d
conv2d_transpose = convolution2d_transpose
