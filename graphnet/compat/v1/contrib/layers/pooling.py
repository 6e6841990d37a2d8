"""The 2-D pooling functions of `tf.contrib.layers` (and slim) of TF 1.15.

`max_pool2d` / `avg_pool2d`: stride 2, VALID padding, name scopes
'MaxPool2D' / 'AvgPool2D', no variables; both honour `arg_scope`.

Example:
    net = max_pool2d(net, [2, 2])   # [batch, h / 2, w / 2, channels]
"""

import tensorflow.compat.v1 as tf

from graphnet.compat.v1.contrib import framework
from graphnet.compat.v1.contrib.layers import _layer_helpers as _helpers
from graphnet.compat.v1.contrib.layers import utils

__all__ = [
  'avg_pool2d',
  'max_pool2d',
]


def _pool2d_function(pool, default_name, public_name, doc):
  """`public_name`: 2-D pooling with `pool`, honouring `arg_scope`."""

  def pool2d(
    inputs,
    kernel_size,
    stride=2,
    padding='VALID',
    data_format=_helpers.NHWC,
    outputs_collections=None,
    scope=None,
  ):
    if data_format not in (_helpers.NHWC, _helpers.NCHW):
      raise ValueError(
        f'{default_name}: data_format has to be NHWC or NCHW, got '
        f'{data_format!r}.'
      )
    with tf.name_scope(scope, default_name, [inputs]) as sc:
      inputs = tf.convert_to_tensor(inputs)
      kh, kw = _helpers.int_list(kernel_size, 2, 'kernel_size')
      sh, sw = _helpers.int_list(stride, 2, 'stride')
      if data_format == _helpers.NHWC:
        ksize, strides = [1, kh, kw, 1], [1, sh, sw, 1]
      else:
        ksize, strides = [1, 1, kh, kw], [1, 1, sh, sw]
      outputs = pool(
        inputs, ksize, strides, padding.upper(), data_format=data_format
      )
      return utils.collect_named_outputs(outputs_collections, sc, outputs)

  pool2d.__name__ = pool2d.__qualname__ = public_name
  pool2d.__doc__ = doc
  return framework.add_arg_scope(pool2d)


max_pool2d = _pool2d_function(
  tf.nn.max_pool,
  'MaxPool2D',
  'max_pool2d',
  """2-D max pooling (name scope 'MaxPool2D'); no variables.

  Args:
    inputs: [batch, height, width, channels] (or NCHW).
    kernel_size: an int or two ints.
    stride: an int or two ints.
    padding: 'VALID' (default) or 'SAME'.
    data_format: 'NHWC' or 'NCHW'.
    outputs_collections: collections for the output.
    scope: the name scope (default 'MaxPool2D').
  """,
)
avg_pool2d = _pool2d_function(
  tf.nn.avg_pool,
  'AvgPool2D',
  'avg_pool2d',
  "2-D average pooling (name scope 'AvgPool2D'); as `max_pool2d`.",
)
