"""The trainer's `Saver`: a checkpoint is listed only once it is complete.

TF's `tf.train.Saver` names a new checkpoint in the `checkpoint` state file
before its `.meta` is written (a reader beside the trainer then finds a
listed checkpoint without its graph), and `keep_checkpoint_max` deletes
whatever the state file listed, also another directory's checkpoints
named there by absolute path. This `Saver` writes the `.index`, data and
`.meta` first, then replaces the state file in one atomic write listing
only its own directory's files, and only then deletes its own oldest.

Example:
    saver = Saver(max_to_keep=5)
    saver.save(sess, os.path.join(log_dir, BASENAME), global_step=step)
"""

import os
import time

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import state as checkpoints
from graphnet.checkpoints.state import BASENAME

__all__ = ['BASENAME', 'Saver']

# TF's `keep_checkpoint_every_n_hours` default: in effect, never.
_EVERY_N_HOURS_OFF = 10000.0


class Saver(tf.train.Saver):
  """`tf.train.Saver` that publishes only complete checkpoints of its own.

  TF's saver names a new checkpoint in the `checkpoint` state file before
  it writes the `.meta` (a reader polling beside the trainer then finds
  the graph missing), and deletes the checkpoints beyond `max_to_keep`
  wherever the state it recovered named them, even in another directory.
  This one writes the `.index`, data and `.meta` first, then replaces the
  state file at once, then deletes the oldest of its own checkpoints: the
  state file lists only existing checkpoints of the directory saved into.
  Checkpoints the session restored from elsewhere are read, never listed
  nor deleted.

  Takes `tf.train.Saver`'s arguments, except that
  `keep_checkpoint_every_n_hours` is not supported (a subclass may keep
  checkpoints leaving the window on disk: `_stays_on_disk`).
  """

  def __init__(self, *args, **kwargs):
    """Creates the saver; see `tf.train.Saver`.

    Raises:
      ConfigError: `keep_checkpoint_every_n_hours` was given.
    """
    super().__init__(*args, **kwargs)
    if self.saver_def.keep_checkpoint_every_n_hours != _EVERY_N_HOURS_OFF:
      raise errors.ConfigError(
        'saver.Saver: keep_checkpoint_every_n_hours is not supported '
        f'(got {self.saver_def.keep_checkpoint_every_n_hours}); leave it '
        'unset and raise max_to_keep instead.'
      )

  def save(
    self,
    sess,
    save_path,
    global_step=None,
    latest_filename=None,
    meta_graph_suffix='meta',
    write_meta_graph=True,
    write_state=True,
    strip_default_attrs=False,
    save_debug_info=False,
  ):
    """Saves like `tf.train.Saver.save`; the state file is written last.

    Returns:
      the checkpoint prefix saved (str), or None if there are no variables.
    """
    prefix = super().save(
      sess,
      save_path,
      global_step=global_step,
      latest_filename=latest_filename,
      meta_graph_suffix=meta_graph_suffix,
      write_meta_graph=write_meta_graph,
      write_state=False,
      strip_default_attrs=strip_default_attrs,
      save_debug_info=save_debug_info,
    )
    if write_state and prefix:
      self._publish(prefix, latest_filename or 'checkpoint', meta_graph_suffix)
    return prefix

  def _publish(self, prefix, state_name, meta_graph_suffix):
    """Lists the complete `prefix` in the state file; drops the oldest."""
    directory = os.path.dirname(os.path.abspath(prefix))
    name = os.path.basename(prefix)
    # Paths recovered from a state file that named another directory are
    # left out here, so they are never listed again nor deleted.
    listed = [
      p
      for p in self.last_checkpoints
      if os.path.dirname(os.path.abspath(p)) == directory
      and os.path.basename(p) != name
      and checkpoints.files_present(p)
    ]
    limit = self.saver_def.max_to_keep
    # As in TF: max_to_keep 0 keeps every checkpoint and lists the newest.
    kept = [*listed, prefix][-limit:] if limit else [prefix]
    dropped = listed[: len(listed) + 1 - len(kept)] if limit else []
    checkpoints.write_state(
      directory, name, [os.path.basename(p) for p in kept], state_name
    )
    now = time.time()
    # When each was saved, as tf.train.Saver records it.
    saved_at = dict(self._last_checkpoints)
    if limit:
      self.set_last_checkpoints_with_time(
        [(p, saved_at.get(p, now)) for p in kept]
      )
    for old in dropped:
      if self._stays_on_disk(saved_at.get(old, now)):
        continue
      try:
        tf.train.remove_checkpoint(old, meta_graph_suffix=meta_graph_suffix)
      except tf.errors.OpError as e:
        # Already gone: whoever removed it also wanted it gone.
        tf.logging.warning('Ignoring: %s', e)

  def _stays_on_disk(self, saved_at):
    """Whether a checkpoint leaving the window stays on disk, unlisted.

    Args:
      saved_at: when it was saved (`time.time()`).

    Returns:
      False here: every checkpoint beyond `max_to_keep` is deleted.
    """
    del saved_at
    return False
