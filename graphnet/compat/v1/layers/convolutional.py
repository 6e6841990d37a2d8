"""TF1's `tf.layers` convolutions and their functions.

`Conv1D`, `Conv2D`, `Conv3D` make `kernel` `[*kernel_size, in, filters]`
and `bias` `[filters]`; `Conv2DTranspose` makes `kernel` `[kh, kw, filters,
in]` (TF1's order: it is the kernel of the convolution it transposes).
Default kernel initializer: the variable scope's, else glorot uniform;
biases start at zero. Padding 'valid' (default) or 'same', any case;
`data_format` 'channels_last' (default) or 'channels_first'.

Example:
    net = tf.layers.conv2d(images, 32, 5, padding='same',
                           activation=tf.nn.relu)        # conv2d/kernel
    up = tf.layers.conv2d_transpose(net, 16, 3, strides=2,
                                    padding='same')      # [b, 2h, 2w, 16]
"""

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1 import _layer_state
from graphnet.compat.v1.layers import _arguments
from graphnet.compat.v1.layers import _functional
from graphnet.compat.v1.layers import _kernel_layer
from graphnet.compat.v1.layers import base

__all__ = [
  'Conv1D',
  'Conv2D',
  'Conv3D',
  'Conv2DTranspose',
  'Convolution1D',
  'Convolution2D',
  'Convolution3D',
  'Convolution2DTranspose',
  'Deconvolution2D',
  'Deconv2D',
  'conv1d',
  'conv2d',
  'conv3d',
  'conv2d_transpose',
]

# TF's data_format strings by rank of the convolution.
_CHANNELS_LAST = {1: 'NWC', 2: 'NHWC', 3: 'NDHWC'}
_CHANNELS_FIRST = {1: 'NCW', 2: 'NCHW', 3: 'NCDHW'}


class _Conv(_kernel_layer.KernelLayer):
  """An N-D convolution (N = `_RANK`), its bias and activation.

  The arguments after `dilation_rate` are `KernelLayer`'s (TF1's
  `activation`, `use_bias`, `kernel_*` / `bias_*`, `activity_regularizer`,
  `trainable`, `name`).
  """

  _RANK = 2

  def __init__(
    self,
    filters,
    kernel_size,
    strides=1,
    padding='valid',
    data_format='channels_last',
    dilation_rate=1,
    *args,
    **kwargs,
  ):
    # TF1's order goes on with KernelLayer's (activation, use_bias, ...).
    super().__init__(*args, **kwargs)
    label = f'layer {self.name!r}'
    rank = self.rank = self._RANK
    self.filters = int(filters)
    self.kernel_size = _arguments.normalize_tuple(
      label, 'kernel_size', kernel_size, rank
    )
    self.strides = _arguments.normalize_tuple(label, 'strides', strides, rank)
    allowed = ('valid', 'same', 'causal') if rank == 1 else ('valid', 'same')
    self.padding = _arguments.padding_of(label, padding, allowed)
    self.data_format = _arguments.data_format_of(label, data_format)
    self.dilation_rate = _arguments.normalize_tuple(
      label, 'dilation_rate', dilation_rate, rank
    )
    self.input_spec = base.InputSpec(ndim=rank + 2)

  @property
  def _channel_axis(self):
    return 1 if self.data_format == 'channels_first' else -1

  def _tf_data_format(self):
    formats = (
      _CHANNELS_FIRST
      if self.data_format == 'channels_first'
      else _CHANNELS_LAST
    )
    return formats[self.rank]

  def _kernel_shape(self, channels):
    return [*self.kernel_size, channels, self.filters]

  def build(self, input_shape):
    input_shape = tf.TensorShape(input_shape)
    channels = tf.dimension_value(input_shape[self._channel_axis])
    if channels is None:
      raise errors.ConfigError(
        f'layer {self.name!r}: the channel dimension of the inputs must be '
        f'known to size the kernel, got shape {input_shape} '
        f'(data_format {self.data_format}).'
      )
    self.input_spec = base.InputSpec(
      ndim=self.rank + 2, axes={self._channel_axis: channels}
    )
    self._add_kernel_and_bias(self._kernel_shape(channels), self.filters)
    self.built = True

  def call(self, inputs):
    padding = self.padding
    if padding == 'causal':
      # Left padding only: output t sees inputs <= t.
      left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
      pads = [[0, 0], [left, 0], [0, 0]]
      if self.data_format == 'channels_first':
        pads = [[0, 0], [0, 0], [left, 0]]
      inputs = tf.pad(inputs, pads)
      padding = 'valid'
    outputs = tf.nn.convolution(
      inputs,
      self.kernel,
      padding=padding.upper(),
      strides=self.strides,
      dilation_rate=self.dilation_rate,
      data_format=self._tf_data_format(),
    )
    return self._finish(outputs)

  def _finish(self, outputs):
    if self.use_bias:
      if self.data_format == 'channels_first' and self.rank == 1:
        outputs += tf.reshape(self.bias, [1, self.filters, 1])
      elif self.data_format == 'channels_first':
        outputs = tf.nn.bias_add(outputs, self.bias, data_format='NCHW')
      else:
        outputs = tf.nn.bias_add(outputs, self.bias, data_format='NHWC')
    if self.activation is not None:
      return self.activation(outputs)
    return outputs


