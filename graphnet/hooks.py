"""SessionRunHooks of the graphnet training loop.

Each hook keeps to the `tf.train.SessionRunHook` life cycle: arguments are
checked in `__init__`, graph elements are looked up in `begin()`, state that
needs a session is read in `after_create_session()`, `before_run()` returns
`SessionRunArgs`, `after_run()` acts on the results and `end()` writes the
final state.

* `LearningRateSetterHook` feeds a learning-rate placeholder by step.
* `StopAtStepHook` stops at a global step, also when training resumes at or
  past it (TF's own hook would run one more step).
* `DivergenceHook` stops with `errors.DivergenceError` on a NaN/Inf loss.
* `StepLoggingHook` prints `Step %d: loss = %.2f (%.3f sec)` with speed and
  ETA, in TF1's format.
* `EvaluationHook` prints TF1's `Training/Validation/Test Data Eval:` blocks
  every N steps and at the last step, and writes `precision/*` summaries.
* `LoopCheckpointSaverHook` / `LoopSummarySaverHook`: TF's checkpoint and
  summary savers for runs of several global steps (an in-graph loop).
* `SignalStopHook` requests a stop once `signals.StopOnSignals` caught a
  signal.

`FiniteWeightsListener` (a `CheckpointSaverListener`) refuses to save
NaN or infinite weights.

Example:
    hooks = [StopAtStepHook(2000), DivergenceHook(loss),
             StepLoggingHook(loss, last_step=2000, every_n_steps=100)]
    with tf.train.MonitoredTrainingSession(hooks=hooks) as sess:
      while not sess.should_stop():
        sess.run(train_op, feed_dict=...)
"""

import bisect
import math
import os
import time

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import checkpoints
from graphnet import errors
from graphnet import piecewise

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


def _global_step_tensor(hook_name):
  step = tf.train.get_global_step()
  if step is None:
    raise errors.GraphError(
      f'{hook_name} needs a global step in the graph; create one with '
      'tf.train.get_or_create_global_step() before the session.'
    )
  return step


def _check_positive(hook_name, **counts):
  """Raises ConfigError naming the arguments unless each count is >= 1."""
  bad = [name for name, value in counts.items() if value < 1]
  if bad:
    got = ', '.join(f'{name}={value}' for name, value in counts.items())
    raise errors.ConfigError(
      f'{hook_name}: {" and ".join(counts)} must be >= 1, got {got}.',
      field=bad[0],
    )


def _as_graph_element(tensor):
  """Accepts a tensor or its name, resolved in the default graph."""
  if isinstance(tensor, str):
    return tf.get_default_graph().as_graph_element(tensor)
  return tensor


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
    _check_positive('LearningRateSetterHook', steps_per_run=steps_per_run)
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
    self._global_step = _global_step_tensor('LearningRateSetterHook')
    self._placeholder = _as_graph_element(self._learning_rate)

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


class StopAtStepHook(tf.train.StopAtStepHook):
  """TF's StopAtStepHook that also stops before a run when already done.

  TF's hook checks the step only after a run, so resuming a finished
  training would train one step past `last_step`; and it assumes a run
  advances the step by one, so with `steps_per_run` > 1 it would miss
  `last_step` and train one more run.
  """

  def __init__(self, num_steps=None, last_step=None, steps_per_run=1):
    """Creates the hook.

    Args:
      num_steps: steps to train from the step the session starts at.
      last_step: global step to stop at (give one of the two).
      steps_per_run: global steps that one `session.run` advances.

    Raises:
      ConfigError: if `steps_per_run` < 1.
    """
    _check_positive('StopAtStepHook', steps_per_run=steps_per_run)
    super().__init__(num_steps=num_steps, last_step=last_step)
    self._steps_per_run = steps_per_run

  def after_create_session(self, session, coord):
    super().after_create_session(session, coord)
    if int(session.run(self._global_step_tensor)) >= self._last_step:
      coord.request_stop()

  def after_run(self, run_context, run_values):
    # results is the step this run started at; re-read the real one only
    # when this run may have reached last_step.
    if int(run_values.results) + self._steps_per_run >= self._last_step:
      step = int(run_context.session.run(self._global_step_tensor))
      if step >= self._last_step:
        run_context.request_stop()


