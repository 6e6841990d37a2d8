"""Cuts a `.meta` graph down to its checked inference subgraph.

A `.meta` file is a program: `tf.train.import_meta_graph` followed by
`saver.restore` runs whatever ops the file wires into its restore op, and
any op hung on a fetched tensor by a control edge runs with it. graphnet
therefore never runs the file's saver (`saver_def` is ignored) and never
imports the whole file. It keeps only what prediction needs and checks it:

* `inference_graph_def` prunes the `GraphDef` to the nodes `logits`,
  `probabilities` and `predictions` depend on (data and control inputs),
  with the variables they read and the library functions they call;
* every op of that subgraph, and of every function it calls, must be on
  the inference allowlist `ALLOWED_OPS` (or a variable op, before the
  variables are frozen into constants); ops of `DANGEROUS_OPS` (file,
  checkpoint, Python, network, loop ops) are refused with the reason,
  whatever their name or scope;
* constants and variables are refused above `MAX_TENSOR_BYTES` each and
  `MAX_TOTAL_BYTES` in all, from their declared shape and dtype;
* `check_static_sizes` works out every tensor's shape, bytes and FLOPs
  from the protos (`cost_model`; nothing is imported or run): each must
  be known from the graph alone but for the batch of `images`, and stay
  within `cost_model.Caps` (no `Fill` bomb, no outer product of the input
  with itself, no huge pool window); function calls are refused there,
  since their insides have no static shapes;
* anywhere in the file, ops that only a hostile graph needs (`WriteFile`,
  `PyFunc`, ...; not the checkpoint ops every saver writes, nor training
  loops) are refused outright, even where they would never run.

Anything else raises `errors.UnsafeGraphError` naming the op type and node.
The caller then replaces the variables by constants read from the
checkpoint it named (see `freezing.frozen_graph_def`).

Example:
    meta = freezing.read_meta_graph(prefix)
    graph_def = graph_safety.inference_graph_def(meta)  # UnsafeGraphError
"""

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import contract
from graphnet import errors
from graphnet.serving import cost_model
from graphnet.serving.shapes import tensors

__all__ = [
  'ALLOWED_OPS',
  'VARIABLE_OPS',
  'CHECKPOINT_OPS',
  'LOOP_OPS',
  'DANGEROUS_OPS',
  'MAX_TENSOR_BYTES',
  'MAX_TOTAL_BYTES',
  'check_graph_def',
  'check_static_sizes',
  'check_file_graph_def',
  'inference_graph_def',
  'node_name',
]

# Pure tensor math on the inputs, constants and variables: what the
# inference paths of graphnet's models (MLP, conv net, dropout with a
# `keep_prob` default, moving averages) and common classifiers use. None
# touches files, processes, the network or Python, and none loops.
ALLOWED_OPS = frozenset(
  """
  Abs Add AddN AddV2 All Any ArgMax ArgMin Assert AvgPool BatchMatMul
  BatchMatMulV2 BatchMatMulV3 BiasAdd BiasAddV1 BroadcastArgs BroadcastTo
  Cast Ceil CheckNumerics ClipByValue Concat ConcatV2 Const Conv2D
  DepthwiseConv2dNative DivNoNan Elu Equal Erf Exp ExpandDims Fill Floor
  FloorDiv FloorMod FusedBatchNorm FusedBatchNormV3 GatherNd GatherV2
  Greater GreaterEqual Identity IdentityN If IsFinite IsInf IsNan
  LeakyRelu Less LessEqual Log Log1p LogSoftmax LogicalAnd LogicalNot
  LogicalOr MatMul Max MaxPool MaxPoolV2 Maximum Mean Merge Min Minimum
  Mod Mul Neg NoOp NotEqual OneHot OnesLike Pack Pad PadV2
  PartitionedCall Placeholder PlaceholderWithDefault Pow PreventGradient
  Prod RandomStandardNormal RandomUniform Range Rank RealDiv Reciprocal
  Relu Relu6 Reshape Round Rsqrt Select SelectV2 Selu Shape ShapeN Sigmoid
  Sign Size Slice Snapshot Softmax Softplus Split SplitV Sqrt Square
  SquaredDifference Squeeze StatefulPartitionedCall StatelessIf
  StatelessRandomNormal StatelessRandomUniform StopGradient StridedSlice
  Sub Sum Switch Tanh Tile TopKV2 Transpose TruncatedNormal Unpack Where
  ZerosLike
  """.split()
)

