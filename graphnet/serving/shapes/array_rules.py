"""Shape rules of the ops that reshape, join, repeat or make tensors.

Their shape inputs (`Reshape` targets, `Tile` multiples, `Pad` paddings,
`Fill` dims, ...) must be tracked values: constants, or computed from
the shape of a tensor (`Shape`, `Pack`, `ConcatV2` keep their values).
None may move, mix or repeat the examples of the batch.

Example:
    outputs, flops = array_rules.RULES[node.op][0](node, *inputs)
"""

import math

from graphnet.serving.shapes import tensors

__all__ = ['RULES']

# op type -> (rule, arity) of every op below; see `tensors.rule`.
RULES = {}


@tensors.rule(RULES, 2, 'Reshape')
def _reshape(node, x, target):
  target = list(tensors.known(target, node, 'shape', allow_batch=True))
  if target.count(-1) > 1 or any(
    t is not tensors.BATCH and t < -1 for t in target
  ):
    raise tensors.refuse(node, f'its target shape {target} is not valid')
  if tensors.BATCH in target[1:]:
    raise tensors.refuse(node, 'it moves the batch dimension from the front')
  per_example = (
    tensors.count(x.shape[1:]) if x.batched else tensors.count(x.shape)
  )
  if x.batched:
    if target and target[0] == -1 and -1 not in target[1:]:
      target[0] = tensors.BATCH
    if not target or target[0] is not tensors.BATCH:
      raise tensors.refuse(
        node,
        f'it reshapes {list(x.shape)} to {target}, mixing examples of the '
        'batch',
      )
  elif target and target[0] is tensors.BATCH:
    raise tensors.refuse(node, 'it gives a batch dimension to a per-run tensor')
  rest = [t for t in target if t is not tensors.BATCH and t != -1]
  known = math.prod(rest)
  if -1 in target:
    if not known or per_example % known:
      raise tensors.refuse(
        node, f'it reshapes {list(x.shape)} to {target}, which does not fit'
      )
    target[target.index(-1)] = per_example // known
  elif known != per_example:
    raise tensors.refuse(
      node, f'it reshapes {list(x.shape)} to {target}, which does not fit'
    )
  shape = tuple(target)
  return [
    tensors.out(node, x.dtype, shape, tensors.value_of(x.dtype, shape, x.value))
  ], 0


@tensors.rule(RULES, 2, 'ExpandDims')
def _expand_dims(node, x, axis):
  axis = tensors.scalar(axis, node, 'axis')
  axis = tensors.axis_index(axis, x.rank + 1, node)
  if x.batched and axis == 0:
    raise tensors.refuse(node, 'it inserts a dimension before the batch')
  shape = x.shape[:axis] + (1,) + x.shape[axis:]
  return [
    tensors.out(node, x.dtype, shape, tensors.value_of(x.dtype, shape, x.value))
  ], 0


@tensors.rule(RULES, 1, 'Squeeze')
def _squeeze(node, x):
  axes = {
    tensors.axis_index(a, x.rank, node)
    for a in node.attr['squeeze_dims'].list.i
  }
  if not axes:
    axes = {i for i, d in enumerate(x.shape) if d == 1}
  if any(x.shape[a] != 1 for a in axes):
    raise tensors.refuse(
      node, f'it squeezes a dimension of {list(x.shape)} not 1'
    )
  shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
  return [
    tensors.out(node, x.dtype, shape, tensors.value_of(x.dtype, shape, x.value))
  ], 0


def _out_type(node):
  return node.attr['out_type'].type or tensors.INT32


@tensors.rule(RULES, 1, 'Shape')
@tensors.rule(RULES, None, 'ShapeN')
def _shape(node, *inputs):
  return [
    tensors.out(node, _out_type(node), (x.rank,), x.shape) for x in inputs
  ], 0


@tensors.rule(RULES, 1, 'Size')
def _size_op(node, x):
  value = None if x.batched else (tensors.count(x.shape),)
  return [tensors.out(node, _out_type(node), (), value)], 0


@tensors.rule(RULES, 1, 'Rank')
def _rank(node, x):
  return [tensors.out(node, tensors.INT32, (), (x.rank,))], 0


