"""TF1's `train_and_evaluate`, `TrainSpec` and `EvalSpec`.

Locally (no `TF_CONFIG`): trains, and evaluates each new checkpoint at most
every `EvalSpec.throttle_secs`, then once more at the end unless the last
checkpoint was already evaluated; a `model_dir` already at
`TrainSpec.max_steps` is neither trained, evaluated nor exported (TF
1.15's `(None, None)`). On a cluster described by `TF_CONFIG`,
each process runs its task on TensorFlow's own gRPC runtime:

* `chief` / `worker`: start the task's server and train with the variables
  on the ps tasks (`replica_device_setter`); only the chief restores,
  saves checkpoints and summaries. graphnet's cluster life applies: a
  non-chief worker waits for the chief's model, a lost ps ends every
  worker within `ps_timeout_secs` naming it, each worker tells the ps tasks
  when it is done.
* `ps`: serves the variables until every worker is done (`serve_ps`).
* `evaluator`: evaluates each new checkpoint of `model_dir` (after
  `start_delay_secs`, at most every `throttle_secs`) and ends once it has
  evaluated the one of `TrainSpec.max_steps`; a chief that stops
  answering for `ps_timeout_secs`' default ends it too, after evaluating
  the last checkpoint (a `ClusterRuntimeError` when `max_steps` was not
  reached).

Example:
    train_spec = TrainSpec(train_input_fn, max_steps=1000)
    eval_spec = EvalSpec(eval_input_fn, steps=None, throttle_secs=60)
    metrics, exports = train_and_evaluate(estimator, train_spec, eval_spec)
"""

import time

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import contents
from graphnet.checkpoints import state as checkpoints
from graphnet.compat.v1.estimator import _spec_tuple
from graphnet.compat.v1.estimator import exporter as exporter_lib
from graphnet.distributed import cluster as cluster_lib
from graphnet.distributed import cluster_config
from graphnet.distributed import peers
from graphnet.distributed import tasks as cluster_tasks
from graphnet.distributed import tf_config as tf_config_lib

__all__ = ['TrainSpec', 'EvalSpec', 'train_and_evaluate']

# How often the evaluator looks for a new checkpoint.
_POLL_SECS = 0.5
# How long the evaluator waits for a chief that stopped answering: as long
# as a worker waits for a lost ps.
_CHIEF_TIMEOUT_SECS = cluster_config.PS_TIMEOUT_SECS


def _fail(spec, field, message):
  raise errors.ConfigError(f'{spec}: {field} {message}', field=field)


class TrainSpec(
  _spec_tuple.spec_tuple(
    'TrainSpec', 'input_fn', max_steps=None, hooks=None, saving_listeners=None
  )
):
  """What to train on and for how long (`max_steps` None: data's end)."""

  __slots__ = ()

  def _checked(self):
    if not callable(self.input_fn):
      _fail(
        'TrainSpec', 'input_fn', f'must be callable, got {self.input_fn!r}.'
      )
    if self.max_steps is not None and self.max_steps <= 0:
      _fail(
        'TrainSpec', 'max_steps', f'must be > 0 or None, got {self.max_steps}.'
      )
    return self._replace(
      hooks=tuple(self.hooks or ()),
      saving_listeners=tuple(self.saving_listeners or ()),
    )


class EvalSpec(
  _spec_tuple.spec_tuple(
    'EvalSpec',
    'input_fn',
    steps=100,
    name=None,
    hooks=None,
    exporters=None,
    start_delay_secs=120,
    throttle_secs=600,
  )
):
  """What to evaluate on, how many batches, and how often."""

  __slots__ = ()

  def _checked(self):
    if not callable(self.input_fn):
      _fail('EvalSpec', 'input_fn', f'must be callable, got {self.input_fn!r}.')
    if self.steps is not None and self.steps <= 0:
      _fail('EvalSpec', 'steps', f'must be > 0 or None, got {self.steps}.')
    for field in ('start_delay_secs', 'throttle_secs'):
      value = getattr(self, field)
      if value < 0:
        _fail('EvalSpec', field, f'must be >= 0, got {value}.')
    return self._replace(
      hooks=tuple(self.hooks or ()),
      exporters=exporter_lib.exporter_tuple(self.exporters),
    )


