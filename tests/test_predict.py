"""Tests of graphnet.predictor (Predictor, to_batch, load_images) and the
`python -m graphnet.predict` entry point, on checkpoints of real runs."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import state as checkpoints
from graphnet.data import idx
from graphnet.data import mnist_files
from graphnet.serving import graph_safety
from graphnet.serving import predictor
from graphnet.training import config
from graphnet.training import schedules
from graphnet.training import trainer

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _train(log_dir, data_dir, **kwargs):
  trainer.run_training(
    config.TrainConfig(
      log_dir=str(log_dir),
      input_data_dir=str(data_dir),
      eval_every=10000,
      log_every=10000,
      seed=3,
      **kwargs,
    ),
    printer=lambda line: None,
  )
  return checkpoints.latest_checkpoint(str(log_dir))


@pytest.fixture(scope='module')
def test_set(data_dir):
  images = idx.read_idx_images(str(data_dir / mnist_files.TEST_IMAGES))
  labels = idx.read_idx_labels(str(data_dir / mnist_files.TEST_LABELS))
  return images[..., 0], labels  # uint8 [10000, 28, 28], uint8 [10000]


@pytest.fixture(scope='module')
def mnist_ckpt(tmp_path_factory, data_dir):
  """The tutorial MLP trained 300 steps on MNIST, with moving averages."""
  log_dir = tmp_path_factory.mktemp('mnist_logs')
  return _train(
    log_dir,
    data_dir,
    max_steps=300,
    moving_average_decay=0.99,
    schedule=schedules.Schedule(base_rate=0.3),
  )


@pytest.fixture(scope='module')
def fake_ckpt(tmp_path_factory):
  log_dir = tmp_path_factory.mktemp('fake_logs')
  return _train(
    log_dir, tmp_path_factory.mktemp('unused'), max_steps=20, fake_data=True
  )


@pytest.fixture(scope='module')
def model(mnist_ckpt):
  with predictor.Predictor.from_checkpoint(mnist_ckpt) as p:
    yield p


def _numpy_probabilities(prefix, images, suffix):
  """Softmax of the MLP with the weights `<var><suffix>` of `prefix`."""

  def var(name):
    return tf.train.load_variable(prefix, name + suffix)

  x = images.reshape(-1, 784).astype(np.float32) / 255.0
  for layer in ('hidden1', 'hidden2'):
    x = np.maximum(x @ var(f'{layer}/weights') + var(f'{layer}/biases'), 0)
  logits = x @ var('softmax_linear/weights') + var('softmax_linear/biases')
  logits -= logits.max(axis=1, keepdims=True)
  exp = np.exp(logits)
  return exp / exp.sum(axis=1, keepdims=True)


class TestPredictions:
  def test_accuracy_on_test_set(self, model, test_set):
    images, labels = test_set
    # Seeded: 0.9413 measured (TF 2.21, CPU).
    assert np.mean(model.predict(images) == labels) > 0.93

  def test_moving_average_weights_are_used(self, model, mnist_ckpt, test_set):
    images = test_set[0][:500]
    shadow = _numpy_probabilities(
      mnist_ckpt, images, '/ExponentialMovingAverage'
    )
    raw = _numpy_probabilities(mnist_ckpt, images, '')
    assert not np.allclose(shadow, raw, atol=1e-3)
    np.testing.assert_allclose(model.predict_proba(images), shadow, atol=1e-5)
    np.testing.assert_array_equal(model.predict(images), shadow.argmax(1))

  def test_probabilities(self, model, test_set):
    probs = model.predict_proba(test_set[0][:100])
    assert probs.dtype == np.float32 and probs.shape == (100, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    classes, both = model.classify(test_set[0][:100])
    np.testing.assert_array_equal(classes, probs.argmax(axis=1))
    np.testing.assert_allclose(both, probs)

  def test_batches_give_the_same_result(self, mnist_ckpt, model, test_set):
    images = test_set[0][:250]
    with predictor.Predictor.from_checkpoint(mnist_ckpt, batch_size=7) as p:
      np.testing.assert_allclose(
        p.predict_proba(images), model.predict_proba(images), atol=1e-6
      )

  def test_input_formats_agree(self, model, test_set):
    u8 = test_set[0][:20]
    f32 = u8.astype(np.float32) / 255
    expected = model.predict(u8)
    assert expected.dtype == np.int64 and expected.shape == (20,)
    for images in (
      u8.reshape(20, 784),
      f32,
      f32.reshape(20, 784),
      f32[..., np.newaxis],
      u8[..., np.newaxis],
      f32.astype(np.float64),
      f32.tolist(),
    ):
      np.testing.assert_array_equal(model.predict(images), expected)

  @pytest.mark.parametrize(
    'shape', [(28, 28), (784,), (28, 28, 1)], ids=['28x28', '784', '28x28x1']
  )
  def test_single_image(self, model, test_set, shape):
    image = test_set[0][0].reshape(shape)
    assert model.predict(image).shape == (1,)
    assert model.predict_proba(image).shape == (1, 10)
    assert model.predict(image)[0] == model.predict(test_set[0][:1])[0]

  def test_empty_batch(self, model):
    assert model.predict(np.zeros([0, 784], np.uint8)).shape == (0,)
    assert model.predict_proba(np.zeros([0, 28, 28])).shape == (0, 10)

  @pytest.mark.parametrize(
    'images, found',
    [
      (np.zeros([5, 27, 27], np.uint8), 'shape [5, 27, 27]'),
      (np.zeros([5, 783], np.float32), 'shape [5, 783]'),
      (np.zeros([5, 28, 28, 3], np.uint8), 'shape [5, 28, 28, 3]'),
      (np.zeros([2, 5, 784], np.uint8), 'shape [2, 5, 784]'),
      (np.zeros([], np.uint8), 'shape []'),
      (np.zeros([5, 784], np.int32), 'dtype int32'),
      (np.zeros([5, 784], bool), 'dtype bool'),
      (np.full([5, 784], 'a'), 'dtype <U1'),
      (np.full([5, 784], 255.0), 'values from 255.0 to 255.0'),
      (np.full([5, 784], -0.5), 'values from -0.5'),
      (np.full([5, 784], np.nan), 'NaN'),
      ([[0.0] * 784, [0.0] * 3], 'numpy cannot convert'),
    ],
  )
  def test_bad_input(self, model, images, found):
    with pytest.raises(errors.InputShapeError) as info:
      model.predict(images)
    assert 'expected uint8 pixels 0..255 or floats in [0, 1]' in str(info.value)
    assert found in str(info.value)


class TestRestore:
  def test_two_checkpoints_in_one_process(
    self, mnist_ckpt, fake_ckpt, test_set
  ):
    images = test_set[0][:200]
    # Other tests of the process may have left ops there (graph mode).
    before = len(tf.get_default_graph().get_operations())
    real = predictor.Predictor.from_checkpoint(mnist_ckpt)
    fake = predictor.Predictor.from_checkpoint(os.path.dirname(fake_ckpt))
    again = predictor.Predictor.from_checkpoint(mnist_ckpt)
    try:
      assert real.graph is not fake.graph
      # The fake model only ever saw label 0.
      assert (fake.predict(images) == 0).all()
      assert len(set(real.predict(images))) == 10
      np.testing.assert_array_equal(
        again.predict_proba(images), real.predict_proba(images)
      )
      assert len(tf.get_default_graph().get_operations()) == before
    finally:
      for p in (real, fake, again):
        p.close()

  def test_directory_gives_latest_checkpoint(self, mnist_ckpt):
    with predictor.Predictor.from_checkpoint(os.path.dirname(mnist_ckpt)) as p:
      assert p.checkpoint == mnist_ckpt

  def test_closed_predictor_raises(self, mnist_ckpt):
    with predictor.Predictor.from_checkpoint(mnist_ckpt) as p:
      pass
    assert p.session is None
    with pytest.raises(RuntimeError, match='closed'):
      p.predict(np.zeros([1, 784], np.uint8))

  def test_graph_holds_only_frozen_inference_ops(self, model):
    ops = {op.type for op in model.graph.get_operations()}
    assert ops <= graph_safety.ALLOWED_OPS
    assert not ops & set(graph_safety.DANGEROUS_OPS)
    assert 'Const' in ops and 'VarHandleOp' not in ops

  @pytest.mark.parametrize(
    'kwargs', [{'batch_size': 0}, {'timeout_secs': 0}], ids=['batch', 'time']
  )
  def test_bad_arguments(self, fake_ckpt, kwargs):
    (name,) = kwargs
    with pytest.raises(errors.ConfigError, match=name):
      predictor.Predictor.from_checkpoint(fake_ckpt, **kwargs)

  def test_directory_without_checkpoint(self, tmp_path):
    with pytest.raises(errors.CheckpointError, match=str(tmp_path)):
      predictor.Predictor.from_checkpoint(tmp_path)

  def test_missing_meta(self, tmp_path):
    with pytest.raises(errors.CheckpointError, match='model.ckpt-9.meta'):
      predictor.Predictor.from_checkpoint(str(tmp_path / 'model.ckpt-9'))


def _copy_checkpoint(prefix, directory):
  """Copies the files of checkpoint `prefix` into `directory`."""
  base = os.path.basename(prefix)
  src_dir = os.path.dirname(prefix)
  for name in os.listdir(src_dir):
    if name.startswith(base + '.'):
      with open(os.path.join(src_dir, name), 'rb') as f:
        (directory / name).write_bytes(f.read())
  return str(directory / base)


class TestDamagedCheckpoints:
  @pytest.mark.parametrize('keep', [0.5, 0.05], ids=['half', 'start'])
  def test_truncated_meta(self, fake_ckpt, tmp_path, keep):
    prefix = _copy_checkpoint(fake_ckpt, tmp_path)
    data = open(prefix + '.meta', 'rb').read()
    with open(prefix + '.meta', 'wb') as f:
      f.write(data[: int(len(data) * keep)])
    with pytest.raises(errors.CheckpointError, match='.meta'):
      predictor.Predictor.from_checkpoint(prefix)

  def test_truncated_data(self, fake_ckpt, tmp_path):
    prefix = _copy_checkpoint(fake_ckpt, tmp_path)
    (data,) = [p for p in tmp_path.iterdir() if '.data-' in p.name]
    data.write_bytes(data.read_bytes()[:100])
    before = len(tf.get_default_graph().get_operations())
    with pytest.raises(errors.CheckpointError, match='cannot be restored'):
      predictor.Predictor.from_checkpoint(prefix)
    assert len(tf.get_default_graph().get_operations()) == before

  def test_missing_index(self, fake_ckpt, tmp_path):
    prefix = _copy_checkpoint(fake_ckpt, tmp_path)
    os.remove(prefix + '.index')
    with pytest.raises(errors.CheckpointError, match='index'):
      predictor.Predictor.from_checkpoint(prefix)


def _encode_png(image):
  with tf.Graph().as_default(), tf.Session() as sess:
    return sess.run(tf.io.encode_png(image))


class TestLoadImages:
  def test_formats(self, tmp_path, test_set):
    digit = test_set[0][0]
    files = {
      'gray.png': digit[..., np.newaxis],
      'rgb.png': np.stack([digit] * 3, axis=-1),
      'big.png': np.kron(digit, np.ones([3, 3], np.uint8))[..., None],
    }
    paths = []
    for name, image in files.items():
      (tmp_path / name).write_bytes(_encode_png(image))
      paths.append(str(tmp_path / name))
    loaded = predictor.load_images(paths)
    assert loaded.dtype == np.uint8 and loaded.shape == (3, 28, 28)
    for image in loaded:
      assert np.abs(image.astype(int) - digit).max() <= 1
    inverted = predictor.load_images(paths[:1], invert=True)
    np.testing.assert_array_equal(inverted[0], 255 - loaded[0])

  def test_not_an_image(self, tmp_path):
    path = tmp_path / 'notes.png'
    path.write_text('not a png')
    with pytest.raises(errors.DataError, match='notes.png'):
      predictor.load_images([str(path)])


def _cli(*args):
  return subprocess.run(
    [sys.executable, '-m', 'graphnet.predict', *args],
    capture_output=True,
    text=True,
    env=dict(os.environ, PYTHONPATH=_REPO),
    timeout=120,
  )


class TestCommandLine:
  def test_image_files(self, mnist_ckpt, model, test_set, tmp_path):
    images, labels = test_set
    probs = model.predict_proba(images[:200])
    # Confidently right digits, so a 1-level rounding cannot flip them.
    chosen = np.flatnonzero(
      (probs.argmax(1) == labels[:200]) & (probs.max(1) > 0.9)
    )[:3]
    paths, expected = [], []
    for i in chosen:
      digit = images[i]
      variants = {
        f'gray{i}.png': (digit[..., None], []),
        f'rgb{i}.png': (np.stack([digit] * 3, -1), []),
        f'big{i}.png': (
          np.kron(digit, np.ones([2, 3], np.uint8))[..., None],
          [],
        ),
      }
      for name, (image, _) in variants.items():
        (tmp_path / name).write_bytes(_encode_png(image))
      paths.append([str(tmp_path / n) for n in variants])
      expected.append(int(labels[i]))
    plain = [p for group in paths for p in group]
    # --checkpoint_dir, and --invert on dark-on-light files, are run by
    # test_predict_cli's polarity tests; this run names the prefix.
    result = _cli('--checkpoint', mnist_ckpt, *plain)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(plain)
    for line, path in zip(lines, plain, strict=True):
      name, cls, prob = line.split('\t')
      assert name == path
      assert int(cls) == expected[[path in g for g in paths].index(True)]
      assert 0.5 < float(prob) <= 1.0

  def test_idx_file(self, mnist_ckpt, model, data_dir, test_set, tmp_path):
    images, labels = test_set
    few = str(tmp_path / 'few-images.gz')
    idx.write_idx_images(few, images[:5])
    result = _cli('--checkpoint', mnist_ckpt, '--idx', few)
    assert result.returncode == 0, result.stderr
    rows = [line.split('\t') for line in result.stdout.splitlines()]
    assert [r[0] for r in rows] == ['0', '1', '2', '3', '4']
    assert [int(r[1]) for r in rows] == list(model.predict(images[:5]))
    correct = int((model.predict(images) == labels).sum())
    result = _cli(
      '--checkpoint',
      mnist_ckpt,
      '--idx',
      str(data_dir / mnist_files.TEST_IMAGES),
      '--labels',
      str(data_dir / mnist_files.TEST_LABELS),
    )
    assert result.returncode == 0, result.stderr
    assert f'accuracy {correct / 10000:.4f} ({correct}/10000)' in result.stdout

  @pytest.mark.parametrize(
    'args, message',
    [
      ([], 'exactly one of --checkpoint_dir and --checkpoint'),
      (['--labels', 'x.gz'], '--labels'),
    ],
  )
  def test_bad_flags(self, args, message):
    result = _cli(*args, 'x.png')
    assert result.returncode != 0
    assert message in result.stderr

  def test_missing_image_and_empty_dir(self, tmp_path):
    result = _cli('--checkpoint_dir', str(tmp_path), 'missing.png')
    assert result.returncode != 0
    assert 'missing.png' in result.stderr
    (tmp_path / 'x.png').write_bytes(b'')
    result = _cli('--checkpoint_dir', str(tmp_path), str(tmp_path / 'x.png'))
    assert result.returncode == 1
    assert 'holds no checkpoint' in result.stderr
