"""The training hooks that save: checkpoints and summaries every N steps.

`LoopCheckpointSaverHook` and `LoopSummarySaverHook` keep TF's
`CheckpointSaverHook` / `SummarySaverHook` files and schedules, also for
runs of several global steps (an in-graph loop). Both take `count_steps`
(see `hooks_steps`). `graphnet.training.hooks` lists them with the other
hooks of the loop.

Example:
    saver_hook = LoopCheckpointSaverHook(log_dir, save_steps=1000,
                                         saver=saver.Saver(),
                                         steps_per_run=100)
"""

import os

import tensorflow.compat.v1 as tf

from graphnet.checkpoints import state as checkpoints
from graphnet.training import hooks_steps

__all__ = ['LoopCheckpointSaverHook', 'LoopSummarySaverHook']


class LoopCheckpointSaverHook(hooks_steps.StepHook):
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
        with every run (see `hooks_steps`).

    Raises:
      ConfigError: if `save_steps` or `steps_per_run` < 1.
    """
    self._checkpoint_dir = checkpoint_dir
    self._save_path = os.path.join(checkpoint_dir, checkpoints.BASENAME)
    self._saver = saver
    self._listeners = list(listeners or [])
    self._timer = tf.train.SecondOrStepTimer(every_steps=save_steps)
    super().__init__(
      'LoopCheckpointSaverHook',
      steps_per_run,
      count_steps,
      save_steps=save_steps,
    )

  def begin(self):
    super().begin()
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


class LoopSummarySaverHook(hooks_steps.StepHook):
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
        with every run (see `hooks_steps`).

    Raises:
      ConfigError: if `save_steps` or `steps_per_run` < 1.
    """
    self._save_steps = save_steps
    self._output_dir = output_dir
    self._timer = tf.train.SecondOrStepTimer(every_steps=save_steps)
    super().__init__(
      'LoopSummarySaverHook', steps_per_run, count_steps, save_steps=save_steps
    )

  def begin(self):
    super().begin()
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
