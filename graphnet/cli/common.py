"""What the command-line entry points share: checkpoint flags, exit codes.

Only entry points import this module; the library never sees a flag.

Example (in an entry point):

    cli.define_checkpoint_flags(
      'Directory whose latest checkpoint is used.',
      'Load the .meta graph unchecked.',
    )

    def main(argv):
      cli.no_arguments(argv)
      return cli.exit_code(_work, cli.checkpoint_from_flags())
"""

import os
import sys

from absl import app
from absl import flags

from graphnet import errors

__all__ = [
  'DEFAULT_DATA_DIR',
  'DEFAULT_LOG_DIR',
  'define_checkpoint_flags',
  'define_path_flag',
  'checkpoint_from_flags',
  'no_arguments',
  'exit_code',
]

FLAGS = flags.FLAGS

# TF1's tutorial paths; tests move them with TEST_TMPDIR.
_ROOT = os.getenv('TEST_TMPDIR', '/tmp')
DEFAULT_DATA_DIR = os.path.join(_ROOT, 'tensorflow/mnist/input_data')
# The trainer's --log_dir, where the evaluator looks by default.
DEFAULT_LOG_DIR = os.path.join(
  _ROOT, 'tensorflow/mnist/logs/fully_connected_feed'
)


def define_checkpoint_flags(dir_help, unsafe_help):
  """Defines --checkpoint_dir, --checkpoint (exactly one) and --allow_unsafe.

  Args:
    dir_help: help text of --checkpoint_dir.
    unsafe_help: what --allow_unsafe does (its help text, which goes on
      'Only for checkpoints you trust.').
  """
  define_path_flag(
    'checkpoint_dir',
    dir_help,
    os.path.isdir,
    '--checkpoint_dir must be an existing directory.',
  )
  flags.DEFINE_string(
    'checkpoint', None, 'Checkpoint prefix, e.g. logs/model.ckpt-2000.'
  )
  flags.DEFINE_boolean(
    'allow_unsafe', False, f'{unsafe_help} Only for checkpoints you trust.'
  )
  flags.register_multi_flags_validator(
    ['checkpoint_dir', 'checkpoint'],
    lambda v: (v['checkpoint_dir'] is None) != (v['checkpoint'] is None),
    message='Give exactly one of --checkpoint_dir and --checkpoint.',
  )


def define_path_flag(name, help_text, check, message):
  """Defines --name, an optional path that `check(path)` must accept.

  The check runs while the flags are parsed, so a wrong path is absl's
  usage error naming the flag, before TF or a model is loaded.

  Args:
    name: the flag's name (default None: not given, not checked).
    help_text: its help text.
    check: function of the given path, True when it is usable.
    message: the usage error when `check` refuses it.
  """
  flags.DEFINE_string(name, None, help_text)
  flags.register_validator(
    name, lambda path: path is None or check(path), message
  )


def checkpoint_from_flags():
  """The checkpoint directory or prefix the user named."""
  return FLAGS.checkpoint_dir or FLAGS.checkpoint


def no_arguments(argv):
  """Raises absl's usage error for positional arguments after the flags."""
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {" ".join(argv[1:])}')


def exit_code(work, *args):
  """Runs `work(*args)`; a graphnet error becomes one line and exit code 1.

  Returns:
    `work`'s return value (None counts as 0), or 1 after printing
    `graphnet: error: <message>` to stderr.
  """
  try:
    return work(*args) or 0
  except errors.GraphnetError as e:
    # Messages escape what they quote from files; this is the last guard
    # of the terminal (backslashes there are escapes already).
    shown = errors.printable(str(e), limit=None, backslashes=False)
    print(f'graphnet: error: {shown}', file=sys.stderr, flush=True)
    return 1
