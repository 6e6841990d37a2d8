r"""Exports a trained checkpoint as a frozen graph and/or a SavedModel.

    python -m graphnet.export --checkpoint_dir /tmp/logs \
        --frozen_graph /tmp/mnist.pb --saved_model_dir /tmp/mnist_saved_model
    saved_model_cli show --dir /tmp/mnist_saved_model --all

This module only handles flags; the work is done by `graphnet.exporter`.
"""

import dataclasses
import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

from graphnet import errors  # noqa: E402
from graphnet import exporter  # noqa: E402

__all__ = ['ExportConfig', 'main', 'run', 'config_from_flags']

FLAGS = flags.FLAGS

flags.DEFINE_string(
  'checkpoint_dir', None, 'Directory whose latest checkpoint is exported.'
)
flags.DEFINE_string(
  'checkpoint', None, 'Checkpoint prefix, e.g. logs/model.ckpt-2000.'
)
flags.DEFINE_string('frozen_graph', None, 'Write a frozen GraphDef here.')
flags.DEFINE_string(
  'saved_model_dir', None, 'Write a SavedModel here (a new directory).'
)
flags.DEFINE_boolean(
  'allow_unsafe',
  False,
  'Export even if the .meta graph holds ops unfit for inference. Only for '
  'checkpoints you trust.',
)


def _parent_exists(path):
  return path is None or os.path.isdir(os.path.dirname(os.path.abspath(path)))


flags.register_validator(
  'checkpoint_dir',
  lambda v: v is None or os.path.isdir(v),
  '--checkpoint_dir must be an existing directory.',
)
flags.register_validator(
  'frozen_graph',
  _parent_exists,
  "--frozen_graph's directory must exist.",
)
flags.register_validator(
  'saved_model_dir',
  lambda v: _parent_exists(v) and (v is None or not os.path.exists(v)),
  '--saved_model_dir must not exist yet and its parent must exist.',
)


@flags.multi_flags_validator(
  ['checkpoint_dir', 'checkpoint'],
  message='Give exactly one of --checkpoint_dir and --checkpoint.',
)
def _check_checkpoint(values):
  return (values['checkpoint_dir'] is None) != (values['checkpoint'] is None)


@flags.multi_flags_validator(
  ['frozen_graph', 'saved_model_dir'],
  message='Give --frozen_graph, --saved_model_dir or both.',
)
def _check_outputs(values):
  return bool(values['frozen_graph'] or values['saved_model_dir'])


@dataclasses.dataclass(frozen=True)
class ExportConfig:
  """What one `python -m graphnet.export` run writes."""

  # Checkpoint prefix or directory.
  checkpoint: str
  # Frozen GraphDef file to write, or None.
  frozen_graph: str | None = None
  # SavedModel directory to create, or None.
  saved_model_dir: str | None = None
  # Skip the graph safety check.
  allow_unsafe: bool = False


def config_from_flags():
  """Reads the parsed flags once into an `ExportConfig`."""
  return ExportConfig(
    checkpoint=FLAGS.checkpoint_dir or FLAGS.checkpoint,
    frozen_graph=FLAGS.frozen_graph,
    saved_model_dir=FLAGS.saved_model_dir,
    allow_unsafe=FLAGS.allow_unsafe,
  )


def main(argv):
  """Exports; exits 1 on a graphnet error."""
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {" ".join(argv[1:])}')
  config = config_from_flags()
  try:
    if config.frozen_graph:
      exporter.export_frozen_graph(
        config.checkpoint, config.frozen_graph, config.allow_unsafe
      )
      print(f'Wrote frozen graph {config.frozen_graph}', flush=True)
    if config.saved_model_dir:
      exporter.export_saved_model(
        config.checkpoint, config.saved_model_dir, config.allow_unsafe
      )
      print(f'Wrote SavedModel {config.saved_model_dir}', flush=True)
  except errors.GraphnetError as e:
    print(f'graphnet: error: {e}', file=sys.stderr, flush=True)
    return 1
  return 0


def run():
  """Console-script entry point."""
  app.run(main)


if __name__ == '__main__':
  run()