class _Evaluator:
  """Evaluates checkpoints per `eval_spec` and runs its exporters."""

  def __init__(self, estimator, eval_spec, max_steps):
    self._estimator = estimator
    self._spec = eval_spec
    self._exports = exporter_lib.ExportRun(eval_spec.exporters, max_steps)
    self.last_step = None
    self.last_result = None
    self.export_results = []  # the last evaluation's, as TF 1.15 returned

  def evaluate(self, checkpoint):
    # Exporters are given the path of what was evaluated, never None.
    checkpoint = checkpoint or self._estimator.latest_checkpoint()
    result = self._estimator.evaluate(
      self._spec.input_fn,
      steps=self._spec.steps,
      hooks=self._spec.hooks,
      checkpoint_path=checkpoint,
      name=self._spec.name,
    )
    self.last_step = int(result['global_step'])
    self.last_result = result
    self.export_results = self._exports.export(
      self._estimator, checkpoint, result
    )
    return result

  def finish(self):
    """Raises `ExportError` if an exporter's last export failed."""
    self._exports.finish()


class _EvaluateOnSave(tf.train.CheckpointSaverListener):
  """Evaluates a saved checkpoint when `throttle_secs` have passed."""

  def __init__(self, evaluator, throttle_secs):
    self._evaluator = evaluator
    self._timer = tf.train.SecondOrStepTimer(every_secs=throttle_secs)
    self.began = False  # stays False when train skips (max_steps reached)

  def begin(self):
    self.began = True
    # The checkpoint saved as the session starts holds no new training.
    self._timer.update_last_triggered_step(0)
    self._started = False

  def after_save(self, session, global_step_value):
    if not self._started:
      self._started = True
      return
    if self._timer.should_trigger_for_step(global_step_value):
      self._timer.update_last_triggered_step(global_step_value)
      self._evaluator.evaluate(None)


def _run_local(estimator, train_spec, eval_spec):
  config = estimator.config
  if not (config.save_checkpoints_steps or config.save_checkpoints_secs):
    raise errors.ConfigError(
      'train_and_evaluate: RunConfig must save checkpoints '
      '(save_checkpoints_steps or save_checkpoints_secs) to evaluate them.',
      field='save_checkpoints_steps',
    )
  evaluator = _Evaluator(estimator, eval_spec, train_spec.max_steps)
  listener = _EvaluateOnSave(evaluator, eval_spec.throttle_secs)
  estimator.train(
    train_spec.input_fn,
    hooks=list(train_spec.hooks),
    max_steps=train_spec.max_steps,
    saving_listeners=[*train_spec.saving_listeners, listener],
  )
  if not listener.began:
    # TF 1.15 evaluated and exported from its listener, which a training
    # skipped at max_steps never starts: it returned (None, None).
    return None, None
  latest = estimator.latest_checkpoint()
  if latest and contents.checkpoint_step(latest) != evaluator.last_step:
    evaluator.evaluate(latest)
  evaluator.finish()
  return evaluator.last_result, evaluator.export_results


class _ClusterTask:
  """A chief or worker of a TF_CONFIG cluster, for `Estimator._train`."""

  def __init__(self, cluster, server, model_dir):
    self._cluster = cluster
    self._server = server
    self._model_dir = model_dir
    self.is_chief = cluster.is_chief
    self.device_fn = cluster_lib.device_setter(cluster)

  def session_args(self, config):
    """MonitoredTrainingSession's master, is_chief, checkpoint_dir, config."""
    return {
      'master': self._server.target,
      'is_chief': self.is_chief,
      # Only the chief restores and writes checkpoints and summaries.
      'checkpoint_dir': self._model_dir if self.is_chief else None,
      'config': cluster_lib.session_config(
        self._cluster, config.session_config
      ),
    }

  def life(self, session_args):
    """`cluster_tasks.worker_life` (watchdog, wait for chief, report done)."""
    return cluster_tasks.worker_life(
      self._cluster, self._server, session_args, printer=tf.logging.info
    )


def _chief_silence(estimator):
  """A `peers.Silence` probing TF_CONFIG's chief, or None if it names none."""
  hosts = estimator.config.tf_config.cluster.get(tf_config_lib.CHIEF) or ()
  if not hosts:
    return None
  return peers.Silence(
    {(tf_config_lib.CHIEF, 0): hosts[0]}, _CHIEF_TIMEOUT_SECS
  )


