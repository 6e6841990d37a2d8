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
import contextlib
import datetime
import inspect
import os
import tempfile
import time

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import disk_full
from graphnet.checkpoints import log_dirs
from graphnet.checkpoints import run_lock
from graphnet.checkpoints import saver as saver_lib
from graphnet.checkpoints import state as checkpoints
from graphnet.compat.v1.estimator import model_fn as model_fn_lib
from graphnet.compat.v1.estimator import run_config as run_config_lib
from graphnet.compat.v1.estimator import run_hooks
from graphnet.compat.v1.estimator import train_loop
from graphnet.training import hooks as graphnet_hooks
from graphnet.training import signals

__all__ = [
  'STEPS_PER_RUN_ENV',
  'Estimator',
  'WarmStartSettings',
  'VocabInfo',
]

ModeKeys = model_fn_lib.ModeKeys

# Environment variable: training steps per session.run (1 turns the
# in-graph loop off); unset, the Estimator picks (see `train_loop`).
STEPS_PER_RUN_ENV = 'GRAPHNET_ESTIMATOR_STEPS_PER_RUN'

_MODEL_FN_ARGS = ('features', 'labels', 'mode', 'params', 'config')
# TF's keep_checkpoint_every_n_hours default (in effect off).
_EVERY_N_HOURS_OFF = 10000

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


def _fn_args(fn):
  """The argument names `fn` takes (partials and bound methods handled)."""
  try:
    parameters = inspect.signature(fn).parameters
  except (TypeError, ValueError):
    return ()
  return tuple(
    name
    for name, p in parameters.items()
    if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
  )


def _takes_kwargs(fn):
  try:
    parameters = inspect.signature(fn).parameters.values()
  except (TypeError, ValueError):
    return False
  return any(p.kind == p.VAR_KEYWORD for p in parameters)


