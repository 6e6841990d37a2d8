r"""Classifies image files or an IDX file with a trained checkpoint.

    python -m graphnet.predict --checkpoint_dir /tmp/logs seven.png two.jpg
    python -m graphnet.predict --checkpoint_dir /tmp/logs --invert drawing.png
    python -m graphnet.predict --checkpoint /tmp/logs/model.ckpt-2000 \
        --idx t10k-images-idx3-ubyte.gz --labels t10k-labels-idx1-ubyte.gz

Prints one tab-separated line per image: file (or index in the IDX file),
predicted class, its probability; with `--labels`, the accuracy instead.
Image files (PNG, JPEG, GIF, BMP; gray or colour, any size) are converted
to 28x28 gray; MNIST digits are light on dark, so pass `--invert` for dark
ink on light paper. This module only handles flags; the work is done by
`graphnet.predictor`.
"""

import dataclasses
import os
import sys

from graphnet import quiet

# TF's start-up chatter and INFO logs hide graphnet's lines unless the user
# asks for them (-v 1); must run before anything imports TF.
quiet.setup()

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

from graphnet import cli  # noqa: E402
from graphnet import errors  # noqa: E402
from graphnet import idx  # noqa: E402
from graphnet import predictor  # noqa: E402

__all__ = ['PredictConfig', 'main', 'run', 'config_from_flags']

FLAGS = flags.FLAGS

cli.define_checkpoint_flags(
  'Directory whose latest checkpoint is used.',
  'Load the .meta graph even if it holds ops unfit for inference. '
  'Only for checkpoints you trust.',
)
flags.DEFINE_string('idx', None, 'Gzipped IDX image file to classify.')
flags.DEFINE_string(
  'labels', None, 'Gzipped IDX label file of --idx; prints the accuracy.'
)
flags.DEFINE_boolean(
  'invert', False, 'Invert image files (dark ink on light paper).'
)
flags.DEFINE_integer(
  'batch_size', 10000, 'Images per session.run.', lower_bound=1
)


def _is_file_or_none(path):
  return path is None or os.path.isfile(path)


flags.register_validator(
  'idx', _is_file_or_none, '--idx must name an existing file.'
)
flags.register_validator(
  'labels', _is_file_or_none, '--labels must name an existing file.'
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
  # Invert image files (not IDX files).
  invert: bool = False
  # Skip the graph safety check.
  allow_unsafe: bool = False
  # Images per session.run.
  batch_size: int = 10000


def config_from_flags(argv):
  """Reads the parsed flags and positional image files once.

  Raises:
    app.UsageError: images and --idx together or neither, or a missing
      image file.
  """
  files = tuple(argv[1:])
  if bool(files) == bool(FLAGS.idx):
    raise app.UsageError(
      'Give image files as arguments or --idx FILE (not both, not neither).'
    )
  missing = [f for f in files if not os.path.isfile(f)]
  if missing:
    raise app.UsageError(f'Image files not found: {", ".join(missing)}')
  return PredictConfig(
    checkpoint=cli.checkpoint_from_flags(),
    image_files=files,
    idx_images=FLAGS.idx,
    idx_labels=FLAGS.labels,
    invert=FLAGS.invert,
    allow_unsafe=FLAGS.allow_unsafe,
    batch_size=FLAGS.batch_size,
  )


def _predict(config, out):
  with predictor.Predictor.from_checkpoint(
    config.checkpoint,
    allow_unsafe=config.allow_unsafe,
    batch_size=config.batch_size,
  ) as model:
    if config.idx_images:
      images = idx.read_idx_images(config.idx_images)
      names = [str(i) for i in range(len(images))]
    else:
      images = predictor.load_images(config.image_files, config.invert)
      names = config.image_files
    labels = None
    if config.idx_labels:
      labels = idx.read_idx_labels(config.idx_labels)
      if len(labels) != len(images):
        raise errors.DataFormatError(
          f'{config.idx_labels}: expected one label per image of '
          f'{config.idx_images} ({len(images)}), found {len(labels)}.',
          path=config.idx_labels,
        )
    classes, probabilities = model.classify(images)
  if labels is not None:
    correct = int((classes == labels).sum())
    print(
      f'{config.idx_images}: accuracy {correct / len(labels):.4f} '
      f'({correct}/{len(labels)})',
      file=out,
    )
    return
  for name, cls, probs in zip(names, classes, probabilities, strict=True):
    print(f'{name}\t{cls}\t{probs[cls]:.4f}', file=out)


def main(argv):
  """Classifies; exits 1 on a graphnet error."""
  return cli.exit_code(_predict, config_from_flags(argv), sys.stdout)


def run():
  """Console-script entry point."""
  app.run(main)


if __name__ == '__main__':
  run()