class _RunSteps:
  """Tells the global step a run started at from the one a hook fetched.

  A hook's fetch of the global step races the run's own increment, so the
  value is the step the run started at or the one it ended at. Counting
  the steps of this process's runs settles which. Far from the count
  (other workers' updates), the fetched value is the best there is.
  """

  def __init__(self, steps_per_run):
    self._steps_per_run = steps_per_run
    self._next = None

  def reset(self, step):
    """Sets the step the next run starts at."""
    self._next = step

  def start_of(self, fetched):
    """The step the run that fetched `fetched` started at."""
    expected = self._next
    in_reach = expected is not None and (
      expected <= fetched <= expected + self._steps_per_run
    )
    start = expected if in_reach else fetched
    self._next = max(fetched, start + self._steps_per_run)
    return start


class DivergenceHook(tf.train.SessionRunHook):
  """Stops training with `DivergenceError` when the loss or weights blow up.

  After each run it checks the run's loss and then the trainable variables
  the run left behind: a step can keep its loss finite while its update
  overflows the weights, and the next checkpoint would save them. So that
  no diverged step is ever saved (the last checkpoint on disk stays the
  last good one), this hook's `after_run` must come before the checkpoint
  saver's: with `MonitoredTrainingSession`, pass it first in
  `chief_only_hooks`, which run before the saver; its `hooks` run after it.
  """

  def __init__(
    self, loss, check_variables=True, checkpoint_dir=None, steps_per_run=1
  ):
    """Creates the hook.

    Args:
      loss: float scalar tensor (or its name) to watch.
      check_variables: also check every trainable variable after each run
        (one extra `session.run` of a small reduction per run).
      checkpoint_dir: where the checkpoints are saved, or None. When the
        loss of the run from step s is NaN, the checkpoint of step s (saved
        before that showed) holds the weights that gave it; it is deleted
        from there so that the latest checkpoint is the last good one.
      steps_per_run: global steps that one `session.run` advances. With
        more than one, the loss is the run's last step's, so the weights
        of step s may still be good and only later checkpoints go.
    """
    self._loss = loss
    self._steps_per_run = steps_per_run
    self._first_bad_offset = 0 if steps_per_run == 1 else 1
    self._check_variables = check_variables
    self._checkpoint_dir = checkpoint_dir
    self._steps = _RunSteps(steps_per_run)

  def begin(self):
    self._global_step = _global_step_tensor('DivergenceHook')
    self._loss_tensor = _as_graph_element(self._loss)
    self._finite = None
    if self._check_variables:
      self._finite = _all_weights_finite('divergence_check')

  def after_create_session(self, session, coord):
    self._steps.reset(int(session.run(self._global_step)))

  def before_run(self, run_context):
    return tf.train.SessionRunArgs([self._global_step, self._loss_tensor])

  def after_run(self, run_context, run_values):
    fetched, loss_value = run_values.results
    step = self._steps.start_of(int(fetched))
    if not np.isfinite(loss_value):
      removed = []
      if self._checkpoint_dir:
        removed = checkpoints.discard_from(
          self._checkpoint_dir, int(step) + self._first_bad_offset
        )
      note = ''
      if removed:
        names = ', '.join(os.path.basename(p) for p in removed)
        note = f' Deleted {names}, whose weights gave that loss.'
      raise errors.DivergenceError(
        f'Training diverged: the loss is {loss_value} at step {step}.{note} '
        'The last checkpoint saved before this step is kept; lower '
        '--learning_rate (or use a decaying --lr_schedule) and run again.'
      )
    if self._finite is not None and not run_context.session.run(self._finite):
      raise errors.DivergenceError(
        f'Training diverged: the weights became NaN or infinite in the run '
        f'from step {step} (its loss was {loss_value}). The last checkpoint '
        'saved before this step is kept; lower --learning_rate (or use a '
        'decaying --lr_schedule) and run again.'
      )


class FiniteWeightsListener(tf.train.CheckpointSaverListener):
  """Refuses to save a checkpoint whose weights are NaN or infinite.

  A step can keep its loss finite while its update overflows the weights;
  checking them only when a checkpoint is about to be written keeps the
  last checkpoint on disk good at the cost of one small reduction per save
  (not per step).
  """

  def begin(self):
    self._finite = _all_weights_finite('finite_weights_check')

  def before_save(self, session, global_step_value):
    if self._finite is not None and not session.run(self._finite):
      raise errors.DivergenceError(
        f'Training diverged: the weights are NaN or infinite at step '
        f'{global_step_value}, so they were not saved; the last checkpoint '
        'on disk is the last good one. Lower --learning_rate (or use a '
        'decaying --lr_schedule) and run again.'
      )