class Conv1D(_Conv):
  """A 1-D convolution over `[batch, length, channels]`; may be causal."""

  _RANK = 1


class Conv2D(_Conv):
  """A 2-D convolution over `[batch, height, width, channels]`."""

  _TF1_DEFAULTS = {'strides': (1, 1), 'dilation_rate': (1, 1)}


class Conv3D(_Conv):
  """A 3-D convolution over `[batch, depth, height, width, channels]`."""

  _RANK = 3
  _TF1_DEFAULTS = {'strides': (1, 1, 1), 'dilation_rate': (1, 1, 1)}


class Conv2DTranspose(_Conv):
  """The transpose (gradient) of a 2-D convolution: upsamples by `strides`.

  Output height: `h * stride` with 'same', `h * stride + max(k - stride,
  0)` with 'valid' (TF1's). Kernel `[kh, kw, filters, in]`. TF1's
  arguments are `Conv2D`'s but `dilation_rate`, which may only be 1.
  """

  _TF1_DEFAULTS = {'strides': (1, 1)}
  _NOT_TF1 = ('dilation_rate',)

  def __init__(self, *args, **kwargs):
    arguments = _layer_state.bind(Conv2DTranspose, args, kwargs)
    dilation_rate = arguments.pop('dilation_rate', 1)
    if _arguments.normalize_tuple(
      'Conv2DTranspose', 'dilation_rate', dilation_rate, 2
    ) != (1, 1):
      raise errors.ConfigError(
        'Conv2DTranspose: dilation_rate other than 1 is not supported (nor '
        'was it by TF1).'
      )
    super().__init__(**arguments)

  def _kernel_shape(self, channels):
    return [*self.kernel_size, self.filters, channels]

  def call(self, inputs):
    first = self.data_format == 'channels_first'
    h_axis, w_axis = (2, 3) if first else (1, 2)
    dynamic = tf.shape(inputs)
    static = inputs.shape.as_list()
    sizes = []
    static_sizes = []
    for axis, kernel, stride in zip(
      (h_axis, w_axis), self.kernel_size, self.strides, strict=True
    ):
      sizes.append(_deconv_length(dynamic[axis], kernel, self.padding, stride))
      static_sizes.append(
        _deconv_length(static[axis], kernel, self.padding, stride)
      )
    batch = dynamic[0]
    if first:
      output_shape = [batch, self.filters, *sizes]
      strides = [1, 1, *self.strides]
    else:
      output_shape = [batch, *sizes, self.filters]
      strides = [1, *self.strides, 1]
    outputs = tf.nn.conv2d_transpose(
      inputs,
      self.kernel,
      tf.stack(output_shape),
      strides,
      padding=self.padding.upper(),
      data_format='NCHW' if first else 'NHWC',
    )
    known = [static[0], self.filters, *static_sizes]
    if not first:
      known = [static[0], *static_sizes, self.filters]
    outputs.set_shape(known)
    return self._finish(outputs)


# TF1's other names for the same classes.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution2DTranspose = Deconvolution2D = Deconv2D = Conv2DTranspose


def _deconv_length(length, kernel, padding, stride):
  """TF1's output length of a transposed convolution (None stays None)."""
  if length is None:
    return None
  if padding == 'valid':
    return length * stride + max(kernel - stride, 0)
  return length * stride


conv1d = _functional.functional(
  Conv1D,
  'conv1d',
  "TF1's `tf.layers.conv1d`; `name` as given (reuse needs `reuse=True`).",
)
conv2d = _functional.functional(
  Conv2D,
  'conv2d',
  """TF1's `tf.layers.conv2d`; `name` as given (reuse needs `reuse=True`).

  Returns `[batch, h', w', filters]` (channels_last).
  """,
)
conv3d = _functional.functional(
  Conv3D,
  'conv3d',
  "TF1's `tf.layers.conv3d`; `name` as given (reuse needs `reuse=True`).",
)
conv2d_transpose = _functional.functional(
  Conv2DTranspose,
  'conv2d_transpose',
  """TF1's `tf.layers.conv2d_transpose`: kernel `[kh, kw, filters, in]`.

  Returns `[batch, h * stride (+ max(k - stride, 0) if 'valid'), ...,
  filters]` (channels_last).
  """,
)
