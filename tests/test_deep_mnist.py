"""Tests of graphnet.deep_mnist and of `--model conv` in the trainer."""

import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.data import idx
from graphnet.data import mnist_files
from graphnet.data import mnist_reader as input_data
from graphnet.nn import deep_mnist
from graphnet.nn import mlp as mnist
from graphnet.training import config as config_lib
from graphnet.training import schedules
from graphnet.training import train_graph
from graphnet.training import trainer

tf.disable_eager_execution()

_LAYER_SHAPES = {
  'conv1/weights': [5, 5, 1, 32],
  'conv2/weights': [5, 5, 32, 64],
  'fc1/weights': [7 * 7 * 64, 1024],
  'fc2/weights': [1024, 10],
  'fc2/biases': [10],
}
_BIASES = {'conv1/biases': [32], 'conv2/biases': [64], 'fc1/biases': [1024]}
_STEP_LOSS = re.compile(r'^Step (\d+): loss = (\d+\.\d+)')
_EVAL_LINE = re.compile(r'^Num examples: (\d+)  Num correct: (\d+)')


def _batch_norm_shapes():
  shapes = {}
  for layer, channels in (('conv1', 32), ('conv2', 64), ('fc1', 1024)):
    for name in ('beta', 'gamma', 'moving_mean', 'moving_variance'):
      shapes[f'{layer}/batch_norm/{name}'] = [channels]
  return shapes


def _var_shapes():
  return {v.op.name: v.shape.as_list() for v in tf.global_variables()}


def _images(n, seed=0):
  return np.random.RandomState(seed).rand(n, 784).astype(np.float32)


class TestInferenceConv:
  @pytest.mark.parametrize('batch_norm', [False, True])
  def test_shapes_and_variable_names(self, batch_norm):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      logits = deep_mnist.inference_conv(images, 0.5, batch_norm, True)
      assert logits.shape.as_list() == [None, 10]
      assert logits.dtype == tf.float32
      expected = dict(_LAYER_SHAPES)
      expected.update(_batch_norm_shapes() if batch_norm else _BIASES)
      assert _var_shapes() == expected
      trainable = {v.op.name for v in tf.trainable_variables()}
      assert not any('moving_' in name for name in trainable)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(logits, {images: _images(3)})
      assert out.shape == (3, 10)
      assert np.all(np.isfinite(out))

  @pytest.mark.parametrize('batch_norm', [False, True])
  def test_reuse_shares_and_creates_nothing(self, batch_norm):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      first = deep_mnist.inference_conv(images, 1.0, batch_norm, False)
      before = _var_shapes()
      with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        second = deep_mnist.inference_conv(images, 1.0, batch_norm, False)
      assert _var_shapes() == before
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # Changing a shared variable must change both towers alike.
        weights = tf.global_variables('fc2/weights')[0]
        sess.run(weights.assign(weights * 2.0))
        a, b = sess.run([first, second], {images: _images(4)})
      np.testing.assert_array_equal(a, b)

  def test_default_keep_prob_is_deterministic_and_feedable(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      with tf.name_scope('eval'):
        keep_prob = deep_mnist.keep_prob_input()
        logits = deep_mnist.inference_conv(images, keep_prob)
      # Created at the root, whatever the caller's name scope.
      assert keep_prob.name == 'keep_prob:0'
      assert keep_prob.op.type == 'PlaceholderWithDefault'
      feed = {images: _images(8)}
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a = sess.run(logits, feed)
        b = sess.run(logits, feed)
        dropped = sess.run(logits, {**feed, keep_prob: 0.5})
      np.testing.assert_array_equal(a, b)
      assert not np.allclose(a, dropped)

  def test_regularizer_adds_one_penalty_per_weight_once(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      deep_mnist.inference_conv(
        images, 0.5, regularizer=mnist.l2_regularizer(1e-4)
      )
      with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        deep_mnist.inference_conv(
          images, 1.0, regularizer=mnist.l2_regularizer(1e-4)
        )
      assert len(tf.get_collection('losses')) == 4

  @pytest.mark.parametrize('default', [0.0, -0.5, 1.5])
  def test_keep_prob_input_rejects_bad_default(self, default):
    with tf.Graph().as_default():
      with pytest.raises(errors.ConfigError, match='keep_prob_input'):
        deep_mnist.keep_prob_input(default)


def _numpy_conv_net(images, params, batch_norm):
  """NumPy reference of inference_conv (keep_prob 1, batch statistics)."""

  def normalise(x, name):
    if not batch_norm:
      return x + params[f'{name}/biases']
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    gamma = params[f'{name}/batch_norm/gamma']
    beta = params[f'{name}/batch_norm/beta']
    return (x - mean) / np.sqrt(var + 1e-3) * gamma + beta

  def conv_block(x, name):
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(
      padded, (5, 5), axis=(1, 2)
    )  # [n, h, w, c, 5, 5]
    x = np.einsum('nhwcij,ijco->nhwo', windows, params[f'{name}/weights'])
    x = np.maximum(normalise(x, name), 0)
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))

  x = conv_block(images.reshape(-1, 28, 28, 1), 'conv1')
  x = conv_block(x, 'conv2').reshape(len(images), -1)
  x = np.maximum(normalise(x @ params['fc1/weights'], 'fc1'), 0)
  return x @ params['fc2/weights'] + params['fc2/biases']


