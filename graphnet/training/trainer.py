"""Trains the MNIST model under `MonitoredTrainingSession` (TF1's loop).

`run_training(config)` is what `python -m graphnet.fully_connected_feed`
runs: read the data, build the graph (`train_graph.build_train_graph`),
make the hooks, then

    with tf.train.MonitoredTrainingSession(...) as sess:
      while not sess.should_stop():
        sess.run(train_op, feed_dict=inputs.feed_dict())

Example:
    from graphnet.training import config, trainer
    result = trainer.run_training(
        config.TrainConfig(log_dir='/tmp/logs', input_data_dir='/tmp/data'))
    print(result.evaluations['test'].precision)
"""

import dataclasses
import functools
import math
import sys

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet import options
from graphnet.checkpoints import contents
from graphnet.checkpoints import disk_full
from graphnet.checkpoints import log_dirs
from graphnet.checkpoints import state as checkpoints
from graphnet.data import dataset
from graphnet.distributed import cluster as cluster_lib
from graphnet.distributed import tasks as cluster_tasks
from graphnet.training import hooks as hooks_lib
from graphnet.training import hooks_report
from graphnet.training import hooks_save
from graphnet.training import preflight
from graphnet.training import session_config
from graphnet.training import signals
from graphnet.training import train_graph

__all__ = [
  'TrainResult',
  'run_training',
]

# The graph half of training, bound here so that a benchmark can time it.
build_train_graph = train_graph.build_train_graph

# Output lines appear as they happen, also when piped to a file.
_print_flush = functools.partial(print, flush=True)

# (key, title) of the data sets evaluated, in TF1's order.
_EVAL_SETS = tuple(
  zip(dataset.SPLITS, ('Training', 'Validation', 'Test'), strict=True)
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
  # Global steps this call trained: 0 when log_dir was already trained to
  # max_steps; None for a worker that is not the chief.
  trained_steps: int | None = None

  @property
  def nothing_trained(self):
    """Whether log_dir was already trained to max_steps (0 steps trained)."""
    return self.trained_steps == 0


@dataclasses.dataclass
class _Hooks:
  """The hooks of one training session."""

  # Every task's hooks (MonitoredTrainingSession's `hooks`).
  all_tasks: list
  # The chief's (`chief_only_hooks`); they run before `all_tasks`.
  chief_only: list
  # The chief's evaluation hook, whose last results run_training returns.
  evaluator: hooks_report.EvaluationHook


def _evaluator(config, tg, data_sets, printer, **kwargs):
  """The EvaluationHook of `config` on graph `tg`.

  It scores the sets `config` evaluates, in TF1's order, every
  `eval_every` steps and at `max_steps`; `kwargs` are its other arguments.
  """
  sets = [
    (key, title, getattr(data_sets, key))
    for key, title in _EVAL_SETS
    if key in config.eval_sets
  ]
  return hooks_report.EvaluationHook(
    tg.eval_tower,
    sets,
    every_n_steps=config.eval_every,
    last_step=config.max_steps,
    printer=printer,
    **kwargs,
  )


def _make_hooks(config, tg, data_sets, stop, printer, names):
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
  evaluator = _evaluator(
    config,
    tg,
    data_sets,
    printer,
    summary_dir=config.log_dir,
    steps_per_run=n,
    count_steps=count,
  )
  if config.cluster is not None and not config.cluster.is_chief:
    check = hooks_lib.DivergenceHook(
      tg.loss, check_variables=False, names=names
    )
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
    names=names,
  )
  # Instead of MonitoredTrainingSession's own savers (off, see
  # session_config.monitored_session for why).
  savers = [
    hooks_save.LoopCheckpointSaverHook(
      config.log_dir,
      config.save_checkpoint_steps,
      tg.saver,
      n,
      listeners=[hooks_lib.FiniteWeightsListener(names)],
      count_steps=count,
    ),
    hooks_save.LoopSummarySaverHook(
      config.log_every, config.log_dir, n, count_steps=count
    ),
  ]
  logger = hooks_report.StepLoggingHook(
    tg.loss,
    config.max_steps,
    config.log_every,
    printer=printer,
    steps_per_run=n,
    count_steps=count,
  )
  chief_only = [divergence, *savers, logger]
  if not config.cluster or not config.cluster.has_evaluator:
    # Otherwise the cluster's evaluator task scores the checkpoints.
    chief_only.append(evaluator)
  return _Hooks([*all_tasks, stop.hook()], chief_only, evaluator)


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


