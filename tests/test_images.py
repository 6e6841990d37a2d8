"""Tests of graphnet.images: image files of every accepted format, written
here with TF's encoders or by hand, decoded to MNIST-sized gray, and the
automatic polarity, checked with a checkpoint of a real training run."""

import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.data import idx
from graphnet.data import images
from graphnet.data import mnist_files
from graphnet.serving import predictor

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# tf.image.rgb_to_grayscale's documented weights, for the NumPy reference.
_LUMA = np.array([0.2989, 0.5870, 0.1140])


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """(checkpoint dir, MNIST test images [10000, 28, 28], labels [10000])."""
  data_dir = tmp_path_factory.mktemp('mnist')
  log_dir = tmp_path_factory.mktemp('logs')
  done = subprocess.run(
    [
      sys.executable,
      '-m',
      'graphnet.fully_connected_feed',
      '--max_steps',
      '300',
      '--seed',
      '1',
      '--learning_rate',
      '0.1',
      '--log_dir',
      str(log_dir),
      '--input_data_dir',
      str(data_dir),
    ],
    capture_output=True,
    text=True,
    env=dict(os.environ, PYTHONPATH=_REPO),
    timeout=600,
  )
  assert done.returncode == 0, done.stderr[-3000:]
  test_images = idx.read_idx_images(str(data_dir / mnist_files.TEST_IMAGES))
  labels = idx.read_idx_labels(str(data_dir / mnist_files.TEST_LABELS))
  return str(log_dir), test_images[..., 0], labels


@pytest.fixture(scope='module')
def digits(trained):
  """20 test digits the model classifies right, and their labels."""
  log_dir, test_images, labels = trained
  with predictor.Predictor.from_checkpoint(log_dir) as model:
    right = np.flatnonzero(model.predict(test_images[:200]) == labels[:200])
  chosen = right[:20]
  return test_images[chosen], labels[chosen]


def _run(op, feed):
  with tf.Graph().as_default(), tf.Session() as session:
    placeholder = tf.placeholder(feed.dtype, [None] * feed.ndim)
    return session.run(op(placeholder), {placeholder: feed})


def _png(image):
  """PNG bytes of uint8 [H, W, C] (C = 1, 2, 3 or 4) via TF's encoder."""
  return _run(tf.io.encode_png, image)


def _jpeg(image):
  return _run(lambda x: tf.io.encode_jpeg(x, quality=100), image)


def _chunk(kind, data):
  body = kind + data
  return (
    struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body))
  )


def _palette_png(indices, palette):
  """An 8-bit palette PNG, by hand (TF's encoder writes none)."""
  height, width = indices.shape
  rows = b''.join(b'\0' + row.tobytes() for row in indices)
  header = struct.pack('>IIBBBBB', width, height, 8, 3, 0, 0, 0)
  return (
    b'\x89PNG\r\n\x1a\n'
    + _chunk(b'IHDR', header)
    + _chunk(b'PLTE', palette.astype(np.uint8).tobytes())
    + _chunk(b'IDAT', zlib.compress(rows))
    + _chunk(b'IEND', b'')
  )


