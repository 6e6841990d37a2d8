"""Static shapes and cost of an untrusted inference graph, from its protos.

TensorFlow's own shape inference cannot be trusted with a crafted file: the
importer merges the file's `_output_shapes` attributes into what it infers,
and it evaluates constant subgraphs (a `MaxPool` feeding a `Fill` dimension)
while importing, so checking a graph with it runs attacker work. This
module never imports or runs the graph. It reads the `GraphDef` node by
node and applies its own rule for each op of the inference allowlist:

* every tensor's shape must follow from the graph alone, except a leading
  batch dimension `N` that provably is the batch dimension of `images`;
* inputs that define shapes (`Fill` dims, `Reshape` shapes, `Tile`
  multiples, `Pad` paddings, slice bounds, axes, `Range` bounds, ...) must
  be constants, or be computed from the shape of a tensor by ops whose
  result this module tracks (`Shape`, `StridedSlice`, `Pack`, `ConcatV2`,
  `Cast`, arithmetic on constants); anything else is refused;
* no op may mix the examples of a batch (reduce, slice, concatenate or
  transpose along the batch dimension), so a batch can be split into
  smaller runs with the same results;
* attributes that drive cost are bounded (`Assert`'s `summarize`,
  `GatherV2`'s `batch_dims` against the ranks, every dimension below
  2^31, every element count below `MAX_ELEMENTS`).

From the shapes it sums the bytes of every tensor and the floating point
operations of every node (matrix products `2*m*k*n`, convolutions
`2*output*window*in_channels`, pools `output*window`, element-wise ops one
per element), split into what one example costs and what a run costs
whatever its batch (`Cost`), and refuses a graph above the `Caps`.

Attributes whose names start with `_` (`_output_shapes`, `_XlaCompile`,
`_XlaScope`, `_class`, ...) are for TF's internals, not part of the model:
`strip_private_attrs` removes them before a graph is imported.

Example:
    graph_def = cost_model.strip_private_attrs(graph_def)
    cost = cost_model.check_cost(graph_def)       # UnsafeGraphError
    cost.batch_limit(cost_model.DEFAULT_CAPS)     # images per session.run
"""

import dataclasses
import math

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import contract
from graphnet import errors

__all__ = [
  'BATCH',
  'MAX_DIM',
  'MAX_ELEMENTS',
  'MAX_ASSERT_SUMMARIZE',
  'Caps',
  'DEFAULT_CAPS',
  'Cost',
  'TensorInfo',
  'strip_private_attrs',
  'infer_shapes',
  'graph_cost',
  'check_cost',
  'images_feature_shape',
  'session_config',
]

# Largest dimension and element count of any tensor (TF's own limits are
# 2^63; products near them overflow inside its C++ and abort the process).
MAX_DIM = 2**31 - 1
MAX_ELEMENTS = 2**34
# Largest `summarize` of an `Assert` (elements of each tensor it prints).
MAX_ASSERT_SUMMARIZE = 1000
# Largest integer tensor whose value is tracked (shape vectors, axes, ...).
_MAX_TRACKED = 64
# Largest kernel window side or stride of a convolution or a pool.
_MAX_WINDOW = 2**16

_TRUSTED = (
  ' Load only graphs you trust; if you trust this one, pass '
  'allow_unsafe=True (the --allow_unsafe flag) to load it without checks.'
)


class _Batch:
  """The symbol of `images`' batch dimension (unknown until running)."""

  def __repr__(self):
    return 'N'


# The leading dimension of `images` and of every tensor computed per example.
BATCH = _Batch()


@dataclasses.dataclass(frozen=True)
class Caps:
  """What an untrusted graph may cost (defaults sized for ResNet-50 at 224²).

  Every field is a bound in bytes or floating point operations; raise them
  (the `caps` argument of `Predictor.from_checkpoint` and of
  `exporter.export_*`) for a bigger model you trust that much.
  """

  # All tensors of one example together (activations, per example).
  example_bytes: int = 2**30
  # The largest tensor of one example.
  tensor_bytes: int = 2**28
  # Tensors that do not grow with the batch (weights, constants), together.
  fixed_bytes: int = 2**30
  # Floating point operations of one example (ResNet-50: 8e9).
  example_flops: int = 2 * 10**10
  # Floating point operations that do not grow with the batch.
  fixed_flops: int = 10**10
  # Memory of one `session.run`: a larger batch is split into runs of at
  # most this many bytes of tensors (fixed part included).
  run_bytes: int = 2**31

  def __post_init__(self):
    for field in dataclasses.fields(self):
      value = getattr(self, field.name)
      if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise errors.ConfigError(
          f'Caps.{field.name}: expected an integer >= 1, found {value!r}.',
          field=field.name,
        )


DEFAULT_CAPS = Caps()


@dataclasses.dataclass(frozen=True)
class TensorInfo:
  """What the rules know of one tensor.

  `shape` holds ints and at most `BATCH`, as its first entry; `value` is
  the flattened value of a small integer tensor (ints and `BATCH`) when it
  is known from the graph alone, else None; `handle` is (dtype, shape) of
  the variable a resource handle points to.
  """

  dtype: int
  shape: tuple
  value: tuple | None = None
  handle: tuple | None = None

  @property
  def batched(self):
    return bool(self.shape) and self.shape[0] is BATCH

  @property
  def rank(self):
    return len(self.shape)