def run_training(
  config,
  printer=_print_flush,
  data_sets=None,
  *,
  names=options.as_flag,
  evaluate_trained=False,
):
  """Trains the model of `config` to `config.max_steps`.

  Resumes from the latest checkpoint in `config.log_dir` (the global step
  continues); refuses a checkpoint of a different model. A checkpoint
  already at `max_steps` or beyond is left alone: one line says so and
  nothing is written (one process only; a cluster's tasks stop together).
  With `evaluate_trained`, that checkpoint is then evaluated (printed and
  returned). The data and the batch size are checked before `log_dir` is
  created.
  Saves checkpoints `model.ckpt-<step>` (with `.meta`) every
  `save_checkpoint_steps` and at the end, and writes events (graph,
  `loss`, `learning_rate`, `precision/*`) to `config.log_dir`.

  Args:
    config: a `config.TrainConfig`.
    printer: function taking one output line.
    data_sets: the `input_data.Datasets` to train on (any feature shape
      and class count); None reads those `config` names.
    names: how messages name a config field: `options.as_flag` (the
      command line's `--max_steps`, the default: `fully_connected_feed`
      runs this) or `options.as_argument` (`max_steps`, `graphnet.train`).
    evaluate_trained: evaluate a checkpoint already at `max_steps`
      (otherwise its result has no `evaluations`).

  Returns:
    a `TrainResult`; `trained_steps` 0 (`nothing_trained`) when nothing was
    left to train.

  Raises:
    ConfigError: `log_dir` cannot be created or written, the training
      split is smaller than one batch, or the network does not fit the data
      (logits of another width).
    DataError: the data files are missing or malformed.
    CheckpointMismatchError: `log_dir` holds another model's checkpoint.
    DivergenceError: the loss became NaN or infinite.
    CheckpointError: the latest checkpoint in `log_dir` is damaged.
    LogDirLockedError: another live trainer holds `log_dir`.
    DiskFullError: a write failed for lack of space (what it left
      half-written is removed; the last good checkpoint stays).
    TrainingInterruptedError: SIGINT or SIGTERM stopped training early
      (the final checkpoint is saved first).
  """
  config = preflight.round_intervals(config, printer, names)
  # Nothing is written before the data, the batch size, the graph and
  # log_dir are known to work.
  log_dirs.check_log_dir(config.log_dir, names)
  # A taken port fails here, before the data and the graph cost time.
  server = None
  if config.cluster:
    server = cluster_lib.start_server(config.cluster, names=names)
  if data_sets is None:
    data_sets = preflight.read_data(config)
  preflight.check_batch_fits(config, data_sets, names)
  tg = build_train_graph(config, data_sets, names)
  made = log_dirs.prepare_log_dir(config.log_dir, names)
  with disk_full.training_run(
    config.log_dir,
    made,
    # Only one process (a cluster's chief) writes into log_dir at a time.
    lock=config.cluster is None or config.cluster.is_chief,
    printer=printer,
    names=names,
  ):
    return _train(
      config, server, data_sets, tg, printer, names, evaluate_trained
    )


