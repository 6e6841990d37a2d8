"""Evaluates the trainer's checkpoints as they appear (TF1's `mnist_eval`).

The evaluator runs beside the trainer: every `interval_secs` it asks the
trainer's `checkpoint` state file for the newest checkpoint, and scores
each new one once (`checkpoint_eval.evaluate_checkpoint`: a graph built
fresh by the network's `ModelSpec`, or the checkpoint's own frozen graph).

The trainer's `Saver` writes the checkpoint files first and replaces the
`checkpoint` state file last, so a prefix named there is complete; one that
`keep_checkpoint_max` has deleted since, or that does not read cleanly, is
logged and skipped, to be retried at the next poll.

Example:
    data = input_data.read_data_sets('/tmp/data')
    evaluation_loop('/tmp/logs', data.validation, interval_secs=10,
                    subset='validation', eval_dir='/tmp/logs/eval_validation')
    # After 2000 training step(s), validation accuracy = 0.9114
"""

import contextlib
import dataclasses
import os
import time

import tensorflow.compat.v1 as tf
from absl import logging

from graphnet import errors
from graphnet import options
from graphnet.checkpoints import state as checkpoints
from graphnet.training import checkpoint_eval

__all__ = [
  'EvalRecord',
  'evaluation_loop',
  'check_event_dir',
]


@dataclasses.dataclass(frozen=True)
class EvalRecord:
  """One evaluated checkpoint."""

  # The checkpoint prefix, e.g. `logs/model.ckpt-2000`.
  prefix: str
  # Its global step.
  step: int
  # Fraction of the data set predicted correctly.
  accuracy: float


def _latest(checkpoint_dir, strict=False):
  """The newest complete checkpoint of `checkpoint_dir`, or None.

  With `strict`, a state file that cannot be read (not a regular file,
  naming a checkpoint outside the directory) raises CheckpointError
  instead of being logged and retried.
  """
  with contextlib.suppress(errors.CheckpointError):
    # The graph is rebuilt from the variables: no .meta needed.
    return checkpoints.latest_complete_checkpoint(
      checkpoint_dir, require_meta=False
    )
  # None is complete: the newest is named, to be reported and retried.
  try:
    return checkpoints.state_prefix(checkpoint_dir)
  except errors.CheckpointError as e:
    if strict:
      raise
    logging.warning('%s', e)
    return None


def _evaluate_newest(checkpoint_dir, prefix, data_set):
  """(prefix, step, accuracy) of `prefix`, or of the newest after it.

  The trainer's keep_checkpoint_max may delete `prefix` while it is
  restored; the state is then looked up once more (`read_with_retry`).
  """
  found = [prefix]

  def resolve():
    latest = found.pop() if found else _latest(checkpoint_dir)
    if latest is None:
      raise errors.CheckpointError(
        f'{checkpoint_dir} no longer lists a checkpoint.', path=checkpoint_dir
      )
    return latest

  def evaluate(latest):
    return (latest, *checkpoint_eval.evaluate_checkpoint(latest, data_set))

  return checkpoints.read_with_retry(resolve, evaluate, require_meta=False)


def check_event_dir(eval_dir, names=options.as_argument):
  """Refuses an `eval_dir` that is a symbolic link.

  The default `eval_<subset>` lies in the checkpoint directory, which may
  come from someone else: a link there would send the events (and the
  writability probe) to another directory. The message names the field
  by `names` (`options.as_argument`, or `options.as_flag` on the command
  line).

  Raises:
    ConfigError: `eval_dir` is a symbolic link.
  """
  if os.path.islink(eval_dir):
    raise errors.ConfigError(
      f'eval directory {errors.printable(eval_dir)} is a symbolic link; '
      'summaries are written only into a real directory, never through a '
      'link. Remove the link, or pass the directory it points to as '
      f'{names("eval_dir")}.',
      field='eval_dir',
    )


def _make_writer(eval_dir):
  check_event_dir(eval_dir)
  os.makedirs(eval_dir, exist_ok=True)
  # A link put there since the check is not followed either.
  os.close(os.open(eval_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW))
  # FileWriter refuses eager mode; it only needs a graph while it is made.
  with tf.Graph().as_default():
    return tf.summary.FileWriter(eval_dir)


