"""SessionRunHooks of the graphnet training loop.

Each hook keeps to the `tf.train.SessionRunHook` life cycle: arguments are
checked in `__init__`, graph elements are looked up in `begin()`, state that
needs a session is read in `after_create_session()`, `before_run()` returns
`SessionRunArgs` (or None when the hook needs nothing from this run),
`after_run()` acts on the results and `end()` writes the final state.

* `LearningRateSetterHook` feeds a learning-rate placeholder by step.
* `StopAtStepHook` stops at a global step, also when training resumes at or
  past it (TF's own hook would run one more step).
* `DivergenceHook` stops with `errors.DivergenceError` on a NaN/Inf loss.
* `StepLoggingHook` prints `Step %d: loss = %.2f (%.3f sec)` with speed and
  ETA, in TF1's format.
* `EvaluationHook` prints TF1's `Training/Validation/Test Data Eval:` blocks
  every N steps and at the last step, and writes `precision/*` summaries.
* `LoopCheckpointSaverHook` / `LoopSummarySaverHook`: checkpoints and
  merged summaries every N steps, also for runs of several global steps
  (an in-graph loop).
* `SignalStopHook` requests a stop once `signals.StopOnSignals` caught a
  signal.

The hooks that act on a global step take `count_steps`. When only this
process's runs move the global step, each by `steps_per_run` (no cluster),
pass `count_steps=True`: the hook then counts steps from the one read at
session creation and asks the run for nothing (its `before_run` returns
None) except on the runs where it acts, re-reading the real step before
acting near a boundary. By default (`False`) it fetches the global step
with every run, which stays right when other workers move it.

`FiniteWeightsListener` (a `CheckpointSaverListener`) refuses to save
NaN or infinite weights.

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
import time

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet import options
from graphnet.checkpoints import state as checkpoints
from graphnet.training import piecewise

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


class _RunSteps:
  """The global step each run starts at, counted or told from a fetch.

  Counted (`counted=True`): only this process's runs move the global step,
  each by `steps_per_run`, so after one read at session creation every
  run's start is known without a fetch. Fetched: a hook's fetch of the
  global step races the run's own increment, so the value is the step the
  run started at or the one it ended at; counting the steps of this
  process's runs settles which. Far from the count (other workers'
  updates), the fetched value is the best there is.
  """

  def __init__(self, steps_per_run, counted=False):
    self._steps_per_run = steps_per_run
    self._counted = counted
    self._next = None
    self._tensor = None

  def begin(self, hook_name):
    """Looks up the global step for hook `hook_name` (raises if none)."""
    self._tensor = _global_step_tensor(hook_name)

  @property
  def tensor(self):
    """The global step tensor (after `begin`)."""
    return self._tensor

  @property
  def fetch(self):
    """What a run must fetch for `start_of`: None when counted."""
    return None if self._counted else self._tensor

  @property
  def next_start(self):
    """The step the next run starts at (a guess when fetched)."""
    return self._next

  def reset(self, step):
    """Sets the step the next run starts at."""
    self._next = step

  def read(self, session):
    """Reads the real global step from `session`; the next run starts there."""
    self._next = int(session.run(self._tensor))
    return self._next

  def run_args(self, **fetches):
    """What a hook's `before_run` returns: `fetches` and the step to fetch.

    Args:
      **fetches: name -> tensor or op; None values are left out.

    Returns:
      `SessionRunArgs` of a dict of the given fetches plus 'global_step'
      (unless counted), or None when there is nothing to fetch.
    """
    fetches = {k: v for k, v in fetches.items() if v is not None}
    if self.fetch is not None:
      fetches['global_step'] = self.fetch
    return tf.train.SessionRunArgs(fetches) if fetches else None

  def step_args(self):
    """What `before_run` returns when a hook needs only the step.

    Returns:
      `SessionRunArgs` of the global step tensor (so `run_values.results`
      is the step), or None when the steps are counted.
    """
    return None if self.fetch is None else tf.train.SessionRunArgs(self.fetch)

  def start_of(self, fetched):
    """The step the run that just ended started at.

    Args:
      fetched: the global step that run fetched, or None when counted.
    """
    expected = self._next
    if fetched is None:
      self._next = expected + self._steps_per_run
      return expected
    in_reach = expected is not None and (
      expected <= fetched <= expected + self._steps_per_run
    )
    start = expected if in_reach else fetched
    self._next = max(fetched, start + self._steps_per_run)
    return start


class StopAtStepHook(tf.train.StopAtStepHook):
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
        with every run (see the module docstring).

    Raises:
      ConfigError: if `steps_per_run` < 1.
    """
    _check_positive('StopAtStepHook', steps_per_run=steps_per_run)
    super().__init__(num_steps=num_steps, last_step=last_step)
    self._steps_per_run = steps_per_run
    self._steps = _RunSteps(steps_per_run, count_steps)

  def begin(self):
    super().begin()
    self._steps.begin('StopAtStepHook')

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