def _format_eta(seconds):
  seconds = int(round(seconds))
  if seconds < 60:
    return f'{seconds}s'
  minutes, seconds = divmod(seconds, 60)
  if minutes < 60:
    return f'{minutes}m{seconds:02d}s'
  hours, minutes = divmod(minutes, 60)
  return f'{hours}h{minutes:02d}m'


class StepLoggingHook(tf.train.SessionRunHook):
  """Prints TF1's `Step %d: loss = %.2f (%.3f sec)` every N steps.

  The step printed is the one the run started at (TF1 printed its 0-based
  loop index, the same number); the time is that run's. After it come the
  steps per second since the last line and the ETA to `last_step`.
  """

  def __init__(
    self, loss, last_step, every_n_steps=100, printer=print, steps_per_run=1
  ):
    """Creates the hook.

    Args:
      loss: float scalar tensor (or its name) to print.
      last_step: the global step training stops at, for the ETA.
      every_n_steps: print when at least this many steps have passed.
      printer: function taking one string (tests pass a list's append).
      steps_per_run: global steps that one `session.run` advances.

    Raises:
      ConfigError: if `every_n_steps` < 1.
    """
    _check_positive('StepLoggingHook', every_n_steps=every_n_steps)
    self._loss = loss
    self._last_step = last_step
    self._timer = tf.train.SecondOrStepTimer(every_steps=every_n_steps)
    self._printer = printer
    self._steps = _RunSteps(steps_per_run)

  def begin(self):
    self._global_step = _global_step_tensor('StepLoggingHook')
    self._loss_tensor = _as_graph_element(self._loss)

  def after_create_session(self, session, coord):
    self._steps.reset(int(session.run(self._global_step)))

  def before_run(self, run_context):
    self._start = time.time()
    return tf.train.SessionRunArgs([self._global_step, self._loss_tensor])

  def after_run(self, run_context, run_values):
    duration = time.time() - self._start
    step, loss_value = run_values.results
    step = self._steps.start_of(int(step))
    if not self._timer.should_trigger_for_step(step):
      return
    elapsed, steps = self._timer.update_last_triggered_step(step)
    line = f'Step {step}: loss = {loss_value:.2f} ({duration:.3f} sec)'
    if elapsed and steps:
      rate = steps / elapsed
      eta = _format_eta(max(self._last_step - step, 0) / rate)
      line += f' {rate:.1f} steps/sec, ETA {eta}'
    self._printer(line)


class EvaluationHook(tf.train.SessionRunHook):
  """Evaluates on whole data sets every N steps and at the last step.

  Prints, per data set, TF1's `<Name> Data Eval:` header and `Num examples:
  %d  Num correct: %d  Precision @ 1: %0.04f` (every example counted), and
  writes the precisions as summaries `precision/<key>` to `summary_dir`.
  """

  def __init__(
    self,
    eval_tower,
    data_sets,
    every_n_steps,
    last_step,
    summary_dir=None,
    steps_per_run=1,
    printer=print,
  ):
    """Creates the hook.

    Args:
      eval_tower: an `evaluation.EvalTower` (placeholders and the
        `num_correct` tensor to run).
      data_sets: list of (key, title, DataSet), e.g.
        `('train', 'Training', data_sets.train)`.
      every_n_steps: evaluate at global steps that are multiples of it.
      last_step: also evaluate when training reaches this step.
      summary_dir: where to write `precision/<key>` summaries, or None.
      steps_per_run: global steps that one `session.run` advances.
      printer: function taking one string.

    Raises:
      ConfigError: if `every_n_steps` or `steps_per_run` < 1.
    """
    _check_positive(
      'EvaluationHook', every_n_steps=every_n_steps, steps_per_run=steps_per_run
    )
    self._tower = eval_tower
    self._data_sets = list(data_sets)
    # Evaluate at multiples of `every`, and at `last_step`.
    self._every, self._last_step = every_n_steps, last_step
    self._summary_dir = summary_dir
    self._steps_per_run = steps_per_run
    self._printer = printer
    self._evaluated_step = None
    self._bucket = 0
    self.last_results = {}

  def begin(self):
    self._global_step = _global_step_tensor('EvaluationHook')
    self._writer = (
      tf.summary.FileWriterCache.get(self._summary_dir)
      if self._summary_dir
      else None
    )

  def before_run(self, run_context):
    return tf.train.SessionRunArgs(self._global_step)

  def _due(self, step):
    return step % self._every == 0 or step >= self._last_step

  def after_create_session(self, session, coord):
    # Evaluation buckets already passed before this session (on resume).
    self._bucket = int(session.run(self._global_step)) // self._every

  def after_run(self, run_context, run_values):
    fetched = int(run_values.results)
    # The fetched step races the run's own increment: it is the step the
    # run started at or the one it ended at. Only read the real step when
    # either reading may have reached an evaluation step.
    window = range(fetched, fetched + self._steps_per_run + 1)
    if not any(self._due(s) for s in window):
      return
    step = int(run_context.session.run(self._global_step))
    if step == self._evaluated_step:
      return
    if step >= self._last_step or step // self._every > self._bucket:
      self.evaluate(run_context.session, step)

  def end(self, session):
    step = int(session.run(self._global_step))
    if step != self._evaluated_step and step >= self._last_step:
      self.evaluate(session, step)

  def evaluate(self, session, step):
    """Evaluates every data set now and writes the summaries."""
    self._evaluated_step = step
    self._bucket = step // self._every
    if self._tower.note:
      self._printer(self._tower.note)
    values = []
    for key, title, data_set in self._data_sets:
      self._printer(f'{title} Data Eval:')
      result = self._tower.run(session, data_set)
      self.last_results[key] = result
      self._printer(result.format())
      if math.isfinite(result.precision):
        values.append(
          tf.Summary.Value(
            tag=f'precision/{key}', simple_value=result.precision
          )
        )
    if self._writer is not None and values:
      self._writer.add_summary(tf.Summary(value=values), step)
      self._writer.flush()


