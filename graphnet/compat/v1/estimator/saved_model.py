"""Writes an Estimator's SavedModel (what `export_saved_model` does).

The PREDICT graph is built on the serving receiver's features, the
checkpoint restored into it, and each `ExportOutput` signed against the
receiver tensors (and each alternative receiver, as
`<receiver>:<output>`). The export is written to `temp-<timestamp>` and
renamed into place, so a half-written export never looks complete; an
export that fails removes its temp directory.

Example:
    path = export(estimator, '/tmp/export', serving_fn, checkpoint)
"""

import os
import shutil
import time

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1.estimator import calls
from graphnet.compat.v1.estimator import export as export_lib
from graphnet.compat.v1.estimator import model_fn as model_fn_lib

__all__ = ['export', 'DEFAULT_SIGNATURE']

DEFAULT_SIGNATURE = (
  tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY
)


def _export_outputs(spec):
  """The export outputs by name, 'serving_default' among them."""
  outputs = spec.export_outputs
  if not outputs:
    return {DEFAULT_SIGNATURE: export_lib.PredictOutput(spec.predictions)}
  outputs = dict(outputs)
  for name, output in outputs.items():
    if not isinstance(output, export_lib.ExportOutput):
      raise errors.ConfigError(
        f'EstimatorSpec.export_outputs[{name!r}] must be an ExportOutput '
        f'(ClassificationOutput, RegressionOutput, PredictOutput), got '
        f'{type(output).__name__}.',
        field='export_outputs',
      )
  if DEFAULT_SIGNATURE not in outputs:
    if len(outputs) != 1:
      raise errors.ConfigError(
        f'EstimatorSpec.export_outputs has {sorted(outputs)} and none is '
        f'{DEFAULT_SIGNATURE!r}; name one of them so.',
        field='export_outputs',
      )
    (only,) = outputs.values()
    outputs[DEFAULT_SIGNATURE] = only
  return outputs


def _signatures(receiver, outputs):
  signatures = {
    name: output.as_signature_def(receiver.receiver_tensors)
    for name, output in outputs.items()
  }
  for receiver_name, tensors in receiver.receiver_tensors_alternatives.items():
    for name, output in outputs.items():
      signatures[f'{receiver_name}:{name}'] = output.as_signature_def(tensors)
  return signatures


def _timestamped(export_dir_base):
  """A new `<base>/<seconds>` path (waits a second if it exists)."""
  while True:
    path = os.path.join(os.fspath(export_dir_base), str(int(time.time())))
    if not os.path.exists(path):
      return path
    time.sleep(1)


def _write(graph, saver, checkpoint, temp_dir, signatures, as_text):
  """Restores `checkpoint` into `graph` and saves it as a SavedModel."""
  with tf.Session(graph=graph) as session:
    saver.restore(session, checkpoint)
    builder = tf.saved_model.builder.SavedModelBuilder(temp_dir)
    builder.add_meta_graph_and_variables(
      session,
      [tf.saved_model.tag_constants.SERVING],
      signature_def_map=signatures,
      assets_collection=tf.get_collection(tf.GraphKeys.ASSET_FILEPATHS),
      main_op=tf.group(
        tf.local_variables_initializer(), tf.tables_initializer()
      ),
      strip_default_attrs=True,
    )
    builder.save(as_text)


def _copy_assets_extra(temp_dir, assets_extra):
  """Copies {relative destination: source path} into `assets.extra/`."""
  for dest, source in (assets_extra or {}).items():
    target = os.path.join(temp_dir, 'assets.extra', dest)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(source, target)


def export(
  estimator,
  export_dir_base,
  serving_input_receiver_fn,
  checkpoint,
  assets_extra=None,
  as_text=False,
):
  """Exports `estimator`'s model at `checkpoint`; returns the dir (bytes).

  Args:
    estimator: the `Estimator`.
    export_dir_base: parent directory of the timestamped export.
    serving_input_receiver_fn: returns a `ServingInputReceiver`.
    checkpoint: the checkpoint prefix to export.
    assets_extra: dict of relative destination -> source path.
    as_text: write `saved_model.pbtxt`.

  Raises:
    ConfigError: the receiver fn returns no receiver, or the outputs clash.
    Any error of restoring or writing, after removing the temp directory.
  """
  with calls.new_graph(estimator.config) as (graph, _):
    receiver = serving_input_receiver_fn()
    if not isinstance(
      receiver,
      (export_lib.ServingInputReceiver, export_lib.TensorServingInputReceiver),
    ):
      raise errors.ConfigError(
        'serving_input_receiver_fn must return a ServingInputReceiver, got '
        f'{type(receiver).__name__}.',
        field='serving_input_receiver_fn',
      )
    spec = calls.call_model_fn(
      estimator, receiver.features, None, model_fn_lib.ModeKeys.PREDICT
    )
    signatures = _signatures(receiver, _export_outputs(spec))
    saver = spec.scaffold.saver or tf.train.Saver(sharded=True)
    final_dir = _timestamped(export_dir_base)
    temp_dir = os.path.join(
      os.path.dirname(final_dir), f'temp-{os.path.basename(final_dir)}'
    )
    try:
      _write(graph, saver, checkpoint, temp_dir, signatures, as_text)
      _copy_assets_extra(temp_dir, assets_extra)
      os.replace(temp_dir, final_dir)
    except Exception:
      # A failed export leaves no temp-<timestamp> behind; a killed process
      # still may, under a name no model server loads.
      shutil.rmtree(temp_dir, ignore_errors=True)
      raise
  tf.logging.info('SavedModel written to: %s', final_dir)
  return os.fsencode(final_dir)