def _check_model_fn(model_fn):
  if not callable(model_fn):
    raise errors.ConfigError(
      f'Estimator: model_fn must be callable, got {model_fn!r}.',
      field='model_fn',
    )
  args = _fn_args(model_fn)
  if 'features' not in args and not _takes_kwargs(model_fn):
    raise errors.ConfigError(
      f'Estimator: model_fn {getattr(model_fn, "__name__", model_fn)} must '
      f'take a `features` argument, it takes {list(args)}.',
      field='model_fn',
    )
  unknown = [a for a in args if a not in _MODEL_FN_ARGS]
  if unknown:
    raise errors.ConfigError(
      f'Estimator: model_fn takes {unknown}, which an Estimator cannot '
      f'pass; its arguments may be any of {list(_MODEL_FN_ARGS)}.',
      field='model_fn',
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


class _DatasetIterator(tf.train.SessionRunHook):
  """Initialises an input_fn's dataset iterator when the session starts."""

  def __init__(self, iterator):
    self._iterator = iterator

  def after_create_session(self, session, coord):
    session.run(self._iterator.initializer)


def _parse_input(result, mode):
  """(features, labels, hooks) from what an input_fn returned."""
  hooks = []
  if isinstance(result, tf.data.Dataset):
    iterator = tf.data.make_initializable_iterator(result)
    hooks.append(_DatasetIterator(iterator))
    result = iterator.get_next()
  if isinstance(result, (tuple, list)):
    if len(result) != 2:
      raise errors.ConfigError(
        f'input_fn must return features, (features, labels) or a '
        f'tf.data.Dataset of them; got a sequence of {len(result)} items in '
        f'mode {mode}.',
        field='input_fn',
      )
    return result[0], result[1], hooks
  return result, None, hooks


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
    _check_model_fn(model_fn)
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

  def _checkpoint(self, checkpoint_path=None):
    if checkpoint_path:
      found = (
        tf.train.latest_checkpoint(checkpoint_path)
        if os.path.isdir(checkpoint_path)
        else checkpoint_path
      )
      return found
    return self.latest_checkpoint()

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

  # --- calling the user's functions ----------------------------------------

  def _call_input_fn(self, input_fn, mode):
    return _parse_input(self._input_fn_result(input_fn, mode), mode)

  def _input_fn_result(self, input_fn, mode):
    if not callable(input_fn):
      raise errors.ConfigError(
        f'input_fn must be callable, got {input_fn!r}.', field='input_fn'
      )
    args = _fn_args(input_fn)
    kwargs = {}
    if 'mode' in args:
      kwargs['mode'] = mode
    if 'params' in args:
      kwargs['params'] = self.params
    if 'config' in args:
      kwargs['config'] = self._config
    # The input pipeline stays on the CPU, as TF1's Estimator put it.
    with tf.device('/cpu:0'):
      return input_fn(**kwargs)

  def _call_model_fn(self, features, labels, mode):
    args = _fn_args(self._model_fn)
    kwargs = {}
    if 'labels' in args:
      kwargs['labels'] = labels
    elif labels is not None:
      raise errors.ConfigError(
        'model_fn does not take labels, but input_fn returns labels; add a '
        '`labels` argument to model_fn or return features only.',
        field='model_fn',
      )
    if 'mode' in args:
      kwargs['mode'] = mode
    if 'params' in args:
      kwargs['params'] = self.params
    if 'config' in args:
      kwargs['config'] = self._config
    spec = self._model_fn(features=features, **kwargs)
    if not isinstance(spec, model_fn_lib.EstimatorSpec):
      raise errors.ConfigError(
        f'model_fn must return an EstimatorSpec, got {type(spec).__name__} '
        f'in mode {mode}.',
        field='model_fn',
      )
    return spec

  def _build(self, input_fn, mode, device_fn=None):
    """Graph, spec and input hooks of `mode` in a new graph (as default)."""
    graph = tf.Graph()
    with graph.as_default(), _device(device_fn):
      if self._config.tf_random_seed is not None:
        tf.set_random_seed(self._config.tf_random_seed)
      global_step = tf.train.get_or_create_global_step()
      features, labels, input_hooks = self._call_input_fn(input_fn, mode)
      spec = self._call_model_fn(features, labels, mode)
    return graph, global_step, spec, input_hooks

  def _build_loop(self, input_fn, steps_per_run):
    """`_build` of an in-graph loop of training steps, or None.

    None when the input_fn returns no `tf.data.Dataset` or the model_fn's
    spec cannot run in a loop (see `train_loop`).
    """
    graph = tf.Graph()
    with graph.as_default(), _device(self._config.device_fn):
      if self._config.tf_random_seed is not None:
        tf.set_random_seed(self._config.tf_random_seed)
      global_step = tf.train.get_or_create_global_step()
      dataset = self._input_fn_result(input_fn, ModeKeys.TRAIN)
      if not isinstance(dataset, tf.data.Dataset):
        return None
      with tf.device('/cpu:0'):
        iterator = tf.data.make_initializable_iterator(dataset)
      loop = train_loop.build(
        graph,
        iterator,
        lambda f, y: self._call_model_fn(f, y, ModeKeys.TRAIN),
        steps_per_run,
      )
    if loop is None:
      return None
    return graph, global_step, loop, [_DatasetIterator(iterator)]

  def _build_train(self, input_fn, hooks, cluster):
    """(graph, global_step, spec, input hooks, steps per run)."""
    n = _steps_per_run(self._config)
    if n > 1 and cluster is None and not hooks:
      built = self._build_loop(input_fn, n)
      if built is not None:
        graph, global_step, loop, input_hooks = built
        input_hooks.append(run_hooks.LoopCountHook(loop.count, n, None, None))
        return graph, global_step, loop.spec, input_hooks, loop
    built = self._build(
      input_fn,
      ModeKeys.TRAIN,
      device_fn=cluster.device_fn if cluster else self._config.device_fn,
    )
    return (*built, None)

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
    return self._train(input_fn, hooks, steps, max_steps, saving_listeners)

  def _train(
    self,
    input_fn,
    hooks=None,
    steps=None,
    max_steps=None,
    saving_listeners=None,
    cluster=None,
  ):
    """`train`, also as one task of a cluster (`cluster` a `_ClusterTask`)."""
    _check_steps(steps, max_steps)
    if max_steps is not None and (cluster is None or cluster.is_chief):
      latest = self.latest_checkpoint()
      if latest and checkpoints.checkpoint_step(latest) >= max_steps:
        tf.logging.info('Skipping training since max_steps has already saved.')
        return self
    is_chief = cluster is None or cluster.is_chief
    if is_chief:
      log_dirs.check_log_dir(self._model_dir)
    graph, global_step, spec, input_hooks, loop = self._build_train(
      input_fn, hooks, cluster
    )
    if loop is not None:
      # The count hook clips the last run to the steps asked for.
      input_hooks[-1] = run_hooks.LoopCountHook(
        loop.count, loop.steps_per_run, steps, max_steps
      )
    if spec.train_op is None or spec.loss is None:
      raise errors.ConfigError(
        'model_fn must return an EstimatorSpec with loss and train_op in '
        'mode TRAIN.',
        field='model_fn',
      )
    made = log_dirs.prepare_log_dir(self._model_dir) if is_chief else []
    started_at = time.time()
    with contextlib.ExitStack() as held:
      if is_chief:
        try:
          held.enter_context(
            run_lock.LogDirLock(self._model_dir, printer=tf.logging.info)
          )
        except errors.GraphnetError as e:
          log_dirs.remove_empty(made)
          raise disk_full.disk_full_error(e, self._model_dir) or e from None
      held.enter_context(disk_full.quiet_writer_threads())
      try:
        return self._train_session(
          graph,
          global_step,
          spec,
          [*input_hooks, *(hooks or [])],
          steps,
          max_steps,
          saving_listeners,
          cluster,
          loop.steps_per_run if loop else 1,
        )
      except (tf.errors.OpError, OSError, RuntimeError) as e:
        full = disk_full.disk_full_error(e, self._model_dir)
        if full is None:
          raise
        disk_full.remove_partial_save(self._model_dir, started_at)
        raise full from None

  def _train_session(
    self,
    graph,
    global_step,
    spec,
    hooks,
    steps,
    max_steps,
    listeners,
    cluster,
    steps_per_run,
  ):
    config = self._config
    is_chief = cluster is None or cluster.is_chief
    # Counting steps is right only when this process alone moves them.
    count = cluster is None
    with graph.as_default():
      tf.summary.scalar('loss', spec.loss)
      scaffold = _training_scaffold(spec.scaffold, config)
      if self._warm_start is not None and not self.latest_checkpoint():
        _warm_start(self._warm_start)
      resumed = None
      if is_chief:
        resumed = checkpoints.check_resumable(
          self._model_dir, tf.global_variables()
        )
      if resumed:
        tf.logging.info('Restoring parameters from %s', resumed)
      all_hooks = [*hooks, *spec.training_hooks]
      if steps is not None or max_steps is not None:
        all_hooks.insert(
          0,
          graphnet_hooks.StopAtStepHook(
            num_steps=steps,
            last_step=max_steps,
            count_steps=count,
            steps_per_run=steps_per_run,
          ),
        )
      chief_hooks = []
      if is_chief:
        chief_hooks = self._chief_hooks(
          spec, scaffold, listeners, count, steps_per_run
        )
      elif config.log_step_count_steps:
        # A worker's loss is seen too: a NaN stops it with the step named.
        all_hooks.append(
          graphnet_hooks.DivergenceHook(spec.loss, check_variables=False)
        )
      session_args = (
        cluster.session_args(config)
        if cluster
        else {
          'checkpoint_dir': self._model_dir,
          'config': config.session_config,
        }
      )
      with (
        signals.StopOnSignals() as stop,
        cluster.life(session_args) if cluster else _nothing() as watchdog,
      ):
        all_hooks.append(stop.hook())
        loss = None
        with tf.train.MonitoredTrainingSession(
          **session_args,
          scaffold=scaffold,
          hooks=all_hooks,
          chief_only_hooks=chief_hooks,
          save_checkpoint_secs=None,
          save_checkpoint_steps=None,
          save_summaries_steps=None,
          save_summaries_secs=None,
          log_step_count_steps=None,
        ) as session:
          if watchdog is not None:
            watchdog.reached()
          while not session.should_stop():
            _, loss = session.run([spec.train_op, spec.loss])
      if loss is not None:
        tf.logging.info('Loss for final step: %s.', loss)
    if stop.signum is not None:
      final = self.latest_checkpoint() if is_chief else None
      step = checkpoints.checkpoint_step(final) if final else None
      raise errors.TrainingInterruptedError(stop.signum, step, final)
    return self

  def _chief_hooks(self, spec, scaffold, listeners, count, n):
    """The chief's hooks, the divergence check first (before any save)."""
    config = self._config
    # The loss is fetched with every run anyway; with runs of n steps it is
    # the run's last step's.
    every = n if n > 1 else (config.log_step_count_steps or 100)
    hooks = [
      graphnet_hooks.DivergenceHook(
        spec.loss,
        check_variables=False,
        checkpoint_dir=self._model_dir,
        steps_per_run=n,
        every_n_steps=every if count else 1,
        count_steps=count,
      ),
      *spec.training_chief_hooks,
    ]
    if config.save_checkpoints_steps or config.save_checkpoints_secs:
      hooks.append(
        run_hooks.CheckpointSaverHook(
          self._model_dir,
          scaffold.saver,
          save_steps=config.save_checkpoints_steps,
          save_secs=config.save_checkpoints_secs,
          listeners=[
            graphnet_hooks.FiniteWeightsListener(),
            *(listeners or []),
          ],
          count_steps=count,
          steps_per_run=n,
        )
      )
    if config.save_summary_steps:
      hooks.append(
        graphnet_hooks.LoopSummarySaverHook(
          config.save_summary_steps, self._model_dir, n, count_steps=count
        )
      )
    if config.log_step_count_steps:
      hooks.append(
        run_hooks.TrainLogHook(
          spec.loss,
          self._model_dir,
          config.log_step_count_steps,
          count_steps=count,
          steps_per_run=n,
        )
      )
    return hooks

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
    if steps is not None and steps <= 0:
      raise errors.ConfigError(
        f'evaluate: steps must be > 0 or None, got {steps}.', field='steps'
      )
    graph, global_step, spec, input_hooks = self._build(input_fn, ModeKeys.EVAL)
    checkpoint = self._checkpoint(checkpoint_path)
    if checkpoint is None:
      tf.logging.info(
        'Could not find trained model in model_dir: %s, running '
        'initialization to evaluate.',
        self._model_dir,
      )
    with graph.as_default():
      metrics = dict(spec.eval_metric_ops)
      if 'loss' not in metrics:
        metrics['loss'] = tf.metrics.mean(spec.loss)
      values = {k: v[0] for k, v in metrics.items()}
      values['global_step'] = global_step
      update = tf.group(*[v[1] for v in metrics.values()])
      final = tf.train.FinalOpsHook(values)
      all_hooks = [
        *input_hooks,
        run_hooks.EvalProgressHook(steps),
        *(hooks or []),
        *spec.evaluation_hooks,
        final,
      ]
      tf.logging.info('Starting evaluation at %s', _now())
      creator = tf.train.ChiefSessionCreator(
        scaffold=spec.scaffold,
        checkpoint_filename_with_path=checkpoint,
        config=self._config.session_config,
      )
      with tf.train.MonitoredSession(
        session_creator=creator, hooks=all_hooks
      ) as session:
        while not session.should_stop():
          session.run(update)
      tf.logging.info('Finished evaluation at %s', _now())
    result = dict(final.final_ops_values)
    tf.logging.info(
      'Saving dict for global step %d: %s',
      result['global_step'],
      _dict_line(result),
    )
    _write_eval_summary(run_hooks.eval_dir(self._model_dir, name), result)
    return result

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
    graph, _, spec, input_hooks = self._build(input_fn, ModeKeys.PREDICT)
    checkpoint = self._checkpoint(checkpoint_path)
    if checkpoint is None:
      tf.logging.info(
        'Could not find trained model in model_dir: %s, running '
        'initialization to predict.',
        self._model_dir,
      )
    predictions = _select(spec.predictions, predict_keys)
    with graph.as_default():
      creator = tf.train.ChiefSessionCreator(
        scaffold=spec.scaffold,
        checkpoint_filename_with_path=checkpoint,
        config=self._config.session_config,
      )
      with tf.train.MonitoredSession(
        session_creator=creator,
        hooks=[*input_hooks, *(hooks or []), *spec.prediction_hooks],
      ) as session:
        while not session.should_stop():
          batch = session.run(predictions)
          if not yield_single_examples:
            yield batch
            continue
          yield from _examples(batch)

  # --- export ----------------------------------------------------------------

  def export_saved_model(
    self,
    export_dir_base,
    serving_input_receiver_fn,
    assets_extra=None,
    as_text=False,
    checkpoint_path=None,
    experimental_mode=ModeKeys.PREDICT,
  ):
    """Writes a SavedModel of the PREDICT graph and the latest checkpoint.

    The signatures come from `EstimatorSpec.export_outputs` (default: a
    `PredictOutput` of `predictions` as 'serving_default'); it loads in
    plain TF 2 with `tf.saved_model.load`.

    Args:
      export_dir_base: parent directory of the timestamped export.
      serving_input_receiver_fn: returns a `ServingInputReceiver`.
      assets_extra: dict of destination path (under `assets.extra`) ->
        source file path.
      as_text: write `saved_model.pbtxt` instead of `.pb`.
      checkpoint_path: checkpoint to export; default the latest.
      experimental_mode: only `ModeKeys.PREDICT` is supported.

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
    checkpoint = self._checkpoint(checkpoint_path)
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
      assets_extra,
      as_text,
    )

  def export_savedmodel(
    self,
    export_dir_base,
    serving_input_receiver_fn,
    assets_extra=None,
    as_text=False,
    checkpoint_path=None,
    strip_default_attrs=False,
  ):
    """TF1's older name of `export_saved_model`."""
    del strip_default_attrs  # Always stripped, which every TF reads.
    return self.export_saved_model(
      export_dir_base,
      serving_input_receiver_fn,
      assets_extra=assets_extra,
      as_text=as_text,
      checkpoint_path=checkpoint_path,
    )


@contextlib.contextmanager
def _nothing():
  yield None


@contextlib.contextmanager
def _device(device_fn):
  if device_fn is None:
    yield
    return
  with tf.device(device_fn):
    yield


def _steps_per_run(config):
  """Training steps per run: `STEPS_PER_RUN_ENV` if set, else automatic."""
  text = os.environ.get(STEPS_PER_RUN_ENV, '').strip()
  if not text:
    return train_loop.steps_per_run(config)
  if not text.isdigit() or int(text) < 1:
    raise errors.ConfigError(
      f'{STEPS_PER_RUN_ENV} must be an integer >= 1 (1: one step per run), '
      f'got {text!r}.',
      field=STEPS_PER_RUN_ENV,
    )
  return int(text)


def _check_steps(steps, max_steps):
  if steps is not None and max_steps is not None:
    raise errors.ConfigError(
      f'train: give steps or max_steps, not both (got {steps} and '
      f'{max_steps}).',
      field='steps',
    )
  for name, value in (('steps', steps), ('max_steps', max_steps)):
    if value is not None and value <= 0:
      raise errors.ConfigError(
        f'train: {name} must be > 0, got {value}.', field=name
      )


def _training_scaffold(scaffold, config):
  """The model_fn's scaffold with graphnet's atomic saver if it has none."""
  if scaffold.saver is not None:
    return scaffold
  if config.keep_checkpoint_every_n_hours == _EVERY_N_HOURS_OFF:
    saver = saver_lib.Saver(
      sharded=True,
      max_to_keep=config.keep_checkpoint_max,
      save_relative_paths=True,
    )
  else:
    # graphnet's Saver keeps only the newest; TF's keeps the hourly ones.
    saver = tf.train.Saver(
      sharded=True,
      max_to_keep=config.keep_checkpoint_max,
      keep_checkpoint_every_n_hours=config.keep_checkpoint_every_n_hours,
      save_relative_paths=True,
    )
  return tf.train.Scaffold(
    init_op=scaffold.init_op,
    init_feed_dict=scaffold.init_feed_dict,
    init_fn=scaffold._init_fn,  # noqa: SLF001 (Scaffold has no getter)
    ready_op=scaffold.ready_op,
    ready_for_local_init_op=scaffold.ready_for_local_init_op,
    local_init_op=scaffold.local_init_op,
    summary_op=scaffold.summary_op,
    saver=saver,
    copy_from_scaffold=None,
  )


def _warm_start(settings):
  tf.train.warm_start(
    settings.ckpt_to_initialize_from,
    vars_to_warm_start=settings.vars_to_warm_start,
    var_name_to_vocab_info=settings.var_name_to_vocab_info,
    var_name_to_prev_var_name=settings.var_name_to_prev_var_name,
  )


def _now():
  return datetime.datetime.now(datetime.timezone.utc).strftime(
    '%Y-%m-%dT%H:%M:%SZ'
  )


def _dict_line(result):
  """TF1's `k = v, ...` of a result dict, sorted by key, bytes left out."""
  return ', '.join(
    f'{k} = {v!s}'
    for k, v in sorted(result.items())
    if not isinstance(v, bytes)
  )


def _write_eval_summary(directory, result):
  """Writes each scalar metric of `result` at its global step."""
  values = []
  for key, value in sorted(result.items()):
    if key == 'global_step':
      continue
    array = np.asarray(value)
    if array.ndim == 0 and array.dtype.kind in 'fiub':
      values.append(tf.Summary.Value(tag=key, simple_value=float(array)))
    else:
      tf.logging.warning(
        'Skipping summary for %s, must be a float or np.float32.', key
      )
  writer = tf.summary.FileWriterCache.get(directory)
  writer.add_summary(tf.Summary(value=values), int(result['global_step']))
  writer.flush()


def _select(predictions, keys):
  if keys is None:
    return predictions
  if isinstance(keys, str):
    keys = [keys]
  if not isinstance(predictions, dict):
    raise errors.ConfigError(
      'predict: predict_keys given but model_fn returned one prediction '
      'tensor, not a dict.',
      field='predict_keys',
    )
  missing = [k for k in keys if k not in predictions]
  if missing:
    raise errors.ConfigError(
      f'predict: predict_keys {missing} are not predictions; the model '
      f'predicts {sorted(predictions)}.',
      field='predict_keys',
    )
  return {k: predictions[k] for k in keys}


def _examples(batch):
  """Splits one batch of predictions into examples (first dimension)."""
  if not isinstance(batch, dict):
    yield from batch
    return
  sizes = {k: len(v) for k, v in batch.items()}
  if len(set(sizes.values())) > 1:
    raise errors.ConfigError(
      f'predict: the predictions have different batch sizes {sizes}; with '
      'yield_single_examples=True every prediction needs the batch first.',
      field='predictions',
    )
  for i in range(next(iter(sizes.values()), 0)):
    yield {k: v[i] for k, v in batch.items()}
