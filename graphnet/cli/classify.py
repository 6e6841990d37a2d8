"""What `python -m graphnet.predict` does once its flags are read.

Reads and checks every input (no model needed), then restores the
checkpoint and prints one line per image (or the accuracy over an IDX
file with labels). `graphnet.predict` imports this module only after its
flags are checked, since it loads TensorFlow.

Example:
    classify(predict.PredictConfig('/tmp/logs', image_files=('7.png',)),
             sys.stdout, sys.stderr)
"""

import typing

import numpy as np

from graphnet import errors
from graphnet.data import idx
from graphnet.data import images
from graphnet.serving import freezing
from graphnet.serving import predictor

__all__ = ['classify']

# Auto-inverted files named in the note; more are counted.
_NAMES_IN_NOTE = 5


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


def classify(config, out, notes):
  """Classifies `config`'s inputs, printing to `out`, notes to `notes`.

  Args:
    config: a `predict.PredictConfig`.
    out: text stream of the results (one line per image, or the accuracy).
    notes: text stream of notes and of each unreadable file's error.

  Returns:
    0, or 1 when an image file could not be read (the others' results are
    printed).

  Raises:
    GraphnetError: the checkpoint cannot be used, or no input can be read.
  """
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
