"""Static shapes of an untrusted inference graph, from its protos alone.

TensorFlow's own shape inference cannot be trusted with a crafted file: the
importer merges the file's `_output_shapes` attributes into what it infers,
and it evaluates constant subgraphs (a `MaxPool` feeding a `Fill` dimension)
while importing, so checking a graph with it runs attacker work. This
module never imports or runs the graph. It reads the `GraphDef` node by
node and applies its own rule for each op of the inference allowlist
(`RULES`, gathered from the rule modules beside it):

* every tensor's shape must follow from the graph alone, except a leading
  batch dimension `N` that provably is the batch dimension of `images`;
* inputs that define shapes (`Fill` dims, `Reshape` shapes, `Tile`
  multiples, `Pad` paddings, slice bounds, axes, `Range` bounds, ...) must
  be constants, or be computed from the shape of a tensor by ops whose
  result is tracked (`Shape`, `StridedSlice`, `Pack`, `ConcatV2`, `Cast`,
  arithmetic on constants); anything else is refused;
* no op may mix the examples of a batch (reduce, slice, concatenate or
  transpose along the batch dimension), so a batch can be split into
  smaller runs with the same results;
* attributes that drive cost are bounded (`Assert`'s `summarize`,
  `GatherV2`'s `batch_dims` against the ranks, every dimension below
  2^31, every element count below `tensors.MAX_ELEMENTS`).

Example:
    infos, flops = inference.infer_shapes(graph_def)
    infos['probabilities'][0].shape   # (BATCH, 10)
"""

import tensorflow.compat.v1 as tf

from graphnet import contract
from graphnet import errors
from graphnet.serving.shapes import array_rules
from graphnet.serving.shapes import index_rules
from graphnet.serving.shapes import math_rules
from graphnet.serving.shapes import nn_rules
from graphnet.serving.shapes import tensors

__all__ = ['RULES', 'images_feature_shape', 'infer_shapes']


# --- Ops of no tensor math: assertions, control, variable reads -----------

# op type -> (rule, arity) of the ops below.
_CONTROL = {}


@tensors.rule(_CONTROL, None, 'Assert')
def _assert(node, condition, *data):
  summarize = node.attr['summarize'].i
  if not 0 <= summarize <= tensors.MAX_ASSERT_SUMMARIZE:
    raise tensors.refuse(
      node,
      f'it prints {summarize} elements of each tensor when it fails; '
      f'graphnet accepts at most {tensors.MAX_ASSERT_SUMMARIZE}',
    )
  if condition.rank:
    raise tensors.refuse(node, 'its condition is not a scalar')
  # Formatting the message reads at most `summarize` elements per tensor.
  return [], sum(min(summarize, tensors.count(d.shape)) for d in data)


@tensors.rule(_CONTROL, 0, 'NoOp')
def _no_op(node, *inputs):
  del node, inputs
  return [], 0


@tensors.rule(_CONTROL, 1, 'ReadVariableOp')
def _read_variable(node, handle):
  if handle.handle is None:
    raise tensors.refuse(node, 'it reads something that is not a variable')
  dtype, shape = handle.handle
  return [tensors.out(node, dtype, shape)], 0


# op type -> (rule, arity) of every op an inference graph may hold.
RULES = {
  **math_rules.RULES,
  **nn_rules.RULES,
  **array_rules.RULES,
  **index_rules.RULES,
  **_CONTROL,
}


# --- Sources: constants, variables, the images placeholder ------------------


def _declared_shape(node, proto, what):
  if proto.unknown_rank or any(d.size < 0 for d in proto.dim):
    raise tensors.refuse(node, f'its {what} is not fully known')
  return tuple(d.size for d in proto.dim)


def _const(node):
  proto = node.attr['value'].tensor
  dtype = tensors.checked_dtype(node, proto.dtype)
  if node.attr['dtype'].type != proto.dtype:
    raise tensors.refuse(node, 'its dtype differs from its value')
  shape = tensors.check_shape(
    node, _declared_shape(node, proto.tensor_shape, 'shape')
  )
  value = None
  if (
    dtype in tensors.INT_TYPES | {tensors.BOOL}
    and tensors.count(shape) <= tensors.MAX_TRACKED
  ):
    try:
      array = tf.make_ndarray(proto)
    except (TypeError, ValueError) as e:
      raise tensors.refuse(node, f'its value does not parse ({e})') from e
    value = tensors.int_value(array, node)
  return tensors.TensorInfo(dtype, shape, value)


def _source(node, feature_shape):
  """TensorInfo of a node without inputs, or None if not a source op."""
  if node.op == 'Const':
    return _const(node)
  if node.op == 'Placeholder':
    if node.name != contract.IMAGES:
      raise tensors.refuse(
        node,
        'it is a placeholder other than `images`; prediction feeds only '
        '`images`',
      )
    return tensors.TensorInfo(
      tensors.checked_dtype(node, tensors.attr_type(node, 'dtype')),
      tensors.check_shape(node, (tensors.BATCH, *feature_shape)),
    )
  if node.op in ('VariableV2', 'VarHandleOp'):
    shape = tensors.check_shape(
      node, _declared_shape(node, node.attr['shape'].shape, 'shape')
    )
    dtype = tensors.checked_dtype(node, tensors.attr_type(node, 'dtype'))
    if node.op == 'VariableV2':
      return tensors.TensorInfo(dtype, shape)
    return tensors.TensorInfo(tensors.RESOURCE, (), handle=(dtype, shape))
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
    f'needs it.{tensors.TRUSTED}'
  )


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
      raise tensors.refuse(node, 'its name is used by two nodes')
    by_name[node.name] = node
  waiting = {}
  users = {}
  for node in graph_def.node:
    deps = {_parse_input(i)[0] for i in node.input}
    for dep in deps:
      if dep not in by_name:
        raise tensors.refuse(
          node, f'its input {tensors.quoted(dep)} is not a node'
        )
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
    raise tensors.refuse(by_name[stuck], 'it is part of a cycle')
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
      raise tensors.refuse(
        node,
        'it calls a function of the graph library; the sizes of its '
        'tensors are not known before running, so graphnet does not run '
        'functions in an inference graph',
      )
  if functions:
    raise errors.UnsafeGraphError(
      'the inference graph holds library functions; the sizes of their '
      'tensors are not known before running, so graphnet does not run '
      f'functions in an inference graph.{tensors.TRUSTED}'
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
        raise tensors.refuse(
          node, f'it reads output {index} of {tensors.quoted(name)}'
        )
      inputs.append(outputs[index])
    source = _source(node, feature_shape) if not inputs else None
    if source is not None:
      infos[node.name], flops[node.name] = [source], 0
      continue
    if node.op not in RULES:
      raise tensors.refuse(
        node,
        "graphnet's cost model has no rule for this op, so the size and "
        'time of what it computes are not known before running',
      )
    rule, arity = RULES[node.op]
    if arity is not None and len(inputs) != arity:
      raise tensors.refuse(
        node, f'it has {len(inputs)} inputs, expected {arity}'
      )
    if node.op not in ('Assert', 'NoOp', 'IdentityN') and not inputs:
      raise tensors.refuse(node, 'it has no inputs')
    for i in inputs:
      if i.dtype == tensors.RESOURCE and node.op != 'ReadVariableOp':
        raise tensors.refuse(node, 'it uses a variable handle directly')
    infos[node.name], flops[node.name] = rule(node, *inputs)
  return infos, flops
