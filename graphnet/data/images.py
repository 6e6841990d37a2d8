r"""Reads PNG, JPEG, GIF and BMP files as MNIST-like 28x28 gray digits.

Each file is decoded with the channels its format has (GIF: RGB of the
first frame; BMP: gray, RGB or RGBA, 8-bit palettes looked up here since
TF returns their indices; PNG: gray, gray+alpha, RGB or RGBA, palettes
expanded; JPEG: gray or RGB), converted with `tf.image.rgb_to_grayscale`,
laid on a background that contrasts with its visible pixels where it is
transparent, and area-resized to 28x28. A file's structure is checked
(`image_checks`) before TF sees it, so a damaged file is refused in one
line, without the warning TF logs when a decode fails. MNIST digits are
light ink on a dark background; `invert=None` (auto) inverts an image
whose border is light, i.e. dark ink on light paper. TF's decoders run
in a private graph, so this works in eager and graph mode alike.

Example:
    images.load_images(['seven.png'])                # uint8 [1, 28, 28]
    batch = images.read_images(['a.gif', 'b.bmp'])   # invert=None: auto
    batch.pixels, batch.inverted                     # [2, 28, 28], [2] bool
    print(images.printable_name('bad\nname.png'))    # bad\nname.png
"""

import struct
import typing

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import contract
from graphnet import errors
from graphnet.data import image_checks

__all__ = [
  'ImageBatch',
  'read_images',
  'load_images',
  'is_dark_on_light',
  'printable_name',
]

_SIZE = contract.IMAGE_SIZE
_KINDS = 'PNG, JPEG, GIF or BMP'
# The first bytes of each accepted format.
_MAGICS = (
  (b'\x89PNG\r\n\x1a\n', 'PNG'),
  (b'\xff\xd8\xff', 'JPEG'),
  (b'GIF87a', 'GIF'),
  (b'GIF89a', 'GIF'),
  (b'BM', 'BMP'),
)
# A border at least this bright (0..255) means dark ink on light paper.
_LIGHT_BORDER = 128
# Below this mean of its visible pixels, ink is dark: lay it on white.
_DARK_INK = 127.5
# Where in a BMP file: the pixels' offset, the DIB header and, in it,
# bits per pixel and the palette's length (0: 2**bits colours).
_BMP_PIXELS = 10
_BMP_DIB = 14
_BMP_BITS = 28
_BMP_COLOURS = 46
_BMP_PALETTE_BITS = 8

# Lines of a TF error message that are not the error itself.
_TF_NOISE = ('Graph execution error', 'Detected at node', 'Node:', 'Original')


class ImageBatch(typing.NamedTuple):
  """Images read by `read_images`."""

  # uint8 [N, 28, 28], MNIST polarity (light ink on dark) after inversion.
  pixels: np.ndarray
  # bool [N]: which images were inverted.
  inverted: np.ndarray


def printable_name(name):
  r"""`name` with control characters and backslashes escaped, one line.

  A file name may hold newlines, tabs or bytes that are not UTF-8; printed
  raw it could fake a line of output. Printable characters (any script)
  stay as they are.

  Args:
    name: str (as from `sys.argv` or `os.listdir`, undecodable bytes held
      as surrogate escapes) or bytes.

  Returns:
    str without control characters: `\n`, `\t`, `\r`, `\\`, `\xNN`
    (a control character or an undecodable byte), `\uNNNN`.
  """
  return errors.printable(name, limit=None)


def is_dark_on_light(image):
  """Whether `image` is dark ink on light paper (MNIST is the opposite).

  Args:
    image: uint8 [H, W] gray image, H and W >= 2.

  Returns:
    True if the mean of its outermost pixels is at least 128: a drawing's
    border is background, and MNIST's background is black.
  """
  image = np.asarray(image, np.float64)
  border = np.concatenate(
    [image[0], image[-1], image[1:-1, 0], image[1:-1, -1]]
  )
  return bool(border.mean() >= _LIGHT_BORDER)


def _format_of(path, raw):
  for magic, kind in _MAGICS:
    if raw.startswith(magic):
      return kind
  found = raw[:8].hex(' ') or 'nothing (the file is empty)'
  raise errors.DataError(
    f'{printable_name(path)}: not an image: expected a {_KINDS} file, '
    f'found the bytes {found} at its start. Convert it to PNG.',
    path=path,
  )


def _cannot_decode(path, reason):
  return errors.DataError(
    f'{printable_name(path)}: cannot decode the image ({reason}); expected '
    f'a valid {_KINDS} file.',
    path=path,
  )


def _check_structure(path, kind, raw):
  """Raises DataError naming what TF's decoder would fail on (and log)."""
  damage = image_checks.find_damage(kind, raw)
  if damage:
    raise _cannot_decode(path, f'damaged {kind}: {damage}')


def _bmp_palette(path, raw):
  """The [colours, 3] uint8 RGB palette of an 8-bit BMP, else None."""
  try:
    (pixels_at,) = struct.unpack_from('<I', raw, _BMP_PIXELS)
    (dib_size,) = struct.unpack_from('<I', raw, _BMP_DIB)
    (bits,) = struct.unpack_from('<H', raw, _BMP_BITS)
    (colours,) = struct.unpack_from('<I', raw, _BMP_COLOURS)
  except struct.error:
    return None  # Too short: TF's decoder reports it.
  if bits != _BMP_PALETTE_BITS:
    return None
  colours = colours or 2**bits
  # The palette lies between the DIB header and the pixels, 4 bytes BGRx
  # per colour.
  start = _BMP_DIB + dib_size
  room = max(0, min(pixels_at, len(raw)) - start) // 4
  if colours > min(room, 2**bits):
    raise errors.DataError(
      f'{printable_name(path)}: damaged BMP: its header declares '
      f'{colours} palette colours; expected at most {2**bits}, found room '
      f'for {room} before the pixels.',
      path=path,
    )
  table = np.frombuffer(raw, np.uint8, count=4 * colours, offset=start)
  return table.reshape(colours, 4)[:, 2::-1]  # BGRx -> RGB


