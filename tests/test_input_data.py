"""Tests for graphnet.input_data: DataSet, read_data_sets, bundled MNIST,
TF1's signatures and idioms, any IDX set, from_arrays and read_npz."""

import functools
import gzip
import hashlib
import http.server
import importlib.resources
import os
import subprocess
import sys
import threading
import tracemalloc
import urllib.request

import numpy as np
import pytest
import sklearn.datasets

from graphnet import errors
from graphnet.data import idx
from graphnet.data import mnist_files
from graphnet.data import mnist_reader as input_data
from graphnet.data import read_ahead

# The test's own copy of the canonical table (graphnet/data/mnist/README.md),
# so a typo in the library's constants cannot hide itself.
_CANONICAL_MD5 = {
  'train-images-idx3-ubyte.gz': '6bbc9ace898e44ae57da46a324031adb',
  'train-labels-idx1-ubyte.gz': 'a25bea736e30d166cdddb491f175f624',
  't10k-images-idx3-ubyte.gz': '2646ac647ad5339dbf082846283269ea',
  't10k-labels-idx1-ubyte.gz': '27ae3e4e09519cfbb04c329615203637',
}


def _synthetic(n, dtype='uint8', **kwargs):
  """A DataSet whose image i has pixel 0 == i, so batches reveal indices."""
  images = np.zeros((n, 28, 28, 1), np.uint8)
  images[:, 0, 0, 0] = np.arange(n)
  labels = (np.arange(n) % 10).astype(np.uint8)
  return input_data.DataSet(images, labels, dtype=dtype, **kwargs)


def _indices(batch_images):
  return batch_images.reshape(batch_images.shape[0], -1)[:, 0].astype(int)


def _write_four_files(directory, train, test):
  """Writes (uint8 images [N, H, W], uint8 labels [N]) in MNIST's names."""
  directory.mkdir(parents=True, exist_ok=True)
  for images_name, labels_name, (images, labels) in [
    (mnist_files.TRAIN_IMAGES, mnist_files.TRAIN_LABELS, train),
    (mnist_files.TEST_IMAGES, mnist_files.TEST_LABELS, test),
  ]:
    idx.write_idx_images(directory / images_name, images)
    idx.write_idx_labels(directory / labels_name, labels)


def _write_small_set(directory, num_train=60, num_test=20, seed=0):
  rng = np.random.default_rng(seed)

  def split(n):
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    return images, rng.integers(0, 10, n, dtype=np.uint8)

  _write_four_files(directory, split(num_train), split(num_test))


def _snapshot(directory):
  return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.fixture(scope='module')
def mnist(tmp_path_factory):
  """Full MNIST copied from the bundle into a fresh dir, read once."""
  train_dir = tmp_path_factory.mktemp('mnist') / 'data'
  return train_dir, input_data.read_data_sets(train_dir, seed=0)


class TestBundledMnist:
  def test_bundled_files_decompress_to_canonical_md5(self):
    root = importlib.resources.files('graphnet') / 'data' / 'mnist'
    for name, expected in _CANONICAL_MD5.items():
      data = gzip.decompress((root / name).read_bytes())
      assert hashlib.md5(data).hexdigest() == expected, name

  def test_library_table_matches(self):
    assert mnist_files.MNIST_MD5 == _CANONICAL_MD5

  def test_read_data_sets_copies_bundle_into_empty_dir(self, mnist):
    train_dir, data = mnist
    assert sorted(os.listdir(train_dir)) == sorted(_CANONICAL_MD5)
    for name, expected in _CANONICAL_MD5.items():
      assert idx.md5_of_decompressed(train_dir / name) == expected
    assert data.train.num_examples == 55000
    assert data.validation.num_examples == 5000
    assert data.test.num_examples == 10000
    assert data.train.images.shape == (55000, 784)
    assert data.train.images.dtype == np.float32
    assert data.train.images.flags.c_contiguous
    # uint8 like TF1 (MNIST's files hold bytes).
    assert data.train.labels.dtype == np.uint8
    assert data.num_classes == 10 and data.feature_shape == (784,)
    assert 0.0 <= data.train.images.min() and data.train.images.max() == 1.0

  def test_validation_is_first_5000_training_examples(self, mnist):
    train_dir, data = mnist
    raw = idx.read_idx_images(train_dir / mnist_files.TRAIN_IMAGES)
    labels = idx.read_idx_labels(train_dir / mnist_files.TRAIN_LABELS)
    expected = raw.reshape(-1, 784)[:5000] / np.float32(255.0)
    np.testing.assert_array_equal(data.validation.images, expected)
    np.testing.assert_array_equal(data.validation.labels, labels[:5000])
    np.testing.assert_array_equal(data.train.labels, labels[5000:])

  def test_second_call_reads_from_dir(self, mnist, monkeypatch):
    train_dir, _ = mnist

    def fail(*args):
      raise AssertionError('the bundle must not be copied again')

    monkeypatch.setattr(mnist_files, 'copy_bundled', fail)
    data = input_data.read_data_sets(
      train_dir, dtype='uint8', reshape=False, one_hot=True
    )
    assert data.train.images.shape == (55000, 28, 28, 1)
    assert data.train.images.dtype == np.uint8
    assert data.test.labels.shape == (10000, 10)
    # float64 like TF1's dense_to_one_hot.
    assert data.test.labels.dtype == np.float64

  def test_a_copy_prints_one_plain_line_once(self, tmp_path, capsys, caplog):
    input_data.read_data_sets(tmp_path / 'data', validation_size=0)
    copied = capsys.readouterr()
    assert copied.err == (
      f'graphnet: note: copied the bundled MNIST into {tmp_path / "data"} '
      '(checksums verified).\n'
    )
    assert not copied.out and not caplog.records
    input_data.read_data_sets(tmp_path / 'data', validation_size=0)
    assert capsys.readouterr() == ('', '')

  def test_copies_only_missing_files(self, tmp_path, capsys):
    _write_small_set(tmp_path)
    os.remove(tmp_path / mnist_files.TEST_IMAGES)
    os.remove(tmp_path / mnist_files.TEST_LABELS)
    own = _snapshot(tmp_path)
    data = input_data.read_data_sets(tmp_path, validation_size=10)
    assert capsys.readouterr().err == (
      f'graphnet: note: copied the bundled MNIST {mnist_files.TEST_IMAGES}, '
      f'{mnist_files.TEST_LABELS} into {tmp_path} (checksums verified).\n'
    )
    assert data.train.num_examples == 50
    assert data.test.num_examples == 10000
    assert sorted(os.listdir(tmp_path)) == sorted(_CANONICAL_MD5)
    for name, content in own.items():
      assert (tmp_path / name).read_bytes() == content

  def test_damaged_bundle_raises_and_leaves_nothing(
    self, tmp_path, monkeypatch
  ):
    wrong = dict(_CANONICAL_MD5, **{mnist_files.TEST_LABELS: '0' * 32})
    monkeypatch.setattr(mnist_files, 'MNIST_MD5', wrong)
    with pytest.raises(errors.ChecksumError, match='damaged') as info:
      input_data.read_data_sets(tmp_path)
    assert mnist_files.TEST_LABELS in str(info.value)
    # Files verified before the damaged one stay; no temp file remains.
    assert sorted(os.listdir(tmp_path)) == sorted(
      [
        mnist_files.TRAIN_IMAGES,
        mnist_files.TRAIN_LABELS,
        mnist_files.TEST_IMAGES,
      ]
    )


