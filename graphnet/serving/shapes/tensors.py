"""What the shape rules know of a tensor, and the checks they share.

A tensor of an untrusted inference graph is a `TensorInfo`: DataType enum,
static shape (ints, with `BATCH` as the batch dimension of `images`), and
the value of a small integer tensor when the graph alone fixes it. The
helpers here check a dtype, a shape and its element count, a tracked
value, an axis and broadcasting; each refuses the node with an
`UnsafeGraphError` naming it (`refuse`).

Example:
    info = tensors.out(node, tensors.INT32, (tensors.BATCH, 10))
    info.batched, info.rank     # True, 2
"""

import dataclasses
import math

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors

__all__ = [
  'MAX_DIM',
  'MAX_ELEMENTS',
  'MAX_ASSERT_SUMMARIZE',
  'MAX_TRACKED',
  'TRUSTED',
  'BATCH',
  'TensorInfo',
  'INT_TYPES',
  'BOOL',
  'INT32',
  'INT64',
  'RESOURCE',
  'quoted',
  'refuse',
  'checked_dtype',
  'item_size',
  'count',
  'check_shape',
  'out',
  'known',
  'scalar',
  'axis_index',
  'int_value',
  'value_of',
  'broadcast',
  'attr_type',
  'rule',
]

# Largest dimension and element count of any tensor (TF's own limits are
# 2^63; products near them overflow inside its C++ and abort the process).
MAX_DIM = 2**31 - 1
MAX_ELEMENTS = 2**34
# Largest `summarize` of an `Assert` (elements of each tensor it prints).
MAX_ASSERT_SUMMARIZE = 1000
# Largest integer tensor whose value is tracked (shape vectors, axes, ...).
MAX_TRACKED = 64

TRUSTED = (
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


def quoted(text):
  """Text of the file, quoted with its control characters escaped."""
  return f"'{errors.printable(text)}'"


def refuse(node, why):
  """The UnsafeGraphError refusing `node` because of `why`."""
  return errors.UnsafeGraphError(
    f'node {quoted(node.name)} (op {quoted(node.op)}): {why}.{TRUSTED}'
  )


# --- Dtypes and element counts ---------------------------------------------

INT_TYPES = frozenset(
  t.as_datatype_enum for t in (tf.int8, tf.int16, tf.int32, tf.int64)
)
INT_TYPES |= frozenset(
  t.as_datatype_enum for t in (tf.uint8, tf.uint16, tf.uint32, tf.uint64)
)
BOOL = tf.bool.as_datatype_enum
INT32 = tf.int32.as_datatype_enum
INT64 = tf.int64.as_datatype_enum
RESOURCE = tf.resource.as_datatype_enum


def checked_dtype(node, enum, what='dtype'):
  """The DataType enum `enum`, refused unless a plain number or bool."""
  try:
    dtype = tf.as_dtype(enum)
  except (TypeError, ValueError) as e:
    raise refuse(node, f'{what} is the unknown type number {enum}') from e
  if (
    dtype in (tf.string, tf.resource, tf.variant)
    or dtype.is_quantized
    or dtype._is_ref_dtype  # noqa: SLF001 - refs are variables, not values
  ):
    raise refuse(node, f'{what} is {dtype.name}; inference computes numbers')
  return dtype.as_datatype_enum


def item_size(enum):
  """Bytes of one element of DataType `enum`."""
  return tf.as_dtype(enum).size


def count(shape, batch=1):
  """Element count of `shape` with `BATCH` taken as `batch`."""
  return math.prod(batch if d is BATCH else d for d in shape)


def check_shape(node, shape):
  """Refuses a shape with a negative, huge or misplaced dimension."""
  for i, d in enumerate(shape):
    if d is BATCH:
      if i:
        raise refuse(
          node,
          f'its output shape {list(shape)} moves the batch dimension N of '
          '`images` from the front; graphnet keeps examples independent',
        )
      continue
    if not isinstance(d, int) or d < 0 or d > MAX_DIM:
      raise refuse(
        node, f'its output shape {list(shape)} has a dimension {d!r}'
      )
  nonzero = math.prod(d for d in shape if d is not BATCH and d)
  if nonzero > MAX_ELEMENTS:
    raise refuse(
      node,
      f'its output shape {list(shape)} has more than {MAX_ELEMENTS} '
      'elements per example (counting only non-zero dimensions)',
    )
  return tuple(shape)


def out(node, dtype, shape, value=None):
  """The TensorInfo of an output of `node`, its shape checked."""
  return TensorInfo(dtype, check_shape(node, shape), value)


# --- Values of small integer tensors ---------------------------------------


def known(info, node, what, allow_batch=False):
  """The tracked value of `info` (a tuple), or refuse the node."""
  if info.value is None or (
    not allow_batch and any(v is BATCH for v in info.value)
  ):
    raise refuse(
      node,
      f'its {what} is computed in a way graphnet cannot follow before '
      'running (it must be a constant, or computed from the shape of a '
      'tensor); its size would only be known while running',
    )
  return info.value


def scalar(info, node, what):
  """The one tracked value of `info`, or refuse the node."""
  value = known(info, node, what)
  if len(value) != 1:
    raise refuse(node, f'its {what} holds {len(value)} values, expected one')
  return value[0]


def axis_index(axis, rank, node, what='axis'):
  """`axis` (negative counts from the end) as 0..rank-1, or refuse."""
  if not -rank <= axis < max(rank, 1):
    raise refuse(node, f'its {what} {axis} is outside rank {rank}')
  return axis % rank if rank else 0


def int_value(array, node):
  """The flat tuple of ints of `array`, refused near the int64 limit."""
  flat = [int(v) for v in np.asarray(array).reshape(-1)]
  if any(abs(v) > 2**62 for v in flat):
    raise refuse(node, 'an integer it computes is near the int64 limit')
  return tuple(flat)


def value_of(dtype, shape, value):
  """`value` (tuple) kept only for small integer tensors."""
  if value is None or dtype not in INT_TYPES | {BOOL}:
    return None
  if BATCH in shape or count(shape) > MAX_TRACKED:
    return None
  return tuple(value)


# --- Broadcasting -----------------------------------------------------------


def broadcast(node, shapes):
  """The broadcast of `shapes` (tuples), or refuse the node."""
  rank = max(len(s) for s in shapes)
  out = []
  for i in range(rank):
    dims = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0}
    dims.discard(1)
    if len(dims) > 1:
      raise refuse(
        node,
        f'its inputs of shapes {[list(s) for s in shapes]} do not broadcast',
      )
    out.append(dims.pop() if dims else 1)
  return tuple(out)


# --- Rules, one per op family ----------------------------------------------


def attr_type(node, key):
  """The DataType enum of `node`'s type attribute `key`."""
  return node.attr[key].type


def rule(table, arity, ops):
  """Decorator: registers a shape rule in `table` for op types `ops`.

  Args:
    table: the {op type: (rule, arity)} dict of a rule module.
    arity: the number of inputs the ops take, or None for any.
    ops: op types, as a space-separated string or an iterable.

  Returns:
    a decorator that records the rule and returns it unchanged. A rule
    takes the node and its input `TensorInfo`s and returns (output
    TensorInfos, FLOPs).
  """

  def register(function):
    for op in ops.split() if isinstance(ops, str) else ops:
      table[op] = (function, arity)
    return function

  return register
