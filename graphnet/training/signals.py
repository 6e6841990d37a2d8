"""Stops training cleanly on SIGINT / SIGTERM, saving a final checkpoint.

Without this, Ctrl-C raises `KeyboardInterrupt` wherever the main thread
happens to be (possibly inside the checkpoint saver), and SIGTERM from a
job scheduler kills the process outright: the steps since the last
checkpoint are lost. `StopOnSignals` turns the first signal into a stop
request that `hooks.SignalStopHook` hands to the
`MonitoredTrainingSession` after the current run; the session then closes
normally and its `CheckpointSaverHook.end()` saves the final step. A second
signal while stopping raises `KeyboardInterrupt` at once, for a user who
cannot wait.

Example:
    with signals.StopOnSignals() as stop:
      hooks.append(stop.hook())
      with tf.train.MonitoredTrainingSession(hooks=hooks, ...) as sess:
        while not sess.should_stop():
          sess.run(train_op)
    if stop.signum is not None:
      raise errors.TrainingInterruptedError(stop.signum, step, checkpoint)
"""

import signal
import threading

from graphnet import errors
from graphnet.training import hooks

__all__ = [
  'HANDLED_SIGNALS',
  'StopOnSignals',
  'TrainingInterruptedError',
]

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


# Defined in errors.py with graphnet's other errors; kept here for callers
# that caught it as signals.TrainingInterruptedError.
TrainingInterruptedError = errors.TrainingInterruptedError


class StopOnSignals:
  """Context manager: SIGINT / SIGTERM request a stop instead of killing.

  Handlers can only be installed from the main thread; elsewhere (e.g.
  training in a worker thread) the context does nothing and signals keep
  their usual effect. The previous handlers are restored on exit.

  Attributes:
    signum: the first signal received inside the context, or None.
  """

  def __init__(self, signums=HANDLED_SIGNALS):
    """Creates the context.

    Args:
      signums: the signals to catch.
    """
    self._signums = tuple(signums)
    self._previous = {}
    self.signum = None

  def _handle(self, signum, frame):
    del frame  # Unused.
    if self.signum is not None:
      # Second signal: the user does not want to wait for the checkpoint.
      raise KeyboardInterrupt(signal.Signals(signum).name)
    self.signum = signum
    print(
      f'graphnet: received {signal.Signals(signum).name}; stopping after '
      'this step and saving a checkpoint (send it again to stop at once).',
      flush=True,
    )

  def hook(self):
    """A `SignalStopHook` for the training session's hooks."""
    return hooks.SignalStopHook(self)

  def __enter__(self):
    self.signum = None
    if threading.current_thread() is threading.main_thread():
      for signum in self._signums:
        self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def __exit__(self, *exc_info):
    for signum, previous in self._previous.items():
      # None: the old handler was not set from Python; SIG_DFL is closest.
      signal.signal(signum, signal.SIG_DFL if previous is None else previous)
    self._previous = {}
    return False