class TestReadDataSets:
  def test_uses_any_idx_data_in_train_dir(self, tmp_path):
    _write_small_set(tmp_path, num_train=60, num_test=20)
    before = _snapshot(tmp_path)
    data = input_data.read_data_sets(tmp_path, validation_size=10, seed=3)
    assert data.train.num_examples == 50
    assert data.validation.num_examples == 10
    assert data.test.num_examples == 20
    assert _snapshot(tmp_path) == before

  def test_seed_makes_batches_reproducible_and_splits_distinct(self, tmp_path):
    _write_small_set(tmp_path, num_train=60, num_test=50)
    a = input_data.read_data_sets(tmp_path, validation_size=50, seed=7)
    b = input_data.read_data_sets(tmp_path, validation_size=50, seed=7)
    for split in ('train', 'validation', 'test'):
      ds_a, ds_b = getattr(a, split), getattr(b, split)
      for _ in range(5):
        np.testing.assert_array_equal(
          ds_a.next_batch(7)[0], ds_b.next_batch(7)[0]
        )
    # The same seed reused for every split would give equal permutations.
    assert not np.array_equal(a.validation.permutation, a.test.permutation[:50])

  @pytest.mark.parametrize('validation_size', [-1, 61, 1.5, True, '5'])
  def test_bad_validation_size(self, tmp_path, validation_size):
    _write_small_set(tmp_path)
    with pytest.raises(errors.DataError, match='validation_size'):
      input_data.read_data_sets(tmp_path, validation_size=validation_size)

  def test_validation_size_may_be_all_or_nothing(self, tmp_path):
    _write_small_set(tmp_path)
    data = input_data.read_data_sets(tmp_path, validation_size=60)
    assert (data.train.num_examples, data.validation.num_examples) == (0, 60)
    data = input_data.read_data_sets(tmp_path, validation_size=0)
    assert (data.train.num_examples, data.validation.num_examples) == (60, 0)

  @pytest.mark.parametrize('dtype', ['float64', np.int32, None, 'bogus', 3])
  def test_bad_dtype(self, tmp_path, dtype):
    with pytest.raises(errors.DataError, match='dtype'):
      input_data.read_data_sets(tmp_path / 'x', dtype=dtype)
    assert not (tmp_path / 'x').exists()

  def test_tf_dtypes_accepted(self, tmp_path):
    import tensorflow as tf

    _write_small_set(tmp_path)
    data = input_data.read_data_sets(
      tmp_path, dtype=tf.uint8, validation_size=0
    )
    assert data.train.images.dtype == np.uint8
    data = input_data.read_data_sets(
      tmp_path, dtype=tf.float32, validation_size=0
    )
    assert data.train.images.dtype == np.float32
    with pytest.raises(errors.DataError, match='dtype'):
      input_data.read_data_sets(tmp_path, dtype=tf.int32)

  def test_bad_seed(self, tmp_path):
    with pytest.raises(errors.DataError, match='seed'):
      input_data.read_data_sets(tmp_path, seed=-1)

  def test_train_dir_is_a_file(self, tmp_path):
    path = tmp_path / 'file'
    path.write_bytes(b'keep me')
    with pytest.raises(errors.DataError) as info:
      input_data.read_data_sets(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == b'keep me'

  def test_train_dir_cannot_be_created(self, tmp_path):
    (tmp_path / 'file').write_bytes(b'keep me')
    path = tmp_path / 'file' / 'sub'
    with pytest.raises(errors.DataError) as info:
      input_data.read_data_sets(path)
    assert str(path) in str(info.value)
    assert os.listdir(tmp_path) == ['file']

  def test_train_dir_on_read_only_filesystem(self):
    # /proc refuses new directories even to root, unlike chmod.
    path = '/proc/self/graphnet-mnist'
    with pytest.raises(errors.DataError) as info:
      input_data.read_data_sets(path)
    assert path in str(info.value)

  def test_image_and_label_counts_differ(self, tmp_path):
    _write_small_set(tmp_path)
    labels_path = tmp_path / mnist_files.TRAIN_LABELS
    idx.write_idx_labels(labels_path, np.zeros(59, np.uint8))
    before = _snapshot(tmp_path)
    with pytest.raises(errors.DataFormatError) as info:
      input_data.read_data_sets(tmp_path)
    message = str(info.value)
    assert str(labels_path) in message
    assert mnist_files.TRAIN_IMAGES in message
    assert '60' in message and '59' in message
    assert _snapshot(tmp_path) == before

  @pytest.mark.parametrize(
    'name, data, words',
    [
      (mnist_files.TRAIN_IMAGES, b'', 'empty'),
      (mnist_files.TRAIN_LABELS, b'not gzip', 'not a gzip'),
      (
        mnist_files.TEST_IMAGES,
        gzip.compress(b'\x00\x00\x08\x01' + bytes(20), mtime=0),
        'magic',
      ),
    ],
  )
  def test_bad_file_in_train_dir_is_kept(self, tmp_path, name, data, words):
    _write_small_set(tmp_path)
    (tmp_path / name).write_bytes(data)
    before = _snapshot(tmp_path)
    with pytest.raises(errors.DataFormatError, match=words) as info:
      input_data.read_data_sets(tmp_path)
    assert info.value.path == str(tmp_path / name)
    assert _snapshot(tmp_path) == before

  def test_images_not_28x28(self, tmp_path):
    _write_small_set(tmp_path)
    path = tmp_path / mnist_files.TEST_IMAGES
    idx.write_idx_images(path, np.zeros((20, 32, 32), np.uint8))
    with pytest.raises(errors.DataFormatError, match='28x28') as info:
      input_data.read_data_sets(tmp_path)
    assert str(path) in str(info.value)

  def test_labels_out_of_range(self, tmp_path):
    _write_small_set(tmp_path)
    path = tmp_path / mnist_files.TEST_LABELS
    idx.write_idx_labels(path, np.full(20, 11, np.uint8))
    with pytest.raises(errors.DataFormatError, match='0..9') as info:
      input_data.read_data_sets(tmp_path, num_classes=10)
    assert str(path) in str(info.value)


class TestFakeData:
  def test_fake_data_sets(self, tmp_path):
    data = input_data.read_data_sets(tmp_path / 'x', fake_data=True)
    assert not (tmp_path / 'x').exists()
    for ds in data:
      assert ds.num_examples == 10000
      assert ds.images.shape == (10000, 784)
      assert ds.images.dtype == np.float32
      assert ds.labels.shape == (10000,)
      assert not ds.images.flags.writeable
    images, labels = data.train.next_batch(5)
    np.testing.assert_array_equal(images, np.ones((5, 784), np.float32))
    np.testing.assert_array_equal(labels, np.zeros(5, np.int32))
    images, labels = data.train.next_batch(3, fake_data=True)
    assert images.shape == (3, 784)

  def test_fake_one_hot_uint8_unreshaped(self, tmp_path):
    data = input_data.read_data_sets(
      tmp_path, fake_data=True, one_hot=True, dtype='uint8', reshape=False
    )
    images, labels = data.validation.next_batch(4)
    assert images.shape == (4, 28, 28, 1) and images.dtype == np.uint8
    assert (images == 255).all()
    np.testing.assert_array_equal(labels, np.tile(np.eye(10)[0], (4, 1)))
    assert data.test.labels.shape == (10000, 10)

  def test_real_set_gives_fake_batch_on_request(self):
    ds = _synthetic(10, dtype='float32', one_hot=True)
    images, labels = ds.next_batch(3, fake_data=True)
    assert images.shape == (3, 784) and (images == 1.0).all()
    assert labels.shape == (3, 10) and labels.dtype == np.float64
    assert ds.index_in_epoch == 0


class TestDataSet:
  def test_every_example_once_per_epoch(self):
    ds = _synthetic(50, seed=1)
    for _ in range(3):
      seen = np.concatenate([_indices(ds.next_batch(10)[0]) for _ in range(5)])
      assert sorted(seen) == list(range(50))
    assert ds.epochs_completed == 2

  def test_first_epoch_is_shuffled(self):
    ds = _synthetic(50, seed=1)
    assert list(_indices(ds.next_batch(50)[0])) != list(range(50))

  def test_crossing_batch_is_tail_then_head_of_new_epoch(self):
    ds = _synthetic(10, seed=2)
    first = _indices(ds.next_batch(4)[0])
    second = _indices(ds.next_batch(4)[0])
    old_perm = ds.permutation.copy()
    np.testing.assert_array_equal(np.concatenate([first, second]), old_perm[:8])
    assert ds.epochs_completed == 0
    crossing = _indices(ds.next_batch(4)[0])
    assert ds.epochs_completed == 1
    new_perm = ds.permutation
    assert not np.array_equal(old_perm, new_perm)
    np.testing.assert_array_equal(crossing[:2], old_perm[8:])
    np.testing.assert_array_equal(crossing[2:], new_perm[:2])
    assert ds.index_in_epoch == 2
    following = _indices(ds.next_batch(8)[0])
    np.testing.assert_array_equal(following, new_perm[2:])
    assert ds.epochs_completed == 1

  def test_exact_epoch_end_increments_on_next_call(self):
    ds = _synthetic(10, seed=0)
    ds.next_batch(10)
    assert ds.epochs_completed == 0
    ds.next_batch(10)
    assert ds.epochs_completed == 1

  def test_labels_follow_images(self):
    ds = _synthetic(30, dtype='uint8', seed=5)
    for _ in range(10):
      images, labels = ds.next_batch(7)
      np.testing.assert_array_equal(labels, _indices(images) % 10)

  def test_no_shuffle_keeps_file_order(self):
    ds = _synthetic(10)
    batches = [_indices(ds.next_batch(4, shuffle=False)[0]) for _ in range(3)]
    np.testing.assert_array_equal(
      np.concatenate(batches), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    )

  def test_same_seed_same_batches(self):
    a, b = _synthetic(40, seed=11), _synthetic(40, seed=11)
    for _ in range(12):
      np.testing.assert_array_equal(a.next_batch(9)[0], b.next_batch(9)[0])

  def test_different_seeds_differ(self):
    a, b = _synthetic(40, seed=1), _synthetic(40, seed=2)
    batches_a = [a.next_batch(40)[0] for _ in range(2)]
    batches_b = [b.next_batch(40)[0] for _ in range(2)]
    assert not np.array_equal(batches_a, batches_b)

  def test_global_numpy_random_state_untouched(self):
    before = np.random.get_state()
    ds = _synthetic(20)
    for _ in range(10):
      ds.next_batch(7)
    after = np.random.get_state()
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]

  @pytest.mark.parametrize('dtype', ['float32', 'uint8'])
  @pytest.mark.parametrize('reshape', [True, False])
  @pytest.mark.parametrize('one_hot', [True, False])
  def test_shapes_and_dtypes(self, dtype, reshape, one_hot):
    ds = _synthetic(20, dtype=dtype, reshape=reshape, one_hot=one_hot, seed=0)
    image_shape = (784,) if reshape else (28, 28, 1)
    label_shape = (10,) if one_hot else ()
    # The labels' own dtype (uint8 here), or TF1's one-hot float64.
    label_dtype = np.float64 if one_hot else np.uint8
    assert ds.images.shape == (20,) + image_shape
    assert ds.images.dtype == np.dtype(dtype)
    assert ds.images.flags.c_contiguous
    assert ds.labels.shape == (20,) + label_shape
    assert ds.labels.dtype == label_dtype
    images, labels = ds.next_batch(6)
    assert images.shape == (6,) + image_shape
    assert images.dtype == np.dtype(dtype)
    assert labels.shape == (6,) + label_shape
    assert labels.dtype == label_dtype
    if one_hot:
      np.testing.assert_array_equal(labels.sum(axis=1), np.ones(6))

  def test_float32_scales_by_255(self):
    images = np.arange(784 * 2, dtype=np.int64).reshape(2, 784) % 256
    ds = input_data.DataSet(images.astype(np.uint8), np.array([1, 2]))
    np.testing.assert_array_equal(
      ds.images, images.astype(np.float32) / np.float32(255.0)
    )

  @pytest.mark.parametrize('batch_size', [0, -1, 11, 2.0, True, None])
  def test_bad_batch_size(self, batch_size):
    ds = _synthetic(10, seed=0)
    with pytest.raises(errors.DataError, match='batch_size'):
      ds.next_batch(batch_size)
    assert ds.index_in_epoch == 0

  def test_bad_arguments(self):
    ok_images = np.zeros((3, 784), np.uint8)
    ok_labels = np.zeros(3, np.uint8)
    with pytest.raises(errors.DataError, match='images'):
      input_data.DataSet(ok_images.astype(np.int16), ok_labels)
    with pytest.raises(errors.DataError, match='images'):
      input_data.DataSet(np.zeros(3, np.uint8), ok_labels)
    with pytest.raises(errors.DataError, match='labels'):
      input_data.DataSet(ok_images, ok_labels[:2])
    with pytest.raises(errors.DataError, match='labels'):
      input_data.DataSet(ok_images, np.array([0, 1, 10]), num_classes=10)
    with pytest.raises(errors.DataError, match='labels'):
      input_data.DataSet(ok_images, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(errors.DataError, match='dtype'):
      input_data.DataSet(ok_images, ok_labels, dtype='int8')


class TestPixels:
  def test_pixels_are_the_raw_bytes_images_are_scaled_from(self):
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 256, (6, 28, 28, 1), dtype=np.uint8)
    data = input_data.DataSet(raw, np.arange(6))
    assert data.pixels.dtype == np.uint8
    assert data.pixels.shape == (6, 784)
    np.testing.assert_array_equal(data.pixels, raw.reshape(6, 784))
    np.testing.assert_array_equal(
      data.images, data.pixels.astype(np.float32) / np.float32(255)
    )

  def test_fake_pixels_are_white(self):
    data = input_data.DataSet(None, None, fake_data=True)
    assert data.pixels.shape == (input_data.NUM_FAKE_EXAMPLES, 784)
    assert (data.pixels == 255).all()


