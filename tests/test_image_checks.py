"""Tests of graphnet.image_checks against TF's own decoders.

Each check must agree with `tf.io.decode_image`: a file it passes decodes,
a file it calls damaged fails to decode (so no file TF could read is
refused), over whole files, every truncation and single-byte flips.
"""

import struct
import zlib

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet.data import image_checks

# Bytes of each format's magic, which `images` checks before these checks.
_MAGIC_LENGTH = {'PNG': 8, 'JPEG': 3, 'GIF': 6, 'BMP': 2}
_RNG = np.random.default_rng(0)
_GRAY = (_RNG.random([28, 28, 1]) * 255).astype(np.uint8)


def _run(op, feed):
  with tf.Graph().as_default(), tf.Session() as session:
    placeholder = tf.placeholder(feed.dtype, [None] * feed.ndim)
    return session.run(op(placeholder), {placeholder: feed})


def _decodes(raw):
  """Whether TF's decoder reads `raw` (as `images` runs it)."""
  with tf.Graph().as_default(), tf.Session() as session:
    op = tf.io.decode_image(
      tf.constant(raw), channels=0, expand_animations=False
    )
    try:
      session.run(op)
    except tf.errors.OpError:
      return False
  return True


def _chunk(kind, data):
  body = kind + data
  return (
    struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body))
  )


def _png_by_hand(header, rows, interlace=0, extra=b''):
  """A PNG of IHDR `header` fields and raw (filtered) image data `rows`."""
  fields = struct.pack('>IIBBBBB', *header[:4], 0, 0, interlace)
  return (
    b'\x89PNG\r\n\x1a\n'
    + _chunk(b'IHDR', fields)
    + _chunk(b'IDAT', zlib.compress(rows))
    + extra
    + _chunk(b'IEND', b'')
  )


def _adam7_png(image):
  """An interlaced 8-bit gray PNG of uint8 [H, W], pass by pass."""
  passes = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
  )
  rows = b''
  for x0, y0, dx, dy in passes:
    sub = image[y0::dy, x0::dx]
    if sub.size:
      rows += b''.join(b'\0' + row.tobytes() for row in sub)
  height, width = image.shape
  return _png_by_hand((width, height, 8, 0), rows, interlace=1)


def _one_bit_png(image):
  """A 1-bit gray PNG of bool [H, W]."""
  height, width = image.shape
  packed = np.packbits(image, axis=1)
  rows = b''.join(b'\0' + row.tobytes() for row in packed)
  return _png_by_hand((width, height, 1, 0), rows)


def _bmp(image, top_down=False):
  """A 24-bit BMP of uint8 [H, W, 3]."""
  height, width = image.shape[:2]
  row_bytes = (width * 3 + 3) // 4 * 4
  order = range(height) if top_down else range(height - 1, -1, -1)
  body = b''.join(
    image[y, :, ::-1].tobytes().ljust(row_bytes, b'\0') for y in order
  )
  signed_height = -height if top_down else height
  return (
    b'BM'
    + struct.pack('<IHHI', 54 + len(body), 0, 0, 54)
    + struct.pack(
      '<IiiHHIIiiII', 40, width, signed_height, 1, 24, 0, len(body), 0, 0, 0, 0
    )
    + body
  )