@tensors.rule(RULES, None, 'Pack')
def _pack(node, *inputs):
  x = inputs[0]
  if any(i.shape != x.shape for i in inputs):
    raise tensors.refuse(node, 'it packs tensors of different shapes')
  axis = tensors.axis_index(node.attr['axis'].i, x.rank + 1, node)
  if x.batched and axis == 0:
    raise tensors.refuse(node, 'it stacks along the batch dimension')
  shape = x.shape[:axis] + (len(inputs),) + x.shape[axis:]
  value = None
  if x.rank == 0 and all(i.value is not None for i in inputs):
    value = tuple(i.value[0] for i in inputs)
  return [tensors.out(node, x.dtype, shape, value)], tensors.count(shape)


@tensors.rule(RULES, None, 'Concat ConcatV2')
def _concat(node, *inputs):
  if node.op == 'Concat':
    axis, *parts = inputs
  else:
    *parts, axis = inputs
  x = parts[0]
  axis = tensors.axis_index(tensors.scalar(axis, node, 'axis'), x.rank, node)
  if x.batched and axis == 0:
    raise tensors.refuse(node, 'it concatenates along the batch dimension')
  for p in parts:
    if p.rank != x.rank or any(
      a != b
      for i, (a, b) in enumerate(zip(p.shape, x.shape, strict=True))
      if i != axis
    ):
      raise tensors.refuse(node, 'it concatenates tensors that do not fit')
  total = sum(p.shape[axis] for p in parts)
  shape = x.shape[:axis] + (total,) + x.shape[axis + 1 :]
  value = None
  if x.rank == 1 and all(p.value is not None for p in parts):
    value = tuple(v for p in parts for v in p.value)
  return [tensors.out(node, x.dtype, shape, value)], tensors.count(shape)


