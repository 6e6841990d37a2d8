"""Fault injection: hostile IDX data files.

Every mutation of a valid gzipped IDX file (flipped header bytes, wrong
magic, absurd counts and dimensions, truncation anywhere, corrupt gzip
streams, non-gzip and empty files) must either still be a valid file and
read as one, or end in the documented `errors.DataError` family naming the
file: within a second, without MemoryError and without leaving a file
behind. GRAPHNET_FAULTS_FULL=1 (scripts/fault_suite.py) runs more examples.
"""

import gzip
import os
import struct
import time

import numpy as np
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from graphnet import errors
from graphnet.data import idx
from graphnet.data import mnist_files
from graphnet.data import mnist_reader as input_data

import _helpers

_FULL = os.environ.get('GRAPHNET_FAULTS_FULL') == '1'
_EXAMPLES = 600 if _FULL else 60
_SETTINGS = settings(
  max_examples=_EXAMPLES,
  deadline=1000,  # ms per example: a hostile file must fail fast.
  derandomize=not _FULL,
  suppress_health_check=[HealthCheck.function_scoped_fixture],
)
_TALLY = {'tried': 0, 'documented': 0, 'valid': 0}


@pytest.fixture(scope='module', autouse=True)
def _stats():
  yield
  _helpers.record_stats('fuzz', dict(_TALLY))


def _valid_files(directory, n=3, rng_seed=0):
  """Writes n small valid image/label files; returns their paths."""
  rng = np.random.default_rng(rng_seed)
  images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
  labels = rng.integers(0, 10, size=(n,), dtype=np.uint8)
  paths = {
    'images': os.path.join(directory, 'images-idx3-ubyte.gz'),
    'labels': os.path.join(directory, 'labels-idx1-ubyte.gz'),
  }
  idx.write_idx_images(paths['images'], images)
  idx.write_idx_labels(paths['labels'], labels)
  return paths


def _raw_idx(kind, n=3):
  """Uncompressed IDX bytes of a small valid file of `kind`."""
  if kind == 'images':
    return struct.pack('>4I', idx.IMAGES_MAGIC, n, 28, 28) + bytes(n * 784)
  return struct.pack('>2I', idx.LABELS_MAGIC, n) + bytes(n)


def _mutate(data, mutation):
  """Applies one drawn mutation to `data` (bytes)."""
  kind, a, b = mutation
  if kind == 'flip':
    if not data:
      return data
    i = a % len(data)
    return data[:i] + bytes([data[i] ^ (1 + b % 255)]) + data[i + 1 :]
  if kind == 'truncate':
    return data[: a % (len(data) + 1)]
  if kind == 'set_u32':
    # Overwrite a header word (magic, count or dimension) with any value.
    word = (a % 4) * 4
    return data[:word] + struct.pack('>I', b) + data[word + 4 :]
  if kind == 'append':
    return data + bytes([b % 256]) * (1 + a % 64)
  if kind == 'empty':
    return b''
  raise AssertionError(kind)


_MUTATIONS = st.tuples(
  st.sampled_from(['flip', 'truncate', 'set_u32', 'append', 'empty']),
  st.integers(0, 1 << 20),
  st.integers(0, (1 << 32) - 1),
)


def _read(kind, path):
  if kind == 'images':
    return idx.read_idx_images(path)
  return idx.read_idx_labels(path)


def _check_outcome(kind, path, directory):
  """The property: valid and readable, or the documented error, fast."""
  before = sorted(os.listdir(directory))
  start = time.monotonic()
  _TALLY['tried'] += 1
  try:
    array = _read(kind, path)
  except errors.DataError as e:
    _TALLY['documented'] += 1
    assert path in str(e), e
    assert e.path == path
  else:
    _TALLY['valid'] += 1
    # Accepted files must really be well-formed.
    if kind == 'images':
      assert array.shape[1:] == (28, 28, 1) and array.dtype == np.uint8
    else:
      assert array.ndim == 1 and (array < 10).all()
  assert time.monotonic() - start < 1.0
  assert sorted(os.listdir(directory)) == before


