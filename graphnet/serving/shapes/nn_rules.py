"""Shape rules of the neural network ops: convolutions, pools, normalisation.

A convolution costs `2*output*window*in_channels` FLOPs, a pool
`output*window`; windows, strides and dilations are bounded by 2^16, and
no window may slide over the batch or channel dimension.

Example:
    outputs, flops = nn_rules.RULES[node.op][0](node, *inputs)
"""

import math

from graphnet.serving.shapes import tensors

__all__ = ['RULES']

# op type -> (rule, arity) of every op below; see `tensors.rule`.
RULES = {}

# Largest kernel window side or stride of a convolution or a pool.
_MAX_WINDOW = 2**16


@tensors.rule(RULES, 2, 'BiasAdd BiasAddV1')
def _bias_add(node, x, bias):
  if x.rank < 2 or bias.rank != 1:
    raise tensors.refuse(
      node, f'it adds a bias of rank {bias.rank} to rank {x.rank}'
    )
  channels = (
    x.shape[1] if node.attr['data_format'].s == b'NCHW' else (x.shape[-1])
  )
  if bias.shape[0] != channels:
    raise tensors.refuse(
      node, 'its bias does not match the channels of its input'
    )
  return [tensors.out(node, x.dtype, x.shape)], tensors.count(x.shape)


def _spatial(node, x):
  """(layout, spatial axes, channel axis) of a 4-D NHWC/NCHW input."""
  layout = node.attr['data_format'].s or b'NHWC'
  if x.rank != 4 or layout not in (b'NHWC', b'NCHW'):
    raise tensors.refuse(
      node, f'it takes a 4-D NHWC or NCHW input, found {list(x.shape)}'
    )
  return (1, 2, 3) if layout == b'NCHW' else (3, 1, 2)


def _int_list(node, key, length):
  values = list(node.attr[key].list.i)
  if len(values) != length:
    raise tensors.refuse(
      node, f'its {key} {values} does not have {length} entries'
    )
  return values


