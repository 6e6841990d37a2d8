"""Tests for graphnet.idx: IDX parsing, validation and writing."""

import functools
import gzip
import hashlib
import io
import os
import struct
import time
import zlib

import numpy as np
import pytest

from graphnet import errors
from graphnet.data import idx


def _gz(path, data):
  path.write_bytes(gzip.compress(data, mtime=0))
  return path


def _images_bytes(count, rows=28, cols=28, magic=idx.IMAGES_MAGIC, extra=b''):
  payload = bytes(range(256)) * (count * rows * cols // 256 + 1)
  payload = payload[: count * rows * cols]
  return struct.pack('>4I', magic, count, rows, cols) + payload + extra


def _labels_bytes(count, magic=idx.LABELS_MAGIC, extra=b''):
  payload = bytes(i % 10 for i in range(count))
  return struct.pack('>2I', magic, count) + payload + extra


def _snapshot(directory):
  return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


class TestRoundTrip:
  def test_images_round_trip(self, tmp_path):
    images = np.random.default_rng(0).integers(
      0, 256, (7, 28, 28, 1), dtype=np.uint8
    )
    path = tmp_path / 'img.gz'
    idx.write_idx_images(path, images)
    read = idx.read_idx_images(path)
    assert read.dtype == np.uint8
    assert read.shape == (7, 28, 28, 1)
    assert read.flags.c_contiguous
    np.testing.assert_array_equal(read, images)

  def test_images_writer_accepts_rank_3(self, tmp_path):
    images = np.zeros((3, 28, 28), np.uint8)
    idx.write_idx_images(tmp_path / 'img.gz', images)
    assert idx.read_idx_images(tmp_path / 'img.gz').shape == (3, 28, 28, 1)

  def test_labels_round_trip(self, tmp_path):
    labels = np.array([0, 9, 3, 3, 1], np.uint8)
    path = tmp_path / 'lab.gz'
    idx.write_idx_labels(path, labels)
    read = idx.read_idx_labels(path)
    assert read.dtype == np.uint8
    np.testing.assert_array_equal(read, labels)

  def test_empty_data_set_round_trip(self, tmp_path):
    idx.write_idx_labels(tmp_path / 'lab.gz', np.zeros(0, np.uint8))
    assert idx.read_idx_labels(tmp_path / 'lab.gz').shape == (0,)

  def test_writer_leaves_no_temp_files(self, tmp_path):
    idx.write_idx_labels(tmp_path / 'lab.gz', np.zeros(3, np.uint8))
    assert os.listdir(tmp_path) == ['lab.gz']

  def test_writer_rejects_non_uint8(self, tmp_path):
    with pytest.raises(errors.DataError, match='uint8'):
      idx.write_idx_labels(tmp_path / 'lab.gz', np.zeros(3, np.int64))
    assert os.listdir(tmp_path) == []

  def test_writer_rejects_wrong_rank(self, tmp_path):
    with pytest.raises(errors.DataError, match='shape'):
      idx.write_idx_images(tmp_path / 'img.gz', np.zeros((3, 784), np.uint8))

  def test_md5_of_decompressed(self, tmp_path):
    data = _labels_bytes(100)
    path = _gz(tmp_path / 'lab.gz', data)
    assert idx.md5_of_decompressed(path) == hashlib.md5(data).hexdigest()


class TestAnySize:
  def test_reads_the_size_the_header_declares(self, tmp_path):
    images = np.random.default_rng(0).integers(
      0, 256, (5, 16, 16), dtype=np.uint8
    )
    idx.write_idx_images(tmp_path / 'img.gz', images)
    read = idx.read_idx_images(tmp_path / 'img.gz')
    assert read.shape == (5, 16, 16, 1)
    np.testing.assert_array_equal(read[..., 0], images)
    rect = idx.read_idx_images(
      _gz(tmp_path / 'rect.gz', _images_bytes(3, 7, 5)), rows=7
    )
    assert rect.shape == (3, 7, 5, 1)

  def test_explicit_size_is_enforced(self, tmp_path):
    path = _gz(tmp_path / 'img.gz', _images_bytes(2, 16, 16))
    with pytest.raises(errors.DataFormatError, match='expected 28x16') as info:
      idx.read_idx_images(path, rows=28)
    assert str(path) in str(info.value) and '16x16' in str(info.value)

  def test_labels_any_class_count(self, tmp_path):
    path = _gz(
      tmp_path / 'lab.gz',
      struct.pack('>2I', idx.LABELS_MAGIC, 3) + bytes([0, 25, 200]),
    )
    np.testing.assert_array_equal(
      idx.read_idx_labels(path, num_classes=None), [0, 25, 200]
    )
    with pytest.raises(errors.DataFormatError, match='0..25') as info:
      idx.read_idx_labels(path, num_classes=26)
    assert 'found 200 at index 2' in str(info.value)
    with pytest.raises(errors.DataFormatError, match='0..9'):
      idx.read_idx_labels(path)


class TestFileObjects:
  def test_reads_open_files(self, tmp_path):
    images_path = _gz(tmp_path / 'img.gz', _images_bytes(3, 4, 6))
    labels_path = _gz(tmp_path / 'lab.gz', _labels_bytes(3))
    with open(images_path, 'rb') as f:
      assert idx.read_idx_images(f).shape == (3, 4, 6, 1)
    with open(labels_path, 'rb') as f:
      np.testing.assert_array_equal(idx.read_idx_labels(f), [0, 1, 2])
    buffer = io.BytesIO(labels_path.read_bytes())
    np.testing.assert_array_equal(idx.read_idx_labels(buffer), [0, 1, 2])

  def test_errors_name_the_file(self, tmp_path):
    path = tmp_path / 'bad.gz'
    path.write_bytes(b'not gzip')
    with open(path, 'rb') as f:
      with pytest.raises(errors.DataFormatError, match='not a gzip') as info:
        idx.read_idx_images(f)
    assert str(path) in str(info.value)
    assert info.value.path == str(path)

  def test_text_mode_file_is_refused(self, tmp_path):
    path = tmp_path / 'lab.txt'
    path.write_text('hello')
    with open(path) as f:
      with pytest.raises(errors.DataError, match='binary mode') as info:
        idx.read_idx_labels(f)
    assert str(path) in str(info.value)


# (name, reader, file bytes, words expected in the message)
_GOOD_IMAGES = gzip.compress(_images_bytes(4), mtime=0)
_BAD_FILES = [
  ('empty', idx.read_idx_images, b'', 'empty'),
  ('not_gzip', idx.read_idx_images, _images_bytes(4), 'not a gzip'),
  ('text', idx.read_idx_labels, b'hello world\n', 'not a gzip'),
  (
    'gzip_truncated',
    idx.read_idx_images,
    _GOOD_IMAGES[: len(_GOOD_IMAGES) // 2],
    'truncated',
  ),
  (
    'gzip_trailer_cut',
    idx.read_idx_images,
    _GOOD_IMAGES[:-4],
    'truncated',
  ),
  (
    'gzip_corrupt',
    idx.read_idx_labels,
    gzip.compress(_labels_bytes(50), mtime=0)[:10] + b'\x07' * 40,
    'corrupt',
  ),
  (
    'header_truncated',
    idx.read_idx_images,
    gzip.compress(struct.pack('>2I', 2051, 4)),
    'header',
  ),
  (
    'payload_short',
    idx.read_idx_images,
    gzip.compress(_images_bytes(4)[:-100]),
    'shorter than the header',
  ),
  (
    'labels_payload_short',
    idx.read_idx_labels,
    gzip.compress(struct.pack('>2I', 2049, 10) + bytes(5)),
    'shorter than the header',
  ),
  (
    'images_magic_is_labels',
    idx.read_idx_images,
    gzip.compress(_labels_bytes(4)),
    'magic',
  ),
  (
    'labels_magic_is_images',
    idx.read_idx_labels,
    gzip.compress(_images_bytes(1)),
    'magic',
  ),
  (
    'not_28x28',
    functools.partial(idx.read_idx_images, rows=28, cols=28),
    gzip.compress(_images_bytes(2, 27, 28)),
    '28x28',
  ),
  (
    'trailing_garbage',
    idx.read_idx_images,
    gzip.compress(_images_bytes(2, extra=b'junk')),
    'trailing',
  ),
  (
    'trailing_after_gzip',
    idx.read_idx_labels,
    gzip.compress(_labels_bytes(4)) + b'garbage',
    'trailing',
  ),
  (
    'labels_out_of_range',
    idx.read_idx_labels,
    gzip.compress(struct.pack('>2I', 2049, 3) + bytes([1, 10, 200])),
    '0..9',
  ),
  (
    'header_claims_billion_images',
    idx.read_idx_images,
    gzip.compress(struct.pack('>4I', 2051, 10**9, 28, 28) + bytes(784)),
    'declares',
  ),
]


class TestBadFiles:
  @pytest.mark.parametrize(
    'reader, data, words',
    [case[1:] for case in _BAD_FILES],
    ids=[case[0] for case in _BAD_FILES],
  )
  def test_bad_file_raises_data_format_error(
    self, tmp_path, reader, data, words
  ):
    path = tmp_path / 'data-idx-ubyte.gz'
    path.write_bytes(data)
    before = _snapshot(tmp_path)
    with pytest.raises(errors.DataFormatError) as info:
      reader(path)
    assert info.value.path == path
    assert str(path) in str(info.value)
    assert words in str(info.value)
    assert _snapshot(tmp_path) == before

  def test_missing_file_raises_data_error(self, tmp_path):
    path = tmp_path / 'nope.gz'
    with pytest.raises(errors.DataError, match='not found') as info:
      idx.read_idx_labels(path)
    assert info.value.path == path

  def test_md5_of_truncated_file_raises(self, tmp_path):
    path = tmp_path / 'x.gz'
    path.write_bytes(_GOOD_IMAGES[:-20])
    with pytest.raises(errors.DataFormatError, match='truncated'):
      idx.md5_of_decompressed(path)

  def test_md5_of_non_gzip_raises(self, tmp_path):
    path = tmp_path / 'x.gz'
    path.write_bytes(b'plain')
    with pytest.raises(errors.DataFormatError, match='not a gzip'):
      idx.md5_of_decompressed(path)

  def test_gzip_bomb_with_lying_header_fails_fast(self, tmp_path):
    # 200 MB of zeros compress to ~200 KB; the header claims 4x more.
    count = 4 * 200_000_000 // 784
    header = struct.pack('>4I', 2051, count, 28, 28)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunks = [compressor.compress(header)]
    zeros = bytes(1 << 20)
    for _ in range(200):
      chunks.append(compressor.compress(zeros))
    chunks.append(compressor.flush())
    path = tmp_path / 'bomb.gz'
    path.write_bytes(b''.join(chunks))
    start = time.perf_counter()
    with pytest.raises(errors.DataFormatError, match='declares'):
      idx.read_idx_images(path)
    assert time.perf_counter() - start < 1.0