class DivergenceHook(tf.train.SessionRunHook):
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
        with every run (see the module docstring).
      names: how the message names the settings to change
        (`options.as_flag` on the command line).

    Raises:
      ConfigError: if `steps_per_run` or `every_n_steps` < 1.
    """
    self._names = names
    _check_positive(
      'DivergenceHook', steps_per_run=steps_per_run, every_n_steps=every_n_steps
    )
    self._loss = loss
    self._steps_per_run = steps_per_run
    self._every = every_n_steps
    self._first_bad_offset = 0 if steps_per_run == 1 else 1
    self._check_variables = check_variables
    self._checkpoint_dir = checkpoint_dir
    self._steps = _RunSteps(steps_per_run, count_steps)

  def begin(self):
    self._steps.begin('DivergenceHook')
    self._loss_tensor = _as_graph_element(self._loss)
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
  loop index, the same number); the time is that run's per step (its
  whole time with one step per run). After it come the steps per second
  since the last line and the ETA to `last_step`.
  """

  def __init__(
    self,
    loss,
    last_step,
    every_n_steps=100,
    printer=print,
    steps_per_run=1,
    count_steps=False,
  ):
    """Creates the hook.

    Args:
      loss: float scalar tensor (or its name) to print.
      last_step: the global step training stops at, for the ETA.
      every_n_steps: print when at least this many steps have passed.
      printer: function taking one string (tests pass a list's append).
      steps_per_run: global steps that one `session.run` advances.
      count_steps: count the steps instead of fetching the global step
        with every run; the loss is then fetched only on printed runs.

    Raises:
      ConfigError: if `every_n_steps` < 1.
    """
    _check_positive('StepLoggingHook', every_n_steps=every_n_steps)
    self._loss = loss
    self._last_step = last_step
    self._timer = tf.train.SecondOrStepTimer(every_steps=every_n_steps)
    self._printer = printer
    self._steps_per_run = steps_per_run
    self._steps = _RunSteps(steps_per_run, count_steps)

  def begin(self):
    self._steps.begin('StepLoggingHook')
    self._loss_tensor = _as_graph_element(self._loss)

  def after_create_session(self, session, coord):
    self._steps.read(session)

  def before_run(self, run_context):
    # A fetched step is known only after the run: fetch the loss every run.
    due = self._steps.fetch is not None or self._timer.should_trigger_for_step(
      self._steps.next_start
    )
    args = self._steps.run_args(loss=self._loss_tensor if due else None)
    if args is not None:
      self._start = time.time()
    return args

  def after_run(self, run_context, run_values):
    results = run_values.results
    step = self._steps.start_of(results and results.get('global_step'))
    if results is None or not self._timer.should_trigger_for_step(step):
      return
    duration = (time.time() - self._start) / self._steps_per_run
    elapsed, steps = self._timer.update_last_triggered_step(step)
    line = f'Step {step}: loss = {results["loss"]:.2f} ({duration:.3f} sec)'
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
  Empty data sets (no validation data) are left out.
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
    count_steps=False,
  ):
    """Creates the hook.

    Args:
      eval_tower: an `evaluation.EvalTower` (placeholders and the
        `num_correct` tensor to run).
      data_sets: list of (key, title, DataSet), e.g.
        `('train', 'Training', data_sets.train)`; those without examples
        are never evaluated, printed or in `last_results`.
      every_n_steps: evaluate at global steps that are multiples of it.
      last_step: also evaluate when training reaches this step.
      summary_dir: where to write `precision/<key>` summaries, or None.
      steps_per_run: global steps that one `session.run` advances.
      printer: function taking one string.
      count_steps: count the steps instead of fetching the global step
        with every run (see the module docstring).

    Raises:
      ConfigError: if `every_n_steps` or `steps_per_run` < 1.
    """
    _check_positive(
      'EvaluationHook', every_n_steps=every_n_steps, steps_per_run=steps_per_run
    )
    self._tower = eval_tower
    # An empty set has no precision (TF1's do_eval divided by zero).
    self._data_sets = [s for s in data_sets if len(s[2].labels)]
    # Evaluate at multiples of `every`, and at `last_step`.
    self._every, self._last_step = every_n_steps, last_step
    self._summary_dir = summary_dir
    self._steps_per_run = steps_per_run
    self._printer = printer
    self._steps = _RunSteps(steps_per_run, count_steps)
    self._evaluated_step = None
    self._bucket = 0
    self.last_results = {}

  def begin(self):
    self._steps.begin('EvaluationHook')
    self._global_step = self._steps.tensor
    self._writer = (
      tf.summary.FileWriterCache.get(self._summary_dir)
      if self._summary_dir
      else None
    )

  def before_run(self, run_context):
    return self._steps.step_args()

  def after_create_session(self, session, coord):
    # Evaluation buckets already passed before this session (on resume).
    self._bucket = self._steps.read(session) // self._every

  def after_run(self, run_context, run_values):
    start = self._steps.start_of(run_values.results)
    # Only read the real step when this run may have reached an evaluation
    # step: a multiple of every_n_steps in start..end, or last_step (a
    # fetched start may also be the step the run ended at).
    end = start + self._steps_per_run
    passed = end // self._every > (start - 1) // self._every
    if not passed and end < self._last_step:
      return
    step = self._steps.read(run_context.session)
    if step == self._evaluated_step:
      return
    if step >= self._last_step or step // self._every > self._bucket:
      self.evaluate(run_context.session, step)

  def end(self, session):
    # In a cluster, other workers can move the global step past the step
    # already evaluated as the last one; the final block prints once.
    if self._evaluated_step is not None and (
      self._evaluated_step >= self._last_step
    ):
      return
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
      values.append(
        tf.Summary.Value(tag=f'precision/{key}', simple_value=result.precision)
      )
    if self._writer is not None and values:
      self._writer.add_summary(tf.Summary(value=values), step)
      self._writer.flush()