@dataclasses.dataclass(frozen=True)
class Cost:
  """Bytes and floating point operations of a graph, from its shapes."""

  # Bytes of all tensors computed for one example (they grow with N).
  example_bytes: int
  # Bytes of all tensors that do not depend on the batch size.
  fixed_bytes: int
  # Floating point operations per example, and per run whatever N.
  example_flops: int
  fixed_flops: int
  # The largest tensor per example: (bytes, tensor name).
  largest: tuple = (0, '')
  # What weighs most in each total, named in refusals: (amount, name) of
  # the largest fixed tensor, and of the nodes with the most FLOPs per
  # example and per run.
  largest_fixed: tuple = (0, '')
  costliest: tuple = (0, '')
  costliest_fixed: tuple = (0, '')

  def run_bytes(self, batch):
    """Upper bound of the tensor bytes of one run of `batch` examples."""
    return self.fixed_bytes + batch * self.example_bytes

  def batch_limit(self, caps=DEFAULT_CAPS):
    """Most examples one run may take within `caps.run_bytes` (>= 1)."""
    room = caps.run_bytes - self.fixed_bytes
    return max(1, room // max(1, self.example_bytes))


def _name(text):
  """Text of the file, quoted with its control characters escaped."""
  return f"'{errors.printable(text)}'"


def _refuse(node, why):
  return errors.UnsafeGraphError(
    f'node {_name(node.name)} (op {_name(node.op)}): {why}.{_TRUSTED}'
  )


def strip_private_attrs(graph_def):
  """A copy of `graph_def` without attributes whose names start with `_`.

  Those (`_output_shapes`, `_XlaCompile`, `_XlaScope`, `_class`, ...) are
  read by TF's importer, placer and compilers, never by the op itself: a
  file would use them to pass its own shapes off as inferred ones or to
  change which kernels run.
  """
  out = tf.GraphDef()
  out.CopyFrom(graph_def)
  nodes = list(out.node)
  for function in out.library.function:
    nodes.extend(function.node_def)
    for key in [k for k in function.attr if k.startswith('_')]:
      del function.attr[key]
  for node in nodes:
    for key in [k for k in node.attr if k.startswith('_')]:
      del node.attr[key]
  return out


def session_config(config=None):
  """`config` (or a new `ConfigProto`) that folds no constants, no XLA.

  Grappler's constant folding and the classic graph optimizer (level L1)
  run constant subgraphs while the session prepares the graph, which
  would evaluate what no check has priced; XLA would compile the graph
  with other kernels. Both are off. Grappler's other passes (fusing
  MatMul, BiasAdd and Relu, pruning) stay on: they evaluate nothing, and
  without them one MNIST image takes 4x longer.
  """
  out = tf.ConfigProto()
  if config is not None:
    out.CopyFrom(config)
  graph_options = out.graph_options
  graph_options.optimizer_options.opt_level = tf.OptimizerOptions.L0
  graph_options.optimizer_options.do_constant_folding = False
  graph_options.optimizer_options.do_function_inlining = False
  graph_options.optimizer_options.global_jit_level = tf.OptimizerOptions.OFF
  graph_options.rewrite_options.disable_meta_optimizer = False
  graph_options.rewrite_options.constant_folding = (
    graph_options.rewrite_options.OFF
  )
  return out


# --- Dtypes and element counts ---------------------------------------------

_INT_TYPES = frozenset(
  t.as_datatype_enum for t in (tf.int8, tf.int16, tf.int32, tf.int64)
)
_INT_TYPES |= frozenset(
  t.as_datatype_enum for t in (tf.uint8, tf.uint16, tf.uint32, tf.uint64)
)
_BOOL = tf.bool.as_datatype_enum
_INT32 = tf.int32.as_datatype_enum
_INT64 = tf.int64.as_datatype_enum
_FLOAT = tf.float32.as_datatype_enum
_RESOURCE = tf.resource.as_datatype_enum


def _dtype(node, enum, what='dtype'):
  """The DataType enum `enum`, refused unless a plain number or bool."""
  try:
    dtype = tf.as_dtype(enum)
  except (TypeError, ValueError) as e:
    raise _refuse(node, f'{what} is the unknown type number {enum}') from e
  if (
    dtype in (tf.string, tf.resource, tf.variant)
    or dtype.is_quantized
    or dtype._is_ref_dtype  # noqa: SLF001 - refs are variables, not values
  ):
    raise _refuse(node, f'{what} is {dtype.name}; inference computes numbers')
  return dtype.as_datatype_enum


def _size(enum):
  return tf.as_dtype(enum).size


def _count(shape, batch=1):
  """Element count of `shape` with `BATCH` taken as `batch`."""
  return math.prod(batch if d is BATCH else d for d in shape)


def _check_shape(node, shape):
  """Refuses a shape with a negative, huge or misplaced dimension."""
  for i, d in enumerate(shape):
    if d is BATCH:
      if i:
        raise _refuse(
          node,
          f'its output shape {list(shape)} moves the batch dimension N of '
          '`images` from the front; graphnet keeps examples independent',
        )
      continue
    if not isinstance(d, int) or d < 0 or d > MAX_DIM:
      raise _refuse(
        node, f'its output shape {list(shape)} has a dimension {d!r}'
      )
  nonzero = math.prod(d for d in shape if d is not BATCH and d)
  if nonzero > MAX_ELEMENTS:
    raise _refuse(
      node,
      f'its output shape {list(shape)} has more than {MAX_ELEMENTS} '
      'elements per example (counting only non-zero dimensions)',
    )
  return tuple(shape)


def _out(node, dtype, shape, value=None):
  return TensorInfo(dtype, _check_shape(node, shape), value)


# --- Values of small integer tensors ---------------------------------------


def _known(info, node, what, allow_batch=False):
  """The tracked value of `info` (a tuple), or refuse the node."""
  if info.value is None or (
    not allow_batch and any(v is BATCH for v in info.value)
  ):
    raise _refuse(
      node,
      f'its {what} is computed in a way graphnet cannot follow before '
      'running (it must be a constant, or computed from the shape of a '
      'tensor); its size would only be known while running',
    )
  return info.value


def _scalar(info, node, what):
  value = _known(info, node, what)
  if len(value) != 1:
    raise _refuse(node, f'its {what} holds {len(value)} values, expected one')
  return value[0]


def _axis(axis, rank, node, what='axis'):
  if not -rank <= axis < max(rank, 1):
    raise _refuse(node, f'its {what} {axis} is outside rank {rank}')
  return axis % rank if rank else 0


def _int_value(array, node):
  flat = [int(v) for v in np.asarray(array).reshape(-1)]
  if any(abs(v) > 2**62 for v in flat):
    raise _refuse(node, 'an integer it computes is near the int64 limit')
  return tuple(flat)


def _value_of(dtype, shape, value):
  """`value` (tuple) kept only for small integer tensors."""
  if value is None or dtype not in _INT_TYPES | {_BOOL}:
    return None
  if BATCH in shape or _count(shape) > _MAX_TRACKED:
    return None
  return tuple(value)


# --- Broadcasting -----------------------------------------------------------


def _broadcast(node, shapes):
  rank = max(len(s) for s in shapes)
  out = []
  for i in range(rank):
    dims = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0}
    dims.discard(1)
    if len(dims) > 1:
      raise _refuse(
        node,
        f'its inputs of shapes {[list(s) for s in shapes]} do not broadcast',
      )
    out.append(dims.pop() if dims else 1)
  return tuple(out)


# --- Rules, one per op family ----------------------------------------------

_UNARY = frozenset(
  """
  Abs Ceil CheckNumerics Elu Erf Exp Floor Identity LeakyRelu Log Log1p
  LogicalNot Neg OnesLike PreventGradient Reciprocal Relu Relu6 Round
  Rsqrt Selu Sigmoid Sign Snapshot Softplus Sqrt Square StopGradient Tanh
  ZerosLike
  """.split()
)
_PREDICATES = frozenset('IsFinite IsInf IsNan'.split())
_BINARY = frozenset(
  """
  Add AddV2 DivNoNan FloorDiv FloorMod Maximum Minimum Mod Mul Pow
  RealDiv SquaredDifference Sub LogicalAnd LogicalOr
  """.split()
)
_COMPARISONS = frozenset(
  'Equal NotEqual Greater GreaterEqual Less LessEqual'.split()
)
_REDUCTIONS = frozenset('All Any Max Mean Min Prod Sum'.split())
_PASS_VALUE = frozenset(
  'Identity Snapshot StopGradient PreventGradient'.split()
)
_ARITHMETIC = {
  'Add': lambda a, b: a + b,
  'AddV2': lambda a, b: a + b,
  'Sub': lambda a, b: a - b,
  'Mul': lambda a, b: a * b,
  'FloorDiv': lambda a, b: a // b if b else None,
  'FloorMod': lambda a, b: a % b if b else None,
  'Maximum': max,
  'Minimum': min,
}