@tensors.rule(RULES, 2, 'Split')
@tensors.rule(RULES, 3, 'SplitV')
def _split(node, *inputs):
  if node.op == 'Split':
    axis, x = inputs
    sizes = None
  else:
    x, sizes, axis = inputs
    sizes = list(tensors.known(sizes, node, 'size_splits'))
  axis = tensors.axis_index(tensors.scalar(axis, node, 'axis'), x.rank, node)
  if x.batched and axis == 0:
    raise tensors.refuse(node, 'it splits along the batch dimension')
  num = node.attr['num_split'].i
  if not 1 <= num <= 2**16:
    raise tensors.refuse(node, f'its num_split {num} is outside 1..2^16')
  length = x.shape[axis]
  if sizes is None:
    if length % num:
      raise tensors.refuse(node, f'it splits {length} into {num} unequal parts')
    sizes = [length // num] * num
  if len(sizes) != num or sizes.count(-1) > 1:
    raise tensors.refuse(node, f'its size_splits {sizes} do not fit num_split')
  if -1 in sizes:
    sizes[sizes.index(-1)] = length - (sum(sizes) + 1)
  if any(s < 0 for s in sizes) or sum(sizes) != length:
    raise tensors.refuse(
      node, f'its size_splits {sizes} do not add up to {length}'
    )
  outs = [
    tensors.out(node, x.dtype, x.shape[:axis] + (s,) + x.shape[axis + 1 :])
    for s in sizes
  ]
  return outs, tensors.count(x.shape)


@tensors.rule(RULES, 1, 'Unpack')
def _unpack(node, x):
  axis = tensors.axis_index(node.attr['axis'].i, x.rank, node)
  if x.batched and axis == 0:
    raise tensors.refuse(node, 'it unstacks along the batch dimension')
  if node.attr['num'].i != x.shape[axis]:
    raise tensors.refuse(node, 'its num does not match its input')
  shape = x.shape[:axis] + x.shape[axis + 1 :]
  return [tensors.out(node, x.dtype, shape)] * x.shape[axis], tensors.count(
    x.shape
  )


@tensors.rule(RULES, 2, 'Tile')
def _tile(node, x, multiples):
  multiples = tensors.known(multiples, node, 'multiples')
  if len(multiples) != x.rank or any(m < 0 for m in multiples):
    raise tensors.refuse(node, f'its multiples {list(multiples)} do not fit')
  if x.batched and multiples[0] != 1:
    raise tensors.refuse(node, 'it repeats along the batch dimension')
  shape = tuple(
    d if d is tensors.BATCH else d * m
    for d, m in zip(x.shape, multiples, strict=True)
  )
  return [tensors.out(node, x.dtype, shape)], tensors.count(shape)


@tensors.rule(RULES, 2, 'Pad')
@tensors.rule(RULES, 3, 'PadV2')
def _pad(node, x, paddings, *constant):
  del constant  # A scalar; its shape is checked like any tensor's.
  pads = tensors.known(paddings, node, 'paddings')
  if len(pads) != 2 * x.rank or any(p < 0 for p in pads):
    raise tensors.refuse(node, f'its paddings {list(pads)} do not fit')
  if x.batched and (pads[0] or pads[1]):
    raise tensors.refuse(node, 'it pads along the batch dimension')
  shape = tuple(
    d if d is tensors.BATCH else d + pads[2 * i] + pads[2 * i + 1]
    for i, d in enumerate(x.shape)
  )
  return [tensors.out(node, x.dtype, shape)], tensors.count(shape)


@tensors.rule(RULES, 2, 'Transpose')
def _transpose(node, x, perm):
  perm = list(tensors.known(perm, node, 'perm'))
  if sorted(p % max(x.rank, 1) for p in perm) != list(range(x.rank)):
    raise tensors.refuse(node, f'its perm {perm} is not a permutation')
  perm = [p % x.rank for p in perm]
  if x.batched and perm[0] != 0:
    raise tensors.refuse(node, 'it moves the batch dimension from the front')
  shape = tuple(x.shape[p] for p in perm)
  value = None
  if x.value is not None and x.rank <= 1:
    value = x.value
  return [tensors.out(node, x.dtype, shape, value)], tensors.count(shape)


@tensors.rule(RULES, None, 'IdentityN')
def _identity_n(node, *inputs):
  return [tensors.out(node, i.dtype, i.shape, i.value) for i in inputs], 0


@tensors.rule(RULES, 1, 'PlaceholderWithDefault')
def _placeholder_with_default(node, x):
  declared = node.attr['shape'].shape
  if not declared.unknown_rank and len(declared.dim) != x.rank:
    raise tensors.refuse(node, 'its shape does not match its default')
  return [tensors.out(node, x.dtype, x.shape, x.value)], 0


def _shape_from(node, info, what):
  dims = tensors.known(info, node, what, allow_batch=True)
  if tensors.BATCH in dims[1:] or any(
    d is not tensors.BATCH and d < 0 for d in dims
  ):
    raise tensors.refuse(node, f'its {what} {list(dims)} is not a valid shape')
  return tuple(dims)


@tensors.rule(RULES, 2, 'Fill')
def _fill(node, dims, value):
  if value.rank:
    raise tensors.refuse(node, 'its value is not a scalar')
  shape = _shape_from(node, dims, 'dims')
  return [tensors.out(node, value.dtype, shape)], tensors.count(shape)


@tensors.rule(RULES, 1, 'RandomUniform RandomStandardNormal TruncatedNormal')
@tensors.rule(RULES, 2, 'StatelessRandomUniform StatelessRandomNormal')
def _random(node, shape, *seed):
  del seed
  shape = _shape_from(node, shape, 'shape')
  dtype = tensors.checked_dtype(node, tensors.attr_type(node, 'dtype'))
  return [tensors.out(node, dtype, shape)], 10 * tensors.count(shape)


@tensors.rule(RULES, 2, 'BroadcastTo')
def _broadcast_to(node, x, shape):
  shape = _shape_from(node, shape, 'shape')
  if x.batched and shape[:1] != (tensors.BATCH,):
    raise tensors.refuse(node, 'it broadcasts along the batch dimension')
  out = tensors.broadcast(node, [x.shape, shape])
  if out != shape:
    raise tensors.refuse(
      node, f'it cannot broadcast {list(x.shape)} to {shape}'
    )
  return [tensors.out(node, x.dtype, out)], tensors.count(out)


@tensors.rule(RULES, 2, 'BroadcastArgs')
def _broadcast_args(node, s0, s1):
  a = _shape_from(node, s0, 's0')
  b = _shape_from(node, s1, 's1')
  shape = tensors.broadcast(node, [a, b])
  return [tensors.out(node, s0.dtype, (len(shape),), shape)], 0