def _window_out(node, size, window, stride, dilation, padding, pads):
  """Output length of a window sliding over `size` (TF's rules)."""
  if not (1 <= window <= _MAX_WINDOW and 1 <= stride <= _MAX_WINDOW):
    raise tensors.refuse(
      node, f'its window {window} or stride {stride} is outside 1..2^16'
    )
  if not 1 <= dilation <= _MAX_WINDOW:
    raise tensors.refuse(node, f'its dilation {dilation} is outside 1..2^16')
  reach = (window - 1) * dilation + 1
  if padding == b'SAME':
    return -(-size // stride)
  if padding == b'VALID':
    if size < reach:
      raise tensors.refuse(node, f'its window {reach} is larger than its input')
    return (size - reach) // stride + 1
  if padding == b'EXPLICIT':
    if any(p < 0 or p > tensors.MAX_DIM for p in pads):
      raise tensors.refuse(node, f'its explicit paddings {pads} are not >= 0')
    if size + sum(pads) < reach:
      raise tensors.refuse(node, f'its window {reach} is larger than its input')
    return (size + sum(pads) - reach) // stride + 1
  raise tensors.refuse(
    node, f'its padding {padding!r} is not SAME, VALID, EXPLICIT'
  )


def _windows(node, x, ksize, strides, dilations):
  """Output shape and window area of a conv or pool over `x`."""
  channel, *spatial = _spatial(node, x)
  padding = node.attr['padding'].s
  explicit = list(node.attr['explicit_paddings'].list.i)
  if padding == b'EXPLICIT' and len(explicit) != 8:
    raise tensors.refuse(node, 'its explicit_paddings do not have 8 entries')
  shape = list(x.shape)
  for axis in (0, channel):
    if strides[axis] != 1 or dilations[axis] != 1:
      raise tensors.refuse(
        node, 'it strides over the batch or channel dimension; not supported'
      )
  for axis, window in zip(spatial, ksize, strict=True):
    pads = explicit[2 * axis : 2 * axis + 2] if padding == b'EXPLICIT' else ()
    shape[axis] = _window_out(
      node,
      x.shape[axis],
      window,
      strides[axis],
      dilations[axis],
      padding,
      pads,
    )
  return shape, channel, math.prod(ksize)


@tensors.rule(RULES, 2, 'Conv2D DepthwiseConv2dNative')
def _conv2d(node, x, kernel):
  if kernel.rank != 4 or kernel.batched:
    raise tensors.refuse(
      node, f'its filter of shape {list(kernel.shape)} is not 4-D'
    )
  kh, kw, kin, kout = kernel.shape
  strides = _int_list(node, 'strides', 4)
  dilations = list(node.attr['dilations'].list.i) or [1, 1, 1, 1]
  if len(dilations) != 4:
    raise tensors.refuse(node, 'its dilations do not have 4 entries')
  shape, channel, area = _windows(node, x, (kh, kw), strides, dilations)
  cin = x.shape[channel]
  if node.op == 'DepthwiseConv2dNative':
    if cin != kin:
      raise tensors.refuse(node, 'its filter does not match its input channels')
    shape[channel] = kin * kout
    per_output = area
  else:
    if kin < 1 or cin % kin:
      raise tensors.refuse(node, 'its filter does not match its input channels')
    if kout < 1 or kout % (cin // kin):
      raise tensors.refuse(node, 'its filter does not match its groups')
    shape[channel] = kout
    per_output = area * kin
  return [tensors.out(node, x.dtype, shape)], 2 * tensors.count(
    shape
  ) * per_output


@tensors.rule(RULES, 1, 'MaxPool AvgPool')
def _pool(node, x, ksize=None, strides=None):
  if ksize is None:
    ksize = _int_list(node, 'ksize', 4)
    strides = _int_list(node, 'strides', 4)
  channel, *spatial = _spatial(node, x)
  if ksize[0] != 1 or ksize[channel] != 1:
    raise tensors.refuse(
      node, 'it pools over the batch or channel dimension; not supported'
    )
  window = [ksize[a] for a in spatial]
  shape, _, area = _windows(node, x, window, strides, [1, 1, 1, 1])
  # Each output element reads its whole window: a P x P window costs P^2.
  return [tensors.out(node, x.dtype, shape)], tensors.count(shape) * area


@tensors.rule(RULES, 3, 'MaxPoolV2')
def _pool_v2(node, x, ksize, strides):
  ksize = tensors.known(ksize, node, 'ksize')
  strides = tensors.known(strides, node, 'strides')
  if len(ksize) != 4 or len(strides) != 4:
    raise tensors.refuse(node, 'its ksize and strides must have 4 entries')
  return _pool(node, x, list(ksize), list(strides))


@tensors.rule(RULES, 5, 'FusedBatchNorm FusedBatchNormV3')
def _fused_batch_norm(node, x, scale, offset, mean, variance):
  if node.attr['is_training'].b:
    raise tensors.refuse(
      node,
      'it normalises with the statistics of the batch (is_training), so '
      'one example would change the prediction of another',
    )
  (channel, *_) = _spatial(node, x)
  params = (x.shape[channel],)
  for p in (scale, offset, mean, variance):
    if p.shape != params:
      raise tensors.refuse(
        node, 'its scale, offset, mean or variance do not fit'
      )
  outputs = [tensors.out(node, x.dtype, x.shape)]
  extra = 5 if node.op == 'FusedBatchNormV3' else 4
  outputs += [tensors.out(node, scale.dtype, params)] * extra
  return outputs, 4 * tensors.count(x.shape)


@tensors.rule(RULES, 1, 'Softmax LogSoftmax')
def _softmax(node, x):
  if x.rank < 1 or (x.batched and x.rank < 2):
    raise tensors.refuse(node, 'it normalises over the batch dimension')
  return [tensors.out(node, x.dtype, x.shape)], 3 * tensors.count(x.shape)


@tensors.rule(RULES, 2, 'TopKV2')
def _top_k(node, x, k):
  k = tensors.scalar(k, node, 'k')
  if x.rank < 1 or (x.batched and x.rank < 2) or not 0 <= k <= x.shape[-1]:
    raise tensors.refuse(node, f'its k {k} does not fit {list(x.shape)}')
  shape = x.shape[:-1] + (k,)
  dtype = node.attr['index_type'].type or tensors.INT32
  cost = tensors.count(x.shape) * max(1, k.bit_length())
  return [
    tensors.out(node, x.dtype, shape),
    tensors.out(node, dtype, shape),
  ], cost