class TestLazyFloatImages:
  """Float32 images of uint8 pixels are made on first use, then kept."""

  def test_reading_mnist_allocates_no_float_images(self, data_dir):
    read_ahead.clear()
    tracemalloc.start()
    try:
      data = input_data.read_data_sets(str(data_dir), seed=0)
      _, peak = tracemalloc.get_traced_memory()
    finally:
      tracemalloc.stop()
    # The pixels are 55 MB; float32 training images alone would be 172 MB.
    assert peak < 120 * 2**20, f'peak {peak / 2**20:.0f} MB'
    assert data.train.feature_shape == (784,)

  def test_images_are_the_exact_scaled_pixels_and_kept(self, data_dir):
    data = input_data.read_data_sets(str(data_dir), seed=0)
    images = data.validation.images
    assert images is data.validation.images
    assert images.dtype == np.float32 and images.flags.c_contiguous
    np.testing.assert_array_equal(
      images, np.divide(data.validation.pixels, np.float32(255))
    )

  def test_changing_the_callers_array_later_changes_nothing(self):
    raw = np.full((4, 28, 28, 1), 51, np.uint8)
    data = input_data.DataSet(raw, np.arange(4))
    raw[:] = 0
    assert (data.images == np.float32(0.2)).all()
    assert (data.pixels == 51).all()

  def test_next_batch_before_images_gives_scaled_pixels(self):
    raw = np.arange(10 * 784, dtype=np.int64).reshape(10, 28, 28, 1) % 256
    data = input_data.DataSet(
      raw.astype(np.uint8), np.arange(10), reshape=False, seed=1
    )
    batch, labels = data.next_batch(4)
    assert batch.shape == (4, 28, 28, 1) and batch.dtype == np.float32
    np.testing.assert_array_equal(
      batch.reshape(4, 784) * np.float32(255),
      data.pixels[labels].astype(np.float32),
    )
    assert data.images.shape == (10, 28, 28, 1)


