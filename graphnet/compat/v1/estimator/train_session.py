"""`Estimator.train`: the training graph, the model_dir's guards, the session.

`train` builds the model_fn's TRAIN graph (an in-graph loop of several
steps per `session.run` when nothing watches single steps, see
`train_loop`), then keeps graphnet's promises for `model_dir`: another
model's directory refused, one trainer at a time (`run_lock`), an atomic
`checkpoint` state (`saver.Saver`), a NaN loss stopping with the step
named, a full disk in one line, a final checkpoint on SIGINT/SIGTERM. The
monitored session runs with TF1's Estimator hooks: checkpoints, summaries
and the `loss = ..., step = ...` lines on `RunConfig`'s schedule, only on
the chief of a cluster.

Example:
    train(estimator, input_fn, hooks=None, steps=None, max_steps=1000)
"""

import contextlib
import os
import time

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import contents
from graphnet.checkpoints import disk_full
from graphnet.checkpoints import log_dirs
from graphnet.checkpoints import saver as saver_lib
from graphnet.compat.v1.estimator import calls
from graphnet.compat.v1.estimator import loop_hooks
from graphnet.compat.v1.estimator import model_fn as model_fn_lib
from graphnet.compat.v1.estimator import run_hooks
from graphnet.compat.v1.estimator import train_loop
from graphnet.compat.v1.estimator import words
from graphnet.training import hooks as graphnet_hooks
from graphnet.training import hooks_save
from graphnet.training import session_config
from graphnet.training import signals

__all__ = ['STEPS_PER_RUN_ENV', 'train']

ModeKeys = model_fn_lib.ModeKeys

# Environment variable: training steps per session.run (1 turns the
# in-graph loop off); unset, the Estimator picks (see `train_loop`).
STEPS_PER_RUN_ENV = 'GRAPHNET_ESTIMATOR_STEPS_PER_RUN'

# TF's keep_checkpoint_every_n_hours default (in effect off).
_EVERY_N_HOURS_OFF = 10000


def train(
  estimator, input_fn, hooks, steps, max_steps, listeners, cluster, warm
):
  """`Estimator.train` (which documents it), also as a cluster task.

  Args:
    estimator: the `Estimator`.
    input_fn: `Estimator.train`'s.
    hooks: `Estimator.train`'s.
    steps: `Estimator.train`'s.
    max_steps: `Estimator.train`'s.
    listeners: `Estimator.train`'s saving_listeners.
    cluster: None, or the `_ClusterTask` of a chief or worker.
    warm: the Estimator's `WarmStartSettings`, or None.

  Returns:
    the estimator.
  """
  _check_steps(steps, max_steps)
  is_chief = cluster is None or cluster.is_chief
  if max_steps is not None and is_chief:
    latest = estimator.latest_checkpoint()
    if latest and contents.checkpoint_step(latest) >= max_steps:
      tf.logging.info('Skipping training since max_steps has already saved.')
      return estimator
  run = _TrainRun(estimator, hooks, steps, max_steps, listeners, cluster, warm)
  try:
    run.run(input_fn)
  except errors.GraphnetError as e:
    # The trainer's guarantees speak of its log_dir; here it is model_dir.
    words.in_estimator_words(e)
    raise
  return estimator


