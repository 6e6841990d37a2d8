"""Shape rules of arithmetic: element-wise ops, matrix products, reductions.

Element-wise ops cost one FLOP per output element (`AddN`, `Select` one
per input); a matrix product `2*m*k*n`. Integer arithmetic on small
tracked vectors (a shape times 2) keeps its value, so a `Reshape` target
computed that way is still known before running.

Example:
    outputs, flops = math_rules.RULES[node.op][0](node, *inputs)
"""

import math

import numpy as np

from graphnet.serving.shapes import tensors

__all__ = ['RULES']

# op type -> (rule, arity) of every op below; see `tensors.rule`.
RULES = {}

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


@tensors.rule(RULES, 1, _UNARY)
def _unary(node, x):
  value = x.value if node.op in _PASS_VALUE else None
  return [tensors.out(node, x.dtype, x.shape, value)], tensors.count(x.shape)


@tensors.rule(RULES, 1, _PREDICATES)
def _predicate(node, x):
  return [tensors.out(node, tensors.BOOL, x.shape)], tensors.count(x.shape)


def _elementwise_value(node, inputs, shape):
  """The value of integer arithmetic on small known vectors, else None."""
  values = [i.value for i in inputs]
  if node.op not in _ARITHMETIC or any(
    v is None or tensors.BATCH in v for v in values
  ):
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
  return tensors.value_of(inputs[0].dtype, shape, tensors.int_value(out, node))


@tensors.rule(RULES, 2, _BINARY | _COMPARISONS)
def _binary(node, x, y):
  shape = tensors.broadcast(node, [x.shape, y.shape])
  dtype = tensors.BOOL if node.op in _COMPARISONS else x.dtype
  value = _elementwise_value(node, [x, y], shape)
  return [tensors.out(node, dtype, shape, value)], tensors.count(shape)


@tensors.rule(RULES, None, 'AddN')
@tensors.rule(RULES, 3, 'Select SelectV2 ClipByValue')
def _n_ary(node, *inputs):
  """AddN, Select, SelectV2, ClipByValue: broadcast of the inputs."""
  if node.op == 'Select' and inputs[0].rank == 1 and inputs[1].rank > 1:
    # Select with a vector condition picks whole rows.
    shapes = [inputs[1].shape, inputs[2].shape]
  else:
    shapes = [i.shape for i in inputs]
  if node.op == 'ClipByValue':
    shapes = [inputs[0].shape] + [i.shape for i in inputs[1:] if i.rank]
  shape = tensors.broadcast(node, shapes)
  dtype = inputs[1].dtype if node.op.startswith('Select') else inputs[0].dtype
  return [tensors.out(node, dtype, shape)], tensors.count(shape) * len(inputs)


@tensors.rule(RULES, 2, 'MatMul')
def _matmul(node, a, b):
  if a.rank != 2 or b.rank != 2:
    raise tensors.refuse(node, 'MatMul takes matrices')
  ta, tb = node.attr['transpose_a'].b, node.attr['transpose_b'].b
  m, k = reversed(a.shape) if ta else a.shape
  k2, n = reversed(b.shape) if tb else b.shape
  if tensors.BATCH in (k, k2, n) or k != k2:
    raise tensors.refuse(
      node,
      f'it multiplies {list(a.shape)} by {list(b.shape)}: the inner '
      'dimensions differ, or the batch dimension is not the rows of its '
      'first input',
    )
  return [tensors.out(node, a.dtype, (m, n))], 2 * tensors.count((m, k, n))


@tensors.rule(RULES, 2, 'BatchMatMul BatchMatMulV2 BatchMatMulV3')
def _batch_matmul(node, a, b):
  if a.rank < 2 or b.rank < 2:
    raise tensors.refuse(node, 'BatchMatMul takes matrices')
  ta = node.attr['adj_x'].b
  tb = node.attr['adj_y'].b
  m, k = reversed(a.shape[-2:]) if ta else a.shape[-2:]
  k2, n = reversed(b.shape[-2:]) if tb else b.shape[-2:]
  if tensors.BATCH in (k, k2, n) or k != k2 or (b.batched and b.rank == 2):
    raise tensors.refuse(
      node,
      f'it multiplies {list(a.shape)} by {list(b.shape)}, which do not fit',
    )
  outer = tensors.broadcast(node, [a.shape[:-2], b.shape[:-2]])
  dtype = a.dtype
  if 'Tout' in node.attr:
    dtype = tensors.checked_dtype(node, tensors.attr_type(node, 'Tout'), 'Tout')
  shape = outer + (m, n)
  return [tensors.out(node, dtype, shape)], 2 * tensors.count(outer + (m, k, n))


@tensors.rule(RULES, 2, 'ArgMax ArgMin')
def _arg_max(node, x, axis):
  axis = tensors.axis_index(tensors.scalar(axis, node, 'axis'), x.rank, node)
  if x.batched and axis == 0:
    raise tensors.refuse(node, 'it reduces over the batch dimension')
  shape = x.shape[:axis] + x.shape[axis + 1 :]
  dtype = node.attr['output_type'].type or tensors.INT64
  return [tensors.out(node, dtype, shape)], tensors.count(x.shape)


@tensors.rule(RULES, 2, _REDUCTIONS)
def _reduction(node, x, axes):
  axes = {
    tensors.axis_index(a, x.rank, node)
    for a in tensors.known(axes, node, 'axes')
  }
  if x.batched and 0 in axes:
    raise tensors.refuse(node, 'it reduces over the batch dimension')
  keep = node.attr['keep_dims'].b
  shape = tuple(
    1 if i in axes else d
    for i, d in enumerate(x.shape)
    if keep or i not in axes
  )
  value = None
  if node.op == 'Prod' and x.value is not None and not x.batched:
    if (
      x.rank == 1 and not keep and axes == {0} and tensors.BATCH not in x.value
    ):
      value = tensors.int_value([math.prod(x.value)], node)
  return [tensors.out(node, x.dtype, shape, value)], tensors.count(x.shape)


@tensors.rule(RULES, 3, 'Range')
def _range(node, start, limit, delta):
  start, limit, delta = (
    tensors.scalar(v, node, what)
    for v, what in ((start, 'start'), (limit, 'limit'), (delta, 'delta'))
  )
  if not delta:
    raise tensors.refuse(node, 'its delta is 0')
  length = max(0, -(-(limit - start) // delta))
  shape = (length,)
  value = None
  if length <= tensors.MAX_TRACKED:
    value = tensors.value_of(
      tensors.attr_type(node, 'Tidx'), shape, range(start, limit, delta)
    )
  return [
    tensors.out(node, tensors.attr_type(node, 'Tidx'), shape, value)
  ], length


@tensors.rule(RULES, 1, 'Cast')
def _cast(node, x):
  dtype = tensors.checked_dtype(node, tensors.attr_type(node, 'DstT'), 'DstT')
  return [
    tensors.out(node, dtype, x.shape, tensors.value_of(dtype, x.shape, x.value))
  ], tensors.count(x.shape)
