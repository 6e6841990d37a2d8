"""TF1's exporters for `train_and_evaluate`: Latest, Best and Final.

An `EvalSpec(exporters=...)` runs each exporter after every evaluation;
each writes SavedModels (`Estimator.export_saved_model`) under
`<model_dir>/export/<name>/<timestamp>/`, as TF 1.15 did:

* `LatestExporter` exports every evaluated checkpoint and keeps the newest
  `exports_to_keep`.
* `BestExporter` exports when `compare_fn(best_eval_result,
  current_eval_result)` says the evaluation beats the best so far (default:
  a smaller `loss`); the best so far is first read from the evaluation
  event files, so a restarted job does not export a worse model.
* `FinalExporter` exports once, at the evaluation of the checkpoint of
  `TrainSpec.max_steps` (with `max_steps=None` it never exports, as in TF).

An export is written to a `temp-<timestamp>` directory and renamed into
place, so a server never sees half of one. An exporter that fails is
logged and training goes on; `train_and_evaluate` raises `ExportError`
at its end if an exporter's last export failed.

Example:
    exporter = tf.estimator.BestExporter(
        serving_input_receiver_fn=serving_fn, exports_to_keep=3)
    eval_spec = tf.estimator.EvalSpec(eval_fn, exporters=[exporter])
    tf.estimator.train_and_evaluate(estimator, train_spec, eval_spec)
"""

import abc
import glob
import inspect
import numbers
import os
import shutil

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1 import _signatures

__all__ = [
  'Exporter',
  'LatestExporter',
  'BestExporter',
  'FinalExporter',
  'ExportRun',
  'exporter_tuple',
]

# compare_fn is called with these keywords, as TF 1.15 called it.
_COMPARE_ARGS = ('best_eval_result', 'current_eval_result')


class Exporter(abc.ABC):
  """A kind of model export that `EvalSpec` runs after each evaluation."""

  @property
  @abc.abstractmethod
  def name(self):
    """The directory under `<model_dir>/export/` (a non-empty string)."""

  @abc.abstractmethod
  def export(
    self,
    estimator,
    export_path,
    checkpoint_path,
    eval_result,
    is_the_final_export,
  ):
    """Exports `estimator` at `checkpoint_path` under `export_path`.

    Args:
      estimator: the `Estimator`.
      export_path: `<model_dir>/export/<name>`.
      checkpoint_path: the evaluated checkpoint prefix.
      eval_result: dict `Estimator.evaluate` returned for it.
      is_the_final_export: True at the evaluation of the checkpoint of
        `TrainSpec.max_steps` (never when `max_steps` is None).

    Returns:
      the export directory (bytes), or None when nothing was exported.
    """


def _config_error(exporter, field, message):
  return errors.ConfigError(f'{exporter}: {field} {message}', field=field)


class _SavedModelExporter(Exporter):
  """Checks and holds what `export_saved_model` takes; exports on demand."""

  def __init__(
    self,
    name,
    serving_input_receiver_fn,
    assets_extra,
    as_text,
    exports_to_keep=None,
  ):
    kind = type(self).__name__
    if not isinstance(name, str) or not name:
      raise _config_error(
        kind, 'name', f'must be a non-empty string, got {name!r}.'
      )
    if not callable(serving_input_receiver_fn):
      raise _config_error(
        kind,
        'serving_input_receiver_fn',
        'must be a function of no arguments returning a ServingInputReceiver'
        f', got {serving_input_receiver_fn!r}.',
      )
    if assets_extra is not None and not isinstance(assets_extra, dict):
      raise _config_error(
        kind, 'assets_extra', f'must be a dict, got {assets_extra!r}.'
      )
    keep = exports_to_keep
    # Any integer (a NumPy one from a config array too), never a bool.
    if keep is not None and (
      not isinstance(keep, numbers.Integral)
      or isinstance(keep, bool)
      or keep <= 0
    ):
      raise _config_error(
        kind,
        'exports_to_keep',
        f'must be an integer > 0 or None (keep all), got {keep!r}.',
      )
    self._name = name
    self._serving_input_receiver_fn = serving_input_receiver_fn
    self._assets_extra = assets_extra
    self._as_text = as_text
    self._exports_to_keep = None if keep is None else int(keep)

  @property
  def name(self):
    return self._name

  # TF1 calls bind as to `Exporter.export` (its arguments are written
  # there); `evaluation` gets `eval_result` and `is_the_final_export`.
  @_signatures.like(Exporter.export)
  def export(self, estimator, export_path, checkpoint_path, **evaluation):
    """Exports if `_wanted`; then deletes those past `exports_to_keep`."""
    if not self._wanted(estimator, **evaluation):
      return None
    result = estimator.export_saved_model(
      export_path,
      self._serving_input_receiver_fn,
      assets_extra=self._assets_extra,
      as_text=self._as_text,
      checkpoint_path=checkpoint_path,
    )
    self._exported(evaluation['eval_result'])
    _collect_garbage(export_path, self._exports_to_keep)
    return result

  def _wanted(self, estimator, eval_result, is_the_final_export):
    """Whether to export the checkpoint that gave `eval_result`."""
    raise NotImplementedError

  def _exported(self, eval_result):
    """Called after a successful export of the checkpoint of `eval_result`."""


