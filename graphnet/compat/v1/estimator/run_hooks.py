"""The hooks an Estimator adds to its sessions, with TF1's output.

* `TrainLogHook` logs TF1's `loss = 0.41, step = 200 (0.35 sec)` and
  `global_step/sec: 285.7` lines every `every_n_steps` and writes the
  `global_step/sec` summary, fetching the loss and step only on those
  runs when the steps are counted (one process).
* `CheckpointSaverHook` is graphnet's `LoopCheckpointSaverHook` on TF1's
  schedule (every N steps or every N seconds, first and last) that also
  writes `graph.pbtxt`, as TF1's did.
* `EvalProgressHook` stops an evaluation after N batches and logs
  `Evaluation [k/N]` ten times along the way.

Example:
    hooks = [TrainLogHook(loss, model_dir, every_n_steps=100,
                          count_steps=True)]
"""

import os
import time

import tensorflow.compat.v1 as tf

from graphnet.training import hooks_save

__all__ = [
  'TrainLogHook',
  'CheckpointSaverHook',
  'EvalProgressHook',
  'LoopCountHook',
]


class _StepCountingHook(tf.train.SessionRunHook):
  """A hook counting global steps from the one the session starts at.

  `begin` finds the global step (`_step_tensor`), `after_create_session`
  reads it once (`_start_step`); the subclass counts on from there.
  """

  def begin(self):
    self._step_tensor = tf.train.get_global_step()
    if self._step_tensor is None:
      raise RuntimeError(
        f'{type(self).__name__} needs a global step in the graph.'
      )

  def after_create_session(self, session, coord):
    self._start_step = int(session.run(self._step_tensor))


class TrainLogHook(_StepCountingHook):
  """Logs the loss and speed every N global steps, as TF1's Estimator did.

  The first run is logged too (`loss = ..., step = 1`). With `count_steps`
  the steps are counted from the one read when the session starts, so the
  runs in between fetch nothing. With runs of several steps the line is
  the one of each due run's first step, whose loss the loop keeps: the
  steps logged are TF1's (1, 101, 201, ... from a start at 0).
  """

  def __init__(
    self, loss, summary_dir, every_n_steps, count_steps=False, steps_per_run=1
  ):
    """Creates the hook.

    Args:
      loss: float scalar tensor: the loss of the run's first step.
      summary_dir: directory of the `global_step/sec` events, or None.
      every_n_steps: global steps between lines (>= 1).
      count_steps: whether only this process moves the global step.
      steps_per_run: global steps one run advances (counted).
    """
    self._steps_per_run = steps_per_run
    self._loss = loss
    self._summary_dir = summary_dir
    self._every = every_n_steps
    self._count = count_steps

  def begin(self):
    super().begin()
    self._writer = None
    if self._summary_dir:
      self._writer = tf.summary.FileWriterCache.get(self._summary_dir)

  def after_create_session(self, session, coord):
    super().after_create_session(session, coord)
    # The global step the next run ends at (counted).
    self._next_step = self._start_step + self._steps_per_run
    self._logged_step = None
    self._logged_time = None

  def before_run(self, run_context):
    # Counted, the step logged is the run's first: TF1 logged step 1.
    self._first = self._next_step - self._steps_per_run + 1
    self._due = (
      not self._count
      or self._logged_step is None
      or self._first - self._logged_step >= self._every
    )
    if not self._due:
      return None
    fetches = {'loss': self._loss}
    if not self._count:
      fetches['step'] = self._step_tensor
    return tf.train.SessionRunArgs(fetches)

  def after_run(self, run_context, run_values):
    step = self._first
    self._next_step += self._steps_per_run
    if not self._due:
      return
    if not self._count:
      # Read in the run that moved it: before or after the update.
      step = max(int(run_values.results['step']), 1)
    loss = run_values.results['loss']
    now = time.time()
    # Speed over the steps made since the last line; the last run of a loop
    # may make fewer than steps_per_run, so its end is read.
    end = step
    if self._count and self._steps_per_run > 1:
      end = int(run_context.session.run(self._step_tensor))
    if self._logged_step is None:
      tf.logging.info('loss = %s, step = %d', loss, step)
    elif step - self._logged_step >= self._every:
      elapsed = now - self._logged_time
      rate = (end - self._logged_end) / elapsed if elapsed > 0 else 0.0
      tf.logging.info('global_step/sec: %g', rate)
      tf.logging.info('loss = %s, step = %d (%.3f sec)', loss, step, elapsed)
      if self._writer is not None:
        self._writer.add_summary(
          tf.Summary(
            value=[tf.Summary.Value(tag='global_step/sec', simple_value=rate)]
          ),
          step,
        )
    else:
      return
    self._logged_step = step
    self._logged_end = end
    self._logged_time = now