class LoopCheckpointSaverHook(tf.train.SessionRunHook):
  """Saves checkpoints every `save_steps` global steps, first and last.

  TF's `CheckpointSaverHook` schedule and files: a checkpoint of the step
  the session starts at, then one whenever `save_steps` have passed since
  the last, and one at the end; `<checkpoint_dir>/model.ckpt-<step>` with
  its `.meta`; the graph and a `CHECKPOINT` session log per save in the
  events file. Unlike TF's hook it knows how far a run goes
  (`steps_per_run`), so it saves on time with runs of several steps; with
  `count_steps` it fetches nothing per run; and it skips TF's
  `graph.pbtxt` and meta-graph event (each checkpoint's `.meta` holds it).
  """

  def __init__(
    self,
    checkpoint_dir,
    save_steps,
    saver,
    steps_per_run,
    listeners=None,
    count_steps=False,
  ):
    """Creates the hook.

    Args:
      checkpoint_dir: directory of the checkpoints and events.
      save_steps: global steps between checkpoints.
      saver: the `tf.train.Saver` that saves.
      steps_per_run: global steps that one `session.run` advances.
      listeners: `tf.train.CheckpointSaverListener`s called around saves.
      count_steps: count the steps instead of fetching the global step
        with every run (see the module docstring).

    Raises:
      ConfigError: if `save_steps` or `steps_per_run` < 1.
    """
    _check_positive(
      'LoopCheckpointSaverHook',
      save_steps=save_steps,
      steps_per_run=steps_per_run,
    )
    self._checkpoint_dir = checkpoint_dir
    self._save_path = os.path.join(checkpoint_dir, 'model.ckpt')
    self._saver = saver
    self._steps_per_run = steps_per_run
    self._listeners = list(listeners or [])
    self._timer = tf.train.SecondOrStepTimer(every_steps=save_steps)
    self._steps = _RunSteps(steps_per_run, count_steps)

  def begin(self):
    self._steps.begin('LoopCheckpointSaverHook')
    self._writer = tf.summary.FileWriterCache.get(self._checkpoint_dir)
    for listener in self._listeners:
      listener.begin()

  def after_create_session(self, session, coord):
    # The graph for TensorBoard, as TF1's FileWriter(log_dir, sess.graph).
    self._writer.add_graph(tf.get_default_graph())
    step = self._steps.read(session)
    self._save(session, step)
    self._timer.update_last_triggered_step(step)

  def before_run(self, run_context):
    return self._steps.step_args()

  def after_run(self, run_context, run_values):
    start = self._steps.start_of(run_values.results)
    if not self._timer.should_trigger_for_step(start + self._steps_per_run):
      return
    step = self._steps.read(run_context.session)
    if self._timer.should_trigger_for_step(step):
      self._timer.update_last_triggered_step(step)
      if self._save(run_context.session, step):
        run_context.request_stop()

  def end(self, session):
    step = int(session.run(self._steps.tensor))
    if step != self._timer.last_triggered_step():
      self._save(session, step)
    for listener in self._listeners:
      listener.end(session, step)
    self._writer.flush()

  def _save(self, session, step):
    """Saves the checkpoint of `step`; True if a listener asks to stop."""
    for listener in self._listeners:
      listener.before_save(session, step)
    tf.logging.info('Saving checkpoints for %d into %s.', step, self._save_path)
    self._saver.save(session, self._save_path, global_step=step)
    self._writer.add_session_log(
      tf.SessionLog(
        status=tf.SessionLog.CHECKPOINT, checkpoint_path=self._save_path
      ),
      step,
    )
    stop = False
    for listener in self._listeners:
      stop = bool(listener.after_save(session, step)) or stop
    return stop