class _TrainRun:
  """One `train` call: its arguments, the graph it builds, its session."""

  def __init__(
    self, estimator, hooks, steps, max_steps, listeners, cluster, warm_start
  ):
    self._estimator = estimator
    self._model_dir = estimator.model_dir
    self._config = estimator.config
    self._hooks = list(hooks or [])
    self._steps = steps
    self._max_steps = max_steps
    self._listeners = listeners
    self._cluster = cluster
    self._warm_start = warm_start
    self._is_chief = cluster is None or cluster.is_chief
    # Counting steps is right only when this process alone moves them.
    self._count = cluster is None

  def run(self, input_fn):
    if self._is_chief:
      log_dirs.check_log_dir(self._model_dir)
    graph, _, spec, input_hooks, loop = self._build(input_fn)
    if spec.train_op is None or spec.loss is None:
      raise errors.ConfigError(
        'model_fn must return an EstimatorSpec with loss and train_op in '
        'mode TRAIN.',
        field='model_fn',
      )
    made = log_dirs.prepare_log_dir(self._model_dir) if self._is_chief else []
    with disk_full.training_run(
      self._model_dir, made, lock=self._is_chief, printer=tf.logging.info
    ):
      self._session(graph, spec, [*input_hooks, *self._hooks], loop)

  def _build(self, input_fn):
    """(graph, global_step, spec, input hooks, LoopSpec or None)."""
    n = _steps_per_run(self._config, loop_hooks.intervals(self._hooks))
    if n > 1 and self._cluster is None and loop_hooks.allow(self._hooks):
      built = self._build_loop(input_fn, n)
      if built is not None:
        return built
    # One step per run: the hooks as they were given.
    loop_hooks.adapt(self._hooks, 1)
    cluster = self._cluster
    built = calls.build(
      self._estimator,
      input_fn,
      ModeKeys.TRAIN,
      device_fn=cluster.device_fn if cluster else self._config.device_fn,
    )
    return (*built, None)

  def _build_loop(self, input_fn, steps_per_run):
    """`_build` of an in-graph loop of training steps, or None.

    None when the input_fn gives no `tf.data.Dataset` (see
    `calls.input_dataset`) or the model_fn's spec cannot run in a loop
    (see `train_loop`).
    """
    estimator = self._estimator
    with calls.new_graph(self._config, self._config.device_fn) as built:
      graph, global_step = built
      dataset = calls.input_dataset(estimator, input_fn, ModeKeys.TRAIN)
      if dataset is None:
        return None
      with tf.device('/cpu:0'):
        iterator = tf.data.make_initializable_iterator(dataset)
      loop = train_loop.build(
        graph,
        iterator,
        lambda f, y: calls.call_model_fn(estimator, f, y, ModeKeys.TRAIN),
        steps_per_run,
        loop_hooks.logged_names(self._hooks),
      )
    if loop is None:
      return None
    loop_hooks.adapt(self._hooks, steps_per_run)
    # The count hook clips the last run to the steps asked for.
    input_hooks = [
      calls.DatasetIterator(iterator),
      run_hooks.LoopCountHook(
        loop.count, loop.steps_per_run, self._steps, self._max_steps
      ),
    ]
    return graph, global_step, loop.spec, input_hooks, loop

  def _session(self, graph, spec, hooks, loop):
    """Runs the monitored training session until it stops."""
    with graph.as_default():
      tf.summary.scalar('loss', spec.loss)
      scaffold = _training_scaffold(spec.scaffold, self._config)
      if self._warm_start is not None and not self._latest():
        _warm_start(self._warm_start)
      if self._is_chief:
        resumed = contents.check_resumable(
          self._model_dir, tf.global_variables()
        )
        if resumed:
          tf.logging.info('Restoring parameters from %s', resumed)
      all_hooks, chief_hooks = self._all_hooks(spec, scaffold, hooks, loop)
      self._loop(spec, scaffold, all_hooks, chief_hooks)

  def _latest(self):
    return self._estimator.latest_checkpoint()

  def _all_hooks(self, spec, scaffold, hooks, loop):
    """(hooks of every task, hooks of the chief only)."""
    steps_per_run = loop.steps_per_run if loop else 1
    all_hooks = [*hooks, *spec.training_hooks]
    if self._steps is not None or self._max_steps is not None:
      all_hooks.insert(
        0,
        graphnet_hooks.StopAtStepHook(
          num_steps=self._steps,
          last_step=self._max_steps,
          count_steps=self._count,
          steps_per_run=steps_per_run,
        ),
      )
    chief_hooks = []
    if self._is_chief:
      chief_hooks = self._chief_hooks(
        spec, scaffold, steps_per_run, loop.first_loss if loop else spec.loss
      )
    elif self._config.log_step_count_steps:
      # A worker's loss is seen too: a NaN stops it with the step named.
      all_hooks.append(
        graphnet_hooks.DivergenceHook(
          spec.loss, check_variables=False, names=words.setting_name
        )
      )
    return all_hooks, chief_hooks

  def _loop(self, spec, scaffold, all_hooks, chief_hooks):
    """The session loop; raises TrainingInterruptedError after a signal."""
    cluster = self._cluster
    session_args = (
      cluster.session_args(self._config)
      if cluster
      else {
        'checkpoint_dir': self._model_dir,
        'config': self._config.session_config,
      }
    )
    with (
      signals.StopOnSignals() as stop,
      cluster.life(session_args) if cluster else _nothing() as watchdog,
    ):
      all_hooks.append(stop.hook())
      # The chief's hooks save, summarise and log on RunConfig's schedule.
      last = session_config.run_until_stopped(
        [spec.train_op, spec.loss],
        watchdog,
        **session_args,
        scaffold=scaffold,
        hooks=all_hooks,
        chief_only_hooks=chief_hooks,
      )
    if last is not None:
      tf.logging.info('Loss for final step: %s.', last[1])
    if stop.signum is not None:
      final = self._latest() if self._is_chief else None
      step = contents.checkpoint_step(final) if final else None
      raise errors.TrainingInterruptedError(stop.signum, step, final)

  def _chief_hooks(self, spec, scaffold, n, first_loss):
    """The chief's hooks, the divergence check first (before any save).

    `first_loss` is the loss of a run's first step, which TF1's log lines
    show (the loop keeps it; else `spec.loss`).
    """
    config = self._config
    count = self._count
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
        names=words.setting_name,
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
            graphnet_hooks.FiniteWeightsListener(names=words.setting_name),
            *(self._listeners or []),
          ],
          count_steps=count,
          steps_per_run=n,
        )
      )
    if config.save_summary_steps:
      hooks.append(
        hooks_save.LoopSummarySaverHook(
          config.save_summary_steps, self._model_dir, n, count_steps=count
        )
      )
    if config.log_step_count_steps:
      hooks.append(
        run_hooks.TrainLogHook(
          first_loss,
          self._model_dir,
          config.log_step_count_steps,
          count_steps=count,
          steps_per_run=n,
        )
      )
    return hooks


