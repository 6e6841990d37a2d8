"""Exports a trained checkpoint as a frozen graph or a SavedModel.

Both exports hold only the inference path `images` -> `logits`,
`probabilities`, `predictions`, with the weights (the moving averages when
the model was trained with them) turned into constants:

* `export_frozen_graph` writes a binary `GraphDef` for
  `tf.import_graph_def` (TF1 serving, converters);
* `export_saved_model` writes a SavedModel with the `serve` tag and the
  signature `serving_default`: input `images` float32 `[None, 784]`,
  outputs `probabilities` float32 `[None, 10]` and `predictions` int64
  `[None]`. It loads with `tf.saved_model.load` in TF 2 and is listed by
  `saved_model_cli show --dir DIR --all`.

Nothing of the checkpoint's `.meta` file runs: both exports are built from
`freezing.frozen_graph_def`, done in a worker process by `sandbox` (the
pruned, checked inference subgraph with the checkpoint's weights as
constants), and each checks what it wrote with the same `graph_safety`
checks before it is put in place.

Example:
    exporter.export_frozen_graph('/tmp/logs', '/tmp/mnist.pb')
    exporter.export_saved_model('/tmp/logs', '/tmp/mnist_saved_model')
    loaded = tf.saved_model.load('/tmp/mnist_saved_model')  # eager TF 2
    loaded.signatures['serving_default'](images=batch)['predictions']
"""

import os
import shutil

import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf import saved_model_pb2

from graphnet import contract
from graphnet import errors
from graphnet.serving import cost_model
from graphnet.serving import graph_safety
from graphnet.serving import predictor
from graphnet.serving import sandbox

__all__ = [
  'SIGNATURE_KEY',
  'export_frozen_graph',
  'export_saved_model',
]

SIGNATURE_KEY = 'serving_default'
_OUTPUTS = (contract.PROBABILITIES, contract.PREDICTIONS)


def _frozen_inference_graph(checkpoint, allow_unsafe=False, caps=None):
  """The inference graph of `checkpoint` with its variables as constants.

  Args:
    checkpoint: a checkpoint prefix or a directory (its latest checkpoint).
    allow_unsafe: trust the `.meta` file: restore it with its own saver
      and freeze that, unchecked (trusted files only).
    caps: `cost_model.Caps` of the checked graph (default
      `cost_model.DEFAULT_CAPS`); it is checked and frozen in a worker
      process (`sandbox`), so a file TF aborts on ends only that process.

  Returns:
    a `tf.GraphDef` pruned to `images` -> `logits`, `probabilities`,
    `predictions`; its only placeholder is `images`.

  Raises:
    CheckpointError: no checkpoint, or damaged checkpoint files.
    UnsafeGraphError: the `.meta` graph holds refused ops or tensors.
  """
  if not allow_unsafe:
    return sandbox.frozen_graph_def(checkpoint, caps)[1]
  with predictor.Predictor.from_checkpoint(
    checkpoint, allow_unsafe=True
  ) as model:
    graph_def = model.graph.as_graph_def()
    return tf.graph_util.convert_variables_to_constants(
      model.session, graph_def, list(contract.OUTPUTS)
    )


def _saved_graph_def(export_dir):
  """The `GraphDef` of the one MetaGraph of a SavedModel directory."""
  saved = saved_model_pb2.SavedModel()
  with open(os.path.join(export_dir, 'saved_model.pb'), 'rb') as f:
    saved.ParseFromString(f.read())
  (meta_graph,) = saved.meta_graphs
  return meta_graph.graph_def


def _check_written(path, graph_def):
  """Checks an export's own output; removes it and raises if refused.

  Raises:
    UnsafeGraphError: the written graph holds an op or tensor the
      `graph_safety` checks refuse (then `path` is deleted).
  """
  try:
    graph_safety.check_file_graph_def(graph_def)
    graph_safety.check_graph_def(graph_def)
    graph_safety.check_static_sizes(graph_def)
  except errors.UnsafeGraphError:
    if os.path.isdir(path):
      shutil.rmtree(path, ignore_errors=True)
    else:
      os.remove(path)
    raise


