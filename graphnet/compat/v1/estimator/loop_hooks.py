"""Which `train` hooks an in-graph loop of training steps serves, and how.

With runs of n steps (see `train_loop`), a hook sees one `session.run` per
n global steps. Two of TF's hooks still do their job, told so here:

* `StepCounterHook` reads the global step when it acts; it is given the
  steps per run (`_set_steps_per_run`, the setter TPUEstimator used).
* `LoggingTensorHook` on tensor names (the CNN tutorial's
  `{'probabilities': 'softmax_tensor'}`, every N iterations): the loop's
  n divides N, the hook is re-timed to N / n runs, and the named tensors,
  made inside the loop body, leave the loop with the values of the run's
  last step under their own names (`train_loop` builds that from
  `logged_names`).

Any other hook (one fetching a tensor object, counting runs as steps,
stopping at a step) keeps one step per run.

Example:
    if allow(hooks):
      n = gcd(n, *intervals(hooks)); ...; adapt(hooks, n)
"""

import tensorflow.compat.v1 as tf

__all__ = ['adapt', 'allow', 'intervals', 'logged_names']

# Attribute `adapt` sets on a LoggingTensorHook: its own every_n_iter.
_GIVEN_EVERY = '_graphnet_every_n_iter'


def _tensor_names(hook):
  """Op names a LoggingTensorHook logs, or None if a loop cannot serve it."""
  if type(hook) is not tf.train.LoggingTensorHook:
    return None
  names = []
  # The hook keeps its {tag: tensor or name} in `_tensors` (no getter).
  for tensor in hook._tensors.values():  # noqa: SLF001
    if not isinstance(tensor, str):
      return None
    name, _, index = tensor.partition(':')
    if index not in ('', '0'):
      return None
    names.append(name)
  return names


def _every_n_iter(hook):
  """A LoggingTensorHook's `every_n_iter`, or None (seconds, at end).

  The value given to the hook, also after `adapt` re-timed it (a program
  may pass the same hook to several `train` calls).
  """
  if hasattr(hook, _GIVEN_EVERY):
    return getattr(hook, _GIVEN_EVERY)
  timer = hook._timer  # noqa: SLF001 (the hook's schedule, no getter)
  return getattr(timer, '_every_steps', None)


def allow(hooks):
  """Whether every hook in `hooks` works with runs of several steps."""
  return all(
    type(hook) is tf.train.StepCounterHook or _tensor_names(hook) is not None
    for hook in hooks
  )


def intervals(hooks):
  """The `every_n_iter` of the logging hooks: n must divide each."""
  found = []
  for hook in hooks:
    if _tensor_names(hook) is not None and _every_n_iter(hook):
      found.append(_every_n_iter(hook))
  return found


def logged_names(hooks):
  """The op names (sorted) whose tensors the loop must hand out."""
  names = set()
  for hook in hooks:
    names.update(_tensor_names(hook) or ())
  return sorted(names)


def adapt(hooks, n):
  """Tells the hooks that each run makes `n` global steps (1 restores)."""
  for hook in hooks:
    if type(hook) is tf.train.StepCounterHook:
      hook._set_steps_per_run(n)  # noqa: SLF001 (TPUEstimator's setter)
    elif _tensor_names(hook) is not None and _every_n_iter(hook):
      every = _every_n_iter(hook)
      setattr(hook, _GIVEN_EVERY, every)
      # Every N iterations: every N / n runs of n steps.
      hook._timer = tf.train.SecondOrStepTimer(  # noqa: SLF001
        every_steps=max(1, every // n)
      )
