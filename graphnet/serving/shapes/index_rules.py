"""Shape rules of the ops that pick elements: slices, gathers, one-hot.

Slice bounds and gather indices along the batch dimension are refused
(a batch could not be split into smaller runs with the same results);
slices and gathers of tracked vectors keep their values.

Example:
    outputs, flops = index_rules.RULES[node.op][0](node, *inputs)
"""

from graphnet.serving.shapes import tensors

__all__ = ['RULES']

# op type -> (rule, arity) of every op below; see `tensors.rule`.
RULES = {}


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
    raise tensors.refuse(node, 'its begin, end and strides differ in length')
  if bin(masks['ellipsis_mask']).count('1') > 1:
    raise tensors.refuse(node, 'it has more than one ellipsis')
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
    raise tensors.refuse(
      node, f'it slices more dimensions than {list(x.shape)} has'
    )
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
      raise tensors.refuse(node, 'its stride is 0')
    if size is tensors.BATCH:
      if (
        kind == 'shrink'
        or start not in (None, 0)
        or step != 1
        or (stop is not None and stop < tensors.MAX_DIM)
      ):
        raise tensors.refuse(node, 'it slices along the batch dimension')
      shape.append(tensors.BATCH)
      picks.append(None)
    elif kind == 'shrink':
      index = start if start is not None else 0
      if not -size <= index < size:
        raise tensors.refuse(
          node, f'its index {index} is outside 0..{size - 1}'
        )
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
  return tensors.value_of(x.dtype, shape, [x.value[i] for i in picks[0]])


@tensors.rule(RULES, 4, 'StridedSlice')
def _strided_slice(node, x, begin, end, strides):
  bounds = [
    tensors.known(v, node, what)
    for v, what in ((begin, 'begin'), (end, 'end'), (strides, 'strides'))
  ]
  specs = _slice_dims(node, x, *bounds)
  shape, picks = _apply_slice(node, x, specs)
  return [tensors.out(node, x.dtype, shape, _sliced_value(x, shape, picks))], (
    tensors.count(shape)
  )


@tensors.rule(RULES, 3, 'Slice')
def _slice(node, x, begin, size):
  begin = tensors.known(begin, node, 'begin')
  size = tensors.known(size, node, 'size', allow_batch=True)
  if len(begin) != x.rank or len(size) != x.rank:
    raise tensors.refuse(node, f'its begin and size do not fit {list(x.shape)}')
  specs = []
  for d, b, s in zip(x.shape, begin, size, strict=True):
    if d is tensors.BATCH:
      if b != 0 or s not in (-1, tensors.BATCH):
        raise tensors.refuse(node, 'it slices along the batch dimension')
      specs.append(('range', None, None, 1))
      continue
    if (
      s is tensors.BATCH or b < 0 or s < -1 or (s != -1 and b + s > d) or b > d
    ):
      raise tensors.refuse(
        node,
        f'its begin {list(begin)} and size {list(size)} '
        f'do not fit {list(x.shape)}',
      )
    specs.append(('range', b, d if s == -1 else b + s, 1))
  shape, picks = _apply_slice(node, x, specs)
  return [tensors.out(node, x.dtype, shape, _sliced_value(x, shape, picks))], (
    tensors.count(shape)
  )


@tensors.rule(RULES, 4, 'OneHot')
def _one_hot(node, indices, depth, on, off):
  del off
  depth = tensors.scalar(depth, node, 'depth')
  if depth < 0:
    raise tensors.refuse(node, f'its depth {depth} is negative')
  axis = node.attr['axis'].i
  axis = (
    indices.rank
    if axis == -1
    else tensors.axis_index(axis, indices.rank + 1, node)
  )
  if indices.batched and axis == 0:
    raise tensors.refuse(node, 'it inserts a dimension before the batch')
  shape = indices.shape[:axis] + (depth,) + indices.shape[axis:]
  return [tensors.out(node, on.dtype, shape)], tensors.count(shape)


@tensors.rule(RULES, 3, 'GatherV2')
def _gather(node, params, indices, axis):
  axis = tensors.scalar(axis, node, 'axis')
  batch_dims = node.attr['batch_dims'].i
  if batch_dims < 0:
    batch_dims += indices.rank
  if not 0 <= batch_dims <= min(indices.rank, params.rank - 1):
    raise tensors.refuse(
      node,
      f'its batch_dims {node.attr["batch_dims"].i} does not fit its params '
      f'of rank {params.rank} and indices of rank {indices.rank}',
    )
  axis = tensors.axis_index(axis, params.rank, node)
  if axis < batch_dims:
    raise tensors.refuse(
      node, f'its axis {axis} is below batch_dims {batch_dims}'
    )
  if params.shape[:batch_dims] != indices.shape[:batch_dims]:
    raise tensors.refuse(
      node, 'its params and indices differ in batch dimensions'
    )
  if params.batched and axis == 0:
    raise tensors.refuse(node, 'it gathers along the batch dimension')
  if params.batched and indices.batched and batch_dims == 0:
    raise tensors.refuse(node, 'it gathers every example for every example')
  if indices.dtype not in (tensors.INT32, tensors.INT64):
    raise tensors.refuse(node, 'its indices are not int32 or int64')
  shape = (
    params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis + 1 :]
  )
  value = None
  if params.value is not None and indices.value is not None:
    if (
      params.rank == 1
      and tensors.BATCH not in indices.value
      and (all(-1 < i < len(params.value) for i in indices.value))
    ):
      value = tensors.value_of(
        params.dtype, shape, [params.value[i] for i in indices.value]
      )
  return [tensors.out(node, params.dtype, shape, value)], tensors.count(shape)


@tensors.rule(RULES, 2, 'GatherNd')
def _gather_nd(node, params, indices):
  if node.attr['batch_dims'].i:
    raise tensors.refuse(node, 'its batch_dims is not 0; not supported')
  if indices.rank < 1 or indices.shape[-1] is tensors.BATCH:
    raise tensors.refuse(node, 'its indices have no index depth')
  depth = indices.shape[-1]
  if depth > params.rank:
    raise tensors.refuse(
      node, f'its index depth {depth} exceeds rank {params.rank}'
    )
  if params.batched and depth:
    raise tensors.refuse(node, 'it gathers along the batch dimension')
  if indices.dtype not in (tensors.INT32, tensors.INT64):
    raise tensors.refuse(node, 'its indices are not int32 or int64')
  shape = indices.shape[:-1] + params.shape[depth:]
  return [tensors.out(node, params.dtype, shape)], tensors.count(shape)