# Ops that read a variable. Accepted in the pruned subgraph only until the
# variables are replaced by constants read from the named checkpoint.
VARIABLE_OPS = frozenset(['VarHandleOp', 'ReadVariableOp', 'VariableV2'])

# Ops every `tf.train.Saver` writes into a `.meta` file. graphnet never
# runs the saver, so they are tolerated outside the inference subgraph
# (and refused inside it, as every op of `DANGEROUS_OPS`).
CHECKPOINT_OPS = frozenset(
  """
  Save SaveSlices SaveV2 Restore RestoreSlice RestoreV2 MergeV2Checkpoints
  ShardedFilename ShardedFilespec StringJoin
  """.split()
)

# Control-flow loops: a loop need not end. graphnet's inference graphs have
# none (the resident input pipeline's training loop lies outside them).
LOOP_OPS = frozenset(
  """
  While StatelessWhile Enter RefEnter Exit RefExit NextIteration
  RefNextIteration LoopCond
  """.split()
)

# Ops a hostile graph would use, with what they could do. Refused in the
# inference subgraph; those outside CHECKPOINT_OPS and LOOP_OPS are refused
# anywhere in the file.
DANGEROUS_OPS = {
  'Save': 'writes a checkpoint file to any path',
  'SaveSlices': 'writes a checkpoint file to any path',
  'SaveV2': 'writes checkpoint files to any path',
  'MergeV2Checkpoints': 'moves and deletes checkpoint files',
  'Restore': 'reads a checkpoint file from any path',
  'RestoreSlice': 'reads a checkpoint file from any path',
  'RestoreV2': 'reads checkpoint files from any path',
  'ShardedFilename': 'builds checkpoint file paths',
  'ShardedFilespec': 'builds checkpoint file paths',
  'StringJoin': 'builds file paths from strings',
  'While': 'loops, possibly forever',
  'StatelessWhile': 'loops, possibly forever',
  'Enter': 'enters a loop that may never end',
  'RefEnter': 'enters a loop that may never end',
  'Exit': 'leaves a loop that may never end',
  'RefExit': 'leaves a loop that may never end',
  'NextIteration': 'loops, possibly forever',
  'RefNextIteration': 'loops, possibly forever',
  'LoopCond': 'loops, possibly forever',
  'WriteFile': 'writes a file',
  'ReadFile': 'reads a file',
  'MatchingFiles': 'lists files',
  'DeleteFile': 'deletes a file',
  'ImmutableConst': 'maps a file into memory',
  'PyFunc': 'runs Python code',
  'PyFuncStateless': 'runs Python code',
  'EagerPyFunc': 'runs Python code',
  'DebugIdentity': 'sends tensors to a debug URL',
  'DebugIdentityV2': 'writes tensors to a debug directory',
  'DebugIdentityV3': 'sends tensors to a debug URL',
  'PrintV2': 'writes to a file or stream',
  'Print': 'writes to the log',
  'WriteSummary': 'writes an events file',
  'WriteScalarSummary': 'writes an events file',
  'WriteRawProtoSummary': 'writes an events file',
  'CreateSummaryFileWriter': 'opens an events file',
  'SummaryWriter': 'opens an events file',
  'FlushSummaryWriter': 'writes an events file',
  'TFRecordDataset': 'reads files',
  'TFRecordDatasetV2': 'reads files',
  'TextLineDataset': 'reads files',
  'FixedLengthRecordDataset': 'reads files',
  'SaveDataset': 'writes files',
  'SaveDatasetV2': 'writes files',
  'LoadDataset': 'reads files',
  'SnapshotDataset': 'writes files',
  'SnapshotDatasetV2': 'writes files',
  'ReaderReadV2': 'reads files',
  'WholeFileReaderV2': 'reads files',
  'LoadAndRemapMatrix': 'reads a checkpoint file',
  'Recv': 'receives tensors from another device or process',
  'Send': 'sends tensors to another device or process',
  '_Recv': 'receives tensors from another device or process',
  '_Send': 'sends tensors to another device or process',
  'CollectiveReduce': 'talks to other processes',
  'CollectiveReduceV2': 'talks to other processes',
  'RemoteCall': 'runs a function on another process',
}

# Largest constant, variable or statically known tensor (per image), and
# the sum of them all, in bytes.
MAX_TENSOR_BYTES = 64 * 2**20
MAX_TOTAL_BYTES = 512 * 2**20

