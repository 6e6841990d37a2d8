"""Refuses `.meta` graphs that could do more than compute predictions.

A `.meta` file is a program: `tf.train.import_meta_graph` followed by
`saver.restore` runs whatever ops the file wires into the restore op, and
a graph may hold ops that write or delete files, read secrets, call back
into Python or open sockets. The checks here read the `GraphDef` protocol
buffer only, before anything is imported into a graph or run:

* every node's op type, in the graph and in every function of its
  library, must be on an allowlist of the ops graphnet's own graphs and
  common inference graphs use (`ALLOWED_OPS`), or be a call of a function
  in the library (whose body is checked too);
* every function named by a node attribute (the branches of `If`, the
  body of `While`, the callee of `PartitionedCall`) must be in the library,
  since TF would otherwise instantiate an op of that name;
* checkpoint ops (`SaveV2`, `RestoreV2`, ...) are accepted only inside the
  name scope of the saver the `MetaGraphDef` declares (`save/` for
  `tf.train.Saver`), only reading or writing the file the caller feeds
  through the saver's filename tensor, and the restore op must not reach
  any op that writes.

Anything else raises `errors.UnsafeGraphError` naming the op type and node.

Example:
    meta = tf.MetaGraphDef()
    meta.ParseFromString(open(prefix + '.meta', 'rb').read())
    graph_safety.check_meta_graph_def(meta)  # raises UnsafeGraphError
    saver = tf.train.import_meta_graph(meta, clear_devices=True)
"""

from graphnet import errors

__all__ = [
  'ALLOWED_OPS',
  'SAVER_OPS',
  'DANGEROUS_OPS',
  'check_graph_def',
  'check_meta_graph_def',
]

# Op types of graphnet's graphs (every optimizer, schedule, moving
# averages, summaries, evaluation), of a small conv net, of in-memory
# tf.data input pipelines, and of common inference graphs. None of them
# touches files, processes, the network or Python.
ALLOWED_OPS = frozenset(
  """
  Abs Add AddN AddV2 All Any ApproximateEqual ArgMax ArgMin Assert Assign
  AssignAdd AssignAddVariableOp AssignSub AssignSubVariableOp
  AssignVariableOp AvgPool AvgPoolGrad BatchMatMul BatchMatMulV2
  BatchMatMulV3 BiasAdd BiasAddGrad BiasAddV1 BroadcastArgs
  BroadcastGradientArgs
  BroadcastTo Cast Ceil CheckNumerics ClipByValue Concat ConcatOffset
  ConcatV2 Const Conv2D Conv2DBackpropFilter Conv2DBackpropInput
  DepthwiseConv2dNative DepthwiseConv2dNativeBackpropFilter
  DepthwiseConv2dNativeBackpropInput DivNoNan Elu EluGrad Enter Equal Erf
  Exit Exp ExpandDims Fill Floor FloorDiv FloorMod FusedBatchNorm
  FusedBatchNormGrad FusedBatchNormGradV3 FusedBatchNormV3 GatherNd
  GatherV2 Greater GreaterEqual Identity IdentityN If InTopK InTopKV2
  IsFinite IsInf IsNan IsVariableInitialized L2Loss LeakyRelu
  LeakyReluGrad Less LessEqual Log Log1p LogSoftmax LogicalAnd LogicalNot
  LogicalOr LoopCond MatMul Max MaxPool MaxPoolGrad MaxPoolV2 Maximum Mean
  Merge MergeSummary Min Minimum Mod Mul Neg NextIteration NoOp NotEqual
  OneHot OnesLike Pack Pad PadV2 PartitionedCall Placeholder
  PlaceholderWithDefault Pow
  PreventGradient Prod RandomShuffle RandomStandardNormal RandomUniform
  RandomUniformInt Range Rank ReadVariableOp RealDiv Reciprocal Relu Relu6
  Relu6Grad ReluGrad Reshape ResourceApplyAdadelta ResourceApplyAdagrad
  ResourceApplyAdagradV2 ResourceApplyAdam ResourceApplyFtrl
  ResourceApplyGradientDescent ResourceApplyMomentum ResourceApplyRMSProp
  ResourceApplyCenteredRMSProp ResourceGather ResourceScatterAdd Round
  Rsqrt RsqrtGrad ScalarSummary Select SelectV2 Selu SeluGrad Shape ShapeN
  Sigmoid SigmoidGrad Sign Size Slice Snapshot Softmax
  SoftmaxCrossEntropyWithLogits Softplus SoftplusGrad
  SparseSoftmaxCrossEntropyWithLogits Split SplitV Sqrt SqrtGrad Square
  SquaredDifference Squeeze StatefulPartitionedCall StatelessIf
  StatelessRandomNormal
  StatelessRandomUniform StatelessWhile StopGradient StridedSlice
  StridedSliceGrad Sub Sum Switch Tanh TanhGrad Tile TopKV2 Transpose
  TruncatedNormal Unpack VarHandleOp VarIsInitializedOp Variable
  VariableV2 Where While ZerosLike
  HistogramSummary ImageSummary TensorSummary TensorSummaryV2
  ApplyAdagrad ApplyAdam ApplyGradientDescent ApplyMomentum ApplyRMSProp
  TensorSliceDataset TensorDataset ShuffleDataset ShuffleDatasetV2
  ShuffleDatasetV3 RepeatDataset BatchDataset BatchDatasetV2 MapDataset
  ParallelMapDataset ParallelMapDatasetV2 PrefetchDataset TakeDataset
  SkipDataset RangeDataset ModelDataset OptimizeDataset OptimizeDatasetV2
  AnonymousIteratorV2 AnonymousIteratorV3 DeleteIterator Iterator
  IteratorV2 IteratorGetNext IteratorToStringHandle MakeIterator
  OneShotIterator
  """.split()
)