def _write_idx_set(directory, shape, num_classes, num_train=40, num_test=12):
  """Writes a random IDX set of `shape` images in MNIST's four file names.

  Every class appears in the training labels, so the inferred class count
  is `num_classes`.
  """
  rng = np.random.default_rng(1)

  def split(n):
    images = rng.integers(0, 256, (n,) + shape, dtype=np.uint8)
    return images, (np.arange(n) % num_classes).astype(np.uint8)

  _write_four_files(directory, split(num_train), split(num_test))


@pytest.fixture
def offline(monkeypatch):
  """Fails the test if anything opens a URL."""

  def refuse(*args, **kwargs):
    raise AssertionError(f'the network was used: {args}')

  monkeypatch.setattr(urllib.request, 'urlopen', refuse)


@pytest.fixture(scope='module')
def digits():
  """scikit-learn's bundled UCI digits: 1797 float64 8x8 images, 10 classes."""
  return sklearn.datasets.load_digits()


class TestTf1Signatures:
  def test_data_set_positional(self):
    images = np.arange(6 * 4, dtype=np.uint8).reshape(6, 2, 2, 1)
    labels = np.array([0, 1, 2, 0, 1, 2], np.uint8)
    # TF1: DataSet(images, labels, fake_data, one_hot, dtype, reshape, seed)
    ds = input_data.DataSet(images, labels, False, True, 'uint8', False, 3)
    assert ds.images.shape == (6, 2, 2, 1) and ds.images.dtype == np.uint8
    assert ds.labels.shape == (6, 3) and ds.labels.dtype == np.float64
    again = input_data.DataSet(images, labels, False, True, 'uint8', False, 3)
    np.testing.assert_array_equal(ds.next_batch(4)[0], again.next_batch(4)[0])

  def test_data_set_positional_fake(self):
    ds = input_data.DataSet(None, None, True, True)
    images, labels = ds.next_batch(2)
    assert images.shape == (2, 784)
    np.testing.assert_array_equal(labels, [np.eye(10)[0]] * 2)
    assert (ds.num_classes, ds.feature_shape) == (10, (784,))

  def test_read_data_sets_positional(self, tmp_path):
    _write_small_set(tmp_path)
    data = input_data.read_data_sets(
      tmp_path,
      False,
      True,
      np.uint8,
      False,
      10,
      5,
      input_data.DEFAULT_SOURCE_URL,
    )
    assert data.train.num_examples == 50
    assert data.train.images.shape == (50, 28, 28, 1)
    assert data.train.labels.shape == (50, 10)
    train, validation, test = data
    assert validation.num_examples == 10 and test.num_examples == 20

  def test_default_source_url_is_tf1s(self):
    assert input_data.DEFAULT_SOURCE_URL == (
      'https://storage.googleapis.com/cvdf-datasets/mnist/'
    )

  def test_extract_images_and_labels_from_file_objects(self, mnist):
    train_dir, data = mnist
    with open(train_dir / mnist_files.TEST_IMAGES, 'rb') as f:
      images = input_data.extract_images(f)
    assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(images.reshape(10000, 784), data.test.pixels)
    with open(train_dir / mnist_files.TEST_LABELS, 'rb') as f:
      labels = input_data.extract_labels(f)
    assert labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, data.test.labels)
    with open(train_dir / mnist_files.TEST_LABELS, 'rb') as f:
      one_hot = input_data.extract_labels(f, one_hot=True, num_classes=10)
    assert one_hot.shape == (10000, 10) and one_hot.dtype == np.float64
    np.testing.assert_array_equal(one_hot.argmax(axis=1), labels)

  def test_extract_images_of_labels_file_is_a_value_error(self, mnist):
    train_dir, _ = mnist
    path = train_dir / mnist_files.TEST_LABELS
    with open(path, 'rb') as f:
      with pytest.raises(ValueError, match='magic') as info:
        input_data.extract_images(f)
    assert isinstance(info.value, errors.DataFormatError)
    assert str(path) in str(info.value)

  def test_extract_labels_checks_num_classes(self, tmp_path):
    path = tmp_path / 'labels.gz'
    idx.write_idx_labels(path, np.array([0, 3, 4], np.uint8))
    with open(path, 'rb') as f:
      with pytest.raises(errors.DataFormatError, match='0..3'):
        input_data.extract_labels(f, num_classes=4)

  def test_dense_to_one_hot(self):
    got = input_data.dense_to_one_hot(np.array([2, 0, 1], np.uint8), 4)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.eye(4)[[2, 0, 1]])

  @pytest.mark.parametrize(
    'labels, num_classes, words',
    [
      ([0, 4], 4, '0..3'),
      ([0, -1], 4, '>= 0'),
      ([0.0, 1.0], 4, 'integer'),
      ([0, 1], 0, 'num_classes'),
    ],
  )
  def test_dense_to_one_hot_bad(self, labels, num_classes, words):
    with pytest.raises(errors.DataError, match=words):
      input_data.dense_to_one_hot(np.array(labels), num_classes)


