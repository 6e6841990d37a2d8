"""TF1's `tf.estimator.Estimator` on `MonitoredTrainingSession`.

An Estimator calls the user's `input_fn` and `model_fn` in a new graph for
each of `train`, `evaluate`, `predict` and `export_saved_model`, and runs
the ops of the returned `EstimatorSpec` in a monitored session whose
checkpoints and events go to `model_dir`, laid out as TF 1.15 left it
(`model.ckpt-N.*`, `checkpoint`, `graph.pbtxt`, training events with
`loss` and `global_step/sec`, `eval/` events with every metric). Training
also keeps graphnet's promises for a log directory: one trainer at a time
(`run_lock`), a `checkpoint` state written atomically (`saver.Saver`), a
final checkpoint on SIGINT/SIGTERM (then `TrainingInterruptedError`), a
NaN loss stopping with the step named (`DivergenceError`), a full disk in
one line (`DiskFullError`) and another model's `model_dir` refused
(`CheckpointMismatchError`).

The work is done in `train_session` (train), `evaluation` (evaluate,
predict), `saved_model` (export) and `calls` (calling the user's
functions); this module holds the API.

Example:
    def model_fn(features, labels, mode, params):
      logits = tf.layers.dense(features['x'], params['classes'])
      ...
      return EstimatorSpec(mode, loss=loss, train_op=train_op)

    estimator = Estimator(model_fn, model_dir='/tmp/m', params={'classes': 3})
    estimator.train(input_fn, max_steps=1000)
    print(estimator.evaluate(eval_input_fn))
"""

import collections
import os
import tempfile

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import state as checkpoints
from graphnet.compat.v1 import _signatures
from graphnet.compat.v1.estimator import calls
from graphnet.compat.v1.estimator import evaluation
from graphnet.compat.v1.estimator import model_fn as model_fn_lib
from graphnet.compat.v1.estimator import run_config as run_config_lib
from graphnet.compat.v1.estimator import train_session

__all__ = [
  'STEPS_PER_RUN_ENV',
  'Estimator',
  'WarmStartSettings',
  'VocabInfo',
]

ModeKeys = model_fn_lib.ModeKeys
STEPS_PER_RUN_ENV = train_session.STEPS_PER_RUN_ENV

WarmStartSettings = collections.namedtuple(
  'WarmStartSettings',
  [
    'ckpt_to_initialize_from',
    'vars_to_warm_start',
    'var_name_to_vocab_info',
    'var_name_to_prev_var_name',
  ],
)
WarmStartSettings.__new__.__defaults__ = ('.*', None, None)
VocabInfo = tf.train.VocabInfo
# TF 1.15's arguments of export_saved_model and export_savedmodel after
# `serving_input_receiver_fn`; each method's last argument differs.
_EXPORT = _signatures.group(
  assets_extra=None, as_text=False, checkpoint_path=None
)


def _model_dir(model_dir, config):
  """The model directory: the argument, the config's, or a new temp dir."""
  if model_dir is not None and config.model_dir is not None:
    if os.path.abspath(model_dir) != os.path.abspath(config.model_dir):
      raise errors.ConfigError(
        f'Estimator: model_dir {model_dir} and RunConfig.model_dir '
        f'{config.model_dir} differ; give one of them.',
        field='model_dir',
      )
  chosen = model_dir or config.model_dir
  if chosen is None:
    chosen = tempfile.mkdtemp()
    tf.logging.warning('Using temporary folder as model directory: %s', chosen)
  return os.fspath(chosen)