_ANYWHERE = frozenset(DANGEROUS_OPS) - CHECKPOINT_OPS - LOOP_OPS


def node_name(input_name):
  """'scope/op:0' or '^scope/op' -> 'scope/op'."""
  return input_name.lstrip('^').split(':')[0]


def _refuse(op_type, node, where, why):
  reason = f' ({DANGEROUS_OPS[op_type]})' if op_type in DANGEROUS_OPS else ''
  return errors.UnsafeGraphError(
    f'op {op_type}{reason} in node {node!r}{where} {why}.{tensors.TRUSTED}'
  )


def _called_functions(node):
  """Names of the functions a node's attributes call (If, While, calls)."""
  names = []
  for value in node.attr.values():
    if value.HasField('func'):
      names.append(value.func.name)
    if value.HasField('list'):
      names.extend(f.name for f in value.list.func)
  return [name for name in names if name]


def _check_calls(node, where, functions):
  for name in _called_functions(node):
    if name not in functions:
      raise errors.UnsafeGraphError(
        f'node {node.name!r}{where} (op {node.op}) calls {name!r}, which is '
        'not a function of the graph library; TF would run the op of that '
        f'name.{tensors.TRUSTED}'
      )


def check_file_graph_def(graph_def):
  """Refuses a file holding an op only a hostile graph needs, anywhere.

  Checkpoint ops and training loops are tolerated here (every saver and
  the resident input pipeline make them; graphnet never runs them).

  Raises:
    UnsafeGraphError: naming the first refused op and node.
  """
  functions = {f.signature.name: f for f in graph_def.library.function}
  places = [('', graph_def.node)] + [
    (f' of function {name!r}', f.node_def) for name, f in functions.items()
  ]
  for where, nodes in places:
    for node in nodes:
      if node.op in _ANYWHERE:
        raise _refuse(node.op, node.name, where, 'is never needed by a model')
      _check_calls(node, where, functions)


def _dtype_size(dtype_enum, what):
  dtype = tf.as_dtype(dtype_enum)
  if dtype in (tf.string, tf.resource, tf.variant) or dtype.is_quantized:
    raise errors.UnsafeGraphError(
      f'{what} has dtype {dtype.name}; an inference graph computes on '
      f'numbers only.{tensors.TRUSTED}'
    )
  return dtype.size


def _declared_bytes(node):
  """Bytes of a Const's value or a variable's declared shape, else 0."""
  if node.op == 'Const':
    proto = node.attr['value'].tensor
    dims = [d.size for d in proto.tensor_shape.dim]
    dtype = proto.dtype
  elif node.op in ('VarHandleOp', 'VariableV2'):
    shape = node.attr['shape'].shape
    if shape.unknown_rank or any(d.size < 0 for d in shape.dim):
      raise errors.UnsafeGraphError(
        f'variable {node.name!r} has no fully known shape; graphnet '
        f'restores only variables of a declared shape.{tensors.TRUSTED}'
      )
    dims = [d.size for d in shape.dim]
    dtype = node.attr['dtype'].type
  else:
    return 0
  if any(d < 0 for d in dims):
    raise errors.UnsafeGraphError(
      f'constant {node.name!r} has a negative dimension {dims}.'
      f'{tensors.TRUSTED}'
    )
  count = int(np.prod(dims, dtype=object))
  size = count * _dtype_size(dtype, f'{node.op} {node.name!r}')
  if size > MAX_TENSOR_BYTES:
    raise errors.UnsafeGraphError(
      f'{node.op} {node.name!r} of shape {dims} holds {size} bytes, more '
      f'than the {MAX_TENSOR_BYTES} bytes graphnet accepts per tensor; a '
      f'file can declare it in a few bytes to exhaust memory.{tensors.TRUSTED}'
    )
  return size


def _check_ops(nodes, where, functions, allowed):
  """Refuses op types off the allowlist and calls outside the library."""
  for node in nodes:
    if node.op in DANGEROUS_OPS:
      raise _refuse(node.op, node.name, where, 'is not allowed in inference')
    if node.op not in allowed and node.op not in functions:
      raise _refuse(node.op, node.name, where, 'is not an inference op')
    _check_calls(node, where, functions)