class TestTf1Idioms:
  @pytest.mark.parametrize('one_hot', [False, True])
  def test_subset_of_a_float32_set(self, mnist, one_hot):
    train_dir, data = mnist
    if one_hot:
      data = input_data.read_data_sets(train_dir, one_hot=True)
    k = 1000
    subset = input_data.DataSet(data.train.images[:k], data.train.labels[:k])
    # Not divided by 255 a second time, as TF1 did.
    np.testing.assert_array_equal(subset.images, data.train.images[:k])
    np.testing.assert_array_equal(subset.labels, data.train.labels[:k])
    assert subset.num_classes == 10
    np.testing.assert_array_equal(subset.pixels, data.train.pixels[:k])
    images, labels = subset.next_batch(100)
    assert images.shape == (100, 784) and images.max() <= 1.0
    assert labels.shape == ((100, 10) if one_hot else (100,))

  @pytest.mark.parametrize(
    'source_url', [input_data.DEFAULT_SOURCE_URL, None, '']
  )
  def test_default_url_uses_the_bundled_copy_offline(
    self, tmp_path, offline, source_url
  ):
    data = input_data.read_data_sets(
      tmp_path, source_url=source_url, validation_size=0
    )
    assert data.test.num_examples == 10000
    for name, expected in _CANONICAL_MD5.items():
      assert idx.md5_of_decompressed(tmp_path / name) == expected

  def test_lecun_url_uses_the_bundled_copy_offline(self, tmp_path, offline):
    data = input_data.read_data_sets(
      tmp_path, source_url='http://yann.lecun.com/exdb/mnist'
    )
    assert data.train.num_examples == 55000

  def test_maybe_download_full_url_uses_bundled_copy(
    self, tmp_path, offline, capsys
  ):
    name = mnist_files.TEST_LABELS
    path = input_data.maybe_download(
      name, tmp_path / 'new', input_data.DEFAULT_SOURCE_URL + name
    )
    assert path == str(tmp_path / 'new' / name)
    assert idx.md5_of_decompressed(path) == _CANONICAL_MD5[name]
    assert capsys.readouterr().err == (
      f'graphnet: note: copied the bundled {name} into {tmp_path / "new"} '
      '(checksum verified).\n'
    )
    # An existing file is used as it is.
    assert input_data.maybe_download(name, tmp_path / 'new', 'unused') == path
    assert capsys.readouterr() == ('', '')

  def test_maybe_download_from_a_real_server(self, tmp_path):
    served = tmp_path / 'served'
    served.mkdir()
    idx.write_idx_labels(served / 'mine.gz', np.array([1, 2], np.uint8))
    expected = idx.md5_of_decompressed(served / 'mine.gz')
    handler = functools.partial(
      http.server.SimpleHTTPRequestHandler, directory=str(served)
    )
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
      url = f'http://127.0.0.1:{httpd.server_port}/mine.gz'
      path = input_data.maybe_download(
        'mine.gz', tmp_path / 'out', url, expected
      )
    finally:
      httpd.shutdown()
      httpd.server_close()
    assert (tmp_path / 'out' / 'mine.gz').read_bytes() == (
      served / 'mine.gz'
    ).read_bytes()
    assert path == str(tmp_path / 'out' / 'mine.gz')

  def test_maybe_download_without_checksum_is_refused(self, tmp_path, offline):
    with pytest.raises(errors.DataError, match='expected_md5') as info:
      input_data.maybe_download(
        'other.gz', tmp_path, 'https://example.org/other.gz'
      )
    assert 'other.gz' in str(info.value)
    assert os.listdir(tmp_path) == []


