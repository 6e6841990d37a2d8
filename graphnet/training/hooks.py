"""SessionRunHooks of the graphnet training loop.

Each hook keeps to the `tf.train.SessionRunHook` life cycle: arguments are
checked in `__init__`, graph elements are looked up in `begin()`, state that
needs a session is read in `after_create_session()`, `before_run()` returns
`SessionRunArgs` (or None when the hook needs nothing from this run),
`after_run()` acts on the results and `end()` writes the final state.

Here, the hooks that steer and stop training:

* `LearningRateSetterHook` feeds a learning-rate placeholder by step.
* `StopAtStepHook` stops at a global step, also when training resumes at or
  past it (TF's own hook would run one more step).
* `DivergenceHook` stops with `errors.DivergenceError` on a NaN/Inf loss.
* `SignalStopHook` requests a stop once `signals.StopOnSignals` caught a
  signal.
* `FiniteWeightsListener` (a `CheckpointSaverListener`) refuses to save
  NaN or infinite weights.

This module also lists the hooks that report (`StepLoggingHook`,
`EvaluationHook`: `hooks_report`) and save (`LoopCheckpointSaverHook`,
`LoopSummarySaverHook`: `hooks_save`), so that it names every hook of the
loop, as `graphnet.hooks` does. What they share (the global step, the
`count_steps` rule) is `hooks_steps`.

Example:
    hooks = [StopAtStepHook(last_step=2000, count_steps=True),
             DivergenceHook(loss, count_steps=True),
             StepLoggingHook(loss, last_step=2000, every_n_steps=100,
                             count_steps=True)]
    with tf.train.MonitoredTrainingSession(hooks=hooks) as sess:
      while not sess.should_stop():
        sess.run(train_op, feed_dict=...)
"""

import bisect
import os

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet import options
from graphnet.checkpoints import state as checkpoints
from graphnet.training import hooks_steps
from graphnet.training import piecewise
from graphnet.training.hooks_report import EvaluationHook as EvaluationHook
from graphnet.training.hooks_report import StepLoggingHook as StepLoggingHook
from graphnet.training.hooks_save import (
  LoopCheckpointSaverHook as LoopCheckpointSaverHook,
)
from graphnet.training.hooks_save import (
  LoopSummarySaverHook as LoopSummarySaverHook,
)

__all__ = [
  'LearningRateSetterHook',
  'StopAtStepHook',
  'DivergenceHook',
  'FiniteWeightsListener',
  'StepLoggingHook',
  'EvaluationHook',
  'LoopCheckpointSaverHook',
  'LoopSummarySaverHook',
  'SignalStopHook',
]


def _all_weights_finite(scope):
  """A bool scalar: no trainable float variable holds a NaN or Inf; or None.

  Built in name scope `scope`; None when there is no such variable.
  """
  variables = [
    v for v in tf.trainable_variables() if v.dtype.base_dtype.is_floating
  ]
  if not variables:
    return None
  with tf.name_scope(scope):
    return tf.reduce_all(
      tf.stack([tf.reduce_all(tf.is_finite(v)) for v in variables])
    )


class LearningRateSetterHook(tf.train.SessionRunHook):
  """Feeds a learning-rate placeholder from a piecewise step schedule.

  The rate fed to the run that starts at global step `s` is `values[i]` for
  the first `i` with `s < boundaries[i]`, else `values[-1]`.
  """

  def __init__(self, learning_rate, boundaries, values, steps_per_run=1):
    """Creates the hook.

    Args:
      learning_rate: float32 scalar placeholder (or its name) to feed.
      boundaries: strictly increasing global steps.
      values: the rates; exactly one more than `boundaries`.
      steps_per_run: global steps that one `session.run` advances.

    Raises:
      ConfigError: if boundaries and values do not fit together.
    """
    piecewise.check(boundaries, values, 'LearningRateSetterHook')
    hooks_steps.check_positive(
      'LearningRateSetterHook', steps_per_run=steps_per_run
    )
    boundaries, values = list(boundaries), [float(v) for v in values]
    self._learning_rate = learning_rate
    self._boundaries = boundaries
    self._values = values
    self._steps_per_run = steps_per_run
    self._rate = values[0]

  def rate_at(self, step):
    """The rate in force for a run starting at global step `step`."""
    return piecewise.value_at(self._boundaries, self._values, step)

  def begin(self):
    self._global_step = hooks_steps.global_step_tensor('LearningRateSetterHook')
    self._placeholder = hooks_steps.as_graph_element(self._learning_rate)

  def after_create_session(self, session, coord):
    # Resuming from a checkpoint starts mid-schedule.
    self._rate = self.rate_at(int(session.run(self._global_step)))

  def before_run(self, run_context):
    return tf.train.SessionRunArgs(
      self._global_step, feed_dict={self._placeholder: self._rate}
    )

  def after_run(self, run_context, run_values):
    # results is read in the same run as the increment, so it may be the
    # step before or after it: near a boundary, read the real step.
    start = int(run_values.results)
    window = (start, start + 2 * self._steps_per_run)
    if len({bisect.bisect_right(self._boundaries, s) for s in window}) > 1:
      step = int(run_context.session.run(self._global_step))
    else:
      step = start + self._steps_per_run
    self._rate = self.rate_at(step)