def _run_evaluator(estimator, train_spec, eval_spec):
  evaluator = _Evaluator(estimator, eval_spec, train_spec.max_steps)
  time.sleep(eval_spec.start_delay_secs)
  silence = _chief_silence(estimator)
  last_eval_time = None
  seen = None
  while True:
    chief_lost = silence is not None and _polled_lost(silence)
    latest = estimator.latest_checkpoint()
    if latest and latest != seen and checkpoints.complete(latest):
      wait = 0.0
      if last_eval_time is not None:
        wait = eval_spec.throttle_secs - (time.time() - last_eval_time)
      step = contents.checkpoint_step(latest)
      final = train_spec.max_steps is not None and step >= train_spec.max_steps
      if wait <= 0 or final or chief_lost:
        seen = latest
        last_eval_time = time.time()
        evaluator.evaluate(latest)
        if final:
          tf.logging.info(
            'Exiting evaluation, global step %d >= max_steps %d.',
            step,
            train_spec.max_steps,
          )
          evaluator.finish()
          return evaluator.last_result, evaluator.export_results
    if chief_lost:
      _end_without_chief(estimator, train_spec, silence, seen)
      evaluator.finish()
      return evaluator.last_result, evaluator.export_results
    time.sleep(_POLL_SECS)


def _polled_lost(silence):
  silence.poll()
  return bool(silence.lost())


def _end_without_chief(estimator, train_spec, silence, seen):
  """Logs the chief's end (no max_steps), or raises ClusterRuntimeError."""
  address = silence.address((tf_config_lib.CHIEF, 0))
  step = contents.checkpoint_step(seen) if seen else None
  if train_spec.max_steps is None:
    tf.logging.info(
      'Exiting evaluation: the chief at %s has ended; its last checkpoint '
      '(step %s) is evaluated.',
      address,
      step,
    )
    return
  raise errors.ClusterRuntimeError(
    f'evaluator: the chief at {address} has not answered for '
    f'{_CHIEF_TIMEOUT_SECS:.0f} s and model_dir {estimator.model_dir} has '
    f'no checkpoint of TrainSpec.max_steps {train_spec.max_steps} (last '
    f'evaluated: step {step}); the evaluator ends instead of waiting for '
    'ever. Restart the chief (it resumes from model_dir), then the '
    'evaluator.'
  )


def train_and_evaluate(estimator, train_spec, eval_spec):
  """Trains and evaluates, locally or as this process's TF_CONFIG task.

  Args:
    estimator: an `Estimator`.
    train_spec: a `TrainSpec`.
    eval_spec: an `EvalSpec`.

  Returns:
    (metrics of the last evaluation or None, list of export results), as
    TF 1.15 returned; None for tasks that do not evaluate, and (None,
    None) locally when `model_dir` is already at `TrainSpec.max_steps`.

  Raises:
    ConfigError: the specs are not TrainSpec/EvalSpec, or locally the
      config saves no checkpoints.
    ClusterError: `TF_CONFIG` is malformed or a port is taken.
    ExportError: an exporter's last export failed (raised once training
      and evaluation are done; the checkpoints are kept).
  """
  if not isinstance(train_spec, TrainSpec):
    _fail('train_and_evaluate', 'train_spec', 'must be a TrainSpec.')
  if not isinstance(eval_spec, EvalSpec):
    _fail('train_and_evaluate', 'eval_spec', 'must be an EvalSpec.')
  config = estimator.config.tf_config
  if not config.is_distributed:
    return _run_local(estimator, train_spec, eval_spec)
  if config.task_type == tf_config_lib.EVALUATOR:
    return _run_evaluator(estimator, train_spec, eval_spec)
  cluster = config.cluster_config()
  if config.task_type == tf_config_lib.PS:
    cluster_tasks.serve_ps(cluster, printer=tf.logging.info)
    return None, []
  server = cluster_lib.start_server(cluster)
  estimator._train(  # noqa: SLF001 (the cluster path of train)
    train_spec.input_fn,
    hooks=list(train_spec.hooks),
    max_steps=train_spec.max_steps,
    saving_listeners=list(train_spec.saving_listeners),
    cluster=_ClusterTask(cluster, server, estimator.model_dir),
  )
  return None, []