def _attr_type(node, key):
  return node.attr[key].type


def _unary(node, x):
  value = x.value if node.op in _PASS_VALUE else None
  return [_out(node, x.dtype, x.shape, value)], _count(x.shape)


def _predicate(node, x):
  return [_out(node, _BOOL, x.shape)], _count(x.shape)


def _elementwise_value(node, inputs, shape):
  """The value of integer arithmetic on small known vectors, else None."""
  values = [i.value for i in inputs]
  if node.op not in _ARITHMETIC or any(v is None or BATCH in v for v in values):
    return None
  a, b = (
    np.array(v, object).reshape(i.shape)
    for v, i in zip(values, inputs, strict=True)
  )
  try:
    a, b = np.broadcast_arrays(a, b)
  except ValueError:
    return None
  out = [
    _ARITHMETIC[node.op](x, y) for x, y in zip(a.flat, b.flat, strict=True)
  ]
  if None in out:
    return None
  return _value_of(inputs[0].dtype, shape, _int_value(out, node))


def _binary(node, x, y):
  shape = _broadcast(node, [x.shape, y.shape])
  dtype = _BOOL if node.op in _COMPARISONS else x.dtype
  value = _elementwise_value(node, [x, y], shape)
  return [_out(node, dtype, shape, value)], _count(shape)


def _n_ary(node, *inputs):
  """AddN, Select, SelectV2, ClipByValue: broadcast of the inputs."""
  if node.op == 'Select' and inputs[0].rank == 1 and inputs[1].rank > 1:
    # Select with a vector condition picks whole rows.
    shapes = [inputs[1].shape, inputs[2].shape]
  else:
    shapes = [i.shape for i in inputs]
  if node.op == 'ClipByValue':
    shapes = [inputs[0].shape] + [i.shape for i in inputs[1:] if i.rank]
  shape = _broadcast(node, shapes)
  dtype = inputs[1].dtype if node.op.startswith('Select') else inputs[0].dtype
  return [_out(node, dtype, shape)], _count(shape) * len(inputs)


def _bias_add(node, x, bias):
  if x.rank < 2 or bias.rank != 1:
    raise _refuse(node, f'it adds a bias of rank {bias.rank} to rank {x.rank}')
  channels = (
    x.shape[1] if node.attr['data_format'].s == b'NCHW' else (x.shape[-1])
  )
  if bias.shape[0] != channels:
    raise _refuse(node, 'its bias does not match the channels of its input')
  return [_out(node, x.dtype, x.shape)], _count(x.shape)


def _matmul(node, a, b):
  if a.rank != 2 or b.rank != 2:
    raise _refuse(node, 'MatMul takes matrices')
  ta, tb = node.attr['transpose_a'].b, node.attr['transpose_b'].b
  m, k = reversed(a.shape) if ta else a.shape
  k2, n = reversed(b.shape) if tb else b.shape
  if BATCH in (k, k2, n) or k != k2:
    raise _refuse(
      node,
      f'it multiplies {list(a.shape)} by {list(b.shape)}: the inner '
      'dimensions differ, or the batch dimension is not the rows of its '
      'first input',
    )
  return [_out(node, a.dtype, (m, n))], 2 * _count((m, k, n))


def _batch_matmul(node, a, b):
  if a.rank < 2 or b.rank < 2:
    raise _refuse(node, 'BatchMatMul takes matrices')
  ta = node.attr['adj_x'].b
  tb = node.attr['adj_y'].b
  m, k = reversed(a.shape[-2:]) if ta else a.shape[-2:]
  k2, n = reversed(b.shape[-2:]) if tb else b.shape[-2:]
  if BATCH in (k, k2, n) or k != k2 or (b.batched and b.rank == 2):
    raise _refuse(
      node,
      f'it multiplies {list(a.shape)} by {list(b.shape)}, which do not fit',
    )
  outer = _broadcast(node, [a.shape[:-2], b.shape[:-2]])
  dtype = a.dtype
  if 'Tout' in node.attr:
    dtype = _dtype(node, _attr_type(node, 'Tout'), 'Tout')
  shape = outer + (m, n)
  return [_out(node, dtype, shape)], 2 * _count(outer + (m, k, n))


def _spatial(node, x):
  """(layout, spatial axes, channel axis) of a 4-D NHWC/NCHW input."""
  layout = node.attr['data_format'].s or b'NHWC'
  if x.rank != 4 or layout not in (b'NHWC', b'NCHW'):
    raise _refuse(
      node, f'it takes a 4-D NHWC or NCHW input, found {list(x.shape)}'
    )
  return (1, 2, 3) if layout == b'NCHW' else (3, 1, 2)


def _int_list(node, key, length):
  values = list(node.attr[key].list.i)
  if len(values) != length:
    raise _refuse(node, f'its {key} {values} does not have {length} entries')
  return values


