"""A checkpoint's `.meta` made into a checked, frozen inference graph.

`resolve_checkpoint` finds the prefix a path names, `read_meta_graph`
parses its `.meta` without importing it, and `frozen_graph_def` prunes the
graph to what computes the contract's outputs from `images`, checks that
subgraph with `graph_safety`, and replaces each variable by a constant
read from exactly the named checkpoint: the file's own saver never runs.
`Predictor`, the exporter and the evaluator all restore through it.

Example:
    prefix, graph_def = frozen_graph_def('/tmp/logs')
    tf.import_graph_def(graph_def, name='')
"""

import os
import re

import tensorflow.compat.v1 as tf
from google.protobuf import message

from graphnet import contract
from graphnet import errors
from graphnet.checkpoints import file_checks
from graphnet.checkpoints import state as checkpoints
from graphnet.serving import bundle_index
from graphnet.serving import cost_model
from graphnet.serving import graph_safety

__all__ = [
  'resolve_checkpoint',
  'read_meta_graph',
  'frozen_graph_def',
  'read_checkpoint',
  'restore_error',
  'MAX_META_BYTES',
]

# Largest `.meta` file read: a graph whose constants alone would pass
# graph_safety's 512 MB, with room for its nodes.
MAX_META_BYTES = 640 << 20


def resolve_checkpoint(path):
  """The checkpoint prefix `path` names: itself, or a directory's latest.

  Args:
    path: a checkpoint prefix (`logs/model.ckpt-2000`) or a directory
      holding a `checkpoint` file.

  Returns:
    the checkpoint prefix (str); its `.meta` and `.index` files exist. Of
    a directory, the newest checkpoint whose files are all there: a
    trainer saving beside the reader may not have finished the newest.

  Raises:
    CheckpointError: no checkpoint there, or its files are missing.
  """
  path = os.fspath(path)
  if os.path.isdir(path):
    prefix = checkpoints.latest_complete_checkpoint(path)
    if prefix is None:
      raise errors.CheckpointError(
        f'{path} holds no checkpoint (no usable "checkpoint" file); expected '
        'the log_dir of a finished training run, e.g. one holding '
        'model.ckpt-2000.{index,meta,data-*}.',
        path=path,
      )
  else:
    prefix = path
  for suffix, what in (('.meta', 'graph'), ('.index', 'variable index')):
    if not os.path.isfile(prefix + suffix):
      raise errors.CheckpointError(
        f'checkpoint {prefix}: the {what} file {prefix + suffix} is missing. '
        'Pass a checkpoint prefix such as logs/model.ckpt-2000 (without '
        'extension) or the directory holding the checkpoints.',
        path=prefix,
      )
  return prefix


def read_checkpoint(path, read):
  """`read(prefix)` of the checkpoint `path` names.

  A directory's newest checkpoint is looked up again and read once more
  if a trainer's keep_checkpoint_max deletes it meanwhile.
  """
  path = os.fspath(path)
  if not os.path.isdir(path):
    return read(resolve_checkpoint(path))
  return checkpoints.read_with_retry(lambda: resolve_checkpoint(path), read)


def read_meta_graph(prefix):
  """Parses `prefix.meta` into a `tf.MetaGraphDef` without importing it.

  Raises:
    CheckpointError: the file cannot be read or is not a MetaGraphDef.
  """
  meta_path = prefix + '.meta'
  data = file_checks.read_regular(
    meta_path, os.path.dirname(prefix) or '.', 'graph file', MAX_META_BYTES
  )
  meta_graph_def = tf.MetaGraphDef()
  try:
    meta_graph_def.ParseFromString(data)
  except message.DecodeError as e:
    raise errors.CheckpointError(
      f'{errors.printable(meta_path)} is not a valid MetaGraphDef '
      f'({errors.printable(str(e))}); the file is '
      'truncated or damaged. Use another checkpoint or retrain.',
      path=meta_path,
    ) from e
  names = {node.name for node in meta_graph_def.graph_def.node}
  missing = [n for n in (contract.IMAGES,) + contract.OUTPUTS if n not in names]
  if missing:
    raise errors.CheckpointError(
      f'{errors.printable(meta_path)} lacks the tensors {missing} of the '
      f'graphnet graph contract ({contract.IMAGES}:0 -> '
      f'{", ".join(contract.OUTPUTS)}); the file is truncated or was not '
      'written by graphnet.',
      path=meta_path,
    )
  return meta_graph_def