def evaluation_loop(
  checkpoint_dir,
  data_set,
  subset='validation',
  interval_secs=10.0,
  run_once=False,
  timeout_secs=0.0,
  eval_dir=None,
  printer=print,
  sleep=time.sleep,
  clock=time.monotonic,
  stop_at_step=None,
):
  """Evaluates each new checkpoint of `checkpoint_dir` once.

  Polls every `interval_secs` (the time spent evaluating counts towards
  it). Prints `After <step> training step(s), <subset> accuracy = <acc>`
  per checkpoint (then, watching, one line saying what it waits for), or
  `No checkpoint file found` while there is none, and
  writes the scalar summary `accuracy/<subset>` at the checkpoint's step to
  `eval_dir`. A checkpoint that fails to read is logged and retried at the
  next poll (with `run_once`, its `CheckpointError` is raised).

  Args:
    checkpoint_dir: the trainer's log_dir.
    data_set: the `input_data.DataSet` to score.
    subset: its name, used in the line and the summary tag.
    interval_secs: seconds between polls, > 0.
    run_once: evaluate the newest checkpoint (if any) and return.
    timeout_secs: return after this long without a new checkpoint; 0 =
      never.
    eval_dir: directory of the events file, created when the first
      summary is written; None = no summaries.
    printer: function taking one output line.
    sleep: function(seconds), injectable for tests.
    clock: function() -> seconds, monotonic, injectable for tests.
    stop_at_step: return after evaluating a checkpoint of this global
      step or later (training has ended: a cluster's evaluator task);
      None = keep watching.

  Returns:
    list of `EvalRecord`, one per evaluated checkpoint, in order.

  Raises:
    ConfigError: `interval_secs` <= 0 or `timeout_secs` < 0.
    CheckpointMismatchError: the checkpoint holds another model.
    CheckpointError: with `run_once`, the newest checkpoint cannot be read.
  """
  if interval_secs <= 0 or timeout_secs < 0:
    raise errors.ConfigError(
      'evaluation_loop: interval_secs must be > 0 and timeout_secs >= 0, '
      f'got {interval_secs} and {timeout_secs}.'
    )
  records, done, writer, announced = [], set(), None, set()
  last_new = clock()
  try:
    while True:
      started = clock()
      prefix = _latest(checkpoint_dir, strict=run_once)
      if prefix is None:
        printer('No checkpoint file found')
      elif prefix not in done:
        try:
          prefix, step, accuracy = _evaluate_newest(
            checkpoint_dir, prefix, data_set
          )
        except errors.CheckpointMismatchError:
          raise
        except errors.CheckpointError as e:
          if run_once:
            # No later poll to retry at: say why there is no result.
            raise
          shown = errors.printable(prefix)
          logging.warning('Skipping checkpoint %s for now: %s', shown, e)
          printer(f'Skipping checkpoint {shown}: it cannot be read yet.')
        else:
          done.add(prefix)
          last_new = clock()
          records.append(EvalRecord(prefix, step, accuracy))
          printer(
            f'After {step} training step(s), {subset} accuracy = {accuracy:g}'
          )
          if eval_dir:
            writer = writer or _make_writer(eval_dir)
            value = tf.Summary.Value(
              tag=f'accuracy/{subset}', simple_value=accuracy
            )
            writer.add_summary(tf.Summary(value=[value]), step)
            writer.flush()
      if run_once:
        return records
      if (
        stop_at_step is not None
        and records
        and (records[-1].step >= stop_at_step)
      ):
        printer(
          f'Training reached step {records[-1].step} (>= {stop_at_step}); '
          'stopping the evaluator.'
        )
        return records
      now = clock()
      if timeout_secs and now - last_new >= timeout_secs:
        printer(
          f'No new checkpoint for {timeout_secs:g} s; stopping the evaluator.'
        )
        return records
      wait = interval_secs - (now - started)
      if timeout_secs:
        wait = min(wait, last_new + timeout_secs - now)
      if records and records[-1].prefix not in announced:
        # Otherwise a watching evaluator looks hung after its first line.
        announced.add(records[-1].prefix)
        printer(
          f'Waiting for a checkpoint newer than step {records[-1].step} in '
          f'{errors.printable(checkpoint_dir)} (checking every '
          f'{interval_secs:g} s; Ctrl-C stops).'
        )
      if wait > 0:
        sleep(wait)
  finally:
    if writer is not None:
      writer.close()