def _collect_garbage(export_path, exports_to_keep):
  """Deletes all but the newest `exports_to_keep` timestamped exports.

  Only all-digit directory names are exports: a `temp-*` directory may be
  an export being written by another process.
  """
  if exports_to_keep is None or not os.path.isdir(export_path):
    return
  versions = sorted(
    (int(entry), entry) for entry in os.listdir(export_path) if entry.isdigit()
  )
  for _, entry in versions[:-exports_to_keep]:
    path = os.path.join(export_path, entry)
    try:
      shutil.rmtree(path)
    except OSError as e:
      tf.logging.warning('Could not delete old export %s: %s', path, e)


class LatestExporter(_SavedModelExporter):
  """Exports every evaluated checkpoint; keeps the newest `exports_to_keep`."""

  def __init__(
    self,
    name,
    serving_input_receiver_fn,
    assets_extra=None,
    as_text=False,
    exports_to_keep=5,
  ):
    """Checks the arguments; writes nothing.

    Args:
      name: directory under `<model_dir>/export/`.
      serving_input_receiver_fn: no arguments, returns a
        `ServingInputReceiver`.
      assets_extra: dict of destination (under `assets.extra`) -> source.
      as_text: write `saved_model.pbtxt`.
      exports_to_keep: newest exports kept; None keeps all.

    Raises:
      ConfigError: an argument is invalid (named in the message).
    """
    super().__init__(
      name, serving_input_receiver_fn, assets_extra, as_text, exports_to_keep
    )

  def _wanted(self, estimator, eval_result, is_the_final_export):
    return True


class FinalExporter(_SavedModelExporter):
  """Exports once, at the evaluation that ends training."""

  def __init__(
    self, name, serving_input_receiver_fn, assets_extra=None, as_text=False
  ):
    """Checks the arguments (as `LatestExporter`); writes nothing."""
    super().__init__(name, serving_input_receiver_fn, assets_extra, as_text)

  def _wanted(self, estimator, eval_result, is_the_final_export):
    if is_the_final_export:
      tf.logging.info('Performing the final export in the end of training.')
    return is_the_final_export


def _loss_smaller(best_eval_result, current_eval_result):
  """True if `current_eval_result['loss']` < `best_eval_result['loss']`."""
  results = (best_eval_result, current_eval_result)
  for name, result in zip(_COMPARE_ARGS, results, strict=True):
    if not result or 'loss' not in result:
      raise errors.ConfigError(
        f'BestExporter: {name} has no `loss` (keys: '
        f'{sorted(result or ())}); pass a compare_fn that reads the metric '
        'your evaluation returns.',
        field='compare_fn',
      )
  return best_eval_result['loss'] > current_eval_result['loss']


def _check_compare_fn(compare_fn):
  if not callable(compare_fn):
    raise _config_error(
      'BestExporter',
      'compare_fn',
      f'must be a function of {_COMPARE_ARGS}, got {compare_fn!r}.',
    )
  names = sorted(inspect.signature(compare_fn).parameters)
  if names != sorted(_COMPARE_ARGS):
    raise _config_error(
      'BestExporter',
      'compare_fn',
      f'must take exactly the arguments {list(_COMPARE_ARGS)} (it is called '
      f'with them as keywords), {compare_fn!r} takes {names}.',
    )


class BestExporter(_SavedModelExporter):
  """Exports a checkpoint when its evaluation beats the best so far."""

  def __init__(
    self,
    name='best_exporter',
    serving_input_receiver_fn=None,
    event_file_pattern='eval/*.tfevents.*',
    compare_fn=_loss_smaller,
    assets_extra=None,
    as_text=False,
    exports_to_keep=5,
  ):
    """Checks the arguments; writes nothing.

    Args:
      name: directory under `<model_dir>/export/`.
      serving_input_receiver_fn: as for `LatestExporter`.
      event_file_pattern: glob, relative to `model_dir`, of the event files
        holding earlier evaluations (for `EvalSpec(name='x')`:
        'eval_x/*.tfevents.*'); None starts every process with no best.
      compare_fn: `compare_fn(best_eval_result, current_eval_result)`,
        True when the current dict of metrics is better.
      assets_extra: as for `LatestExporter`.
      as_text: as for `LatestExporter`.
      exports_to_keep: newest exports kept; None keeps all.

    Raises:
      ConfigError: an argument is invalid (named in the message).
    """
    super().__init__(
      name, serving_input_receiver_fn, assets_extra, as_text, exports_to_keep
    )
    _check_compare_fn(compare_fn)
    self._compare_fn = compare_fn
    self._event_file_pattern = event_file_pattern
    self._model_dir = None
    self._best_eval_result = None

  def _wanted(self, estimator, eval_result, is_the_final_export):
    if self._model_dir != estimator.model_dir:
      self._model_dir = estimator.model_dir
      self._best_eval_result = self._best_in_events(
        int(eval_result.get('global_step', -1))
      )
    if self._best_eval_result is not None and not self._compare_fn(
      best_eval_result=self._best_eval_result, current_eval_result=eval_result
    ):
      return False
    tf.logging.info('Performing best model export.')
    return True

  def _exported(self, eval_result):
    # Only an export that exists is the best to beat.
    self._best_eval_result = eval_result

  def _best_in_events(self, current_step):
    """The best evaluation in the event files, or None.

    The evaluation being judged was written there already, at its step;
    it is left out (TF 1.15 read it, compared it with itself and never
    exported the first evaluation of a new model_dir).
    """
    if not self._event_file_pattern:
      return None
    tf.logging.info('Loading best metric from event files.')
    pattern = os.path.join(self._model_dir, self._event_file_pattern)
    best = None
    for path in sorted(glob.glob(pattern)):
      for step, result in _evaluations(path):
        if step == current_step:
          continue
        if best is None or self._compare_fn(
          best_eval_result=best, current_eval_result=result
        ):
          best = result
    return best