def _rgb_and_alpha(path, kind, raw, decoded):
  """Splits decoded uint8 [H, W, C] into float32 RGB [H, W, 3], alpha [H, W, 1].

  Alpha is in [0, 1]; an image without alpha, or whose alpha is 0
  everywhere (32-bit BMPs often leave that byte unused), is opaque.
  """
  channels = decoded.shape[-1]
  if kind == 'BMP' and channels == 1:
    palette = _bmp_palette(path, raw)
    if palette is not None:
      # Pixels past the palette are black, as image viewers show them.
      palette = np.concatenate([palette, np.zeros([256 - len(palette), 3])])
      decoded = palette[decoded[..., 0]]
      channels = 3
  colour = decoded[..., :3] if channels >= 3 else decoded[..., :1]
  rgb = np.broadcast_to(colour, decoded.shape[:2] + (3,)).astype(np.float32)
  alpha = np.ones(decoded.shape[:2] + (1,), np.float32)
  if channels in (2, 4) and decoded[..., -1].any():
    alpha = decoded[..., -1:].astype(np.float32) / 255.0
  return rgb, alpha


def _decode_error(path, e):
  lines = [line.strip() for line in e.message.splitlines()]
  useful = [
    line
    for line in lines
    if line
    and not line.startswith(_TF_NOISE)
    and not line.startswith(('File ', '[['))
  ]
  return _cannot_decode(path, useful[0] if useful else type(e).__name__)


class _Decoder:
  """TF ops that decode one file and turn it into a 28x28 gray image."""

  def __init__(self):
    self._graph = tf.Graph()
    with self._graph.as_default():
      self._raw = tf.placeholder(tf.string, [])
      # channels=0 keeps the format's own channel count: GIF and BMP
      # refuse channels=1. GIFs give their first frame.
      self._decoded = tf.io.decode_image(
        self._raw, channels=0, expand_animations=False
      )  # uint8 [H, W, C]
      self._rgb = tf.placeholder(tf.float32, [None, None, 3])
      self._alpha = tf.placeholder(tf.float32, [None, None, 1])
      self._pixels = self._to_mnist_size(self._rgb, self._alpha)
    self._graph.finalize()
    self._session = tf.Session(graph=self._graph)

  @staticmethod
  def _to_mnist_size(rgb, alpha):
    gray = tf.image.rgb_to_grayscale(rgb)  # [H, W, 1], 0..255
    # Transparent pixels take the colour opposite to the visible ones
    # (white under dark ink, black under light ink), so the drawing
    # survives and its polarity stays detectable.
    visible = tf.reduce_sum(gray * alpha) / tf.maximum(
      tf.reduce_sum(alpha), 1e-6
    )
    background = tf.where(visible < _DARK_INK, 255.0, 0.0)
    flat = gray * alpha + background * (1.0 - alpha)
    resized = tf.image.resize(flat[tf.newaxis], [_SIZE, _SIZE], method='area')
    resized = resized[0, :, :, 0]  # [28, 28]
    return tf.cast(tf.round(tf.clip_by_value(resized, 0, 255)), tf.uint8)

  def read(self, path):
    """Returns uint8 [28, 28] of the image file `path`."""
    try:
      with open(path, 'rb') as f:
        raw = f.read()
    except OSError as e:
      raise errors.DataError(
        f'{printable_name(path)}: cannot read the image ({e.strerror or e}).',
        path=path,
      ) from None
    kind = _format_of(path, raw)
    _check_structure(path, kind, raw)
    try:
      decoded = self._session.run(self._decoded, {self._raw: raw})
      rgb, alpha = _rgb_and_alpha(path, kind, raw, decoded)
      return self._session.run(
        self._pixels, {self._rgb: rgb, self._alpha: alpha}
      )
    except tf.errors.OpError as e:  # E.g. a damaged or 0x0 image.
      raise _decode_error(path, e) from None

  def close(self):
    self._session.close()


def read_images(paths, invert=None):
  """Reads image files as MNIST-sized gray images, noting inversions.

  Args:
    paths: image file paths (PNG, JPEG, GIF, BMP; any size, gray, colour,
      palette or with transparency).
    invert: True to invert every image (p -> 255 - p), False for none,
      None (auto) to invert those `is_dark_on_light` finds dark on light.

  Returns:
    an `ImageBatch`: uint8 pixels [len(paths), 28, 28] and bool inverted
    [len(paths)].

  Raises:
    DataError: a file cannot be read or decoded, naming it.
  """
  paths = list(paths)
  pixels = np.zeros([len(paths), _SIZE, _SIZE], np.uint8)
  decoder = _Decoder()
  try:
    for i, path in enumerate(paths):
      pixels[i] = decoder.read(path)
  finally:
    decoder.close()
  if invert is None:
    inverted = np.array([is_dark_on_light(p) for p in pixels], bool)
  else:
    inverted = np.full([len(paths)], bool(invert))
  pixels[inverted] = 255 - pixels[inverted]
  return ImageBatch(pixels, inverted)


def load_images(paths, invert=None):
  """Reads image files as MNIST-sized gray images.

  Args:
    paths: image file paths; see `read_images`.
    invert: True (always), False (never) or None (auto: dark ink on light
      paper is inverted); see `read_images`.

  Returns:
    uint8 array `[len(paths), 28, 28]`, light ink on dark like MNIST.

  Raises:
    DataError: a file cannot be read or decoded, naming it.
  """
  return read_images(paths, invert).pixels