class TestAnyIdxSet:
  def test_16x16_three_classes(self, tmp_path):
    _write_idx_set(tmp_path, (16, 16), 3)
    data = input_data.read_data_sets(tmp_path, validation_size=10, seed=0)
    assert data.feature_shape == (256,) and data.num_classes == 3
    assert data.train.images.shape == (30, 256)
    assert data.train.labels.dtype == np.uint8
    assert set(data.test.labels) == {0, 1, 2}
    images, labels = data.train.next_batch(8)
    assert images.shape == (8, 256) and labels.max() < 3
    flat = input_data.read_data_sets(
      tmp_path, reshape=False, one_hot=True, validation_size=5
    )
    assert flat.feature_shape == (16, 16, 1)
    assert flat.train.labels.shape == (35, 3)

  def test_26_classes(self, tmp_path):
    _write_idx_set(tmp_path, (28, 28), 26, num_train=60, num_test=30)
    data = input_data.read_data_sets(tmp_path, validation_size=0)
    assert data.num_classes == 26
    assert data.validation.num_classes == 26
    assert data.train.labels.max() == 25
    one_hot = input_data.read_data_sets(
      tmp_path, one_hot=True, validation_size=0
    )
    assert one_hot.test.labels.shape == (30, 26)

  def test_explicit_num_classes_refuses_labels_out_of_range(self, tmp_path):
    _write_idx_set(tmp_path, (28, 28), 26)
    before = _snapshot(tmp_path)
    with pytest.raises(errors.DataFormatError, match='0..9') as info:
      input_data.read_data_sets(tmp_path, num_classes=10)
    assert str(tmp_path / mnist_files.TRAIN_LABELS) in str(info.value)
    assert _snapshot(tmp_path) == before

  def test_explicit_num_classes_above_the_labels(self, tmp_path):
    _write_idx_set(tmp_path, (16, 16), 3)
    data = input_data.read_data_sets(
      tmp_path, num_classes=5, one_hot=True, validation_size=0
    )
    assert data.num_classes == 5 and data.train.labels.shape == (40, 5)

  def test_train_and_test_image_sizes_differ(self, tmp_path):
    _write_idx_set(tmp_path, (16, 16), 3)
    test_path = tmp_path / mnist_files.TEST_IMAGES
    idx.write_idx_images(test_path, np.zeros((12, 20, 20), np.uint8))
    before = _snapshot(tmp_path)
    with pytest.raises(errors.DataFormatError, match='16x16') as info:
      input_data.read_data_sets(tmp_path)
    assert str(test_path) in str(info.value) and '20x20' in str(info.value)
    assert _snapshot(tmp_path) == before

  @pytest.mark.parametrize('num_classes', [0, -1, 2.5, True])
  def test_bad_num_classes(self, tmp_path, num_classes):
    with pytest.raises(errors.DataError, match='num_classes'):
      input_data.read_data_sets(tmp_path / 'x', num_classes=num_classes)
    assert not (tmp_path / 'x').exists()