# Checkpoint ops: legitimate only as the saver's own save/restore ops.
SAVER_OPS = frozenset(
  """
  Save SaveSlices SaveV2 Restore RestoreSlice RestoreV2 MergeV2Checkpoints
  ShardedFilename ShardedFilespec StringJoin
  """.split()
)
# The saver ops that write or delete files.
_WRITING_SAVER_OPS = frozenset(
  ['Save', 'SaveSlices', 'SaveV2', 'MergeV2Checkpoints']
)
# Checkpoint ops whose first input is the path they read or write.
_PATH_SAVER_OPS = frozenset(
  ['Save', 'SaveSlices', 'SaveV2', 'Restore', 'RestoreSlice', 'RestoreV2']
)

# Ops a hostile graph would use, with why they are refused. Not needed for
# the check itself (the allowlist already refuses them) but they make the
# message say what the op could do.
DANGEROUS_OPS = {
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
  'PrintV2': 'writes to a file or stream',
  'Print': 'writes to the log',
  'WriteSummary': 'writes an events file',
  'CreateSummaryFileWriter': 'opens an events file',
  'TFRecordDataset': 'reads files',
  'TextLineDataset': 'reads files',
  'FixedLengthRecordDataset': 'reads files',
  'SaveDataset': 'writes files',
  'SnapshotDataset': 'writes files',
  'Recv': 'receives tensors from another device or process',
  'Send': 'sends tensors to another device or process',
  '_Recv': 'receives tensors from another device or process',
  '_Send': 'sends tensors to another device or process',
  'CollectiveReduce': 'talks to other processes',
  'RemoteCall': 'runs a function on another process',
  'ReaderReadV2': 'reads files',
  'WholeFileReaderV2': 'reads files',
  'LoadAndRemapMatrix': 'reads a checkpoint file',
  'Save': 'writes a file',
  'SaveV2': 'writes a file',
  'MergeV2Checkpoints': 'writes and deletes files',
  'RestoreV2': 'reads a file',
}


def _node_name(tensor_or_op_name):
  """'scope/op:0' or '^scope/op' -> 'scope/op'."""
  return tensor_or_op_name.lstrip('^').split(':')[0]


def _scope_of(name):
  """'save/restore_all' -> 'save/'; a name without a scope -> None."""
  name = _node_name(name)
  if '/' not in name:
    return None
  return name.rsplit('/', 1)[0] + '/'


def _refuse(op_type, node, where, why):
  reason = f' ({DANGEROUS_OPS[op_type]})' if op_type in DANGEROUS_OPS else ''
  raise _unsafe(
    f'op {op_type}{reason} in node {node!r}{where} {why}. Load only graphs '
    'you trust; if you trust this one, pass allow_unsafe=True (the '
    '--allow_unsafe flag) to load it without this check.'
  )


def _unsafe(message):
  return errors.UnsafeGraphError(message)


def _check_func_attrs(node, where, functions):
  """Refuses attributes naming a function that is not in the library."""
  for key, value in node.attr.items():
    names = []
    if value.HasField('func'):
      names.append(value.func.name)
    if value.HasField('list'):
      names.extend(f.name for f in value.list.func)
    for name in names:
      if name and name not in functions:
        raise _unsafe(
          f'node {node.name!r}{where} (op {node.op}) attribute {key!r} calls '
          f'{name!r}, which is not a function of the graph library; TF '
          'would run the op of that name. Load only graphs you trust; if '
          'you trust this one, pass allow_unsafe=True.'
        )


