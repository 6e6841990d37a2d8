r"""Exports a trained checkpoint as a frozen graph and/or a SavedModel.

    python -m graphnet.export --checkpoint_dir /tmp/logs \
        --frozen_graph /tmp/mnist.pb --saved_model_dir /tmp/mnist_saved_model
    saved_model_cli show --dir /tmp/mnist_saved_model --all

This module only handles flags; the work is done by `graphnet.exporter`.
"""

import dataclasses
import os

from absl import app
from absl import flags

from graphnet.cli import common as cli
from graphnet.cli import quiet

__all__ = ['ExportConfig', 'main', 'run', 'config_from_flags']

FLAGS = flags.FLAGS

cli.define_checkpoint_flags(
  'Directory whose latest checkpoint is exported.',
  'Trust the .meta file: restore it with its own saver and export its '
  'graph unchecked.',
)


def _parent_exists(path):
  return os.path.isdir(os.path.dirname(os.path.abspath(path)))


cli.define_path_flag(
  'frozen_graph',
  'Write a frozen GraphDef here.',
  _parent_exists,
  "--frozen_graph's directory must exist.",
)
cli.define_path_flag(
  'saved_model_dir',
  'Write a SavedModel here (a new directory).',
  lambda path: _parent_exists(path) and not os.path.exists(path),
  '--saved_model_dir must not exist yet and its parent must exist.',
)


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
    checkpoint=cli.checkpoint_from_flags(),
    frozen_graph=FLAGS.frozen_graph,
    saved_model_dir=FLAGS.saved_model_dir,
    allow_unsafe=FLAGS.allow_unsafe,
  )


def _export(config, exporter):
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


def main(argv):
  """Exports; exits 1 on a graphnet error."""
  cli.no_arguments(argv)
  config = config_from_flags()
  # TF loads only now, so that --help and flag errors answer at once; its
  # start-up chatter and INFO logs hide graphnet's lines unless the user
  # asks for them (-v 1).
  quiet.setup()
  from graphnet.serving import exporter  # noqa: PLC0415

  return cli.exit_code(_export, config, exporter)


def run():
  """Console-script entry point."""
  app.run(main)


if __name__ == '__main__':
  run()
