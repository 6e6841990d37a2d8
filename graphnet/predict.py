r"""Classifies image files or an IDX file with a trained checkpoint.

    python -m graphnet.predict --checkpoint_dir /tmp/logs seven.png two.jpg
    python -m graphnet.predict --checkpoint_dir /tmp/logs --noinvert photo.png
    python -m graphnet.predict --checkpoint /tmp/logs/model.ckpt-2000 \
        --idx t10k-images-idx3-ubyte.gz --labels t10k-labels-idx1-ubyte.gz

Prints one tab-separated line per image: file (or index in the IDX file),
predicted class, its probability; with `--labels`, the accuracy instead.
File names are printed with control characters and backslashes escaped
(`\n`, `\t`, `\xNN`, `\\`), so each image gives exactly one line.
Image files (PNG, JPEG, GIF (first frame), BMP; gray, colour, palette or
transparent; any size) are converted to 28x28 gray. MNIST digits are light
on dark: by default images with a light border (dark ink on light paper)
are inverted, with a note on stderr; `--invert` / `--noinvert` force it.
All inputs are read and checked before the checkpoint is restored; errors
are one line `graphnet: error: ...` on stderr and exit code 1. Image files
that cannot be read are reported that way, one line each, after the
results of the readable ones (exit code 1). This module only handles
flags (and loads no TensorFlow until they are checked); the work is done
by `graphnet.cli.classify`, with `graphnet.images` and
`graphnet.predictor`.
"""

import dataclasses
import os
import sys

from absl import app
from absl import flags

from graphnet import errors
from graphnet.cli import common as cli
from graphnet.cli import quiet

__all__ = ['PredictConfig', 'main', 'run', 'config_from_flags']

FLAGS = flags.FLAGS

cli.define_checkpoint_flags(
  'Directory whose latest checkpoint is used.',
  'Load the .meta graph even if it holds ops unfit for inference.',
)
cli.define_path_flag(
  'idx',
  'Gzipped IDX image file to classify.',
  os.path.isfile,
  '--idx must name an existing file.',
)
cli.define_path_flag(
  'labels',
  'Gzipped IDX label file of --idx; prints the accuracy.',
  os.path.isfile,
  '--labels must name an existing file.',
)
flags.DEFINE_boolean(
  'invert',
  None,
  'Polarity of image files (not --idx): --invert inverts every image, '
  '--noinvert none; unset (default): auto, inverting images whose border '
  'is light (dark ink on light paper), with a note on stderr.',
)
flags.DEFINE_integer(
  'batch_size', 10000, 'Images per session.run.', lower_bound=1
)


@flags.multi_flags_validator(['idx', 'labels'], message='--labels needs --idx.')
def _check_labels(values):
  return values['labels'] is None or values['idx'] is not None


@dataclasses.dataclass(frozen=True)
class PredictConfig:
  """What one `python -m graphnet.predict` run does."""

  # Checkpoint prefix or directory.
  checkpoint: str
  # Image files to classify (empty with idx_images).
  image_files: tuple = ()
  # Gzipped IDX image file to classify, or None.
  idx_images: str | None = None
  # Gzipped IDX label file of idx_images, or None.
  idx_labels: str | None = None
  # Image files (not IDX files): True inverts all, False none, None auto.
  invert: bool | None = None
  # Skip the graph safety check.
  allow_unsafe: bool = False
  # Images per session.run.
  batch_size: int = 10000


def _missing(kind, paths):
  missing = [p for p in paths if p is not None and not os.path.isfile(p)]
  if missing:
    # As `images.printable_name`, whose module loads TensorFlow.
    names = ', '.join(errors.printable(p, limit=None) for p in missing)
    raise errors.ConfigError(
      f'{kind}: no such file: {names}. Check the path and spelling.'
    )


def config_from_flags(argv):
  """Reads the parsed flags and positional image files once.

  Raises:
    ConfigError: images and --idx together or neither, or a file named by
      an argument, --idx or --labels does not exist.
  """
  files = tuple(argv[1:])
  if bool(files) == bool(FLAGS.idx):
    raise errors.ConfigError(
      'Give image files as arguments or --idx FILE (not both, not neither).'
    )
  _missing('image files', files)
  return PredictConfig(
    checkpoint=cli.checkpoint_from_flags(),
    image_files=files,
    idx_images=FLAGS.idx,
    idx_labels=FLAGS.labels,
    invert=FLAGS.invert,
    allow_unsafe=FLAGS.allow_unsafe,
    batch_size=FLAGS.batch_size,
  )


def _run(argv):
  config = config_from_flags(argv)
  # TF loads only now, so that --help and flag errors answer at once; its
  # start-up chatter and INFO logs hide graphnet's lines unless the user
  # asks for them (-v 1).
  quiet.setup()
  from graphnet.cli import classify  # noqa: PLC0415

  return classify.classify(config, sys.stdout, sys.stderr)


def main(argv):
  """Classifies; exits 1 on a graphnet error."""
  return cli.exit_code(_run, argv)


def run():
  """Console-script entry point."""
  app.run(main)


if __name__ == '__main__':
  run()