class TestFromArrays:
  def test_digits(self, digits):
    x, y = digits.images, digits.target  # float64 [1797, 8, 8] 0..16, int
    data = input_data.from_arrays(
      train=(x[:1500], y[:1500]),
      test=(x[1500:], y[1500:]),
      validation_size=100,
      seed=0,
    )
    train, validation, test = data
    assert (train.num_examples, validation.num_examples) == (1400, 100)
    assert test.num_examples == 297
    assert data.feature_shape == (8, 8) and data.num_classes == 10
    # Float features are kept as given (as float32), not scaled.
    assert train.images.dtype == np.float32
    np.testing.assert_array_equal(train.images, x[100:1500].astype(np.float32))
    assert train.images.max() == 16.0
    np.testing.assert_array_equal(validation.labels, y[:100])
    images, labels = train.next_batch(128)
    assert images.shape == (128, 8, 8)
    np.testing.assert_array_equal(labels, y[100:1500][train.permutation[:128]])

  def test_digits_flattened_one_hot(self, digits):
    x, y = digits.images, digits.target
    data = input_data.from_arrays(
      (x[:1000], y[:1000]), (x[1000:], y[1000:]), one_hot=True, reshape=True
    )
    assert data.feature_shape == (64,)
    assert data.train.labels.shape == (1000, 10)
    assert data.train.labels.dtype == np.float64
    assert data.validation.num_examples == 0
    assert data.validation.feature_shape == (64,)

  @pytest.mark.parametrize('shape', [(30,), (8, 8), (32, 32, 3)])
  def test_any_feature_shape_uint8_scaled(self, shape):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (20,) + shape, dtype=np.uint8)
    y = np.arange(20) % 4
    data = input_data.from_arrays(train=(x[:15], y[:15]), test=(x[15:], y[15:]))
    assert data.feature_shape == shape and data.num_classes == 4
    np.testing.assert_array_equal(
      data.test.images, x[15:].astype(np.float32) / np.float32(255)
    )
    np.testing.assert_array_equal(data.train.pixels, x[:15].reshape(15, -1))
    raw = input_data.from_arrays(
      (x[:15], y[:15]), (x[15:], y[15:]), dtype='uint8'
    )
    assert raw.train.images.dtype == np.uint8

  def test_class_count_comes_from_every_split(self):
    x = np.zeros((6, 3), np.float32)
    data = input_data.from_arrays(
      train=(x, [0, 1, 1, 0, 1, 0]), test=(x[:2], [0, 6])
    )
    assert data.num_classes == 7 and data.test.num_classes == 7

  def test_explicit_validation_split(self):
    x = np.ones((5, 2), np.float32)
    data = input_data.from_arrays(
      train=(x, [0, 1, 2, 0, 1]),
      test=(x[:2], [1, 2]),
      validation=(x[:3] * 2, [2, 2, 2]),
      seed=3,
    )
    assert data.validation.num_examples == 3
    np.testing.assert_array_equal(data.validation.images, x[:3] * 2)

  def test_float_features_have_no_pixels(self):
    x = np.full((4, 3), 0.5, np.float32)
    data = input_data.from_arrays((x, [0, 1, 0, 1]), (x, [1, 0, 1, 0]))
    with pytest.raises(errors.DataError, match='pixels'):
      _ = data.train.pixels

  def test_seed_makes_batches_reproducible(self, digits):
    x, y = digits.data, digits.target
    a = input_data.from_arrays((x, y), (x[:10], y[:10]), seed=5)
    b = input_data.from_arrays((x, y), (x[:10], y[:10]), seed=5)
    for _ in range(20):
      np.testing.assert_array_equal(
        a.train.next_batch(100)[0], b.train.next_batch(100)[0]
      )


_X = np.zeros((4, 3), np.float32)
_Y = np.array([0, 1, 2, 1])
_BAD_ARRAYS = [
  # (id, from_arrays kwargs, words expected in the message)
  ('counts_differ', dict(train=(_X, _Y[:3])), 'train labels: expected one'),
  ('negative', dict(train=(_X, [0, -1, 2, 1])), 'train labels: class ids'),
  (
    'out_of_range',
    dict(train=(_X, [0, 1, 2, 3]), num_classes=3),
    'train labels: expected class ids in 0..2',
  ),
  (
    'nan',
    dict(test=(np.array([[0.0, np.nan, 1.0]]), [1])),
    'test images: features must be finite; found nan in example 0',
  ),
  (
    'inf',
    dict(train=(np.where(np.eye(4, 3), np.inf, 0.0), _Y)),
    'train images: features must be finite; found inf',
  ),
  (
    'float_labels',
    dict(train=(_X, _Y * 1.0)),
    'train labels: expected integer',
  ),
  ('int_images', dict(train=(_X.astype(np.int64), _Y)), 'train images'),
  ('rank_1', dict(train=(np.zeros(4), _Y)), 'train images'),
  ('shapes_differ', dict(test=(np.zeros((2, 4)), [0, 1])), 'test images'),
  ('not_a_pair', dict(train=_X), 'train: expected a pair'),
  ('no_test', dict(test=None), 'test: expected a pair'),
  ('scalar', dict(train=(3.0, 1), validation_size=1), 'train: expected arrays'),
  (
    'one_hot_width',
    dict(test=(_X[:2], np.eye(4)[:2]), num_classes=3),
    'test labels: expected one-hot rows of num_classes=3',
  ),
  (
    'validation_twice',
    dict(validation=(_X, _Y), validation_size=2),
    'validation_size',
  ),
  ('validation_too_big', dict(validation_size=5), 'validation_size'),
  ('uint8_of_floats', dict(dtype='uint8'), 'dtype'),
]


@pytest.mark.parametrize(
  'kwargs, words',
  [case[1:] for case in _BAD_ARRAYS],
  ids=[case[0] for case in _BAD_ARRAYS],
)
def test_from_arrays_bad_input(kwargs, words):
  arguments = dict(train=(_X, _Y), test=(_X[:2], [0, 2]))
  arguments.update(kwargs)
  with pytest.raises(errors.DataError) as info:
    input_data.from_arrays(**arguments)
  assert words in str(info.value)


class TestCheckBatchSize:
  def test_enough_examples(self):
    data = input_data.from_arrays((_X, _Y), (_X[:1], [0]))
    input_data.check_batch_size(data, 4)

  def test_fewer_examples_than_a_batch(self):
    data = input_data.from_arrays((_X, _Y), (_X[:1], [0]))
    with pytest.raises(errors.DataError) as info:
      input_data.check_batch_size(data, 5)
    message = str(info.value)
    assert 'batch_size' in message and 'train' in message and '4' in message
    with pytest.raises(errors.DataError, match='test split'):
      input_data.check_batch_size(data, 2, splits=('train', 'test'))

  @pytest.mark.parametrize('batch_size', [0, -3, 2.0, None, True])
  def test_bad_batch_size(self, batch_size):
    data = input_data.from_arrays((_X, _Y), (_X[:1], [0]))
    with pytest.raises(errors.DataError, match='batch_size'):
      input_data.check_batch_size(data, batch_size)