def _check_nodes(nodes, where, functions, allowed, saver_scope):
  """Checks op types and function attributes of `nodes`."""
  for node in nodes:
    op = node.op
    if op in SAVER_OPS:
      if saver_scope is None or not node.name.startswith(saver_scope):
        scope = f'{saver_scope!r}' if saver_scope else 'none declared'
        _refuse(
          op,
          node.name,
          where,
          f'is a checkpoint op outside the saver scope ({scope})',
        )
    elif op not in allowed and op not in functions:
      _refuse(op, node.name, where, 'is not allowed in an inference graph')
    _check_func_attrs(node, where, functions)


def check_graph_def(graph_def, allow=(), saver_scope=None):
  """Checks every op of `graph_def` and of its function library.

  Args:
    graph_def: a `tf.GraphDef` protocol buffer (nothing is imported).
    allow: extra op types to accept besides `ALLOWED_OPS`.
    saver_scope: name scope (ending in '/') whose nodes may be checkpoint
      ops (`SAVER_OPS`); None accepts checkpoint ops nowhere.

  Raises:
    UnsafeGraphError: naming the first refused op type and node.
  """
  allowed = ALLOWED_OPS | frozenset(allow)
  functions = {f.signature.name for f in graph_def.library.function}
  _check_nodes(graph_def.node, '', functions, allowed, saver_scope)
  for function in graph_def.library.function:
    where = f' of function {function.signature.name!r}'
    # Checkpoint ops have no business inside a function.
    _check_nodes(function.node_def, where, functions, allowed, None)


def _closure(by_name, roots, data_only=False):
  """Names of the nodes `roots` depend on (data and control inputs)."""
  seen = set()
  stack = [_node_name(r) for r in roots]
  while stack:
    name = stack.pop()
    if name in seen or name not in by_name:
      continue
    seen.add(name)
    for inp in by_name[name].input:
      if data_only and inp.startswith('^'):
        continue
      stack.append(_node_name(inp))
  return seen


def _check_saver(graph_def, saver_def):
  """Checks that the saver's ops only use the file fed at run time."""
  by_name = {node.name: node for node in graph_def.node}
  filename = _node_name(saver_def.filename_tensor_name)
  if filename not in by_name:
    raise _unsafe(
      f'the saver declares filename tensor {saver_def.filename_tensor_name!r}'
      ', which is not in the graph; the .meta file is damaged or crafted.'
    )
  for node in graph_def.node:
    if node.op in _PATH_SAVER_OPS:
      # The path must come from the filename the caller feeds, not from a
      # constant chosen by whoever wrote the file.
      path_inputs = _closure(by_name, node.input[:1], data_only=True)
      if filename not in path_inputs:
        _refuse(
          node.op,
          node.name,
          '',
          f'uses a path that does not come from the saver filename tensor '
          f'{saver_def.filename_tensor_name!r}',
        )
  restore = _node_name(saver_def.restore_op_name)
  if restore not in by_name:
    raise _unsafe(
      f'the saver declares restore op {saver_def.restore_op_name!r}, which '
      'is not in the graph; the .meta file is damaged or crafted.'
    )
  for name in sorted(_closure(by_name, [restore])):
    if by_name[name].op in _WRITING_SAVER_OPS:
      _refuse(
        by_name[name].op,
        name,
        '',
        f'would run when the checkpoint is restored (restore op {restore!r})',
      )


def check_meta_graph_def(meta_graph_def, allow=()):
  """Checks a `MetaGraphDef` before it is imported or restored.

  Checkpoint ops are accepted only under the name scope of the declared
  saver (`saver_def.restore_op_name`, e.g. `save/`), only with paths
  derived from the saver's filename tensor, and the restore op must not
  depend on an op that writes files.

  Args:
    meta_graph_def: a `tf.MetaGraphDef` protocol buffer.
    allow: extra op types to accept besides `ALLOWED_OPS`.

  Raises:
    UnsafeGraphError: naming the refused op type and node.
  """
  saver_def = meta_graph_def.saver_def
  has_saver = meta_graph_def.HasField('saver_def')
  saver_scope = _scope_of(saver_def.restore_op_name) if has_saver else None
  graph_def = meta_graph_def.graph_def
  check_graph_def(graph_def, allow=allow, saver_scope=saver_scope)
  if has_saver:
    _check_saver(graph_def, saver_def)