def _gif(frames):
  """A GIF of gray uint8 frames [H, W]: 9-bit literal LZW codes."""
  height, width = frames[0].shape
  palette = np.repeat(np.arange(256, dtype=np.uint8), 3).tobytes()
  out = b'GIF89a' + struct.pack('<HHBBB', width, height, 0xF7, 0, 0) + palette
  for frame in frames:
    codes = []
    flat = frame.ravel()
    for start in range(0, len(flat), 250):
      codes += [256, *(int(i) for i in flat[start : start + 250])]
    codes.append(257)
    bits = sum(code << (9 * k) for k, code in enumerate(codes))
    data = bits.to_bytes((9 * len(codes) + 7) // 8, 'little')
    blocks = b''.join(
      bytes([len(data[i : i + 255])]) + data[i : i + 255]
      for i in range(0, len(data), 255)
    )
    out += b'\x2c' + struct.pack('<HHHHB', 0, 0, width, height, 0)
    out += b'\x08' + blocks + b'\0'
  return out + b'\x3b'


def _valid_files():
  rgb = np.concatenate([_GRAY] * 3, -1)
  rgba = np.concatenate([rgb, _GRAY], -1)
  return {
    'png_gray': ('PNG', _run(tf.io.encode_png, _GRAY)),
    'png_rgba': ('PNG', _run(tf.io.encode_png, rgba)),
    'png_16_bit': (
      'PNG',
      _run(tf.io.encode_png, _GRAY.astype(np.uint16) * 257),
    ),
    'png_interlaced': ('PNG', _adam7_png(_GRAY[:13, :11, 0])),
    'png_1_bit': ('PNG', _one_bit_png(_GRAY[:9, :13, 0] > 127)),
    'png_text_after_image': (
      'PNG',
      _png_by_hand(
        (3, 2, 8, 0),
        b'\0abc\0def',
        extra=_chunk(b'tEXt', b'Comment\0hi'),
      ),
    ),
    'jpeg': ('JPEG', _run(tf.io.encode_jpeg, _GRAY)),
    'jpeg_progressive': (
      'JPEG',
      _run(lambda x: tf.io.encode_jpeg(x, progressive=True), rgb),
    ),
    'gif': ('GIF', _gif([_GRAY[..., 0], 255 - _GRAY[..., 0]])),
    'bmp': ('BMP', _bmp(rgb)),
    'bmp_top_down': ('BMP', _bmp(rgb, top_down=True)),
  }


_VALID = _valid_files()


@pytest.mark.parametrize('name', sorted(_VALID))
def test_valid_files_pass_and_decode(name):
  kind, raw = _VALID[name]
  assert image_checks.find_damage(kind, raw) is None
  assert _decodes(raw)


@pytest.mark.parametrize('name', sorted(_VALID))
def test_truncated_files_are_damaged_as_tf_finds(name):
  kind, raw = _VALID[name]
  cuts = range(_MAGIC_LENGTH[kind], len(raw))
  damaged = [cut for cut in cuts if image_checks.find_damage(kind, raw[:cut])]
  if kind == 'GIF':
    # What follows the first image is left to TF.
    assert damaged == list(range(cuts[0], damaged[-1] + 1))
    assert damaged[-1] > len(raw) // 2
  else:
    assert damaged == list(cuts)
  # TF agrees about a sample (decoding every cut would be slow).
  for cut in list(cuts)[:: max(1, len(cuts) // 25)] + list(cuts)[-5:]:
    found = image_checks.find_damage(kind, raw[:cut])
    assert _decodes(raw[:cut]) == (found is None), (cut, found)


@pytest.mark.parametrize('name', ['png_gray', 'png_interlaced', 'bmp'])
def test_no_flipped_byte_slips_through_or_is_refused_wrongly(name):
  kind, raw = _VALID[name]
  for pos in range(_MAGIC_LENGTH[kind], len(raw), max(1, len(raw) // 150)):
    flipped = bytearray(raw)
    flipped[pos] ^= 0x5A
    found = image_checks.find_damage(kind, bytes(flipped))
    assert _decodes(bytes(flipped)) == (found is None), (pos, found)


@pytest.mark.parametrize(
  'kind, raw, words',
  [
    ('PNG', _VALID['png_gray'][1][:60], 'ends inside chunk IDAT'),
    ('PNG', _png_by_hand((0, 5, 8, 0), b''), 'width and height above 0'),
    ('PNG', _png_by_hand((2, 2, 8, 0), b'\0ab'), 'header needs 6'),
    ('PNG', _png_by_hand((2, 2, 3, 0), b'\0a\0b'), 'colour type 0 at 3 bits'),
    ('PNG', b'\x89PNG\r\n\x1a\n' + b'\0' * 40, 'first chunk is'),
    ('JPEG', _VALID['jpeg'][1][:-2], 'end-of-image marker'),
    (
      'GIF',
      b'GIF89a' + struct.pack('<HHBBB', 1, 1, 0, 0, 0) + b';',
      'no image',
    ),
    ('GIF', _gif([np.zeros([0, 0], np.uint8)]), 'is 0x0 pixels'),
    ('BMP', _VALID['bmp'][1][:-1], 'the file holds'),
    ('BMP', b'BM' + b'\0' * 40, '0 bits per pixel'),
  ],
)
def test_damage_is_named(kind, raw, words):
  found = image_checks.find_damage(kind, raw)
  assert found and words in found, found
  assert not _decodes(raw)
