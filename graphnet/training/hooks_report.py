"""The training hooks that report: step lines and evaluation blocks.

* `StepLoggingHook` prints `Step %d: loss = %.2f (%.3f sec)` with speed and
  ETA, in TF1's format.
* `EvaluationHook` prints TF1's `Training/Validation/Test Data Eval:` blocks
  every N steps and at the last step, and writes `precision/*` summaries.

Both take `count_steps` (see `hooks_steps`). `graphnet.training.hooks`
lists them with the other hooks of the loop.

Example:
    hooks = [StepLoggingHook(loss, last_step=2000, every_n_steps=100,
                             count_steps=True)]
    with tf.train.MonitoredTrainingSession(hooks=hooks) as sess:
      while not sess.should_stop():
        sess.run(train_op, feed_dict=...)
"""

import time

import tensorflow.compat.v1 as tf

from graphnet.training import hooks_steps

__all__ = ['StepLoggingHook', 'EvaluationHook']


def _format_eta(seconds):
  seconds = int(round(seconds))
  if seconds < 60:
    return f'{seconds}s'
  minutes, seconds = divmod(seconds, 60)
  if minutes < 60:
    return f'{minutes}m{seconds:02d}s'
  hours, minutes = divmod(minutes, 60)
  return f'{hours}h{minutes:02d}m'


class StepLoggingHook(hooks_steps.StepHook):
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
      ConfigError: if `every_n_steps` or `steps_per_run` < 1.
    """
    self._loss = loss
    self._last_step = last_step
    self._timer = tf.train.SecondOrStepTimer(every_steps=every_n_steps)
    self._printer = printer
    super().__init__(
      'StepLoggingHook', steps_per_run, count_steps, every_n_steps=every_n_steps
    )

  def begin(self):
    super().begin()
    self._loss_tensor = hooks_steps.as_graph_element(self._loss)

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


class EvaluationHook(hooks_steps.StepHook):
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
        with every run (see `hooks_steps`).

    Raises:
      ConfigError: if `every_n_steps` or `steps_per_run` < 1.
    """
    self._tower = eval_tower
    # An empty set has no precision (TF1's do_eval divided by zero).
    self._data_sets = [s for s in data_sets if len(s[2].labels)]
    # Evaluate at multiples of `every`, and at `last_step`.
    self._every, self._last_step = every_n_steps, last_step
    self._summary_dir = summary_dir
    self._printer = printer
    super().__init__(
      'EvaluationHook', steps_per_run, count_steps, every_n_steps=every_n_steps
    )
    self._evaluated_step = None
    self._bucket = 0
    self.last_results = {}

  def begin(self):
    super().begin()
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