def _checkpoint_reader(prefix):
  """(TF's reader, {key: `bundle_index.Entry`}) of checkpoint `prefix`."""
  # TF's reader aborts the process on some crafted index entries: the
  # index is checked before it ever sees the file.
  entries = bundle_index.check_checkpoint(prefix).entries
  try:
    return tf.train.load_checkpoint(prefix), entries
  except (tf.errors.OpError, ValueError, IndexError, RuntimeError) as e:
    raise restore_error(prefix, e) from e


def restore_error(prefix, e):
  """The one-line CheckpointError for a restore that failed with `e`."""
  return errors.CheckpointError(
    f'checkpoint {errors.printable(prefix)} cannot be restored: '
    f'{file_checks.read_error_detail(e)}. Its files are damaged, truncated '
    'or of another model; use another checkpoint.',
    path=prefix,
  )


def _variable_value(reader, entries, prefix, node):
  """The checkpoint's value of variable node `node`, checked against it."""
  key = node.name if node.name in entries else node.attr['shared_name'].s
  key = (
    key.decode('utf-8', 'surrogateescape') if isinstance(key, bytes) else key
  )
  want = [d.size for d in node.attr['shape'].shape.dim]
  dtype = tf.as_dtype(node.attr['dtype'].type)
  shown, name = errors.printable(prefix), errors.printable(node.name)
  if key not in entries:
    raise errors.CheckpointMismatchError(
      f'{shown}.meta reads variable {name} {want}, which checkpoint '
      f'{shown} does not hold; the checkpoint is of a different model. '
      'Use the checkpoint written with this .meta file.',
      path=prefix,
    )
  entry = entries[key]
  if list(entry.shape) != want:
    raise errors.CheckpointMismatchError(
      f'checkpoint {shown} holds variable {errors.printable(key)} of shape '
      f'{list(entry.shape)}, the .meta graph needs {want}; the checkpoint '
      'is of a different model. Use the checkpoint written with this .meta '
      'file.',
      path=prefix,
    )
  # Compared before reading: TF allocates a string tensor's elements as
  # the data file says, so only numeric tensors are ever read.
  if entry.dtype != dtype.as_datatype_enum or entry.dtype not in (
    bundle_index.ITEM_BYTES
  ):
    raise errors.CheckpointMismatchError(
      f'checkpoint {shown} holds variable {errors.printable(key)} as dtype '
      f'{entry.dtype}, the .meta graph needs {dtype.name}; only numeric '
      'variables are read. Use the checkpoint written with this .meta file.',
      path=prefix,
    )
  try:
    value = reader.get_tensor(key)
  except (tf.errors.OpError, ValueError, IndexError, RuntimeError) as e:
    raise restore_error(prefix, e) from e
  if value.dtype != dtype.as_numpy_dtype:
    raise errors.CheckpointMismatchError(
      f'checkpoint {shown} holds variable {errors.printable(key)} as '
      f'{value.dtype}, the '
      f'.meta graph needs {dtype.name}; use the checkpoint written with '
      'this .meta file.',
      path=prefix,
    )
  return value


_PART = re.compile(r'^(.+)/part_(\d+)$')


def _part_value(reader, entries, prefix, node, by_name):
  """Part `node` (`<name>/part_<i>`) of a variable saved whole, or None.

  A cluster splits a large variable over its ps tasks (`cluster.
  partitioner`) and saves it whole (`partitioned.whole_var_list`): part i
  is the slice after parts 0..i-1 along the first axis where they differ
  from the whole.
  """
  match = _PART.match(node.name)
  if node.name in entries or not match or match.group(1) not in entries:
    return None
  whole_name = match.group(1)
  parts = []
  while f'{whole_name}/part_{len(parts)}' in by_name:
    part = by_name[f'{whole_name}/part_{len(parts)}']
    parts.append([d.size for d in part.attr['shape'].shape.dim])
  whole = list(entries[whole_name].shape)
  axes = [a for a in range(len(whole)) if any(p[a] != whole[a] for p in parts)]
  axis = axes[0] if axes else 0
  fits = all(len(p) == len(whole) for p in parts) and len(axes) <= 1
  if not fits or sum(p[axis] for p in parts) != whole[axis]:
    raise errors.CheckpointMismatchError(
      f'{errors.printable(prefix)}.meta splits variable '
      f'{errors.printable(whole_name)} into parts {parts}, which do not '
      f'make up its saved shape {whole}; use the checkpoint written with '
      'this .meta file.',
      path=prefix,
    )
  whole_node = tf.NodeDef(name=whole_name, op=node.op)
  whole_node.attr['dtype'].CopyFrom(node.attr['dtype'])
  for size in whole:
    whole_node.attr['shape'].shape.dim.add().size = size
  value = _variable_value(reader, entries, prefix, whole_node)
  index = int(match.group(2))
  start = sum(p[axis] for p in parts[:index])
  picked = [slice(None)] * len(whole)
  picked[axis] = slice(start, start + parts[index][axis])
  return value[tuple(picked)]