class TestNumpyReference:
  @pytest.mark.parametrize('batch_norm', [False, True])
  def test_matches_numpy(self, batch_norm):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      logits = deep_mnist.inference_conv(images, 1.0, batch_norm, True)
      rng = np.random.RandomState(3)
      # Non-trivial gamma/beta/biases, so a mix-up of them shows.
      assigns = [
        v.assign(rng.normal(1.0, 0.2, v.shape.as_list()))
        for v in tf.trainable_variables()
        if not v.op.name.endswith('/weights')
      ]
      x = _images(3, seed=4)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(assigns)
        params = {v.op.name: sess.run(v) for v in tf.global_variables()}
        got = sess.run(logits, {images: x})
    want = _numpy_conv_net(x.astype(np.float64), params, batch_norm)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)


class TestBatchNorm:
  def test_update_ops_only_from_training_tower(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      deep_mnist.inference_conv(images, 0.5, True, is_training=True)
      assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 6
      with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        deep_mnist.inference_conv(images, 1.0, True, is_training=False)
      assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 6

  def test_train_op_updates_moving_statistics(self):
    with tf.Graph().as_default():
      images, labels = mnist.placeholder_inputs()
      logits = deep_mnist.inference_conv(images, 0.5, True, True)
      train_op = mnist.training(mnist.loss(logits, labels), 1e-3, 'adam')
      moving = tf.global_variables('conv1/batch_norm/moving_mean')[0]
      variance = tf.global_variables('fc1/batch_norm/moving_variance')[0]
      feed = {images: _images(16), labels: np.arange(16) % 10}
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        mean0, var0 = sess.run([moving, variance])
        sess.run(train_op, feed)
        mean1, var1 = sess.run([moving, variance])
    np.testing.assert_array_equal(mean0, np.zeros(32))
    assert np.abs(mean1 - mean0).max() > 0
    assert np.abs(var1 - var0).max() > 0

  def test_eval_mode_uses_moving_statistics(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      deep_mnist.inference_conv(images, 1.0, True, True)
      with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        logits = deep_mnist.inference_conv(images, 1.0, True, False)
      one = _images(1)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        alone = sess.run(logits, {images: one})
        batched = sess.run(logits, {images: np.concatenate([one, _images(7)])})
    # Moving statistics: an example's logits do not depend on its batch.
    np.testing.assert_allclose(alone[0], batched[0], rtol=1e-4, atol=1e-5)


class TestModelFn:
  def test_towers_use_config_keep_prob_and_no_eval_update_ops(self):
    cfg = config_lib.TrainConfig(
      log_dir='unused',
      input_data_dir='unused',
      fake_data=True,
      model=config_lib.ModelConfig(
        model='conv', keep_prob=0.7, batch_norm=True
      ),
    )
    data_sets = input_data.read_data_sets('unused', fake_data=True)
    tg = train_graph.build_train_graph(cfg, data_sets)
    graph = tg.graph
    with graph.as_default():
      assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 6
      names = {v.op.name for v in tf.global_variables()}
      assert 'conv1/batch_norm/moving_mean' in names
      with tf.Session() as sess:
        train_kp, eval_kp = sess.run(['train_keep_prob:0', 'keep_prob:0'])
    assert train_kp == pytest.approx(0.7)
    assert eval_kp == 1.0

  @pytest.mark.parametrize('keep_prob', [0.0, 1.01, -1.0])
  def test_model_config_rejects_bad_keep_prob(self, keep_prob):
    with pytest.raises(errors.ConfigError, match='keep_prob'):
      config_lib.ModelConfig(model='conv', keep_prob=keep_prob)


@pytest.fixture(scope='module')
def small_mnist(tmp_path_factory):
  """Real MNIST cut to 7000 train (2000 after validation) and 1000 test."""
  full = str(tmp_path_factory.mktemp('mnist_full'))
  small = str(tmp_path_factory.mktemp('mnist_small'))
  input_data.read_data_sets(full)  # Copies the bundled files.
  for images_name, labels_name, n in (
    (mnist_files.TRAIN_IMAGES, mnist_files.TRAIN_LABELS, 7000),
    (mnist_files.TEST_IMAGES, mnist_files.TEST_LABELS, 1000),
  ):
    images = idx.read_idx_images(os.path.join(full, images_name))
    labels = idx.read_idx_labels(os.path.join(full, labels_name))
    idx.write_idx_images(os.path.join(small, images_name), images[:n])
    idx.write_idx_labels(os.path.join(small, labels_name), labels[:n])
  return small


@pytest.fixture(scope='module')
def real_run(small_mnist, tmp_path_factory):
  """150 steps of batch 50, Adam 1e-3, on the small real MNIST."""
  log_dir = str(tmp_path_factory.mktemp('conv_logs'))
  lines = []
  cfg = config_lib.TrainConfig(
    log_dir=log_dir,
    input_data_dir=small_mnist,
    model=config_lib.ModelConfig(model='conv'),
    optimizer='adam',
    schedule=schedules.Schedule(base_rate=1e-3),
    batch_size=50,
    max_steps=150,
    log_every=25,
    eval_every=1000,
    seed=1,
  )
  result = trainer.run_training(cfg, printer=lines.append)
  return result, lines


class TestTrainingConv:
  @pytest.mark.parametrize(
    'input_pipeline, steps_per_run', [('feed', 1), ('resident', 2)]
  )
  def test_trains_with_batch_norm_and_averages(
    self, tmp_path, small_mnist, input_pipeline, steps_per_run
  ):
    # The small real set, not fake_data: the run ends with an evaluation of
    # every set, and fake_data's 3 x 10000 images make that the slow part.
    cfg = config_lib.TrainConfig(
      log_dir=str(tmp_path / 'logs'),
      input_data_dir=small_mnist,
      model=config_lib.ModelConfig(model='conv', batch_norm=True),
      optimizer='adam',
      moving_average_decay=0.9,
      max_steps=4,
      seed=0,
      input_pipeline=input_pipeline,
      steps_per_run=steps_per_run,
    )
    result = trainer.run_training(cfg, printer=lambda line: None)
    assert result.global_step == 4
    reader = tf.train.load_checkpoint(result.checkpoint)
    shapes = reader.get_variable_to_shape_map()
    for name, shape in _LAYER_SHAPES.items():
      assert shapes[name] == shape
      assert f'{name}/ExponentialMovingAverage' in shapes
    # The trainer's train op (or in-graph loop) ran the batch-norm updates.
    assert np.abs(reader.get_tensor('conv1/batch_norm/moving_mean')).max() > 0
    assert result.evaluations['test'].num_examples > 0

  def test_loss_falls_on_real_mnist(self, real_run):
    result, lines = real_run
    losses = [
      (int(m.group(1)), float(m.group(2)))
      for m in map(_STEP_LOSS.match, lines)
      if m
    ]
    assert losses[0][0] == 0 and len(losses) >= 3
    assert losses[-1][1] < 0.5 * losses[0][1]
    assert result.global_step == 150
    # Far above the 10% of chance after 150 steps; seeded: 0.951 measured
    # (TF 2.21, CPU).
    assert result.evaluations['test'].precision > 0.94

  def test_restored_graph_predicts_without_keep_prob_feed(
    self, real_run, small_mnist
  ):
    result, _ = real_run
    script = textwrap.dedent(
      """
      import sys
      import numpy as np
      import tensorflow.compat.v1 as tf
      from graphnet.data import mnist_reader as input_data
      tf.disable_eager_execution()
      prefix, data_dir = sys.argv[1:]
      test = input_data.read_data_sets(data_dir).test
      with tf.Session(graph=tf.Graph()) as sess:
        saver = tf.train.import_meta_graph(prefix + '.meta')
        saver.restore(sess, prefix)
        feed = {'images:0': test.images}
        first = sess.run('predictions:0', feed)
        again = sess.run('predictions:0', feed)
        probs = sess.run('probabilities:0', feed)
      assert first.dtype == np.int64, first.dtype
      assert (first == again).all(), 'predictions are not deterministic'
      assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
      print('CORRECT', int((first == test.labels).sum()), len(first))
      """
    )
    proc = subprocess.run(
      [sys.executable, '-c', script, result.checkpoint, small_mnist],
      capture_output=True,
      text=True,
      timeout=120,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    correct, total = map(int, proc.stdout.split('CORRECT')[1].split())
    test_result = result.evaluations['test']
    # Same weights, no dropout: exactly what the trainer's evaluation saw.
    assert (correct, total) == (
      test_result.num_correct,
      test_result.num_examples,
    )
