"""Trains the MNIST model under `MonitoredTrainingSession` (TF1's loop).

`run_training(config)` is what `python -m graphnet.fully_connected_feed`
runs: read the data, build the graph (`train_graph.build_train_graph`),
make the hooks, then

    with tf.train.MonitoredTrainingSession(...) as sess:
      while not sess.should_stop():
        sess.run(train_op, feed_dict=inputs.feed_dict())

Example:
    from graphnet import config, trainer
    result = trainer.run_training(
        config.TrainConfig(log_dir='/tmp/logs', input_data_dir='/tmp/data'))
    print(result.evaluations['test'].precision)
"""

import contextlib
import dataclasses
import functools
import math

import tensorflow.compat.v1 as tf

from graphnet import checkpoints
from graphnet import cluster as cluster_lib
from graphnet import errors
from graphnet import hooks as hooks_lib
from graphnet import input_data
from graphnet import session_config
from graphnet import signals
from graphnet import train_graph

__all__ = [
  'TrainGraph',
  'TrainResult',
  'fill_feed_dict',
  'build_train_graph',
  'run_training',
]

# The graph half of training, re-exported for the callers of trainer.
TrainGraph = train_graph.TrainGraph
build_train_graph = train_graph.build_train_graph
fill_feed_dict = train_graph.fill_feed_dict

# Output lines appear as they happen, also when piped to a file.
_print_flush = functools.partial(print, flush=True)

# (key, title) of the data sets evaluated, in TF1's order.
_EVAL_SETS = (
  ('train', 'Training'),
  ('validation', 'Validation'),
  ('test', 'Test'),
)


@dataclasses.dataclass(frozen=True)
class TrainResult:
  """What a finished `run_training` reports."""

  # Global step at the end; None when this process saved no checkpoint
  # (a worker that is not the chief).
  global_step: int | None
  # Latest checkpoint prefix in log_dir, or None likewise.
  checkpoint: str | None
  # key ('train', 'validation', 'test') -> EvalResult of the last evaluation.
  evaluations: dict


@dataclasses.dataclass
class _Hooks:
  """The hooks of one training session."""

  # Every task's hooks (MonitoredTrainingSession's `hooks`).
  all_tasks: list
  # The chief's (`chief_only_hooks`); they run before `all_tasks`.
  chief_only: list
  # The chief's evaluation hook, whose last results run_training returns.
  evaluator: hooks_lib.EvaluationHook


def _make_hooks(config, tg, data_sets, stop, printer):
  """The hooks of `config`'s session around graph `tg`."""
  n = config.steps_per_run
  # Alone, this process's runs are the only ones moving the global step, N
  # at a time: the hooks count steps instead of fetching the step with
  # every run, and fetch nothing on the runs where they do nothing.
  count = config.cluster is None
  all_tasks = [
    hooks_lib.StopAtStepHook(
      last_step=config.max_steps, steps_per_run=n, count_steps=count
    )
  ]
  all_tasks += tg.hooks
  evaluator = hooks_lib.EvaluationHook(
    tg.eval_tower,
    [(key, title, getattr(data_sets, key)) for key, title in _EVAL_SETS],
    every_n_steps=config.eval_every,
    last_step=config.max_steps,
    summary_dir=config.log_dir,
    steps_per_run=n,
    printer=printer,
    count_steps=count,
  )
  if config.cluster is not None and not config.cluster.is_chief:
    check = hooks_lib.DivergenceHook(tg.loss, check_variables=False)
    return _Hooks([*all_tasks, check, stop.hook()], [], evaluator)
  # First among the chief's hooks, so before the checkpoint saver: a
  # diverged step must raise before it can be saved over the last good
  # checkpoint, which it deletes if already saved. Only the runs reaching
  # a logging or saving step fetch the loss for it, so the first run from
  # each checkpoint is checked; FiniteWeightsListener checks the weights
  # once per save.
  divergence = hooks_lib.DivergenceHook(
    tg.loss,
    check_variables=False,
    checkpoint_dir=config.log_dir,
    steps_per_run=n,
    every_n_steps=(
      math.gcd(config.log_every, config.save_checkpoint_steps) if count else 1
    ),
    count_steps=count,
  )
  # Instead of MonitoredTrainingSession's own savers, which fetch the
  # global step every run and, with runs of N > 1 steps, would save one run
  # late and summarise N times too rarely.
  savers = [
    hooks_lib.LoopCheckpointSaverHook(
      config.log_dir,
      config.save_checkpoint_steps,
      tg.saver,
      n,
      listeners=[hooks_lib.FiniteWeightsListener()],
      count_steps=count,
    ),
    hooks_lib.LoopSummarySaverHook(
      config.log_every, config.log_dir, n, count_steps=count
    ),
  ]
  logger = hooks_lib.StepLoggingHook(
    tg.loss,
    config.max_steps,
    config.log_every,
    printer=printer,
    steps_per_run=n,
    count_steps=count,
  )
  chief_only = [divergence, *savers, logger, evaluator]
  return _Hooks([*all_tasks, stop.hook()], chief_only, evaluator)