def _set_steps_per_run(hook, steps_per_run):
  """Tells TF's `CheckpointSaverHook` how many global steps one run goes.

  TF has no public way to; Estimator calls the private method used here.
  It is the only private TF API graphnet uses: test_hooks checks that it
  still exists and still has this effect.

  Raises:
    GraphError: this TF no longer has the method.
  """
  setter = getattr(hook, '_set_steps_per_run', None)
  if setter is None:
    raise errors.GraphError(
      f'tf.train.CheckpointSaverHook of TensorFlow {tf.__version__} has no '
      '_set_steps_per_run: graphnet.hooks.LoopCheckpointSaverHook needs '
      'updating for it.'
    )
  setter(steps_per_run)


class LoopCheckpointSaverHook(tf.train.CheckpointSaverHook):
  """TF's `CheckpointSaverHook` told how far one run goes.

  Left alone, TF's hook re-reads the global step after every run (one extra
  `session.run` per run) because it does not know the run length; told a
  wrong length it would save one run late.
  """

  def __init__(
    self, checkpoint_dir, save_steps, saver, steps_per_run, listeners=None
  ):
    """Creates the hook: saves `saver`'s checkpoints every `save_steps`."""
    super().__init__(
      checkpoint_dir, save_steps=save_steps, saver=saver, listeners=listeners
    )
    _set_steps_per_run(self, steps_per_run)


class LoopSummarySaverHook(tf.train.SummarySaverHook):
  """TF's `SummarySaverHook` for runs of `steps_per_run` global steps.

  TF's hook predicts the next run's step as this one's + 1, so with longer
  runs it would write `steps_per_run` times too rarely. This one writes the
  merged summaries at the end of each run that reaches a multiple of
  `save_steps` (itself a multiple of `steps_per_run`).
  """

  def __init__(self, save_steps, output_dir, steps_per_run):
    """Creates the hook: writes the merged summaries every `save_steps`."""
    # The summary op is looked up in begin(), once the graph is complete.
    super().__init__(
      save_steps=save_steps,
      output_dir=output_dir,
      scaffold=tf.train.Scaffold(),
    )
    self._save_steps = save_steps
    self._steps_per_run = steps_per_run

  def begin(self):
    super().begin()
    self._summary_op = tf.train.Scaffold.get_or_default(
      'summary_op', tf.GraphKeys.SUMMARY_OP, tf.summary.merge_all
    )

  def after_create_session(self, session, coord):
    step = int(session.run(self._global_step_tensor))
    if self._summary_writer:
      self._summary_writer.add_session_log(
        tf.SessionLog(status=tf.SessionLog.START), step
      )
    # Due at the next multiple of save_steps, not at the first run.
    self._timer.update_last_triggered_step(step - step % self._save_steps)
    self._next_step = step + self._steps_per_run

  def after_run(self, run_context, run_values):
    super().after_run(run_context, run_values)
    # The step at the end of the next run: this run's start + 2 runs.
    start = int(run_values.results['global_step'])
    self._next_step = start + 2 * self._steps_per_run


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
