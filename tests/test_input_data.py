"""Tests for graphnet.input_data: DataSet, read_data_sets and bundled MNIST."""

import gzip
import hashlib
import importlib.resources
import os

import numpy as np
import pytest

from graphnet import errors
from graphnet import idx
from graphnet import input_data

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


def _write_small_set(directory, num_train=60, num_test=20, seed=0):
  rng = np.random.default_rng(seed)
  directory.mkdir(parents=True, exist_ok=True)
  for images_name, labels_name, n in [
    (input_data.TRAIN_IMAGES, input_data.TRAIN_LABELS, num_train),
    (input_data.TEST_IMAGES, input_data.TEST_LABELS, num_test),
  ]:
    idx.write_idx_images(
      directory / images_name,
      rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
    )
    idx.write_idx_labels(
      directory / labels_name, rng.integers(0, 10, n, dtype=np.uint8)
    )


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
    assert input_data.MNIST_MD5 == _CANONICAL_MD5

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
    raw = idx.read_idx_images(train_dir / input_data.TRAIN_IMAGES)
    labels = idx.read_idx_labels(train_dir / input_data.TRAIN_LABELS)
    expected = raw.reshape(-1, 784)[:5000] / np.float32(255.0)
    np.testing.assert_array_equal(data.validation.images, expected)
    np.testing.assert_array_equal(data.validation.labels, labels[:5000])
    np.testing.assert_array_equal(data.train.labels, labels[5000:])

  def test_second_call_reads_from_dir(self, mnist, monkeypatch):
    train_dir, _ = mnist

    def fail(*args):
      raise AssertionError('the bundle must not be copied again')

    monkeypatch.setattr(input_data, '_copy_bundled', fail)
    data = input_data.read_data_sets(
      train_dir, dtype='uint8', reshape=False, one_hot=True
    )
    assert data.train.images.shape == (55000, 28, 28, 1)
    assert data.train.images.dtype == np.uint8
    assert data.test.labels.shape == (10000, 10)
    # float64 like TF1's dense_to_one_hot.
    assert data.test.labels.dtype == np.float64

  def test_copies_only_missing_files(self, tmp_path):
    _write_small_set(tmp_path)
    os.remove(tmp_path / input_data.TEST_IMAGES)
    os.remove(tmp_path / input_data.TEST_LABELS)
    own = _snapshot(tmp_path)
    data = input_data.read_data_sets(tmp_path, validation_size=10)
    assert data.train.num_examples == 50
    assert data.test.num_examples == 10000
    assert sorted(os.listdir(tmp_path)) == sorted(_CANONICAL_MD5)
    for name, content in own.items():
      assert (tmp_path / name).read_bytes() == content

  def test_damaged_bundle_raises_and_leaves_nothing(
    self, tmp_path, monkeypatch
  ):
    wrong = dict(_CANONICAL_MD5, **{input_data.TEST_LABELS: '0' * 32})
    monkeypatch.setattr(input_data, 'MNIST_MD5', wrong)
    with pytest.raises(errors.ChecksumError, match='damaged') as info:
      input_data.read_data_sets(tmp_path)
    assert input_data.TEST_LABELS in str(info.value)
    # Files verified before the damaged one stay; no temp file remains.
    assert sorted(os.listdir(tmp_path)) == sorted(
      [input_data.TRAIN_IMAGES, input_data.TRAIN_LABELS, input_data.TEST_IMAGES]
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
    labels_path = tmp_path / input_data.TRAIN_LABELS
    idx.write_idx_labels(labels_path, np.zeros(59, np.uint8))
    before = _snapshot(tmp_path)
    with pytest.raises(errors.DataFormatError) as info:
      input_data.read_data_sets(tmp_path)
    message = str(info.value)
    assert str(labels_path) in message
    assert input_data.TRAIN_IMAGES in message
    assert '60' in message and '59' in message
    assert _snapshot(tmp_path) == before

  @pytest.mark.parametrize(
    'name, data, words',
    [
      (input_data.TRAIN_IMAGES, b'', 'empty'),
      (input_data.TRAIN_LABELS, b'not gzip', 'not a gzip'),
      (
        input_data.TEST_IMAGES,
        gzip.compress(b'\x00\x00\x08\x01' + bytes(20)),
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
    path = tmp_path / input_data.TEST_IMAGES
    idx.write_idx_images(path, np.zeros((20, 32, 32), np.uint8))
    with pytest.raises(errors.DataFormatError, match='28x28') as info:
      input_data.read_data_sets(tmp_path)
    assert str(path) in str(info.value)

  def test_labels_out_of_range(self, tmp_path):
    _write_small_set(tmp_path)
    path = tmp_path / input_data.TEST_LABELS
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