@contextlib.contextmanager
def _nothing():
  yield None


def _steps_per_run(config, intervals):
  """Training steps per run: `STEPS_PER_RUN_ENV` if set, else automatic.

  Automatic, every step interval of `config` and `intervals` stays exact.
  """
  text = os.environ.get(STEPS_PER_RUN_ENV, '').strip()
  if not text:
    return train_loop.steps_per_run(config, intervals)
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
  saver = _HourlySaver(
    config.keep_checkpoint_every_n_hours,
    sharded=True,
    max_to_keep=config.keep_checkpoint_max,
    save_relative_paths=True,
  )
  # A copy keeps the model_fn's init_fn (called as `init_fn(scaffold,
  # session)`) and its feed dicts.
  return tf.train.Scaffold(saver=saver, copy_from_scaffold=scaffold)


class _HourlySaver(saver_lib.Saver):
  """graphnet's atomic Saver with TF1's `keep_checkpoint_every_n_hours`.

  A checkpoint leaving the `keep_checkpoint_max` window stays on disk,
  unlisted, when it was saved N hours after the last one kept so (the
  first N hours after the saver is made), as TF's Saver kept them.
  """

  def __init__(self, every_n_hours, **kwargs):
    super().__init__(**kwargs)
    self._every_secs = None
    if every_n_hours != _EVERY_N_HOURS_OFF:
      self._every_secs = every_n_hours * 3600
      self._next_kept = time.time() + self._every_secs

  def _stays_on_disk(self, saved_at):
    if self._every_secs is None or saved_at <= self._next_kept:
      return False
    self._next_kept += self._every_secs
    return True


def _warm_start(settings):
  tf.train.warm_start(
    settings.ckpt_to_initialize_from,
    vars_to_warm_start=settings.vars_to_warm_start,
    var_name_to_vocab_info=settings.var_name_to_vocab_info,
    var_name_to_prev_var_name=settings.var_name_to_prev_var_name,
  )