def _window_out(node, size, window, stride, dilation, padding, pads):
  """Output length of a window sliding over `size` (TF's rules)."""
  if not (1 <= window <= _MAX_WINDOW and 1 <= stride <= _MAX_WINDOW):
    raise _refuse(
      node, f'its window {window} or stride {stride} is outside 1..2^16'
    )
  if not 1 <= dilation <= _MAX_WINDOW:
    raise _refuse(node, f'its dilation {dilation} is outside 1..2^16')
  reach = (window - 1) * dilation + 1
  if padding == b'SAME':
    return -(-size // stride)
  if padding == b'VALID':
    if size < reach:
      raise _refuse(node, f'its window {reach} is larger than its input')
    return (size - reach) // stride + 1
  if padding == b'EXPLICIT':
    if any(p < 0 or p > MAX_DIM for p in pads):
      raise _refuse(node, f'its explicit paddings {pads} are not >= 0')
    if size + sum(pads) < reach:
      raise _refuse(node, f'its window {reach} is larger than its input')
    return (size + sum(pads) - reach) // stride + 1
  raise _refuse(node, f'its padding {padding!r} is not SAME, VALID, EXPLICIT')


def _windows(node, x, ksize, strides, dilations):
  """Output shape and window area of a conv or pool over `x`."""
  channel, *spatial = _spatial(node, x)
  padding = node.attr['padding'].s
  explicit = list(node.attr['explicit_paddings'].list.i)
  if padding == b'EXPLICIT' and len(explicit) != 8:
    raise _refuse(node, 'its explicit_paddings do not have 8 entries')
  shape = list(x.shape)
  for axis in (0, channel):
    if strides[axis] != 1 or dilations[axis] != 1:
      raise _refuse(
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


def _conv2d(node, x, kernel):
  if kernel.rank != 4 or kernel.batched:
    raise _refuse(node, f'its filter of shape {list(kernel.shape)} is not 4-D')
  kh, kw, kin, kout = kernel.shape
  strides = _int_list(node, 'strides', 4)
  dilations = list(node.attr['dilations'].list.i) or [1, 1, 1, 1]
  if len(dilations) != 4:
    raise _refuse(node, 'its dilations do not have 4 entries')
  shape, channel, area = _windows(node, x, (kh, kw), strides, dilations)
  cin = x.shape[channel]
  if node.op == 'DepthwiseConv2dNative':
    if cin != kin:
      raise _refuse(node, 'its filter does not match its input channels')
    shape[channel] = kin * kout
    per_output = area
  else:
    if kin < 1 or cin % kin:
      raise _refuse(node, 'its filter does not match its input channels')
    if kout < 1 or kout % (cin // kin):
      raise _refuse(node, 'its filter does not match its groups')
    shape[channel] = kout
    per_output = area * kin
  return [_out(node, x.dtype, shape)], 2 * _count(shape) * per_output


def _pool(node, x, ksize=None, strides=None):
  if ksize is None:
    ksize = _int_list(node, 'ksize', 4)
    strides = _int_list(node, 'strides', 4)
  channel, *spatial = _spatial(node, x)
  if ksize[0] != 1 or ksize[channel] != 1:
    raise _refuse(
      node, 'it pools over the batch or channel dimension; not supported'
    )
  window = [ksize[a] for a in spatial]
  shape, _, area = _windows(node, x, window, strides, [1, 1, 1, 1])
  # Each output element reads its whole window: a P x P window costs P^2.
  return [_out(node, x.dtype, shape)], _count(shape) * area


def _pool_v2(node, x, ksize, strides):
  ksize = _known(ksize, node, 'ksize')
  strides = _known(strides, node, 'strides')
  if len(ksize) != 4 or len(strides) != 4:
    raise _refuse(node, 'its ksize and strides must have 4 entries')
  return _pool(node, x, list(ksize), list(strides))


def _fused_batch_norm(node, x, scale, offset, mean, variance):
  if node.attr['is_training'].b:
    raise _refuse(
      node,
      'it normalises with the statistics of the batch (is_training), so '
      'one example would change the prediction of another',
    )
  (channel, *_) = _spatial(node, x)
  params = (x.shape[channel],)
  for p in (scale, offset, mean, variance):
    if p.shape != params:
      raise _refuse(node, 'its scale, offset, mean or variance do not fit')
  outputs = [_out(node, x.dtype, x.shape)]
  extra = 5 if node.op == 'FusedBatchNormV3' else 4
  outputs += [_out(node, scale.dtype, params)] * extra
  return outputs, 4 * _count(x.shape)


def _softmax(node, x):
  if x.rank < 1 or (x.batched and x.rank < 2):
    raise _refuse(node, 'it normalises over the batch dimension')
  return [_out(node, x.dtype, x.shape)], 3 * _count(x.shape)


def _arg_max(node, x, axis):
  axis = _axis(_scalar(axis, node, 'axis'), x.rank, node)
  if x.batched and axis == 0:
    raise _refuse(node, 'it reduces over the batch dimension')
  shape = x.shape[:axis] + x.shape[axis + 1 :]
  dtype = node.attr['output_type'].type or _INT64
  return [_out(node, dtype, shape)], _count(x.shape)


def _reduction(node, x, axes):
  axes = {_axis(a, x.rank, node) for a in _known(axes, node, 'axes')}
  if x.batched and 0 in axes:
    raise _refuse(node, 'it reduces over the batch dimension')
  keep = node.attr['keep_dims'].b
  shape = tuple(
    1 if i in axes else d
    for i, d in enumerate(x.shape)
    if keep or i not in axes
  )
  value = None
  if node.op == 'Prod' and x.value is not None and not x.batched:
    if x.rank == 1 and not keep and axes == {0} and BATCH not in x.value:
      value = _int_value([math.prod(x.value)], node)
  return [_out(node, x.dtype, shape, value)], _count(x.shape)


def _reshape(node, x, target):
  target = list(_known(target, node, 'shape', allow_batch=True))
  if target.count(-1) > 1 or any(t is not BATCH and t < -1 for t in target):
    raise _refuse(node, f'its target shape {target} is not valid')
  if BATCH in target[1:]:
    raise _refuse(node, 'it moves the batch dimension from the front')
  per_example = _count(x.shape[1:]) if x.batched else _count(x.shape)
  if x.batched:
    if target and target[0] == -1 and -1 not in target[1:]:
      target[0] = BATCH
    if not target or target[0] is not BATCH:
      raise _refuse(
        node,
        f'it reshapes {list(x.shape)} to {target}, mixing examples of the '
        'batch',
      )
  elif target and target[0] is BATCH:
    raise _refuse(node, 'it gives a batch dimension to a per-run tensor')
  rest = [t for t in target if t is not BATCH and t != -1]
  known = math.prod(rest)
  if -1 in target:
    if not known or per_example % known:
      raise _refuse(
        node, f'it reshapes {list(x.shape)} to {target}, which does not fit'
      )
    target[target.index(-1)] = per_example // known
  elif known != per_example:
    raise _refuse(
      node, f'it reshapes {list(x.shape)} to {target}, which does not fit'
    )
  shape = tuple(target)
  return [_out(node, x.dtype, shape, _value_of(x.dtype, shape, x.value))], 0


def _expand_dims(node, x, axis):
  axis = _scalar(axis, node, 'axis')
  axis = _axis(axis, x.rank + 1, node)
  if x.batched and axis == 0:
    raise _refuse(node, 'it inserts a dimension before the batch')
  shape = x.shape[:axis] + (1,) + x.shape[axis:]
  return [_out(node, x.dtype, shape, _value_of(x.dtype, shape, x.value))], 0


def _squeeze(node, x):
  axes = {_axis(a, x.rank, node) for a in node.attr['squeeze_dims'].list.i}
  if not axes:
    axes = {i for i, d in enumerate(x.shape) if d == 1}
  if any(x.shape[a] != 1 for a in axes):
    raise _refuse(node, f'it squeezes a dimension of {list(x.shape)} not 1')
  shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
  return [_out(node, x.dtype, shape, _value_of(x.dtype, shape, x.value))], 0


def _out_type(node):
  return node.attr['out_type'].type or _INT32


def _shape(node, *inputs):
  return [_out(node, _out_type(node), (x.rank,), x.shape) for x in inputs], 0


def _size_op(node, x):
  value = None if x.batched else (_count(x.shape),)
  return [_out(node, _out_type(node), (), value)], 0


def _rank(node, x):
  return [_out(node, _INT32, (), (x.rank,))], 0


def _slice_dims(node, x, begin, end, strides):
  """Per input dim (start, stop, step, shrink) of a StridedSlice, or None."""
  masks = {
    k: node.attr[k].i
    for k in (
      'begin_mask',
      'end_mask',
      'ellipsis_mask',
      'new_axis_mask',
      'shrink_axis_mask',
    )
  }
  if not len(begin) == len(end) == len(strides):
    raise _refuse(node, 'its begin, end and strides differ in length')
  if bin(masks['ellipsis_mask']).count('1') > 1:
    raise _refuse(node, 'it has more than one ellipsis')
  specs = []  # (kind, start, stop, step) per entry of the slice
  for i in range(len(begin)):
    bit = 1 << i
    if masks['ellipsis_mask'] & bit:
      specs.append(('...', None, None, None))
    elif masks['new_axis_mask'] & bit:
      specs.append(('new', None, None, None))
    else:
      start = None if masks['begin_mask'] & bit else begin[i]
      stop = None if masks['end_mask'] & bit else end[i]
      kind = 'shrink' if masks['shrink_axis_mask'] & bit else 'range'
      specs.append((kind, start, stop, strides[i]))
  dims = sum(1 for s in specs if s[0] in ('range', 'shrink'))
  if ('...', None, None, None) in specs:
    at = specs.index(('...', None, None, None))
    fill = [('range', None, None, 1)] * max(0, x.rank - dims)
    specs[at : at + 1] = fill
  else:
    specs += [('range', None, None, 1)] * max(0, x.rank - dims)
  if sum(1 for s in specs if s[0] != 'new') != x.rank:
    raise _refuse(node, f'it slices more dimensions than {list(x.shape)} has')
  return specs


def _apply_slice(node, x, specs):
  """(output shape, slicer over the flat value or None)."""
  shape, picks, axis = [], [], 0
  for kind, start, stop, step in specs:
    if kind == 'new':
      shape.append(1)
      continue
    size = x.shape[axis]
    if step == 0:
      raise _refuse(node, 'its stride is 0')
    if size is BATCH:
      if (
        kind == 'shrink'
        or start not in (None, 0)
        or step != 1
        or (stop is not None and stop < MAX_DIM)
      ):
        raise _refuse(node, 'it slices along the batch dimension')
      shape.append(BATCH)
      picks.append(None)
    elif kind == 'shrink':
      index = start if start is not None else 0
      if not -size <= index < size:
        raise _refuse(node, f'its index {index} is outside 0..{size - 1}')
      picks.append([index % size])
    else:
      picked = range(*slice(start, stop, step).indices(size))
      shape.append(len(picked))
      picks.append(list(picked))
    axis += 1
  return tuple(shape), picks


def _sliced_value(x, shape, picks):
  if x.value is None or x.rank != 1 or picks[0] is None:
    return None
  return _value_of(x.dtype, shape, [x.value[i] for i in picks[0]])


def _strided_slice(node, x, begin, end, strides):
  bounds = [
    _known(v, node, what)
    for v, what in ((begin, 'begin'), (end, 'end'), (strides, 'strides'))
  ]
  specs = _slice_dims(node, x, *bounds)
  shape, picks = _apply_slice(node, x, specs)
  return [_out(node, x.dtype, shape, _sliced_value(x, shape, picks))], (
    _count(shape)
  )


def _slice(node, x, begin, size):
  begin = _known(begin, node, 'begin')
  size = _known(size, node, 'size', allow_batch=True)
  if len(begin) != x.rank or len(size) != x.rank:
    raise _refuse(node, f'its begin and size do not fit {list(x.shape)}')
  specs = []
  for d, b, s in zip(x.shape, begin, size, strict=True):
    if d is BATCH:
      if b != 0 or s not in (-1, BATCH):
        raise _refuse(node, 'it slices along the batch dimension')
      specs.append(('range', None, None, 1))
      continue
    if s is BATCH or b < 0 or s < -1 or (s != -1 and b + s > d) or b > d:
      raise _refuse(
        node,
        f'its begin {list(begin)} and size {list(size)} '
        f'do not fit {list(x.shape)}',
      )
    specs.append(('range', b, d if s == -1 else b + s, 1))
  shape, picks = _apply_slice(node, x, specs)
  return [_out(node, x.dtype, shape, _sliced_value(x, shape, picks))], (
    _count(shape)
  )


def _pack(node, *inputs):
  x = inputs[0]
  if any(i.shape != x.shape for i in inputs):
    raise _refuse(node, 'it packs tensors of different shapes')
  axis = _axis(node.attr['axis'].i, x.rank + 1, node)
  if x.batched and axis == 0:
    raise _refuse(node, 'it stacks along the batch dimension')
  shape = x.shape[:axis] + (len(inputs),) + x.shape[axis:]
  value = None
  if x.rank == 0 and all(i.value is not None for i in inputs):
    value = tuple(i.value[0] for i in inputs)
  return [_out(node, x.dtype, shape, value)], _count(shape)


def _concat(node, *inputs):
  if node.op == 'Concat':
    axis, *parts = inputs
  else:
    *parts, axis = inputs
  x = parts[0]
  axis = _axis(_scalar(axis, node, 'axis'), x.rank, node)
  if x.batched and axis == 0:
    raise _refuse(node, 'it concatenates along the batch dimension')
  for p in parts:
    if p.rank != x.rank or any(
      a != b
      for i, (a, b) in enumerate(zip(p.shape, x.shape, strict=True))
      if i != axis
    ):
      raise _refuse(node, 'it concatenates tensors that do not fit')
  total = sum(p.shape[axis] for p in parts)
  shape = x.shape[:axis] + (total,) + x.shape[axis + 1 :]
  value = None
  if x.rank == 1 and all(p.value is not None for p in parts):
    value = tuple(v for p in parts for v in p.value)
  return [_out(node, x.dtype, shape, value)], _count(shape)


def _split(node, *inputs):
  if node.op == 'Split':
    axis, x = inputs
    sizes = None
  else:
    x, sizes, axis = inputs
    sizes = list(_known(sizes, node, 'size_splits'))
  axis = _axis(_scalar(axis, node, 'axis'), x.rank, node)
  if x.batched and axis == 0:
    raise _refuse(node, 'it splits along the batch dimension')
  num = node.attr['num_split'].i
  if not 1 <= num <= 2**16:
    raise _refuse(node, f'its num_split {num} is outside 1..2^16')
  length = x.shape[axis]
  if sizes is None:
    if length % num:
      raise _refuse(node, f'it splits {length} into {num} unequal parts')
    sizes = [length // num] * num
  if len(sizes) != num or sizes.count(-1) > 1:
    raise _refuse(node, f'its size_splits {sizes} do not fit num_split')
  if -1 in sizes:
    sizes[sizes.index(-1)] = length - (sum(sizes) + 1)
  if any(s < 0 for s in sizes) or sum(sizes) != length:
    raise _refuse(node, f'its size_splits {sizes} do not add up to {length}')
  outs = [
    _out(node, x.dtype, x.shape[:axis] + (s,) + x.shape[axis + 1 :])
    for s in sizes
  ]
  return outs, _count(x.shape)


def _unpack(node, x):
  axis = _axis(node.attr['axis'].i, x.rank, node)
  if x.batched and axis == 0:
    raise _refuse(node, 'it unstacks along the batch dimension')
  if node.attr['num'].i != x.shape[axis]:
    raise _refuse(node, 'its num does not match its input')
  shape = x.shape[:axis] + x.shape[axis + 1 :]
  return [_out(node, x.dtype, shape)] * x.shape[axis], _count(x.shape)


def _tile(node, x, multiples):
  multiples = _known(multiples, node, 'multiples')
  if len(multiples) != x.rank or any(m < 0 for m in multiples):
    raise _refuse(node, f'its multiples {list(multiples)} do not fit')
  if x.batched and multiples[0] != 1:
    raise _refuse(node, 'it repeats along the batch dimension')
  shape = tuple(
    d if d is BATCH else d * m for d, m in zip(x.shape, multiples, strict=True)
  )
  return [_out(node, x.dtype, shape)], _count(shape)


def _pad(node, x, paddings, *constant):
  del constant  # A scalar; its shape is checked like any tensor's.
  pads = _known(paddings, node, 'paddings')
  if len(pads) != 2 * x.rank or any(p < 0 for p in pads):
    raise _refuse(node, f'its paddings {list(pads)} do not fit')
  if x.batched and (pads[0] or pads[1]):
    raise _refuse(node, 'it pads along the batch dimension')
  shape = tuple(
    d if d is BATCH else d + pads[2 * i] + pads[2 * i + 1]
    for i, d in enumerate(x.shape)
  )
  return [_out(node, x.dtype, shape)], _count(shape)


def _shape_from(node, info, what):
  dims = _known(info, node, what, allow_batch=True)
  if BATCH in dims[1:] or any(d is not BATCH and d < 0 for d in dims):
    raise _refuse(node, f'its {what} {list(dims)} is not a valid shape')
  return tuple(dims)


def _fill(node, dims, value):
  if value.rank:
    raise _refuse(node, 'its value is not a scalar')
  shape = _shape_from(node, dims, 'dims')
  return [_out(node, value.dtype, shape)], _count(shape)


def _random(node, shape, *seed):
  del seed
  shape = _shape_from(node, shape, 'shape')
  dtype = _dtype(node, _attr_type(node, 'dtype'))
  return [_out(node, dtype, shape)], 10 * _count(shape)


def _broadcast_to(node, x, shape):
  shape = _shape_from(node, shape, 'shape')
  if x.batched and shape[:1] != (BATCH,):
    raise _refuse(node, 'it broadcasts along the batch dimension')
  out = _broadcast(node, [x.shape, shape])
  if out != shape:
    raise _refuse(node, f'it cannot broadcast {list(x.shape)} to {shape}')
  return [_out(node, x.dtype, out)], _count(out)


def _broadcast_args(node, s0, s1):
  a = _shape_from(node, s0, 's0')
  b = _shape_from(node, s1, 's1')
  shape = _broadcast(node, [a, b])
  return [_out(node, s0.dtype, (len(shape),), shape)], 0


def _range(node, start, limit, delta):
  start, limit, delta = (
    _scalar(v, node, what)
    for v, what in ((start, 'start'), (limit, 'limit'), (delta, 'delta'))
  )
  if not delta:
    raise _refuse(node, 'its delta is 0')
  length = max(0, -(-(limit - start) // delta))
  shape = (length,)
  value = None
  if length <= _MAX_TRACKED:
    value = _value_of(
      _attr_type(node, 'Tidx'), shape, range(start, limit, delta)
    )
  return [_out(node, _attr_type(node, 'Tidx'), shape, value)], length


def _one_hot(node, indices, depth, on, off):
  del off
  depth = _scalar(depth, node, 'depth')
  if depth < 0:
    raise _refuse(node, f'its depth {depth} is negative')
  axis = node.attr['axis'].i
  axis = indices.rank if axis == -1 else _axis(axis, indices.rank + 1, node)
  if indices.batched and axis == 0:
    raise _refuse(node, 'it inserts a dimension before the batch')
  shape = indices.shape[:axis] + (depth,) + indices.shape[axis:]
  return [_out(node, on.dtype, shape)], _count(shape)


def _gather(node, params, indices, axis):
  axis = _scalar(axis, node, 'axis')
  batch_dims = node.attr['batch_dims'].i
  if batch_dims < 0:
    batch_dims += indices.rank
  if not 0 <= batch_dims <= min(indices.rank, params.rank - 1):
    raise _refuse(
      node,
      f'its batch_dims {node.attr["batch_dims"].i} does not fit its params '
      f'of rank {params.rank} and indices of rank {indices.rank}',
    )
  axis = _axis(axis, params.rank, node)
  if axis < batch_dims:
    raise _refuse(node, f'its axis {axis} is below batch_dims {batch_dims}')
  if params.shape[:batch_dims] != indices.shape[:batch_dims]:
    raise _refuse(node, 'its params and indices differ in batch dimensions')
  if params.batched and axis == 0:
    raise _refuse(node, 'it gathers along the batch dimension')
  if params.batched and indices.batched and batch_dims == 0:
    raise _refuse(node, 'it gathers every example for every example')
  if indices.dtype not in (_INT32, _INT64):
    raise _refuse(node, 'its indices are not int32 or int64')
  shape = (
    params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis + 1 :]
  )
  value = None
  if params.value is not None and indices.value is not None:
    if (
      params.rank == 1
      and BATCH not in indices.value
      and (all(-1 < i < len(params.value) for i in indices.value))
    ):
      value = _value_of(
        params.dtype, shape, [params.value[i] for i in indices.value]
      )
  return [_out(node, params.dtype, shape, value)], _count(shape)


def _gather_nd(node, params, indices):
  if node.attr['batch_dims'].i:
    raise _refuse(node, 'its batch_dims is not 0; not supported')
  if indices.rank < 1 or indices.shape[-1] is BATCH:
    raise _refuse(node, 'its indices have no index depth')
  depth = indices.shape[-1]
  if depth > params.rank:
    raise _refuse(node, f'its index depth {depth} exceeds rank {params.rank}')
  if params.batched and depth:
    raise _refuse(node, 'it gathers along the batch dimension')
  if indices.dtype not in (_INT32, _INT64):
    raise _refuse(node, 'its indices are not int32 or int64')
  shape = indices.shape[:-1] + params.shape[depth:]
  return [_out(node, params.dtype, shape)], _count(shape)


def _top_k(node, x, k):
  k = _scalar(k, node, 'k')
  if x.rank < 1 or (x.batched and x.rank < 2) or not 0 <= k <= x.shape[-1]:
    raise _refuse(node, f'its k {k} does not fit {list(x.shape)}')
  shape = x.shape[:-1] + (k,)
  dtype = node.attr['index_type'].type or _INT32
  cost = _count(x.shape) * max(1, k.bit_length())
  return [_out(node, x.dtype, shape), _out(node, dtype, shape)], cost


def _transpose(node, x, perm):
  perm = list(_known(perm, node, 'perm'))
  if sorted(p % max(x.rank, 1) for p in perm) != list(range(x.rank)):
    raise _refuse(node, f'its perm {perm} is not a permutation')
  perm = [p % x.rank for p in perm]
  if x.batched and perm[0] != 0:
    raise _refuse(node, 'it moves the batch dimension from the front')
  shape = tuple(x.shape[p] for p in perm)
  value = None
  if x.value is not None and x.rank <= 1:
    value = x.value
  return [_out(node, x.dtype, shape, value)], _count(shape)


def _cast(node, x):
  dtype = _dtype(node, _attr_type(node, 'DstT'), 'DstT')
  return [
    _out(node, dtype, x.shape, _value_of(dtype, x.shape, x.value))
  ], _count(x.shape)


def _identity_n(node, *inputs):
  return [_out(node, i.dtype, i.shape, i.value) for i in inputs], 0


def _assert(node, condition, *data):
  summarize = node.attr['summarize'].i
  if not 0 <= summarize <= MAX_ASSERT_SUMMARIZE:
    raise _refuse(
      node,
      f'it prints {summarize} elements of each tensor when it fails; '
      f'graphnet accepts at most {MAX_ASSERT_SUMMARIZE}',
    )
  if condition.rank:
    raise _refuse(node, 'its condition is not a scalar')
  # Formatting the message reads at most `summarize` elements per tensor.
  return [], sum(min(summarize, _count(d.shape)) for d in data)


def _no_op(node, *inputs):
  del node, inputs
  return [], 0


def _placeholder_with_default(node, x):
  declared = node.attr['shape'].shape
  if not declared.unknown_rank and len(declared.dim) != x.rank:
    raise _refuse(node, 'its shape does not match its default')
  return [_out(node, x.dtype, x.shape, x.value)], 0


def _read_variable(node, handle):
  if handle.handle is None:
    raise _refuse(node, 'it reads something that is not a variable')
  dtype, shape = handle.handle
  return [_out(node, dtype, shape)], 0


# op type -> (rule, number of inputs or None for any). Rules take the node
# and its input TensorInfos; they return (outputs, FLOPs).
_RULES = {
  **{op: (_unary, 1) for op in _UNARY},
  **{op: (_predicate, 1) for op in _PREDICATES},
  **{op: (_binary, 2) for op in _BINARY | _COMPARISONS},
  **{op: (_reduction, 2) for op in _REDUCTIONS},
  'AddN': (_n_ary, None),
  'Select': (_n_ary, 3),
  'SelectV2': (_n_ary, 3),
  'ClipByValue': (_n_ary, 3),
  'BiasAdd': (_bias_add, 2),
  'BiasAddV1': (_bias_add, 2),
  'MatMul': (_matmul, 2),
  'BatchMatMul': (_batch_matmul, 2),
  'BatchMatMulV2': (_batch_matmul, 2),
  'BatchMatMulV3': (_batch_matmul, 2),
  'Conv2D': (_conv2d, 2),
  'DepthwiseConv2dNative': (_conv2d, 2),
  'MaxPool': (_pool, 1),
  'AvgPool': (_pool, 1),
  'MaxPoolV2': (_pool_v2, 3),
  'FusedBatchNorm': (_fused_batch_norm, 5),
  'FusedBatchNormV3': (_fused_batch_norm, 5),
  'Softmax': (_softmax, 1),
  'LogSoftmax': (_softmax, 1),
  'ArgMax': (_arg_max, 2),
  'ArgMin': (_arg_max, 2),
  'Reshape': (_reshape, 2),
  'ExpandDims': (_expand_dims, 2),
  'Squeeze': (_squeeze, 1),
  'Shape': (_shape, 1),
  'ShapeN': (_shape, None),
  'Size': (_size_op, 1),
  'Rank': (_rank, 1),
  'StridedSlice': (_strided_slice, 4),
  'Slice': (_slice, 3),
  'Pack': (_pack, None),
  'Concat': (_concat, None),
  'ConcatV2': (_concat, None),
  'Split': (_split, 2),
  'SplitV': (_split, 3),
  'Unpack': (_unpack, 1),
  'Tile': (_tile, 2),
  'Pad': (_pad, 2),
  'PadV2': (_pad, 3),
  'Fill': (_fill, 2),
  'RandomUniform': (_random, 1),
  'RandomStandardNormal': (_random, 1),
  'TruncatedNormal': (_random, 1),
  'StatelessRandomUniform': (_random, 2),
  'StatelessRandomNormal': (_random, 2),
  'BroadcastTo': (_broadcast_to, 2),
  'BroadcastArgs': (_broadcast_args, 2),
  'Range': (_range, 3),
  'OneHot': (_one_hot, 4),
  'GatherV2': (_gather, 3),
  'GatherNd': (_gather_nd, 2),
  'TopKV2': (_top_k, 2),
  'Transpose': (_transpose, 2),
  'Cast': (_cast, 1),
  'IdentityN': (_identity_n, None),
  'Assert': (_assert, None),
  'NoOp': (_no_op, 0),
  'PlaceholderWithDefault': (_placeholder_with_default, 1),
  'ReadVariableOp': (_read_variable, 1),
}


# --- Sources: constants, variables, the images placeholder ------------------


def _declared_shape(node, proto, what):
  if proto.unknown_rank or any(d.size < 0 for d in proto.dim):
    raise _refuse(node, f'its {what} is not fully known')
  return tuple(d.size for d in proto.dim)


def _const(node):
  proto = node.attr['value'].tensor
  dtype = _dtype(node, proto.dtype)
  if node.attr['dtype'].type != proto.dtype:
    raise _refuse(node, 'its dtype differs from its value')
  shape = _check_shape(node, _declared_shape(node, proto.tensor_shape, 'shape'))
  value = None
  if dtype in _INT_TYPES | {_BOOL} and _count(shape) <= _MAX_TRACKED:
    try:
      array = tf.make_ndarray(proto)
    except (TypeError, ValueError) as e:
      raise _refuse(node, f'its value does not parse ({e})') from e
    value = _int_value(array, node)
  return TensorInfo(dtype, shape, value)


def _source(node, feature_shape):
  """TensorInfo of a node without inputs, or None if not a source op."""
  if node.op == 'Const':
    return _const(node)
  if node.op == 'Placeholder':
    if node.name != contract.IMAGES:
      raise _refuse(
        node,
        'it is a placeholder other than `images`; prediction feeds only '
        '`images`',
      )
    return TensorInfo(
      _dtype(node, _attr_type(node, 'dtype')),
      _check_shape(node, (BATCH, *feature_shape)),
    )
  if node.op in ('VariableV2', 'VarHandleOp'):
    shape = _check_shape(
      node, _declared_shape(node, node.attr['shape'].shape, 'shape')
    )
    dtype = _dtype(node, _attr_type(node, 'dtype'))
    if node.op == 'VariableV2':
      return TensorInfo(dtype, shape)
    return TensorInfo(_RESOURCE, (), handle=(dtype, shape))
  return None


def images_feature_shape(graph_def):
  """The example shape `images` declares, or MNIST's (784,) if unknown."""
  for node in graph_def.node:
    if node.name == contract.IMAGES:
      shape = node.attr['shape'].shape
      example = [d.size for d in shape.dim[1:]]
      if shape.unknown_rank or not example or any(d < 1 for d in example):
        return (contract.IMAGE_PIXELS,)
      return tuple(example)
  raise errors.UnsafeGraphError(
    f'the graph has no node {contract.IMAGES!r}; the graphnet contract '
    f'needs it.{_TRUSTED}'
  )


# --- The walk ---------------------------------------------------------------


def _parse_input(text):
  """'scope/op:1' -> ('scope/op', 1); '^op' -> ('op', None)."""
  if text.startswith('^'):
    return text[1:], None
  name, _, index = text.partition(':')
  return name, int(index) if index.isdigit() else 0


def _order(graph_def):
  """Nodes in an order where every input comes first (Kahn's algorithm)."""
  by_name = {}
  for node in graph_def.node:
    if node.name in by_name:
      raise _refuse(node, 'its name is used by two nodes')
    by_name[node.name] = node
  waiting = {}
  users = {}
  for node in graph_def.node:
    deps = {_parse_input(i)[0] for i in node.input}
    for dep in deps:
      if dep not in by_name:
        raise _refuse(node, f'its input {_name(dep)} is not a node')
      users.setdefault(dep, []).append(node.name)
    waiting[node.name] = len(deps)
  ready = [n for n, count in waiting.items() if not count]
  order = []
  while ready:
    name = ready.pop()
    order.append(by_name[name])
    for user in users.get(name, ()):
      waiting[user] -= 1
      if not waiting[user]:
        ready.append(user)
  if len(order) != len(by_name):
    stuck = sorted(n for n, c in waiting.items() if c)[0]
    raise _refuse(by_name[stuck], 'it is part of a cycle')
  return order


def infer_shapes(graph_def, feature_shape=None):
  """{node name: [TensorInfo per output]} of an inference graph.

  Args:
    graph_def: the pruned inference `GraphDef` (variables as variable ops
      or as constants); `images` is its only `Placeholder`.
    feature_shape: the example shape of `images`; default the one it
      declares (MNIST's (784,) when not fully declared).

  Returns:
    the shapes and known values of every node's outputs, with `BATCH` for
    the batch dimension of `images`, and the FLOPs of each node.

  Raises:
    UnsafeGraphError: naming the first node without a rule, with a shape
      not known from the graph alone, or breaking a bound of this module.
  """
  if feature_shape is None:
    feature_shape = images_feature_shape(graph_def)
  functions = {f.signature.name for f in graph_def.library.function}
  for node in graph_def.node:
    calls = node.op in functions or any(
      value.HasField('func') or value.list.func for value in node.attr.values()
    )
    if calls:
      raise _refuse(
        node,
        'it calls a function of the graph library; the sizes of its '
        'tensors are not known before running, so graphnet does not run '
        'functions in an inference graph',
      )
  if functions:
    raise errors.UnsafeGraphError(
      'the inference graph holds library functions; the sizes of their '
      'tensors are not known before running, so graphnet does not run '
      f'functions in an inference graph.{_TRUSTED}'
    )
  infos, flops = {}, {}
  for node in _order(graph_def):
    inputs = []
    for text in node.input:
      name, index = _parse_input(text)
      if index is None:
        continue
      outputs = infos[name]
      if index >= len(outputs):
        raise _refuse(node, f'it reads output {index} of {_name(name)}')
      inputs.append(outputs[index])
    source = _source(node, feature_shape) if not inputs else None
    if source is not None:
      infos[node.name], flops[node.name] = [source], 0
      continue
    if node.op not in _RULES:
      raise _refuse(
        node,
        "graphnet's cost model has no rule for this op, so the size and "
        'time of what it computes are not known before running',
      )
    rule, arity = _RULES[node.op]
    if arity is not None and len(inputs) != arity:
      raise _refuse(node, f'it has {len(inputs)} inputs, expected {arity}')
    if node.op not in ('Assert', 'NoOp', 'IdentityN') and not inputs:
      raise _refuse(node, 'it has no inputs')
    for i in inputs:
      if i.dtype == _RESOURCE and node.op != 'ReadVariableOp':
        raise _refuse(node, 'it uses a variable handle directly')
    infos[node.name], flops[node.name] = rule(node, *inputs)
  return infos, flops


def graph_cost(graph_def, feature_shape=None):
  """The `Cost` of an inference graph (see `infer_shapes`)."""
  infos, flops = infer_shapes(graph_def, feature_shape)
  example = fixed = example_flops = fixed_flops = 0
  largest = largest_fixed = costliest = costliest_fixed = (0, '')
  for name, outputs in infos.items():
    batched = False
    for index, info in enumerate(outputs):
      if info.dtype == _RESOURCE:
        continue
      size = _count(info.shape) * _size(info.dtype)
      if info.batched:
        batched = True
        example += size
        largest = max(largest, (size, f'{name}:{index}'))
      else:
        fixed += size
        largest_fixed = max(largest_fixed, (size, f'{name}:{index}'))
    if batched:
      example_flops += flops[name]
      costliest = max(costliest, (flops[name], name))
    else:
      fixed_flops += flops[name]
      costliest_fixed = max(costliest_fixed, (flops[name], name))
  return Cost(
    example,
    fixed,
    example_flops,
    fixed_flops,
    largest,
    largest_fixed,
    costliest,
    costliest_fixed,
  )


def _over(what, found, cap, field, most=(0, '')):
  amount, name = most
  top = f' ({amount} of them in {_name(name)})' if name else ''
  return errors.UnsafeGraphError(
    f'the inference graph needs {found} {what}{top}, more than the cap of '
    f'{cap} (Caps.{field}); a file can declare that in a few bytes to exhaust '
    'memory or time. If you trust this model that far, pass caps='
    f'cost_model.Caps({field}=...) to raise the cap, or allow_unsafe=True.'
  )


def check_cost(graph_def, caps=None, feature_shape=None):
  """Refuses an inference graph whose cost exceeds `caps`.

  Args:
    graph_def: the pruned inference `GraphDef`, attributes stripped.
    caps: a `Caps`; default `DEFAULT_CAPS`.
    feature_shape: see `infer_shapes`.

  Returns:
    the graph's `Cost`.

  Raises:
    UnsafeGraphError: a node has no rule or no static shape, or the cost
      exceeds a cap (the message names it and how to raise it).
  """
  caps = caps or DEFAULT_CAPS
  cost = graph_cost(graph_def, feature_shape)
  size, name = cost.largest
  if size > caps.tensor_bytes:
    raise _over(
      f'bytes per example for tensor {_name(name)}',
      size,
      caps.tensor_bytes,
      'tensor_bytes',
    )
  checks = (
    (
      'bytes of tensors per example',
      cost.example_bytes,
      'example_bytes',
      cost.largest,
    ),
    (
      'bytes of tensors per run',
      cost.fixed_bytes,
      'fixed_bytes',
      cost.largest_fixed,
    ),
    (
      'floating point operations per example',
      cost.example_flops,
      'example_flops',
      cost.costliest,
    ),
    (
      'floating point operations per run',
      cost.fixed_flops,
      'fixed_flops',
      cost.costliest_fixed,
    ),
  )
  for what, found, field, most in checks:
    if found > getattr(caps, field):
      raise _over(what, found, getattr(caps, field), field, most)
  if cost.run_bytes(1) > caps.run_bytes:
    raise _over(
      'bytes for a run of one example',
      cost.run_bytes(1),
      caps.run_bytes,
      'run_bytes',
    )
  return cost
