"""What the training hooks share: the global step and where each run starts.

The hooks that act on a global step take `count_steps`. When only this
process's runs move the global step, each by `steps_per_run` (no cluster),
pass `count_steps=True`: the hook then counts steps from the one read at
session creation and asks the run for nothing (its `before_run` returns
None) except on the runs where it acts, re-reading the real step before
acting near a boundary. By default (`False`) it fetches the global step
with every run, which stays right when other workers move it. `RunSteps`
keeps that count for a hook; `StepHook` is the base of such hooks.

Example:
    class EveryHundred(StepHook):
      def __init__(self, steps_per_run, count_steps):
        super().__init__('EveryHundred', steps_per_run, count_steps)

      def before_run(self, run_context):
        return self._steps.step_args()  # the step looked up by `begin`
"""

import tensorflow.compat.v1 as tf

from graphnet import errors

__all__ = [
  'global_step_tensor',
  'check_positive',
  'as_graph_element',
  'RunSteps',
  'StepHook',
]


def global_step_tensor(hook_name):
  """The graph's global step tensor.

  Raises:
    GraphError: naming `hook_name`, when the graph has no global step.
  """
  step = tf.train.get_global_step()
  if step is None:
    raise errors.GraphError(
      f'{hook_name} needs a global step in the graph; create one with '
      'tf.train.get_or_create_global_step() before the session.'
    )
  return step


def check_positive(hook_name, **counts):
  """Raises ConfigError naming the arguments unless each count is >= 1."""
  bad = [name for name, value in counts.items() if value < 1]
  if bad:
    got = ', '.join(f'{name}={value}' for name, value in counts.items())
    raise errors.ConfigError(
      f'{hook_name}: {" and ".join(counts)} must be >= 1, got {got}.',
      field=bad[0],
    )


def as_graph_element(tensor):
  """Accepts a tensor or its name, resolved in the default graph."""
  if isinstance(tensor, str):
    return tf.get_default_graph().as_graph_element(tensor)
  return tensor


class RunSteps:
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
    self._tensor = global_step_tensor(hook_name)

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


class StepHook(tf.train.SessionRunHook):
  """Base of the hooks that act on the global step, kept in a `RunSteps`.

  Sets `self._steps_per_run` and `self._steps`; `begin()` (which a
  subclass extending it calls first) looks up the global step. It calls
  the next class's `begin` too, so it can stand before another hook class
  (`class StopAtStepHook(StepHook, tf.train.StopAtStepHook)`).
  """

  def __init__(self, hook_name, steps_per_run, count_steps, **counts):
    """Starts the step count of hook `hook_name` (the name messages give).

    Args:
      hook_name: the class name messages give.
      steps_per_run: global steps that one `session.run` advances.
      count_steps: count the steps instead of fetching the global step
        with every run (see the module docstring).
      **counts: the hook's own step counts (`every_n_steps=...`), checked
        with `steps_per_run`.

    Raises:
      ConfigError: one of `counts` or `steps_per_run` is < 1.
    """
    check_positive(hook_name, **counts, steps_per_run=steps_per_run)
    self._hook_name = hook_name
    self._steps_per_run = steps_per_run
    self._steps = RunSteps(steps_per_run, count_steps)

  def begin(self):
    super().begin()
    self._steps.begin(self._hook_name)