class TestReadNpz:
  def test_round_trip(self, tmp_path, digits):
    x, y = digits.images, digits.target
    path = tmp_path / 'digits.npz'
    np.savez(
      path, x_train=x[:1500], y_train=y[:1500], x_test=x[1500:], y_test=y[1500:]
    )
    data = input_data.read_npz(path, validation_size=100, seed=2)
    same = input_data.from_arrays(
      (x[:1500], y[:1500]), (x[1500:], y[1500:]), validation_size=100, seed=2
    )
    for a, b in zip(data, same, strict=True):
      np.testing.assert_array_equal(a.images, b.images)
      np.testing.assert_array_equal(a.labels, b.labels)
      np.testing.assert_array_equal(a.next_batch(50)[0], b.next_batch(50)[0])
    assert data.feature_shape == (8, 8) and data.num_classes == 10

  def test_validation_arrays(self, tmp_path):
    path = tmp_path / 'd.npz'
    np.savez(
      path,
      x_train=_X,
      y_train=_Y,
      x_test=_X,
      y_test=_Y,
      x_val=_X[:2],
      y_val=_Y[:2],
    )
    data = input_data.read_npz(path)
    assert data.validation.num_examples == 2
    assert data.train.num_examples == 4

  @pytest.mark.parametrize(
    'arrays, words',
    [
      (dict(x_train=_X, y_train=_Y, x_test=_X), 'missing array(s) y_test'),
      (
        dict(x_train=_X, y_train=_Y, x_test=_X, y_test=_Y, x_val=_X),
        'missing array(s) y_val',
      ),
      (
        dict(x_train=_X, y_train=_Y, x_test=_X, y_test=_Y - 1),
        'y_test: class ids must be >= 0',
      ),
      (
        dict(x_train=_X, y_train=_Y[:3], x_test=_X, y_test=_Y),
        'y_train: expected one label per example (4 examples in',
      ),
      (
        dict(
          x_train=_X, y_train=_Y, x_test=np.full_like(_X, np.inf), y_test=_Y
        ),
        'x_test: features must be finite',
      ),
    ],
  )
  def test_bad_arrays_name_file_and_array(self, tmp_path, arrays, words):
    path = tmp_path / 'bad.npz'
    np.savez(path, **arrays)
    before = _snapshot(tmp_path)
    with pytest.raises(errors.DataError) as info:
      input_data.read_npz(path)
    assert str(path) in str(info.value)
    assert words in str(info.value)
    assert info.value.path == str(path)
    assert _snapshot(tmp_path) == before

  def test_not_an_npz(self, tmp_path):
    path = tmp_path / 'text.npz'
    path.write_text('hello')
    with pytest.raises(errors.DataFormatError) as info:
      input_data.read_npz(path)
    assert str(path) in str(info.value)

  def test_single_npy_array(self, tmp_path):
    path = tmp_path / 'x.npy'
    np.save(path, _X)
    with pytest.raises(errors.DataFormatError, match='single .npy'):
      input_data.read_npz(path)

  def test_object_arrays_are_not_unpickled(self, tmp_path):
    path = tmp_path / 'obj.npz'
    labels = np.array([0, 1, 2, 1], dtype=object)
    np.savez(path, x_train=_X, y_train=labels, x_test=_X, y_test=_Y)
    with pytest.raises(errors.DataFormatError, match='object arrays') as info:
      input_data.read_npz(path)
    assert str(path) in str(info.value)

  def test_missing_file(self, tmp_path):
    with pytest.raises(errors.DataError, match='not found'):
      input_data.read_npz(tmp_path / 'nope.npz')


_TF1_PROGRAM = '''
"""TF1's Mechanics 101 loop, with only the import lines changed."""
import sys

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet.data import mnist_reader as input_data
from graphnet.nn import mlp as mnist

tf.disable_eager_execution()
BATCH = 100


def fill_feed_dict(data_set, images_pl, labels_pl):
  images_feed, labels_feed = data_set.next_batch(BATCH)
  return {images_pl: images_feed, labels_pl: labels_feed}


def do_eval(sess, eval_correct, images_pl, labels_pl, data_set):
  true_count = 0
  steps_per_epoch = data_set.num_examples // BATCH
  for _ in range(steps_per_epoch):
    feed_dict = fill_feed_dict(data_set, images_pl, labels_pl)
    true_count += sess.run(eval_correct, feed_dict=feed_dict)
  precision = float(true_count) / (steps_per_epoch * BATCH)
  print('Precision @ 1: %0.04f' % precision)
  return precision


data_sets = input_data.read_data_sets(
  sys.argv[1], False, False, tf.float32, True, 5000, None,
  input_data.DEFAULT_SOURCE_URL)
# TF1's subset idiom on float32 images.
subset = input_data.DataSet(
  data_sets.train.images[:20000], data_sets.train.labels[:20000])
assert subset.images.max() == 1.0, subset.images.max()
with tf.Graph().as_default():
  images_pl, labels_pl = mnist.placeholder_inputs(BATCH)
  logits = mnist.inference(images_pl, 128, 32)
  loss = mnist.loss(logits, labels_pl)
  total = tf.losses.get_total_loss()
  train_op = mnist.training(loss, 0.1)
  eval_correct = mnist.evaluation(logits, labels_pl)
  sess = tf.Session()
  sess.run(tf.global_variables_initializer())
  for step in range(400):
    feed_dict = fill_feed_dict(subset, images_pl, labels_pl)
    _, loss_value, total_value = sess.run([train_op, loss, total], feed_dict)
    assert np.isclose(loss_value, total_value), (loss_value, total_value)
  do_eval(sess, eval_correct, images_pl, labels_pl, data_sets.test)
'''


def test_tf1_mechanics_101_program_runs_offline(tmp_path):
  script = tmp_path / 'fully_connected_feed_tf1.py'
  script.write_text(_TF1_PROGRAM)
  # Any attempt to use the network goes to a closed port and fails.
  env = dict(
    os.environ,
    http_proxy='http://127.0.0.1:9',
    https_proxy='http://127.0.0.1:9',
    HTTP_PROXY='http://127.0.0.1:9',
    HTTPS_PROXY='http://127.0.0.1:9',
    TF_CPP_MIN_LOG_LEVEL='2',
  )
  proc = subprocess.run(
    [sys.executable, str(script), str(tmp_path / 'data')],
    capture_output=True,
    text=True,
    env=env,
    timeout=600,
    check=False,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  line = [x for x in proc.stdout.splitlines() if 'Precision @ 1' in x][-1]
  # Far above chance (0.1): the uint8 labels fed the int32 placeholder.
  assert float(line.split()[-1]) > 0.5
  assert sorted(os.listdir(tmp_path / 'data')) == sorted(_CANONICAL_MD5)