def _check_destination(path, what):
  parent = os.path.dirname(os.path.abspath(path)) or '.'
  if not os.path.isdir(parent):
    raise errors.ConfigError(
      f'{what} {path}: the directory {parent} does not exist; create it '
      'first or choose another path.'
    )


def export_frozen_graph(checkpoint, out_path, allow_unsafe=False, caps=None):
  """Writes the frozen inference graph of `checkpoint` to `out_path`.

  Args:
    checkpoint: a checkpoint prefix or a directory (its latest checkpoint).
    out_path: the binary `GraphDef` file to write (replaced if present).
    allow_unsafe: skip the `graph_safety` check (trusted graphs only).
    caps: `cost_model.Caps` of the checked graph; see `Predictor`.

  Returns:
    the `tf.GraphDef` written.

  Raises:
    CheckpointError, UnsafeGraphError: see `_frozen_inference_graph`.
    ConfigError: the directory of `out_path` does not exist.
  """
  out_path = os.fspath(out_path)
  _check_destination(out_path, 'frozen graph')
  graph_def = _frozen_inference_graph(checkpoint, allow_unsafe, caps)
  tmp = out_path + '.tmp'
  with open(tmp, 'wb') as f:
    f.write(graph_def.SerializeToString())
  if not allow_unsafe:
    written = tf.GraphDef()
    with open(tmp, 'rb') as f:
      written.ParseFromString(f.read())
    _check_written(tmp, written)
  os.replace(tmp, out_path)
  return graph_def


def export_saved_model(checkpoint, export_dir, allow_unsafe=False, caps=None):
  """Writes a SavedModel of `checkpoint`'s inference graph to `export_dir`.

  Args:
    checkpoint: a checkpoint prefix or a directory (its latest checkpoint).
    export_dir: the SavedModel directory; must not exist yet (SavedModels
      are never merged); its parent must exist.
    allow_unsafe: skip the `graph_safety` check (trusted graphs only).
    caps: `cost_model.Caps` of the checked graph; see `Predictor`.

  Raises:
    CheckpointError, UnsafeGraphError: see `_frozen_inference_graph`.
    ConfigError: `export_dir` exists or its parent does not.
  """
  export_dir = os.fspath(export_dir)
  if os.path.exists(export_dir):
    raise errors.ConfigError(
      f'SavedModel directory {export_dir} already exists; remove it or '
      'choose a new directory (a SavedModel is written once).'
    )
  _check_destination(export_dir, 'SavedModel directory')
  graph_def = _frozen_inference_graph(checkpoint, allow_unsafe, caps)
  graph = tf.Graph()
  with graph.as_default():
    tf.import_graph_def(graph_def, name='')
    images = graph.get_tensor_by_name(contract.tensor(contract.IMAGES))
    outputs = {
      name: graph.get_tensor_by_name(contract.tensor(name)) for name in _OUTPUTS
    }
    signature = tf.saved_model.signature_def_utils.predict_signature_def(
      inputs={contract.IMAGES: images}, outputs=outputs
    )
    # Written next to the destination and renamed, so a failed export
    # leaves no half-written SavedModel behind.
    tmp_dir = export_dir + '.tmp'
    shutil.rmtree(tmp_dir, ignore_errors=True)
    builder = tf.saved_model.Builder(tmp_dir)
    config = None if allow_unsafe else cost_model.session_config()
    with tf.Session(graph=graph, config=config) as session:
      builder.add_meta_graph_and_variables(
        session,
        [tf.saved_model.tag_constants.SERVING],
        signature_def_map={SIGNATURE_KEY: signature},
        strip_default_attrs=True,
      )
    builder.save()
  if not allow_unsafe:
    _check_written(tmp_dir, _saved_graph_def(tmp_dir))
  os.replace(tmp_dir, export_dir)