def _const_node(name, value):
  node = tf.NodeDef(name=name, op='Const')
  node.attr['dtype'].type = tf.as_dtype(value.dtype).as_datatype_enum
  node.attr['value'].tensor.CopyFrom(tf.make_tensor_proto(value))
  return node


def _freeze(graph_def, prefix):
  """`graph_def` with its variables replaced by the values of `prefix`.

  A `VariableV2` becomes a constant of the same name; a `VarHandleOp`
  disappears and each `ReadVariableOp` of it becomes a constant.
  """
  reader, entries = _checkpoint_reader(prefix)
  by_name = {node.name: node for node in graph_def.node}
  out = tf.GraphDef()
  out.versions.CopyFrom(graph_def.versions)
  out.library.CopyFrom(graph_def.library)
  for node in graph_def.node:
    if node.op == 'VarHandleOp':
      continue
    if node.op == 'VariableV2':
      value = _part_value(reader, entries, prefix, node, by_name)
      if value is None:
        value = _variable_value(reader, entries, prefix, node)
      out.node.add().CopyFrom(_const_node(node.name, value))
    elif node.op == 'ReadVariableOp':
      handle = by_name[graph_safety.node_name(node.input[0])]
      if handle.op != 'VarHandleOp':
        raise errors.UnsafeGraphError(
          f'ReadVariableOp {node.name!r} reads {handle.name!r}, a '
          f'{handle.op}, not a variable; the .meta file is crafted.'
        )
      value = _part_value(reader, entries, prefix, handle, by_name)
      if value is None:
        value = _variable_value(reader, entries, prefix, handle)
      const = out.node.add()
      const.CopyFrom(_const_node(node.name, value))
      const.input.extend(i for i in node.input[1:] if i.startswith('^'))
    else:
      if any(
        by_name[graph_safety.node_name(i)].op == 'VarHandleOp'
        for i in node.input
        if not i.startswith('^')
      ):
        raise errors.UnsafeGraphError(
          f'node {node.name!r} (op {node.op}) uses a variable handle; only '
          'ReadVariableOp may read variables in an inference graph.'
        )
      out.node.add().CopyFrom(node)
  # Control edges on a removed handle are dropped with it.
  for node in out.node:
    kept = [
      i
      for i in node.input
      if by_name.get(graph_safety.node_name(i)) is None
      or by_name[graph_safety.node_name(i)].op != 'VarHandleOp'
    ]
    del node.input[:]
    node.input.extend(kept)
  return out


def frozen_graph_def(path, caps=None):
  """The checked inference graph of a checkpoint, weights as constants.

  Nothing of the `.meta` file runs: its graph is pruned to what computes
  `logits`, `probabilities` and `predictions` from `images` and checked
  (`graph_safety`); each variable it reads becomes a constant holding the
  value stored in exactly the checkpoint `path` names; the result is
  checked again. Attributes starting with `_` are stripped first, and the
  shape, bytes and FLOPs of every tensor are worked out from the protos by
  `cost_model` (nothing is imported or run to check) and bounded by `caps`.

  Args:
    path: a checkpoint prefix or a directory (its latest checkpoint).
    caps: a `cost_model.Caps`; default `cost_model.DEFAULT_CAPS`.

  Returns:
    (prefix, `tf.GraphDef`): the checkpoint used and its frozen inference
    graph; `images` is its only placeholder.

  Raises:
    CheckpointError: no checkpoint, or damaged checkpoint files.
    CheckpointMismatchError: the checkpoint lacks a variable the graph
      reads, or holds it with another shape or dtype.
    UnsafeGraphError: the `.meta` graph holds a refused op or tensor.
  """
  return read_checkpoint(path, lambda prefix: _frozen_of(prefix, caps))


def _frozen_of(prefix, caps):
  pruned = graph_safety.inference_graph_def(read_meta_graph(prefix))
  # Nothing is imported before the cost check; the weights read meanwhile
  # are bounded by graph_safety's caps on declared variable sizes.
  pruned = cost_model.strip_private_attrs(pruned)
  frozen = _freeze(pruned, prefix)
  graph_safety.check_graph_def(frozen)
  cost_model.check_cost(frozen, caps)
  return prefix, frozen