def _bmp(image, palette=None):
  """A BMP of uint8 [H, W, 3] (24 bits), [H, W, 4] (32) or [H, W] with an
  RGB palette [256, 3] (8 bits); rows bottom-up, colours BGR."""
  height, width = image.shape[:2]
  if palette is None:
    bits = 8 * image.shape[2]
    pixels = image[..., [2, 1, 0, 3][: image.shape[2]]]
    table = b''
  else:
    bits, pixels = 8, image
    table = np.concatenate(
      [palette[:, ::-1], np.zeros([len(palette), 1])], 1
    ).astype(np.uint8)
    table = table.tobytes()
  row_bytes = (width * bits // 8 + 3) // 4 * 4
  body = b''.join(
    pixels[y].tobytes().ljust(row_bytes, b'\0')
    for y in range(height - 1, -1, -1)
  )
  offset = 14 + 40 + len(table)
  colours = 0 if palette is None else len(palette)
  return (
    b'BM'
    + struct.pack('<IHHI', offset + len(body), 0, 0, offset)
    + struct.pack(
      '<IiiHHIIiiII', 40, width, height, 1, bits, 0, len(body), 0, 0, colours, 0
    )
    + table
    + body
  )


def _lzw_literals(indices):
  """GIF LZW data of 8-bit `indices`, one 9-bit literal code per pixel.

  A clear code every 250 pixels keeps the code table from growing past
  9 bits, so no compression is needed to stay valid.
  """
  clear, end = 256, 257
  codes = []
  for start in range(0, len(indices), 250):
    codes.append(clear)
    codes.extend(int(i) for i in indices[start : start + 250])
  codes.append(end)
  bits = sum(code << (9 * k) for k, code in enumerate(codes))
  data = bits.to_bytes((9 * len(codes) + 7) // 8, 'little')
  blocks = [data[i : i + 255] for i in range(0, len(data), 255)]
  return b''.join(bytes([len(b)]) + b for b in blocks) + b'\0'


def _gif(frames):
  """An animated GIF of gray uint8 frames [H, W], by hand (gray palette)."""
  height, width = frames[0].shape
  palette = np.repeat(np.arange(256, dtype=np.uint8), 3).tobytes()
  out = b'GIF89a' + struct.pack('<HHBBB', width, height, 0xF7, 0, 0) + palette
  for frame in frames:
    out += b'\x21\xf9\x04\x00' + struct.pack('<H', 10) + b'\x00\x00'
    out += b'\x2c' + struct.pack('<HHHHB', 0, 0, width, height, 0)
    out += b'\x08' + _lzw_literals(frame.ravel())
  return out + b'\x3b'


def _write(directory, name, data):
  path = directory / name
  path.write_bytes(data)
  return str(path)


@pytest.fixture
def digit():
  """A synthetic light-on-dark digit-like image, uint8 [28, 28]."""
  image = np.zeros([28, 28], np.uint8)
  image[6:22, 12:16] = 255
  image[6:10, 8:20] = 180
  image[20:23, 9:19] = np.arange(10, dtype=np.uint8) * 25
  return image


class TestFormats:
  def test_gray_png_any_size(self, tmp_path, digit):
    paths = [
      _write(tmp_path, 'gray.png', _png(digit[..., None])),
      _write(
        tmp_path,
        'big.png',
        _png(np.kron(digit, np.ones([3, 3]))[..., None].astype(np.uint8)),
      ),
    ]
    loaded = images.load_images(paths, invert=False)
    assert loaded.dtype == np.uint8 and loaded.shape == (2, 28, 28)
    np.testing.assert_array_equal(loaded[0], digit)
    np.testing.assert_array_equal(loaded[1], digit)

  def test_rgb_png_matches_numpy_luma(self, tmp_path):
    rgb = np.random.RandomState(0).randint(0, 256, [28, 28, 3])
    rgb = rgb.astype(np.uint8)
    (loaded,) = images.load_images(
      [_write(tmp_path, 'rgb.png', _png(rgb))], invert=False
    )
    expected = np.round(rgb @ _LUMA)
    assert np.abs(loaded - expected).max() <= 1

  def test_jpeg(self, tmp_path, digit):
    paths = [
      _write(tmp_path, 'gray.jpg', _jpeg(digit[..., None])),
      _write(tmp_path, 'rgb.jpg', _jpeg(np.stack([digit] * 3, -1))),
    ]
    for loaded in images.load_images(paths, invert=False):
      # JPEG is lossy: close on average, not pixel-exact.
      assert np.abs(loaded.astype(int) - digit).mean() < 8

  def test_gif_first_frame_of_an_animation(self, tmp_path, digit):
    other = np.full([28, 28], 200, np.uint8)
    path = _write(tmp_path, 'anim.gif', _gif([digit, other, 255 - digit]))
    (loaded,) = images.load_images([path], invert=False)
    np.testing.assert_array_equal(loaded, digit)

  def test_gif_of_another_size(self, tmp_path, digit):
    big = np.kron(digit, np.ones([2, 2], np.uint8))
    path = _write(tmp_path, 'big.gif', _gif([big]))
    (loaded,) = images.load_images([path], invert=False)
    np.testing.assert_array_equal(loaded, digit)

  def test_bmp_24_and_32_bits(self, tmp_path, digit):
    rgb = np.stack([digit] * 3, -1)
    unused_alpha = np.concatenate([rgb, np.zeros([28, 28, 1], np.uint8)], -1)
    paths = [
      _write(tmp_path, 'rgb.bmp', _bmp(rgb)),
      # 32-bit BMPs often leave the 4th byte 0: opaque, not invisible.
      _write(tmp_path, 'x.bmp', _bmp(unused_alpha)),
    ]
    for loaded in images.load_images(paths, invert=False):
      np.testing.assert_array_equal(loaded, digit)

  def test_bmp_8_bit_palette_is_looked_up(self, tmp_path, digit):
    # Index i shows gray 255 - i: TF alone would return the indices.
    palette = np.repeat(255 - np.arange(256), 3).reshape(256, 3)
    path = _write(tmp_path, 'pal.bmp', _bmp(255 - digit, palette))
    (loaded,) = images.load_images([path], invert=False)
    np.testing.assert_array_equal(loaded, digit)

  def test_palette_png(self, tmp_path, digit):
    colours = np.array([[0, 0, 0], [255, 0, 0], [0, 0, 255], [255, 255, 255]])
    indices = (digit // 64).astype(np.uint8)
    path = _write(tmp_path, 'pal.png', _palette_png(indices, colours))
    (loaded,) = images.load_images([path], invert=False)
    expected = np.round(colours[indices] @ _LUMA)
    assert np.abs(loaded - expected).max() <= 1

  @pytest.mark.parametrize('ink', [0, 255], ids=['dark_ink', 'light_ink'])
  def test_ink_on_transparent_png(self, tmp_path, digit, ink):
    # The drawing is only in alpha; the transparent rest must contrast.
    colour = np.full([28, 28, 3], ink, np.uint8)
    rgba = np.concatenate([colour, digit[..., None]], -1)
    gray_alpha = np.stack([colour[..., 0], digit], -1)
    paths = [
      _write(tmp_path, 'rgba.png', _png(rgba)),
      _write(tmp_path, 'ga.png', _png(gray_alpha)),
    ]
    batch = images.read_images(paths)
    assert list(batch.inverted) == [ink == 0] * 2
    for loaded in batch.pixels:
      assert np.abs(loaded.astype(int) - digit).max() <= 1


class TestPolarity:
  def test_is_dark_on_light(self, digit):
    assert not images.is_dark_on_light(digit)
    assert images.is_dark_on_light(255 - digit)
    # Ink touching the border does not flip the decision.
    touching = digit.copy()
    touching[:, 13] = 255
    assert not images.is_dark_on_light(touching)
    assert images.is_dark_on_light(255 - touching)

  def test_invert_true_false_and_auto(self, tmp_path, digit):
    paths = [
      _write(tmp_path, 'light.png', _png(digit[..., None])),
      _write(tmp_path, 'dark.png', _png((255 - digit)[..., None])),
    ]
    auto = images.read_images(paths)
    assert list(auto.inverted) == [False, True]
    np.testing.assert_array_equal(auto.pixels, [digit, digit])
    never = images.read_images(paths, invert=False)
    assert not never.inverted.any()
    np.testing.assert_array_equal(never.pixels, [digit, 255 - digit])
    always = images.load_images(paths, invert=True)
    np.testing.assert_array_equal(always, [255 - digit, digit])
    # predictor.load_images is the same function (kept for old callers).
    assert predictor.load_images is images.load_images

  def test_dark_on_white_digits_classified_right(
    self, tmp_path, trained, digits
  ):
    log_dir = trained[0]
    pixels, labels = digits
    writers = [
      ('png', lambda im: _png(im[..., None])),
      ('gif', lambda im: _gif([im])),
      ('bmp', lambda im: _bmp(np.stack([im] * 3, -1))),
    ]
    normal, inked = [], []
    for i, image in enumerate(pixels):
      ext, write = writers[i % len(writers)]
      normal.append(_write(tmp_path, f'light{i}.{ext}', write(image)))
      inked.append(_write(tmp_path, f'dark{i}.{ext}', write(255 - image)))
    auto = images.read_images(normal + inked)
    assert list(auto.inverted) == [False] * len(pixels) + [True] * len(pixels)
    raw = images.load_images(inked, invert=False)
    with predictor.Predictor.from_checkpoint(log_dir) as model:
      predicted = model.predict(auto.pixels)
      not_inverted = model.predict(raw)
    np.testing.assert_array_equal(predicted, np.concatenate([labels, labels]))
    # Left as they are, dark-on-white digits are mostly misclassified.
    assert np.mean(not_inverted == labels) < 0.5


class TestErrors:
  def test_not_an_image(self, tmp_path):
    path = _write(tmp_path, 'notes.png', b'not a png at all')
    with pytest.raises(errors.DataError) as info:
      images.load_images([path])
    assert 'notes.png' in str(info.value)
    assert '6e 6f 74' in str(info.value)  # What the file starts with.

  @pytest.mark.parametrize(
    'data',
    [b'\x89PNG\r\n\x1a\n' + b'x' * 40, b'GIF89a\x01', b'BM\x00'],
    ids=['png', 'gif', 'bmp'],
  )
  def test_damaged_image_is_one_line(self, tmp_path, data):
    path = _write(tmp_path, 'broken.img', data)
    with pytest.raises(errors.DataError) as info:
      images.load_images([path])
    message = str(info.value)
    assert message.startswith(path + ': cannot decode the image (')
    assert '\n' not in message
    assert 'Detected at node' not in message and 'File "' not in message

  def test_empty_gif(self, tmp_path):
    path = _write(tmp_path, 'empty.gif', _gif([np.zeros([0, 0], np.uint8)]))
    with pytest.raises(errors.DataError, match='empty.gif: cannot decode'):
      images.load_images([path])

  def test_bmp_palette_longer_than_the_file_allows(self, tmp_path, digit):
    data = bytearray(_bmp(digit, np.zeros([256, 3], np.uint8)))
    struct.pack_into('<I', data, 46, 300)  # Colours used.
    path = _write(tmp_path, 'pal.bmp', bytes(data))
    with pytest.raises(errors.DataError, match='declares 300 palette colours'):
      images.load_images([path])

  def test_unreadable_file(self, tmp_path):
    with pytest.raises(errors.DataError, match='cannot read'):
      images.load_images([str(tmp_path)])  # A directory.


class TestPrintableName:
  @pytest.mark.parametrize(
    'name, shown',
    [
      ('seven.png', 'seven.png'),
      ('a\nb\tc\rd.png', 'a\\nb\\tc\\rd.png'),
      ('back\\slash', 'back\\\\slash'),
      ('bell\x07\x1b[31m', 'bell\\x07\\x1b[31m'),
      ('ünïcödé 七.png', 'ünïcödé 七.png'),
      ('line\u2028sep', 'line\\u2028sep'),
      (os.fsdecode(b'bad\xff.png'), 'bad\\xff.png'),
      (b'raw\xfe\n', 'raw\\xfe\\n'),
    ],
  )
  def test_escapes(self, name, shown):
    assert images.printable_name(name) == shown
    assert images.printable_name(name).isprintable()