@pytest.mark.parametrize('kind', ['images', 'labels'])
@pytest.mark.parametrize('layer', ['gzip', 'idx'])
def test_mutated_file_is_valid_or_documented_error(tmp_path, kind, layer):
  """Mutations of the compressed bytes and of the IDX bytes inside."""
  paths = _valid_files(str(tmp_path))
  path = paths[kind]
  with open(path, 'rb') as f:
    gz = f.read()

  @_SETTINGS
  @given(mutations=st.lists(_MUTATIONS, min_size=1, max_size=3))
  def check(mutations):
    if layer == 'gzip':
      data = gz
      for m in mutations:
        data = _mutate(data, m)
    else:
      data = _raw_idx(kind)
      for m in mutations:
        data = _mutate(data, m)
      data = gzip.compress(data, mtime=0)
    with open(path, 'wb') as f:
      f.write(data)
    _check_outcome(kind, path, str(tmp_path))

  check()


_HOSTILE = {
  'empty': b'',
  'not_gzip': b'IDX? no, a text file\n' * 10,
  'gzip_magic_only': b'\x1f\x8b',
  'corrupt_deflate': b'\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff' + b'\xff' * 64,
  'wrong_magic': gzip.compress(
    struct.pack('>4I', 1234, 1, 28, 28) + bytes(784)
  ),
  'labels_magic_in_images': gzip.compress(struct.pack('>2I', 2049, 1) + b'\0'),
  'absurd_count': gzip.compress(struct.pack('>4I', 2051, 2**32 - 1, 28, 28)),
  'absurd_dims': gzip.compress(
    struct.pack('>4I', 2051, 1, 2**32 - 1, 2**32 - 1)
  ),
  'wrong_dims': gzip.compress(struct.pack('>4I', 2051, 1, 27, 29) + bytes(783)),
  'header_only': gzip.compress(struct.pack('>4I', 2051, 5, 28, 28)),
  'short_payload': gzip.compress(
    struct.pack('>4I', 2051, 2, 28, 28) + bytes(784)
  ),
  'trailing_payload': gzip.compress(
    struct.pack('>4I', 2051, 1, 28, 28) + bytes(785)
  ),
  'trailing_garbage': gzip.compress(struct.pack('>4I', 2051, 0, 28, 28))
  + b'junk',
  'gzip_bomb_header': gzip.compress(
    struct.pack('>4I', 2051, 10**6, 28, 28) + bytes(10**6)
  ),
}


@pytest.mark.parametrize('name', sorted(_HOSTILE))
def test_hostile_image_file_read_data_sets_names_it(tmp_path, name):
  """read_data_sets (what the trainer calls) on a dir with one bad file."""
  _valid_files(str(tmp_path))
  rng = np.random.default_rng(1)
  for images_name, labels_name in (
    (mnist_files.TRAIN_IMAGES, mnist_files.TRAIN_LABELS),
    (mnist_files.TEST_IMAGES, mnist_files.TEST_LABELS),
  ):
    idx.write_idx_images(
      tmp_path / images_name,
      rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
    )
    idx.write_idx_labels(
      tmp_path / labels_name, rng.integers(0, 10, (4,), dtype=np.uint8)
    )
  bad = str(tmp_path / mnist_files.TRAIN_IMAGES)
  with open(bad, 'wb') as f:
    f.write(_HOSTILE[name])
  before = sorted(os.listdir(tmp_path))
  start = time.monotonic()
  _TALLY['tried'] += 1
  with pytest.raises(errors.DataError) as caught:
    input_data.read_data_sets(str(tmp_path), validation_size=0)
  _TALLY['documented'] += 1
  assert time.monotonic() - start < 1.0
  assert bad in str(caught.value)
  assert sorted(os.listdir(tmp_path)) == before