def _reachable_functions(graph_def, library=None):
  """Functions of `library` (default: `graph_def`'s) its nodes call."""
  library = library if library is not None else graph_def.library
  library = {f.signature.name: f for f in library.function}
  seen = set()
  stack = list(graph_def.node)
  while stack:
    node = stack.pop()
    for name in _called_functions(node) + [node.op]:
      if name in library and name not in seen:
        seen.add(name)
        stack.extend(library[name].node_def)
  return [library[name] for name in sorted(seen)]


def check_graph_def(graph_def, allow=()):
  """Checks every node of an inference `graph_def` and what it calls.

  Args:
    graph_def: a `tf.GraphDef` holding only what prediction runs (nothing
      is imported).
    allow: extra op types to accept besides `ALLOWED_OPS` (never those of
      `DANGEROUS_OPS`).

  Raises:
    UnsafeGraphError: naming the first refused op type and node, or a
      constant above `MAX_TENSOR_BYTES` (or all above `MAX_TOTAL_BYTES`).
  """
  allowed = ALLOWED_OPS | frozenset(allow)
  functions = {f.signature.name for f in graph_def.library.function}
  places = [('', graph_def.node)] + [
    (f' of function {f.signature.name!r}', f.node_def)
    for f in _reachable_functions(graph_def)
  ]
  for where, nodes in places:
    _check_ops(nodes, where, functions, allowed)
  total = sum(_declared_bytes(n) for _, nodes in places for n in nodes)
  if total > MAX_TOTAL_BYTES:
    raise errors.UnsafeGraphError(
      f'the constants and variables of the inference graph hold {total} '
      f'bytes, more than the {MAX_TOTAL_BYTES} graphnet accepts.'
      f'{tensors.TRUSTED}'
    )


def _closure(graph_def, roots):
  """Names of the nodes `roots` depend on through data or control inputs."""
  by_name = {node.name: node for node in graph_def.node}
  seen = set()
  stack = list(roots)
  while stack:
    name = node_name(stack.pop())
    if name in seen:
      continue
    if name not in by_name:
      raise errors.UnsafeGraphError(
        f'node {name!r} is an input in the graph but is not defined; the '
        f'.meta file is damaged or crafted.{tensors.TRUSTED}'
      )
    seen.add(name)
    stack.extend(by_name[name].input)
  return seen


def _pruned(graph_def, roots):
  """`graph_def` cut to the closure of `roots`, without devices."""
  keep = _closure(graph_def, roots)
  out = tf.GraphDef()
  out.versions.CopyFrom(graph_def.versions)
  for node in graph_def.node:
    if node.name in keep:
      copy = out.node.add()
      copy.CopyFrom(node)
      copy.device = ''
      # Colocation names may point at pruned nodes (the saver's, ...).
      copy.attr.pop('_class', None)
  for function in _reachable_functions(out, graph_def.library):
    out.library.function.add().CopyFrom(function)
  return out


def inference_graph_def(meta_graph_def, allow=()):
  """The checked subgraph computing the contract's outputs from `images`.

  Args:
    meta_graph_def: a `tf.MetaGraphDef` (its `saver_def` is ignored) or a
      `tf.GraphDef`.
    allow: extra op types to accept besides `ALLOWED_OPS`.

  Returns:
    a new `tf.GraphDef`: the nodes `logits`, `probabilities`, `predictions`
    depend on (variables still as `VARIABLE_OPS`) and the functions they
    call.

  Raises:
    UnsafeGraphError: the file holds a refused op anywhere, or the
      subgraph holds an op, constant or variable refused by
      `check_graph_def`.
  """
  graph_def = getattr(meta_graph_def, 'graph_def', meta_graph_def)
  check_file_graph_def(graph_def)
  pruned = _pruned(graph_def, contract.OUTPUTS)
  check_graph_def(pruned, allow=VARIABLE_OPS | frozenset(allow))
  return pruned


def check_static_sizes(graph_def, caps=None):
  """Bounds every tensor of an inference graph from its protos alone.

  Kept for callers of earlier versions: `cost_model.check_cost` of the
  graph without its `_` attributes. Nothing is imported or run; every
  tensor's shape must follow from the graph, with only the batch of
  `images` unknown, and the bytes and FLOPs per example stay within
  `caps` (`cost_model.DEFAULT_CAPS` by default).

  Raises:
    UnsafeGraphError: naming the first node that breaks a rule or a cap.
  """
  return cost_model.check_cost(cost_model.strip_private_attrs(graph_def), caps)