class CheckpointSaverHook(hooks_save.LoopCheckpointSaverHook):
  """Saves every `save_steps` steps or `save_secs` seconds; graph.pbtxt too.

  graphnet's saver hook (a checkpoint as the session starts and at the end,
  a `CHECKPOINT` session log per save, `count_steps` fetching nothing per
  run) on TF1's two schedules.
  """

  def __init__(
    self,
    checkpoint_dir,
    saver,
    save_steps=None,
    save_secs=None,
    listeners=None,
    count_steps=False,
    steps_per_run=1,
  ):
    """Creates the hook; give one of `save_steps` and `save_secs`."""
    super().__init__(
      checkpoint_dir,
      save_steps or 1,
      saver,
      steps_per_run,
      listeners=listeners,
      count_steps=count_steps,
    )
    if save_steps is None:
      self._timer = tf.train.SecondOrStepTimer(every_secs=save_secs)

  def after_create_session(self, session, coord):
    # What TF1's hook wrote for TensorBoard's and a reader's use.
    tf.io.write_graph(
      tf.get_default_graph().as_graph_def(add_shapes=True),
      self._checkpoint_dir,
      'graph.pbtxt',
    )
    super().after_create_session(session, coord)


class EvalProgressHook(tf.train.SessionRunHook):
  """Stops after `num_evals` runs (None: never) and logs progress."""

  def __init__(self, num_evals=None):
    self._num_evals = num_evals
    self._log_every = max(1, (num_evals or 0) // 10)

  def after_create_session(self, session, coord):
    self._done = 0

  def after_run(self, run_context, run_values):
    self._done += 1
    if self._num_evals is None:
      return
    if self._done % self._log_every == 0 or self._done == self._num_evals:
      tf.logging.info('Evaluation [%d/%d]', self._done, self._num_evals)
    if self._done >= self._num_evals:
      run_context.request_stop()


class LoopCountHook(_StepCountingHook):
  """Feeds an in-graph training loop how many steps to run this time.

  Each run trains `steps_per_run` steps, fewer in the last one so that
  training ends exactly at `last_step` (or `num_steps` after the step the
  session starts at); the steps are counted (one process).
  """

  def __init__(self, count, steps_per_run, num_steps=None, last_step=None):
    """Creates the hook.

    Args:
      count: the int32 scalar placeholder the loop runs that many times.
      steps_per_run: steps of a full run.
      num_steps: steps to train from the session's start, or None.
      last_step: global step to end at, or None.
    """
    self._count = count
    self._steps_per_run = steps_per_run
    self._num_steps = num_steps
    self._last_step = last_step

  def after_create_session(self, session, coord):
    super().after_create_session(session, coord)
    self._next = self._start_step
    self._last = self._last_step
    if self._num_steps is not None:
      self._last = self._next + self._num_steps

  def before_run(self, run_context):
    self._fed = self._steps_per_run
    if self._last is not None:
      self._fed = max(0, min(self._fed, self._last - self._next))
    return tf.train.SessionRunArgs(None, feed_dict={self._count: self._fed})

  def after_run(self, run_context, run_values):
    self._next += self._fed


def eval_dir(model_dir, name=None):
  """`<model_dir>/eval` or `<model_dir>/eval_<name>` (TF1's)."""
  return os.path.join(model_dir, f'eval_{name}' if name else 'eval')