class StopAtStepHook(hooks_steps.StepHook, tf.train.StopAtStepHook):
  """TF's StopAtStepHook that also stops before a run when already done.

  TF's hook checks the step only after a run, so resuming a finished
  training would train one step past `last_step`; and it assumes a run
  advances the step by one, so with `steps_per_run` > 1 it would miss
  `last_step` and train one more run.
  """

  def __init__(
    self, num_steps=None, last_step=None, steps_per_run=1, count_steps=False
  ):
    """Creates the hook.

    Args:
      num_steps: steps to train from the step the session starts at.
      last_step: global step to stop at (give one of the two).
      steps_per_run: global steps that one `session.run` advances.
      count_steps: count the steps instead of fetching the global step
        with every run (see `hooks_steps`).

    Raises:
      ConfigError: if `steps_per_run` < 1.
    """
    hooks_steps.StepHook.__init__(
      self, 'StopAtStepHook', steps_per_run, count_steps
    )
    tf.train.StopAtStepHook.__init__(
      self, num_steps=num_steps, last_step=last_step
    )

  def after_create_session(self, session, coord):
    super().after_create_session(session, coord)
    if self._steps.read(session) >= self._last_step:
      coord.request_stop()

  def before_run(self, run_context):
    return self._steps.step_args()

  def after_run(self, run_context, run_values):
    # Re-read the real step only when this run may have reached last_step.
    # A fetched step (a cluster's) is one the run saw; other workers can
    # put it ahead of the counted start. Judged from the count alone, the
    # run that reached last_step can pass unnoticed, and a sync worker's
    # next step then waits for an update that never comes.
    fetched = run_values.results
    start = max(self._steps.start_of(fetched), fetched or 0)
    if start + self._steps_per_run >= self._last_step:
      if self._steps.read(run_context.session) >= self._last_step:
        run_context.request_stop()