class Estimator:
  """TF1's Estimator: train, evaluate, predict and export a `model_fn`.

  Attributes:
    model_dir: where checkpoints and events are written (str).
    config: the `RunConfig` (its `model_dir` set).
    params: a copy of the `params` dict given (read-only by convention).
    model_fn: the model function.
  """

  def __init__(
    self,
    model_fn,
    model_dir=None,
    config=None,
    params=None,
    warm_start_from=None,
  ):
    """Checks the arguments; creates nothing on disk but a temp model_dir.

    Args:
      model_fn: function of any of `features, labels, mode, params, config`
        returning an `EstimatorSpec`.
      model_dir: directory of checkpoints and events; None uses
        `config.model_dir`, else a new temporary directory (logged).
      config: a `RunConfig`, or None for the defaults.
      params: dict passed to `model_fn` (and input_fns taking `params`).
      warm_start_from: a checkpoint path or directory, or a
        `WarmStartSettings`, to initialise variables from when `model_dir`
        has no checkpoint yet.

    Raises:
      ConfigError: `model_fn` cannot be called as a model_fn, `config` is
        not a RunConfig, or `model_dir` differs from `config.model_dir`.
    """
    calls.check_model_fn(model_fn)
    if config is None:
      config = run_config_lib.RunConfig()
    if not isinstance(config, run_config_lib.RunConfig):
      raise errors.ConfigError(
        f'Estimator: config must be a RunConfig, got {type(config).__name__}.',
        field='config',
      )
    if params is not None and not isinstance(params, dict):
      raise errors.ConfigError(
        f'Estimator: params must be a dict, got {type(params).__name__}.',
        field='params',
      )
    self._model_dir = _model_dir(model_dir, config)
    self._config = config.replace(model_dir=self._model_dir)
    self._params = dict(params or {})
    self._model_fn = model_fn
    if isinstance(warm_start_from, (str, os.PathLike)):
      warm_start_from = WarmStartSettings(os.fspath(warm_start_from))
    self._warm_start = warm_start_from

  model_dir = property(lambda self: self._model_dir)
  config = property(lambda self: self._config)
  params = property(lambda self: dict(self._params))
  model_fn = property(lambda self: self._model_fn)

  # --- checkpoints ---------------------------------------------------------

  def latest_checkpoint(self):
    """The newest checkpoint prefix in `model_dir`, or None."""
    return checkpoints.latest_checkpoint(self._model_dir)

  def get_variable_names(self):
    """Names of the variables in the latest checkpoint (sorted).

    Raises:
      ValueError: `model_dir` has no checkpoint.
    """
    return [name for name, _ in tf.train.list_variables(self._require())]

  def get_variable_value(self, name):
    """The value (ndarray) of variable `name` in the latest checkpoint."""
    return tf.train.load_variable(self._require(), name)

  def _require(self):
    latest = self.latest_checkpoint()
    if latest is None:
      raise ValueError(
        f'Could not find trained model in model_dir: {self._model_dir}; '
        'train the Estimator first.'
      )
    return latest

  # --- train -----------------------------------------------------------------

  def train(
    self,
    input_fn,
    hooks=None,
    steps=None,
    max_steps=None,
    saving_listeners=None,
  ):
    """Trains the model on `input_fn`'s data.

    Resumes from `model_dir`'s latest checkpoint. Stops after `steps` more
    steps, at global step `max_steps`, or when `input_fn`'s data ends.

    Args:
      input_fn: function returning features, (features, labels) or a
        `tf.data.Dataset` of them.
      hooks: extra `SessionRunHook`s.
      steps: steps to train from now (incremental).
      max_steps: global step to stop at; training already there or beyond
        does nothing.
      saving_listeners: `CheckpointSaverListener`s called around saves.

    Returns:
      self.

    Raises:
      ConfigError: both `steps` and `max_steps`, or a value <= 0.
      CheckpointMismatchError: `model_dir` holds another model.
      LogDirLockedError: another live trainer holds `model_dir`.
      DivergenceError: the loss became NaN or infinite (step named).
      DiskFullError: a write failed for lack of space.
      TrainingInterruptedError: SIGINT or SIGTERM stopped training (the
        final checkpoint saved first).
    """
    return train_session.train(
      self,
      input_fn,
      hooks,
      steps,
      max_steps,
      saving_listeners,
      None,
      self._warm_start,
    )

  def _train(self, input_fn, hooks, max_steps, saving_listeners, cluster):
    """`train` as one task of a cluster (`cluster` a `_ClusterTask`)."""
    return train_session.train(
      self,
      input_fn,
      hooks,
      None,
      max_steps,
      saving_listeners,
      cluster,
      self._warm_start,
    )

  # --- evaluate --------------------------------------------------------------

  def evaluate(
    self, input_fn, steps=None, hooks=None, checkpoint_path=None, name=None
  ):
    """Evaluates the model on `input_fn`'s data.

    Runs the metric updates until the data ends or for `steps` batches,
    logs `Saving dict for global step N: ...` and writes every metric to
    `<model_dir>/eval` (or `eval_<name>`).

    Args:
      input_fn: as for `train`.
      steps: batches to evaluate; None until the data ends.
      hooks: extra `SessionRunHook`s.
      checkpoint_path: checkpoint (or directory) to evaluate; default the
        latest in `model_dir` (none: freshly initialised variables).
      name: evaluation name (events in `eval_<name>`).

    Returns:
      dict of metric name -> value, with `loss` and `global_step`.
    """
    return evaluation.evaluate(
      self, input_fn, steps, hooks, checkpoint_path, name
    )

  # --- predict ---------------------------------------------------------------

  def predict(
    self,
    input_fn,
    predict_keys=None,
    hooks=None,
    checkpoint_path=None,
    yield_single_examples=True,
  ):
    """Yields predictions of the model on `input_fn`'s features.

    Args:
      input_fn: function returning features (labels are ignored) or a
        dataset of them; it must end (e.g. `num_epochs=1`).
      predict_keys: names of the prediction dict to keep (None: all).
      hooks: extra `SessionRunHook`s.
      checkpoint_path: checkpoint to use; default the latest.
      yield_single_examples: yield one example at a time (else batches).

    Yields:
      dicts of name -> ndarray (or ndarrays when `predictions` is one
      tensor), one per example or per batch.

    Raises:
      ConfigError: a key of `predict_keys` is not a prediction.
    """
    return evaluation.predict(
      self,
      input_fn,
      predict_keys,
      hooks,
      checkpoint_path,
      yield_single_examples,
    )

  # --- export ----------------------------------------------------------------

  @_signatures.takes(_EXPORT)
  def export_saved_model(
    self,
    export_dir_base,
    serving_input_receiver_fn,
    *,
    experimental_mode=ModeKeys.PREDICT,
    **export,
  ):
    """Writes a SavedModel of the PREDICT graph and the latest checkpoint.

    The signatures come from `EstimatorSpec.export_outputs` (default: a
    `PredictOutput` of `predictions` as 'serving_default'); it loads in
    plain TF 2 with `tf.saved_model.load`.

    Args:
      export_dir_base: parent directory of the timestamped export.
      serving_input_receiver_fn: returns a `ServingInputReceiver`.
      experimental_mode: only `ModeKeys.PREDICT` is supported; TF1's last
        argument, after the `_EXPORT` ones.
      **export: TF1's arguments after `serving_input_receiver_fn`
        (`_EXPORT`, defaults there):
        assets_extra: dict of destination path (under `assets.extra`) ->
          source file path.
        as_text: write `saved_model.pbtxt` instead of `.pb`.
        checkpoint_path: checkpoint to export; default the latest.

    Returns:
      the export directory, as bytes (as TF1 returned it).

    Raises:
      ValueError: there is no checkpoint to export.
      ConfigError: several export outputs and none is 'serving_default'.
    """
    if experimental_mode != ModeKeys.PREDICT:
      raise errors.ConfigError(
        f'export_saved_model: experimental_mode {experimental_mode!r} is not '
        'supported; graphnet exports the PREDICT graph.',
        field='experimental_mode',
      )
    checkpoint = evaluation.checkpoint_to_use(self, export['checkpoint_path'])
    if checkpoint is None:
      raise ValueError(
        f"Couldn't find trained model at {self._model_dir}; train the "
        'Estimator before exporting it.'
      )
    from graphnet.compat.v1.estimator import saved_model as saved_model_lib

    return saved_model_lib.export(
      self,
      export_dir_base,
      serving_input_receiver_fn,
      checkpoint,
      export['assets_extra'],
      export['as_text'],
    )

  @_signatures.takes(_EXPORT)
  def export_savedmodel(
    self,
    export_dir_base,
    serving_input_receiver_fn,
    *,
    strip_default_attrs=False,
    **export,
  ):
    """TF1's older name of `export_saved_model`.

    Args:
      export_dir_base: as for `export_saved_model`.
      serving_input_receiver_fn: as for `export_saved_model`.
      strip_default_attrs: accepted and ignored: default attributes are
        always stripped, which every TF reads. TF1's last argument.
      **export: `assets_extra`, `as_text` and `checkpoint_path`, as for
        `export_saved_model`.

    Returns:
      the export directory, as bytes.
    """
    del strip_default_attrs
    return self.export_saved_model(
      export_dir_base, serving_input_receiver_fn, **export
    )