class LoopSummarySaverHook(tf.train.SessionRunHook):
  """Writes the merged summaries every `save_steps` global steps.

  A run's summaries are written with the global step it ended at. With one
  step per run it keeps TF's `SummarySaverHook` steps (the first run, then
  each run ending `save_steps` after the last write: 1, 101, 201, ...);
  with runs of N > 1 steps (TF's hook would write N times too rarely) the
  runs ending at multiples of `save_steps` (itself a multiple of N). The
  summary op runs only in those runs; with `count_steps` no other run
  fetches anything.
  """

  def __init__(self, save_steps, output_dir, steps_per_run, count_steps=False):
    """Creates the hook.

    Args:
      save_steps: global steps between writes.
      output_dir: directory of the events file.
      steps_per_run: global steps that one `session.run` advances.
      count_steps: count the steps instead of fetching the global step
        with every run (see the module docstring).

    Raises:
      ConfigError: if `save_steps` or `steps_per_run` < 1.
    """
    _check_positive(
      'LoopSummarySaverHook', save_steps=save_steps, steps_per_run=steps_per_run
    )
    self._save_steps = save_steps
    self._output_dir = output_dir
    self._steps_per_run = steps_per_run
    self._timer = tf.train.SecondOrStepTimer(every_steps=save_steps)
    self._steps = _RunSteps(steps_per_run, count_steps)

  def begin(self):
    self._steps.begin('LoopSummarySaverHook')
    self._writer = tf.summary.FileWriterCache.get(self._output_dir)
    # The op the session's Scaffold also uses; None without summaries.
    self._summary_op = tf.train.Scaffold.get_or_default(
      'summary_op', tf.GraphKeys.SUMMARY_OP, tf.summary.merge_all
    )

  def after_create_session(self, session, coord):
    step = self._steps.read(session)
    self._started = False
    if self._steps_per_run > 1:
      # Due at the next multiple of save_steps, not at the first run.
      self._timer.update_last_triggered_step(step - step % self._save_steps)

  def before_run(self, run_context):
    end = self._steps.next_start + self._steps_per_run
    self._writing = self._timer.should_trigger_for_step(end)
    return self._steps.run_args(
      summary=self._summary_op if self._writing else None
    )

  def after_run(self, run_context, run_values):
    results = run_values.results or {}
    self._steps.start_of(results.get('global_step'))
    if self._started and not self._writing:
      return
    step = self._steps.read(run_context.session)
    if not self._started:
      # TensorBoard drops older events from this step on (a restart).
      self._writer.add_session_log(
        tf.SessionLog(status=tf.SessionLog.START), step
      )
      self._started = True
    if self._writing:
      self._timer.update_last_triggered_step(step)
      if 'summary' in results:
        self._writer.add_summary(results['summary'], step)

  def end(self, session):
    self._writer.flush()


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