class DivergenceHook(hooks_steps.StepHook):
  """Stops training with `DivergenceError` when the loss or weights blow up.

  After a run it checks the run's loss and then, with `check_variables`,
  the trainable variables the run left behind: a step can keep its loss
  finite while its update overflows the weights, and the next checkpoint
  would save them. So that no diverged step is ever saved (the latest
  checkpoint on disk stays the last good one), this hook's `after_run`
  must come before the checkpoint saver's: with `MonitoredTrainingSession`,
  pass it first in `chief_only_hooks`, which run before the saver; its
  `hooks` run after it.

  With `every_n_steps` > 1 the loss is fetched only on a session's first
  run and on runs that reach a multiple of it; when a check fails, the
  checkpoints saved after the last run whose loss was seen finite are
  deleted. Saving at multiples of `every_n_steps`, with
  `FiniteWeightsListener` on the saver, so leaves only checkpoints whose
  weights gave a finite loss (or the final one, which no run tried).
  """

  def __init__(
    self,
    loss,
    check_variables=True,
    checkpoint_dir=None,
    steps_per_run=1,
    every_n_steps=1,
    count_steps=False,
    names=options.as_argument,
  ):
    """Creates the hook.

    Args:
      loss: float scalar tensor (or its name) to watch.
      check_variables: also check every trainable variable after each
        checked run (one extra `session.run` of a small reduction).
      checkpoint_dir: where the checkpoints are saved, or None. When the
        loss of the run from step s is NaN, the checkpoint of step s (saved
        before that showed) holds the weights that gave it; it is deleted
        from there so that the latest checkpoint is the last good one.
      steps_per_run: global steps that one `session.run` advances. With
        more than one, the loss is the run's last step's, so the weights
        of step s may still be good and only later checkpoints go.
      every_n_steps: check the runs that reach a multiple of it (1: all).
      count_steps: count the steps instead of fetching the global step
        with every run (see `hooks_steps`).
      names: how the message names the settings to change
        (`options.as_flag` on the command line).

    Raises:
      ConfigError: if `steps_per_run` or `every_n_steps` < 1.
    """
    self._names = names
    self._loss = loss
    self._every = every_n_steps
    self._first_bad_offset = 0 if steps_per_run == 1 else 1
    self._check_variables = check_variables
    self._checkpoint_dir = checkpoint_dir
    super().__init__(
      'DivergenceHook', steps_per_run, count_steps, every_n_steps=every_n_steps
    )

  def begin(self):
    super().begin()
    self._loss_tensor = hooks_steps.as_graph_element(self._loss)
    self._finite = None
    if self._check_variables:
      self._finite = _all_weights_finite('divergence_check')

  def after_create_session(self, session, coord):
    # The step before the first run: no checkpoint after it is vouched for.
    self._last_good = self._steps.read(session) - self._steps_per_run
    # The first run tries the checkpoint the session starts from.
    self._first = True

  def _due(self, start):
    """Whether the run from `start` is checked."""
    if self._first or self._every == 1:
      return True
    # Whether one of its steps start..end is a multiple of every_n_steps.
    end = start + self._steps_per_run - 1
    return end // self._every > (start - 1) // self._every

  def before_run(self, run_context):
    self._checking = self._due(self._steps.next_start)
    self._first = False
    return self._steps.run_args(
      loss=self._loss_tensor if self._checking else None
    )

  def after_run(self, run_context, run_values):
    results = run_values.results or {}
    step = self._steps.start_of(results.get('global_step'))
    if not self._checking:
      return
    loss_value = results['loss']
    if not np.isfinite(loss_value):
      self._raise_for_loss(step, loss_value)
    if self._finite is not None and not run_context.session.run(self._finite):
      raise errors.DivergenceError(
        f'Training diverged: the weights became NaN or infinite in the run '
        f'from step {step} (its loss was {loss_value}). The last checkpoint '
        f'saved before this step is kept; {_lower_rate(self._names)}.'
      )
    self._last_good = step

  def _raise_for_loss(self, step, loss_value):
    removed = []
    if self._checkpoint_dir:
      # Checked every run, that is step itself; else the first step after
      # the last run whose loss was seen finite.
      first_bad = min(step, self._last_good + self._steps_per_run)
      removed = checkpoints.discard_from(
        self._checkpoint_dir, int(first_bad) + self._first_bad_offset
      )
    note = ''
    if removed:
      names = ', '.join(os.path.basename(p) for p in removed)
      note = (
        f' Deleted {names}, saved after the last step whose loss was seen '
        'finite.'
      )
    raise errors.DivergenceError(
      f'Training diverged: the loss is {loss_value} at step {step}.{note} '
      'The last checkpoint saved before this step is kept; '
      f'{_lower_rate(self._names)}.'
    )


def _lower_rate(names, lower='lower'):
  """The fix for a diverged run, naming the settings by `names`."""
  return (
    f'{lower} {names("base_rate")} (or use a decaying {names("kind")}) and '
    'run again'
  )


class FiniteWeightsListener(tf.train.CheckpointSaverListener):
  """Refuses to save a checkpoint whose weights are NaN or infinite.

  A step can keep its loss finite while its update overflows the weights;
  checking them only when a checkpoint is about to be written keeps the
  last checkpoint on disk good at the cost of one small reduction per save
  (not per step).
  """

  def __init__(self, names=options.as_argument):
    """Creates the listener; `names` names the settings in its message."""
    self._names = names

  def begin(self):
    self._finite = _all_weights_finite('finite_weights_check')

  def before_save(self, session, global_step_value):
    if self._finite is not None and not session.run(self._finite):
      raise errors.DivergenceError(
        f'Training diverged: the weights are NaN or infinite at step '
        f'{global_step_value}, so they were not saved; the last checkpoint '
        f'on disk is the last good one. {_lower_rate(self._names, "Lower")}.'
      )


class SignalStopHook(tf.train.SessionRunHook):
  """Requests a stop after the run during which a signal arrived."""

  def __init__(self, stopper):
    """Creates the hook.

    Args:
      stopper: the `signals.StopOnSignals` whose `signum` it watches.
    """
    self._stopper = stopper

  def after_create_session(self, session, coord):
    # A signal during session creation (restore, init) stops before the
    # first step.
    if self._stopper.signum is not None:
      coord.request_stop()

  def after_run(self, run_context, run_values):
    if self._stopper.signum is not None:
      run_context.request_stop()
