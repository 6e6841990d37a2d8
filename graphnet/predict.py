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
results of the readable ones (exit code 1). This module
only handles flags; the work is done by `graphnet.images` and
`graphnet.predictor`.
"""

import dataclasses
import os
import sys
import typing

from graphnet.cli import quiet

# TF's start-up chatter and INFO logs hide graphnet's lines unless the user
# asks for them (-v 1); must run before anything imports TF.
quiet.setup()

import numpy as np  # noqa: E402
from absl import app  # noqa: E402
from absl import flags  # noqa: E402

from graphnet import errors  # noqa: E402
from graphnet.cli import common as cli  # noqa: E402
from graphnet.data import idx  # noqa: E402
from graphnet.data import images  # noqa: E402
from graphnet.serving import freezing  # noqa: E402
from graphnet.serving import predictor  # noqa: E402

__all__ = ['PredictConfig', 'main', 'run', 'config_from_flags']

FLAGS = flags.FLAGS

# Auto-inverted files named in the note; more are counted.
_NAMES_IN_NOTE = 5

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
  'invert',
  None,
  'Polarity of image files (not --idx): --invert inverts every image, '
  '--noinvert none; unset (default): auto, inverting images whose border '
  'is light (dark ink on light paper), with a note on stderr.',
)
flags.DEFINE_integer(
  'batch_size', 10000, 'Images per session.run.', lower_bound=1
)

# Named files are checked while the flags are parsed, so a wrong path is
# absl's usage error naming the flag, before TF or a model is loaded.
for _name in ('idx', 'labels'):
  flags.register_validator(
    _name,
    lambda path: path is None or os.path.isfile(path),
    f'--{_name} must name an existing file.',
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
    names = ', '.join(images.printable_name(p) for p in missing)
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


class _Inputs(typing.NamedTuple):
  names: tuple  # printable name of each image
  pixels: np.ndarray  # uint8 [N, 28, 28] or [N, 28, 28, 1]
  labels: np.ndarray | None  # uint8 [N], or None without --labels
  auto_inverted: np.ndarray  # bool [N]: inverted by the auto polarity


def _read_idx(config):
  pixels = idx.read_idx_images(config.idx_images)
  if not len(pixels):
    raise errors.DataError(
      f'{images.printable_name(config.idx_images)}: holds 0 images; '
      'nothing to classify. Pass an IDX image file with at least one image.',
      path=config.idx_images,
    )
  labels = None
  if config.idx_labels:
    labels = idx.read_idx_labels(config.idx_labels)
    if len(labels) != len(pixels):
      raise errors.DataFormatError(
        f'{config.idx_labels}: expected one label per image of '
        f'{config.idx_images} ({len(pixels)}), found {len(labels)}.',
        path=config.idx_labels,
      )
  names = tuple(str(i) for i in range(len(pixels)))
  return _Inputs(names, pixels, labels, np.zeros([len(pixels)], bool))


def _read_inputs(config):
  """Reads and checks every input (no model needed).

  Returns:
    (`_Inputs` of the readable inputs, [DataError of each unreadable
    image file]).

  Raises:
    DataError: no input can be read (the first file's error).
  """
  if config.idx_images:
    return _read_idx(config), []
  good, failed = [], []
  for path in config.image_files:
    # One damaged file must not hide the results of the others.
    try:
      good.append((path, images.read_images([path], config.invert)))
    except errors.DataError as e:
      failed.append(e)
  if not good:
    raise failed[0]
  pixels = np.concatenate([batch.pixels for _, batch in good])
  # Only automatic inversions need a note; forced ones were asked for.
  auto = np.concatenate([batch.inverted for _, batch in good])
  if config.invert is not None:
    auto = np.zeros_like(auto)
  names = tuple(images.printable_name(path) for path, _ in good)
  return _Inputs(names, pixels, None, auto), failed


def _note_inverted(inputs, notes):
  names = [
    n for n, i in zip(inputs.names, inputs.auto_inverted, strict=True) if i
  ]
  if not names:
    return
  shown = ', '.join(names[:_NAMES_IN_NOTE])
  if len(names) > _NAMES_IN_NOTE:
    shown += f' and {len(names) - _NAMES_IN_NOTE} more'
  print(
    f'graphnet: note: inverted {len(names)} of {len(inputs.names)} images '
    f'with a light border (dark ink on light paper): {shown}. Pass '
    '--noinvert to keep them as they are.',
    file=notes,
    flush=True,
  )


def _predict(config, out, notes):
  # Cheap checks first: the checkpoint's files, then every input; only
  # then the slow restore (of a directory's newest checkpoint then: a
  # trainer beside may have replaced the one checked).
  freezing.resolve_checkpoint(config.checkpoint)
  inputs, failed = _read_inputs(config)
  with predictor.Predictor.from_checkpoint(
    config.checkpoint,
    allow_unsafe=config.allow_unsafe,
    batch_size=config.batch_size,
  ) as model:
    classes, probabilities = model.classify(inputs.pixels)
  if inputs.labels is not None:
    correct = int((classes == inputs.labels).sum())
    print(
      f'{images.printable_name(config.idx_images)}: accuracy '
      f'{correct / len(inputs.labels):.4f} '
      f'({correct}/{len(inputs.labels)})',
      file=out,
    )
    return
  _note_inverted(inputs, notes)
  for name, cls, probs in zip(
    inputs.names, classes, probabilities, strict=True
  ):
    print(f'{name}\t{cls}\t{probs[cls]:.4f}', file=out)
  for error in failed:
    shown = errors.printable(str(error), limit=None, backslashes=False)
    print(f'graphnet: error: {shown}', file=notes, flush=True)
  return 1 if failed else 0


def _run(argv):
  return _predict(config_from_flags(argv), sys.stdout, sys.stderr)


def main(argv):
  """Classifies; exits 1 on a graphnet error."""
  return cli.exit_code(_run, argv)


def run():
  """Console-script entry point."""
  app.run(main)


if __name__ == '__main__':
  run()
