r"""Evaluates the trainer's checkpoints as they appear: TF1's `mnist_eval.py`.

    python -m graphnet.mnist_eval                      # beside the trainer
    python -m graphnet.mnist_eval --run_once --subset test

Reads the model sizes (and whether to use moving averages) from each
checkpoint, prints `After %s training step(s), validation accuracy = %g`
per new checkpoint and writes `accuracy/<subset>` summaries to `--eval_dir`
(default `<checkpoint_dir>/eval_<subset>`, so TensorBoard shows them beside
training; when that cannot be written, e.g. in a read-only checkpoint
directory, a note on stderr says so and the accuracy is still printed; an
explicit `--eval_dir` must be writable; an eval directory that is a
symbolic link is refused, never written through). Stops on Ctrl-C or
SIGTERM (exit 0), after `--timeout_secs` without a new checkpoint, or after
one evaluation with `--run_once` (exit 1 if there was nothing to evaluate).
"""

import dataclasses
import errno
import functools
import os
import signal
import sys
import tempfile

from absl import app
from absl import flags

from graphnet import errors
from graphnet import options
from graphnet.cli import common as cli
from graphnet.cli import quiet
from graphnet.data import dataset
from graphnet.data import mnist_reader as input_data

__all__ = ['EvalFlags', 'main', 'run', 'read_flags']

# The held-out splits: validation and test.
_SUBSETS = dataset.SPLITS[1:]

FLAGS = flags.FLAGS

flags.DEFINE_string(
  'checkpoint_dir',
  cli.DEFAULT_LOG_DIR,
  "The trainer's --log_dir, where its checkpoints appear.",
)
flags.DEFINE_string(
  'input_data_dir',
  cli.DEFAULT_DATA_DIR,
  'Directory of the MNIST IDX files (the bundled copy lands here).',
)
flags.DEFINE_float(
  'eval_interval_secs', 10.0, 'Seconds between looks for a new checkpoint.'
)
flags.DEFINE_boolean(
  'run_once', False, 'Evaluate the newest checkpoint once and exit.'
)
flags.DEFINE_enum('subset', 'validation', list(_SUBSETS), 'Data to score.')
flags.DEFINE_float(
  'timeout_secs',
  0.0,
  'Exit after this many seconds without a new checkpoint; 0: never.',
  lower_bound=0.0,
)
flags.DEFINE_string(
  'eval_dir',
  None,
  'Where the accuracy summaries go; default <checkpoint_dir>/eval_<subset>.',
)

flags.register_validator(
  'eval_interval_secs',
  lambda v: v > 0,
  '--eval_interval_secs must be > 0.',
)


@dataclasses.dataclass(frozen=True)
class EvalFlags:
  """The evaluator's flags, read once."""

  # The trainer's log_dir.
  checkpoint_dir: str
  # Where the MNIST files are.
  input_data_dir: str
  # Seconds between polls.
  interval_secs: float
  # Evaluate once and exit.
  run_once: bool
  # 'validation' or 'test'.
  subset: str
  # Seconds without a new checkpoint before exiting; 0 = never.
  timeout_secs: float
  # Directory of the summaries.
  eval_dir: str
  # Whether eval_dir is the default inside checkpoint_dir (which may be
  # read-only: then no summaries) rather than one the user asked for.
  eval_dir_is_default: bool = False


def read_flags():
  """Reads the parsed flags once into an `EvalFlags`."""
  eval_dir = FLAGS.eval_dir or os.path.join(
    FLAGS.checkpoint_dir, f'eval_{FLAGS.subset}'
  )
  read = {
    # A field's flag: options.name_of (interval_secs: --eval_interval_secs).
    f.name: FLAGS[options.name_of(f.name)].value
    for f in dataclasses.fields(EvalFlags)
    if f.name not in ('eval_dir', 'eval_dir_is_default')
  }
  return EvalFlags(
    **read, eval_dir=eval_dir, eval_dir_is_default=FLAGS.eval_dir is None
  )


# Lines appear as they happen, also when piped to a file.
_print_flush = functools.partial(print, flush=True)


def _interrupt(signum, frame):
  del frame  # Unused.
  raise KeyboardInterrupt(signal.Signals(signum).name)


def _check_writable(directory):
  """Raises OSError unless `directory` exists writable or can be made.

  Probes with a temporary file (root ignores permission bits, not a
  read-only file system), in the directory or in its nearest existing
  ancestor; nothing is created for good.
  """
  path = os.path.abspath(directory)
  while not os.path.lexists(path):
    path = os.path.dirname(path)
  if not os.path.isdir(path):
    raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
  with tempfile.TemporaryFile(dir=path):
    pass


def _summary_dir(options):
  """The directory to write summaries to, or None for no summaries.

  Raises:
    ConfigError: an explicit --eval_dir cannot be written.
  """
  try:
    _check_writable(options.eval_dir)
  except OSError as e:
    if not options.eval_dir_is_default:
      raise errors.ConfigError(
        f'--eval_dir {options.eval_dir} cannot be written ({e.strerror}); '
        'give a writable directory.',
        field='eval_dir',
      ) from e
    print(
      f'graphnet: note: accuracy summaries are not written: '
      f'{options.eval_dir} cannot be made ({e.strerror}); give a writable '
      '--eval_dir to keep them.',
      file=sys.stderr,
      flush=True,
    )
    return None
  return options.eval_dir


def _evaluate(settings, continuous_eval):
  """Runs the evaluation loop; 1 when --run_once found nothing to score."""
  # Before the probe below, which would write through a link.
  continuous_eval.check_event_dir(settings.eval_dir, options.as_flag)
  eval_dir = _summary_dir(settings)
  # The trainer's split: min(5000, 10%) of the training examples.
  data_sets = input_data.read_data_sets(
    settings.input_data_dir, validation_size=None
  )
  records = continuous_eval.evaluation_loop(
    settings.checkpoint_dir,
    getattr(data_sets, settings.subset),
    subset=settings.subset,
    interval_secs=settings.interval_secs,
    run_once=settings.run_once,
    timeout_secs=settings.timeout_secs,
    eval_dir=eval_dir,
    printer=_print_flush,
  )
  return 1 if settings.run_once and not records else 0


def main(argv):
  """Runs the evaluator; 0 on a normal stop, 1 on a graphnet error."""
  cli.no_arguments(argv)
  options = read_flags()
  # TF loads only now, so that --help and flag errors answer at once
  # instead of after its few seconds of loading; its start-up chatter and
  # INFO logs hide graphnet's lines unless the user asks for them (-v 1).
  quiet.setup()
  from graphnet.training import continuous_eval  # noqa: PLC0415

  # A service manager stops the evaluator with SIGTERM: end as on Ctrl-C.
  signal.signal(signal.SIGTERM, _interrupt)
  try:
    return cli.exit_code(_evaluate, options, continuous_eval)
  except KeyboardInterrupt as e:
    reason = str(e) or 'SIGINT'
    _print_flush(f'Evaluator stopped ({reason}).')
    return 0


def run():
  """Console-script entry point."""
  app.run(main)


if __name__ == '__main__':
  run()