def _round_intervals(config, printer):
  """`config` with its intervals rounded up to multiples of steps_per_run.

  Hooks act between runs, so with N steps per run they can only act at
  multiples of N; rounding (and saying so once) beats acting late.
  """
  n = config.steps_per_run
  names = ('log_every', 'eval_every', 'save_checkpoint_steps')
  rounded = {
    name: -(-getattr(config, name) // n) * n
    for name in names
    if getattr(config, name) % n
  }
  if not rounded:
    return config
  changes = ', '.join(
    f'--{name} {getattr(config, name)} -> {value}'
    for name, value in rounded.items()
  )
  printer(f'--steps_per_run {n}: intervals rounded to multiples: {changes}.')
  return dataclasses.replace(config, **rounded)


def _data_seed(config):
  """Batch-order seed: each worker of a cluster draws its own sequence."""
  if config.seed is None or config.cluster is None:
    return config.seed
  return config.seed + config.cluster.task_index


def _session_args(config, server):
  """MonitoredTrainingSession's master, is_chief, checkpoint_dir, config."""
  options = session_config.make_config(config.session)
  cluster = config.cluster
  if cluster is None:
    return {'checkpoint_dir': config.log_dir, 'config': options}
  return {
    'master': server.target,
    'is_chief': cluster.is_chief,
    # Only the chief restores and writes checkpoints, summaries and .meta.
    'checkpoint_dir': config.log_dir if cluster.is_chief else None,
    'config': cluster_lib.session_config(cluster, options),
    # The sync chief's queue runner ends blocked on gradients that no
    # longer come; TF would wait 120 s before cancelling it.
    'stop_grace_period_secs': 3 if cluster.sync_replicas else 120,
  }


@contextlib.contextmanager
def _cluster_task(cluster, server, session_args, printer):
  """A worker's life around its session: wait for the chief, report done."""
  if cluster is None:
    yield
    return
  # A lost ps would otherwise hang the session (and signal_done) for ever.
  watchdog = cluster_lib.PsWatchdog(cluster, session_args['checkpoint_dir'])
  try:
    watchdog.start()
    if not cluster.is_chief:
      cluster_lib.wait_for_model(
        server.target, session_args['config'], printer=printer
      )
    printer(f'{cluster.task}: the model is ready; training.')
    yield
  finally:
    cluster_lib.signal_done(cluster, server.target)
    watchdog.stop()


def run_training(config, printer=_print_flush):
  """Trains the model of `config` to `config.max_steps`.

  Resumes from the latest checkpoint in `config.log_dir` (the global step
  continues); refuses a checkpoint of a different model. Saves checkpoints
  `model.ckpt-<step>` (with `.meta`) every `save_checkpoint_steps` and at
  the end, and writes events (graph, `loss`, `learning_rate`,
  `precision/*`) to `config.log_dir`.

  Args:
    config: a `config.TrainConfig`.
    printer: function taking one output line.

  Returns:
    a `TrainResult`.

  Raises:
    ConfigError: `log_dir` cannot be created or written.
    DataError: the data files are missing or malformed.
    CheckpointMismatchError: `log_dir` holds another model's checkpoint.
    DivergenceError: the loss became NaN or infinite.
    CheckpointError: the latest checkpoint in `log_dir` is damaged.
    TrainingInterruptedError: SIGINT or SIGTERM stopped training early
      (the final checkpoint is saved first).
  """
  made = checkpoints.prepare_log_dir(config.log_dir)
  config = _round_intervals(config, printer)
  try:
    # A taken port fails here, before the data and the graph cost time.
    server = (
      cluster_lib.start_server(config.cluster) if config.cluster else None
    )
    data_sets = input_data.read_data_sets(
      config.input_data_dir, fake_data=config.fake_data, seed=_data_seed(config)
    )
  except errors.GraphnetError:
    # Bad data or a taken port: leave no empty log_dir behind.
    checkpoints.remove_empty(made)
    raise
  tg = build_train_graph(config, data_sets)
  with tg.graph.as_default():
    checkpoints.check_resumable(config.log_dir, tf.global_variables())
    session_args = _session_args(config, server)
    with (
      # SIGINT/SIGTERM stop after the current run; the session's end()
      # then saves the final checkpoint.
      signals.StopOnSignals() as stop,
      _cluster_task(config.cluster, server, session_args, printer),
    ):
      hooks = _make_hooks(config, tg, data_sets, stop, printer)
      with tf.train.MonitoredTrainingSession(
        **session_args,
        scaffold=tf.train.Scaffold(
          saver=tg.saver, local_init_feed_dict=tg.inputs.local_init_feed_dict
        ),
        hooks=hooks.all_tasks,
        chief_only_hooks=hooks.chief_only,
        # The Loop*SaverHooks save and summarise.
        save_checkpoint_steps=None,
        save_summaries_steps=None,
        # StepLoggingHook prints the speed; TF's counter only adds noise.
        log_step_count_steps=None,
      ) as sess:
        while not sess.should_stop():
          sess.run(tg.train_op, feed_dict=tg.inputs.feed_dict())
  final = checkpoints.latest_checkpoint(config.log_dir)
  step = checkpoints.checkpoint_step(final) if final else None
  if stop.signum is not None:
    raise errors.TrainingInterruptedError(stop.signum, step, final)
  return TrainResult(step, final, hooks.evaluator.last_results)