def _train(config, server, data_sets, tg, printer, names, evaluate_trained):
  """Runs the session loop on graph `tg`; returns a `TrainResult`."""
  with tg.graph.as_default():
    preflight.remove_save_leftovers(config, printer)
    resumed = contents.check_resumable(
      config.log_dir, tf.global_variables(), names
    )
    done = preflight.already_trained(config, printer, names)
    if done is not None and config.cluster is not None:
      # The other tasks wait for the chief's model and stop at its step.
      step, prefix = done
      _release_cluster(config, server, tg, printer, names)
      return TrainResult(step, prefix, {}, trained_steps=0)
    if done is not None:
      step, prefix = done
      evaluations = (
        _evaluate(config, tg, data_sets, prefix, printer)
        if evaluate_trained
        else {}
      )
      return TrainResult(step, prefix, evaluations, trained_steps=0)
    start = contents.checkpoint_step(resumed) if resumed else 0
    if resumed and (config.cluster is None or config.cluster.is_chief):
      if not contents.in_directory(resumed, config.log_dir):
        printer(
          f'starting from {resumed} (another directory; it is read, never '
          'modified)'
        )
      # TF's own line (an INFO log, on stderr) is hidden on a quiet command
      # line; stdout keeps TF1's training lines only.
      print(f'Restoring parameters from {resumed}', file=sys.stderr)
    session_args = _session_args(config, server)
    with (
      # SIGINT/SIGTERM stop after the current run; the session's end()
      # then saves the final checkpoint.
      signals.StopOnSignals() as stop,
      cluster_tasks.worker_life(
        config.cluster, server, session_args, printer, names=names
      ) as watchdog,
    ):
      hooks = _make_hooks(config, tg, data_sets, stop, printer, names)
      _run_session(
        tg, session_args, hooks.all_tasks, hooks.chief_only, watchdog
      )
  final = checkpoints.latest_checkpoint(config.log_dir)
  step = contents.checkpoint_step(final) if final else None
  if stop.signum is not None:
    raise errors.TrainingInterruptedError(stop.signum, step, final)
  trained = None if step is None else step - (start or 0)
  return TrainResult(step, final, hooks.evaluator.last_results, trained)


def _release_cluster(config, server, tg, printer, names):
  """The chief of an already trained log_dir lets the cluster end.

  Restores the model onto the ps tasks (the other workers wait for it),
  then stops at once: no step, evaluation, checkpoint or summary. The
  workers' StopAtStepHooks see the restored global step and stop; every
  worker reports done to the ps tasks, which then stop.
  """
  session_args = _session_args(config, server)
  with cluster_tasks.worker_life(
    config.cluster,
    server,
    session_args,
    printer,
    doing='nothing to train, stopping the cluster',
    names=names,
  ) as watchdog:
    hooks = [
      hooks_lib.StopAtStepHook(last_step=config.max_steps),
      *tg.hooks,
    ]
    _run_session(tg, session_args, hooks, None, watchdog)


def _run_session(tg, session_args, hooks, chief_only, watchdog):
  """Runs `tg.train_op` under MonitoredTrainingSession until it stops.

  TF's own savers and step counter are off: the Loop*SaverHooks save and
  summarise, StepLoggingHook prints the speed. `watchdog` (None outside a
  cluster) learns that the session is open.
  """
  session_config.run_until_stopped(
    tg.train_op,
    watchdog,
    tg.inputs.feed_dict,
    **session_args,
    scaffold=tf.train.Scaffold(
      saver=tg.saver, local_init_feed_dict=tg.inputs.local_init_feed_dict
    ),
    hooks=hooks,
    chief_only_hooks=chief_only,
  )


def _evaluate(config, tg, data_sets, prefix, printer):
  """Evaluates checkpoint `prefix` on `config.eval_sets`, as at the end.

  Returns:
    key -> EvalResult, the sets without examples left out.
  """
  evaluator = _evaluator(config, tg, data_sets, printer)
  evaluator.begin()
  options_proto = session_config.make_config(config.session)
  with tf.Session(graph=tg.graph, config=options_proto) as sess:
    tg.saver.restore(sess, prefix)
    evaluator.evaluate(sess, contents.checkpoint_step(prefix))
  return evaluator.last_results