def _evaluations(path):
  """Yields (step, {tag: simple_value}) of each summary event in `path`.

  A file cut short (its writer was killed) yields what precedes the cut.
  """
  try:
    for event in tf.train.summary_iterator(path):
      values = {
        v.tag: v.simple_value
        for v in event.summary.value
        if v.HasField('simple_value')
      }
      if values:
        yield event.step, values
  except tf.errors.DataLossError as e:
    tf.logging.warning(
      'Event file %s is cut short (%s); read up to the cut.', path, e.message
    )


def exporter_tuple(exporters):
  """`EvalSpec.exporters` (an exporter, a list or None) as a tuple.

  Raises:
    ConfigError: an element has no `export`, or names clash or are empty.
  """
  if exporters is None:
    return ()
  if not isinstance(exporters, (list, tuple)):
    exporters = (exporters,)
  for exporter in exporters:
    if not callable(getattr(exporter, 'export', None)):
      raise _config_error(
        'EvalSpec',
        'exporters',
        'must be Exporters (`name` and `export(...)`: LatestExporter, '
        f'BestExporter, FinalExporter or your own), got {exporter!r}.',
      )
  names = [getattr(e, 'name', None) for e in exporters]
  if len(set(names)) < len(names) or not all(
    isinstance(n, str) and n for n in names
  ):
    raise _config_error(
      'EvalSpec',
      'exporters',
      'must have unique non-empty string names (the directory under '
      f'<model_dir>/export/), got {names}.',
    )
  return tuple(exporters)


class ExportRun:
  """Runs an `EvalSpec`'s exporters after each evaluation of a job.

  A failing exporter is logged and the job goes on (its checkpoints are
  kept); `finish` raises `ExportError` if an exporter's last export failed.
  """

  def __init__(self, exporters, max_steps):
    """`max_steps`: `TrainSpec.max_steps`, which makes an export final."""
    self._exporters = exporters
    self._max_steps = max_steps
    self._failed = {}  # exporter name -> message of its last failure
    if max_steps is None and any(
      isinstance(e, FinalExporter) for e in exporters
    ):
      tf.logging.warning(
        'A FinalExporter exports at the evaluation of the checkpoint of '
        'TrainSpec.max_steps; with max_steps None it will not export.'
      )

  def export(self, estimator, checkpoint, eval_result):
    """Runs each exporter; returns their results (None where skipped)."""
    step = int(eval_result['global_step'])
    final = self._max_steps is not None and step >= self._max_steps
    return [
      self._export_one(e, estimator, checkpoint, eval_result, final)
      for e in self._exporters
    ]

  def _export_one(self, exporter, estimator, checkpoint, result, final):
    path = os.path.join(os.fspath(estimator.model_dir), 'export', exporter.name)
    try:
      exported = exporter.export(estimator, path, checkpoint, result, final)
    except Exception as e:  # noqa: BLE001 (an export must not end training)
      message = (
        f'exporter {exporter.name!r} failed on checkpoint {checkpoint}: '
        f'{type(e).__name__}: {e}'
      )
      tf.logging.error('%s; training goes on.', message)
      self._failed[exporter.name] = message
      return None
    self._failed.pop(exporter.name, None)
    return exported

  def finish(self):
    """Raises `ExportError` naming each exporter whose last export failed."""
    if self._failed:
      raise errors.ExportError(
        'train_and_evaluate: ' + '; '.join(self._failed.values()) + '. The '
        'checkpoints are kept: fix the cause and export one with '
        'Estimator.export_saved_model(export_dir, serving_input_receiver_fn, '
        'checkpoint_path=...).',
        names=sorted(self._failed),
      )
