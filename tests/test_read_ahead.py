"""Tests for graphnet.read_ahead: MNIST inflated while TF imports.

The training command inflates the bundled MNIST on a thread before it
imports TensorFlow. A read reuses that work only for files holding exactly
the bundled bytes; everything else (a file crafted to the same size, a
damaged file, a file read ahead that failed) takes the ordinary path and
its ordinary errors.
"""

import gzip
import os
import shutil
import threading

import numpy as np
import pytest

from graphnet import errors
from graphnet.data import idx
from graphnet.data import mnist_files
from graphnet.data import mnist_reader as input_data
from graphnet.data import read_ahead


@pytest.fixture(autouse=True)
def _nothing_pending():
  read_ahead.clear()
  yield
  read_ahead.clear()


def _parse_forbidden(monkeypatch):
  """Makes every ordinary parse fail loudly; returns the list of calls."""
  calls = []

  def forbidden(path, raw, kind):
    calls.append(path)
    raise AssertionError(f'{path} was parsed again')

  monkeypatch.setattr(idx, '_parse_idx', forbidden)
  return calls


def _copy(data_dir, tmp_path):
  target = tmp_path / 'copy'
  shutil.copytree(data_dir, target)
  return target


def test_bundled_read_ahead_is_reused_for_equal_files(
  data_dir, tmp_path, monkeypatch
):
  plain = input_data.read_data_sets(str(data_dir), seed=0)
  thread = input_data.read_bundled_ahead()
  assert thread is not None
  thread.join()
  _parse_forbidden(monkeypatch)
  ahead = input_data.read_data_sets(str(_copy(data_dir, tmp_path)), seed=0)
  for name in ('train', 'validation', 'test'):
    np.testing.assert_array_equal(
      getattr(ahead, name).pixels, getattr(plain, name).pixels
    )
    np.testing.assert_array_equal(
      getattr(ahead, name).labels, getattr(plain, name).labels
    )


def test_a_result_is_handed_out_once(data_dir, monkeypatch):
  input_data.read_bundled_ahead().join()
  input_data.read_data_sets(str(data_dir), seed=0)
  calls = []
  parse = idx._parse_idx
  monkeypatch.setattr(
    idx, '_parse_idx', lambda *a: calls.append(a[0]) or parse(*a)
  )
  input_data.read_data_sets(str(data_dir), seed=0)
  assert len(calls) == 4


def test_same_size_file_with_one_byte_changed_is_not_reused(data_dir, tmp_path):
  # A hostile copy: the size of the bundled file, one byte flipped in the
  # deflate stream. It must be read (and refused) as what it is.
  target = _copy(data_dir, tmp_path)
  path = target / mnist_files.TEST_IMAGES
  raw = bytearray(path.read_bytes())
  raw[len(raw) // 2] ^= 0xFF
  path.write_bytes(bytes(raw))
  input_data.read_bundled_ahead().join()
  with pytest.raises(errors.DataFormatError) as caught:
    input_data.read_data_sets(str(target), seed=0)
  assert str(path) in str(caught.value)


def test_same_size_valid_file_with_other_pixels_is_read_as_it_is(tmp_path):
  # Stored (level 0) gzip makes two files of equal size that differ in one
  # pixel: the reader must return the second file's pixels.
  header = np.array([idx.IMAGES_MAGIC, 50, 28, 28], '>u4').tobytes()
  images = np.zeros((50, 28, 28), np.uint8)
  first, second = tmp_path / 'a.gz', tmp_path / 'b.gz'
  first.write_bytes(gzip.compress(header + images.tobytes(), 0, mtime=0))
  images[3, 4, 5] = 1
  second.write_bytes(gzip.compress(header + images.tobytes(), 0, mtime=0))
  assert os.path.getsize(first) == os.path.getsize(second)
  idx.read_ahead([(str(first), idx.IMAGES_MAGIC)]).join()
  assert idx.read_idx_images(str(second))[3, 4, 5, 0] == 1
  assert idx.read_idx_images(str(first))[3, 4, 5, 0] == 0


def test_failed_read_ahead_falls_back_to_the_ordinary_error(tmp_path):
  path = tmp_path / 'truncated-images-idx3-ubyte.gz'
  good = gzip.compress(np.zeros(16 + 784 * 3, np.uint8).tobytes())
  path.write_bytes(good[: len(good) // 2])
  idx.read_ahead([(str(path), idx.IMAGES_MAGIC)]).join()
  with pytest.raises(errors.DataFormatError) as caught:
    idx.read_idx_images(str(path))
  assert str(path) in str(caught.value)


def test_reader_waits_for_a_file_still_being_read(tmp_path):
  path = tmp_path / 'f'
  path.write_bytes(b'0123456789')
  release, started = threading.Event(), threading.Event()

  def slow_parse(path, raw, kind):
    started.set()
    release.wait(10)
    return ('parsed', raw)

  read_ahead.start([(str(path), 'kind')], slow_parse)
  started.wait(10)
  got = []
  taker = threading.Thread(
    target=lambda: got.append(read_ahead.take(b'0123456789', 'kind'))
  )
  taker.start()
  taker.join(0.2)
  assert taker.is_alive(), 'take returned before the file was parsed'
  release.set()
  taker.join(10)
  assert got == [('parsed', b'0123456789')]


def test_other_kinds_and_sizes_do_not_wait_or_match(tmp_path):
  path = tmp_path / 'f'
  path.write_bytes(b'abc')
  never = threading.Event()
  read_ahead.start(
    [(str(path), 'kind')], lambda *a: never.wait(10) and ('never',)
  )
  # Neither call may block on the unfinished file.
  assert read_ahead.take(b'abc', 'other kind') is None
  assert read_ahead.take(b'abcd', 'kind') is None
  never.set()


def test_two_readers_of_one_file_share_it_once(tmp_path):
  path = tmp_path / 'f'
  path.write_bytes(b'xyz')
  read_ahead.start([(str(path), 'k')], lambda p, raw, k: ('result', raw))
  got = []
  readers = [
    threading.Thread(target=lambda: got.append(read_ahead.take(b'xyz', 'k')))
    for _ in range(4)
  ]
  for reader in readers:
    reader.start()
  for reader in readers:
    reader.join(10)
  assert sorted(got, key=str) == [('result', b'xyz'), None, None, None]


def test_missing_files_start_nothing_and_clear_forgets(tmp_path):
  assert read_ahead.start([(str(tmp_path / 'absent'), 'k')], None) is None
  path = tmp_path / 'f'
  path.write_bytes(b'q')
  read_ahead.start([(str(path), 'k')], lambda p, raw, k: raw).join()
  read_ahead.clear()
  assert read_ahead.take(b'q', 'k') is None
