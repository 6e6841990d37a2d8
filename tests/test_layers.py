"""Tests of graphnet.layers: graph-mode layer objects."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from sklearn import datasets as sk_datasets

from graphnet import errors
from graphnet.nn import deep_mnist
from graphnet.nn import layers
from graphnet.nn import mlp as mnist

tf.disable_eager_execution()

relu = tf.nn.relu


def _mnist_mlp():
  return layers.Sequential(
    [
      layers.Dense(128, relu, name='hidden1'),
      layers.Dense(32, relu, name='hidden2'),
      layers.Dense(10, name='softmax_linear'),
    ]
  )


def _conv_net(batch_norm=False, keep_prob=0.5, regularizer=None):
  """deep_mnist.inference_conv, written with layers."""
  he = layers.fan_in_truncated_normal(2.0)
  bias = tf.constant_initializer(0.1)

  def norm():
    return layers.BatchNorm() if batch_norm else None

  def conv(filters, name):
    return layers.Conv2D(
      filters,
      5,
      activation=relu,
      regularizer=regularizer,
      weights_initializer=he,
      bias_initializer=bias,
      normalizer=norm(),
      name=name,
    )

  return layers.Sequential(
    [
      layers.Reshape([28, 28, 1]),
      conv(32, 'conv1'),
      layers.MaxPool2D(2),
      conv(64, 'conv2'),
      layers.MaxPool2D(2),
      layers.Flatten(),
      layers.Dense(
        1024,
        relu,
        regularizer=regularizer,
        weights_initializer=he,
        bias_initializer=bias,
        normalizer=norm(),
        name='fc1',
      ),
      layers.Dropout(keep_prob),
      layers.Dense(10, regularizer=regularizer, name='fc2'),
    ]
  )


def _var(name):
  """The variable whose op is called `name`, in the default graph."""
  (var,) = [v for v in tf.global_variables() if v.op.name == name]
  return var


def _var_shapes():
  return {v.op.name: v.shape.as_list() for v in tf.global_variables()}


def _trainable_names():
  return sorted(v.op.name for v in tf.trainable_variables())


def _images(n, pixels=784, seed=0):
  return np.random.RandomState(seed).rand(n, pixels).astype(np.float32)


def _randomise_variables(sess, seed=1):
  """Gives every variable non-default values (variance stays positive)."""
  rng = np.random.RandomState(seed)
  for var in tf.global_variables():
    value = rng.normal(0.0, 0.05, var.shape.as_list()).astype(np.float32)
    if 'moving_variance' in var.op.name:
      value = np.abs(value) + 0.5
    var.load(value, sess)


def _save_reference(build, path, batch):
  """Builds `build(images)` in a new graph; saves it; returns its logits."""
  with tf.Graph().as_default():
    images = tf.placeholder(tf.float32, [None, 784])
    logits = build(images)
    shapes = _var_shapes()
    trainable = _trainable_names()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      _randomise_variables(sess)
      tf.train.Saver().save(sess, path)
      return shapes, trainable, sess.run(logits, {images: batch})


def _restore_layers(model, path, batch):
  """Builds `model` in a new graph, restores `path`, returns its logits."""
  with tf.Graph().as_default():
    images = tf.placeholder(tf.float32, [None, 784])
    logits = model(images)
    shapes = _var_shapes()
    trainable = _trainable_names()
    with tf.Session() as sess:
      tf.train.Saver().restore(sess, path)
      return shapes, trainable, sess.run(logits, {images: batch})


class TestMnistMlp:
  def test_variables_match_mnist_inference(self):
    with tf.Graph().as_default():
      mnist.inference(tf.placeholder(tf.float32, [None, 784]), 128, 32)
      expected = _var_shapes()
    with tf.Graph().as_default():
      model = _mnist_mlp()
      logits = model(tf.placeholder(tf.float32, [None, 784]))
      assert _var_shapes() == expected
      assert expected['hidden1/weights'] == [784, 128]
      assert logits.shape.as_list() == [None, 10]

  def test_mnist_checkpoint_restores_with_identical_logits(self, tmp_path):
    path = str(tmp_path / 'model.ckpt')
    batch = _images(5)
    ref_shapes, _, ref_logits = _save_reference(
      lambda images: mnist.inference(images, 128, 32), path, batch
    )
    shapes, _, logits = _restore_layers(_mnist_mlp(), path, batch)
    assert shapes == ref_shapes
    np.testing.assert_array_equal(logits, ref_logits)

  def test_initialisation_matches_the_tutorial(self):
    with tf.Graph().as_default():
      tf.set_random_seed(3)
      _mnist_mlp()(tf.placeholder(tf.float32, [None, 784]))
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        weights, biases = sess.run(
          [_var('hidden1/weights'), _var('hidden1/biases')]
        )
    stddev = 1.0 / np.sqrt(784)
    # Truncated at 2 stddev: std shrinks to about 0.88 of it.
    assert np.abs(weights).max() <= 2 * stddev + 1e-6
    assert 0.8 * stddev < weights.std() < 0.95 * stddev
    assert not biases.any()


class TestConvNet:
  @pytest.mark.parametrize('is_training', [False, True])
  @pytest.mark.parametrize('batch_norm', [False, True])
  def test_variables_match_inference_conv(self, batch_norm, is_training):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 784])
      deep_mnist.inference_conv(images, 0.5, batch_norm, is_training)
      expected = _var_shapes()
      expected_trainable = _trainable_names()
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 784])
      logits = _conv_net(batch_norm)(images, is_training)
      assert _var_shapes() == expected
      assert _trainable_names() == expected_trainable
      assert logits.shape.as_list() == [None, 10]
    assert ('fc1/batch_norm/moving_mean' in expected) == batch_norm
    assert ('fc1/biases' in expected) != batch_norm

  @pytest.mark.parametrize('batch_norm', [False, True])
  def test_conv_checkpoint_restores_with_identical_logits(
    self, tmp_path, batch_norm
  ):
    path = str(tmp_path / 'conv.ckpt')
    batch = _images(4, seed=2)
    ref_shapes, ref_trainable, ref_logits = _save_reference(
      lambda images: deep_mnist.inference_conv(images, 1.0, batch_norm),
      path,
      batch,
    )
    shapes, trainable, logits = _restore_layers(
      _conv_net(batch_norm), path, batch
    )
    assert shapes == ref_shapes
    assert trainable == ref_trainable
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-5, atol=1e-5)
    assert np.abs(ref_logits).max() > 0.01

  def test_batch_norm_training_step_matches_inference_conv(self, tmp_path):
    path = str(tmp_path / 'bn.ckpt')
    batch = _images(6, seed=3)

    def train_forward(build, restore):
      with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, 784])
        logits = build(images)
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        assert len(updates) == 6
        moving = sorted(
          (v for v in tf.global_variables() if 'moving_' in v.op.name),
          key=lambda v: v.op.name,
        )
        saver = tf.train.Saver()
        with tf.Session() as sess:
          if restore:
            saver.restore(sess, path)
          else:
            sess.run(tf.global_variables_initializer())
            _randomise_variables(sess)
            saver.save(sess, path)
          out, _ = sess.run([logits, updates], {images: batch})
          return out, sess.run(moving)

    ref_logits, ref_moving = train_forward(
      lambda x: deep_mnist.inference_conv(x, 1.0, True, True), restore=False
    )
    model = _conv_net(batch_norm=True, keep_prob=1.0)
    logits, moving = train_forward(lambda x: model(x, True), restore=True)
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-4, atol=1e-4)
    for got, want in zip(moving, ref_moving, strict=True):
      np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

  def test_he_initialisation_and_biases(self):
    with tf.Graph().as_default():
      _conv_net()(tf.placeholder(tf.float32, [None, 784]))
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        fc1, fc1_biases, fc2_biases = sess.run(
          [_var('fc1/weights'), _var('fc1/biases'), _var('fc2/biases')]
        )
    stddev = np.sqrt(2.0 / 3136)
    assert np.abs(fc1).max() <= 2 * stddev + 1e-6
    assert 0.8 * stddev < fc1.std() < 0.95 * stddev
    np.testing.assert_array_equal(fc1_biases, np.full(1024, 0.1, np.float32))
    assert not fc2_biases.any()


class TestReuse:
  def test_reuse_shares_variables_and_outputs(self):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 784])
      model = _mnist_mlp()
      first = model(images, is_training=True)
      before = tf.global_variables()
      with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        second = model(images)
      assert tf.global_variables() == before
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b = sess.run([first, second], {images: _images(3)})
    np.testing.assert_array_equal(a, b)

  def test_second_call_without_reuse_says_how_to_share_or_copy(self):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 784])
      model = _mnist_mlp()
      model(images)
      before = tf.global_variables()
      ops_before = len(tf.get_default_graph().get_operations())
      with pytest.raises(errors.ConfigError) as caught:
        model(images)
      message = str(caught.value)
      assert 'hidden1/weights' in message
      assert 'reuse=True' in message
      assert "tf.variable_scope('copy')" in message
      assert tf.global_variables() == before
      # Detected before any op of the second call was built.
      assert len(tf.get_default_graph().get_operations()) == ops_before

  def test_single_layer_second_call_raises(self):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 4])
      dense = layers.Dense(3)
      dense(images)
      with pytest.raises(errors.ConfigError, match='reuse=True'):
        dense(images)

  def test_another_layer_of_the_same_name_raises(self):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 784])
      mnist.inference(images, 128, 32)
      with pytest.raises(errors.ConfigError, match='hidden1/weights'):
        _mnist_mlp()(images)

  def test_copy_in_a_new_scope_has_its_own_variables(self):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 784])
      model = _mnist_mlp()
      model(images)
      originals = model.variables
      with tf.variable_scope('copy'):
        model(images)
      names = {v.op.name for v in tf.global_variables()}
      assert 'copy/hidden1/weights' in names
      assert len(names) == 12
      assert model.variables == originals

  def test_reuse_before_any_call_raises(self):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 784])
      with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        with pytest.raises(errors.ConfigError, match='no variables'):
          _mnist_mlp()(images)

  def test_auto_reuse_creates_then_shares(self):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 784])
      model = _mnist_mlp()
      with tf.variable_scope('net', reuse=tf.AUTO_REUSE):
        model(images)
      with tf.variable_scope('net', reuse=tf.AUTO_REUSE):
        model(images)
      assert len(tf.global_variables()) == 6

  def test_layers_without_variables_can_be_called_again(self):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 8, 8, 1])
      pool = layers.MaxPool2D()
      assert pool(images).shape.as_list() == pool(images).shape.as_list()

  def test_moving_average_getter_reads_the_averages(self):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 5])
      model = layers.Sequential([layers.Dense(3, name='out')])
      model(images, is_training=True)
      ema = tf.train.ExponentialMovingAverage(0.9)
      ema.apply(model.trainable_variables)
      with tf.variable_scope(
        tf.get_variable_scope(),
        reuse=True,
        custom_getter=mnist.moving_average_getter(ema),
      ):
        averaged = model(images)
      weights, biases = model.variables
      rng = np.random.RandomState(4)
      avg_w = rng.normal(size=(5, 3)).astype(np.float32)
      avg_b = rng.normal(size=3).astype(np.float32)
      batch = rng.normal(size=(2, 5)).astype(np.float32)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        ema.average(weights).load(avg_w, sess)
        ema.average(biases).load(avg_b, sess)
        out = sess.run(averaged, {images: batch})
    np.testing.assert_allclose(out, batch @ avg_w + avg_b, rtol=1e-5)


class TestRegularizer:
  def test_penalty_added_once_per_weight(self):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 784])
      model = layers.Sequential(
        [
          layers.Dense(16, relu, mnist.l2_regularizer(0.5), name='hidden1'),
          layers.Dense(10, regularizer=mnist.l2_regularizer(0.5), name='out'),
        ]
      )
      model(images, is_training=True)
      assert len(tf.get_collection('losses')) == 2
      with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        model(images)
      assert len(tf.get_collection('losses')) == 2
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        penalties = sess.run(tf.get_collection('losses'))
        w1, w2 = sess.run([_var('hidden1/weights'), _var('out/weights')])
    expected = [0.5 * np.sum(w**2) / 2 for w in (w1, w2)]
    np.testing.assert_allclose(penalties, expected, rtol=1e-5)

  def test_conv_penalties_match_inference_conv(self):
    def count(build):
      with tf.Graph().as_default():
        build(tf.placeholder(tf.float32, [None, 784]))
        return len(tf.get_collection('losses'))

    l2 = mnist.l2_regularizer(1e-4)
    assert count(lambda x: _conv_net(regularizer=l2)(x)) == 4
    assert (
      count(lambda x: deep_mnist.inference_conv(x, 0.5, regularizer=l2)) == 4
    )


class TestVariables:
  def test_empty_before_the_first_call(self):
    model = _mnist_mlp()
    assert model.variables == ()
    assert model.trainable_variables == ()

  def test_listed_in_creation_order_after_the_first_call(self):
    with tf.Graph().as_default():
      model = _mnist_mlp()
      model(tf.placeholder(tf.float32, [None, 784]))
      names = [v.op.name for v in model.variables]
      assert names == [
        'hidden1/weights',
        'hidden1/biases',
        'hidden2/weights',
        'hidden2/biases',
        'softmax_linear/weights',
        'softmax_linear/biases',
      ]
      assert model.layers[1].variables == model.variables[2:4]
      assert model.trainable_variables == model.variables

  def test_batch_norm_statistics_are_not_trainable(self):
    with tf.Graph().as_default():
      dense = layers.Dense(4, normalizer=layers.BatchNorm(), name='fc')
      dense(tf.placeholder(tf.float32, [None, 3]), is_training=True)
      names = [v.op.name for v in dense.variables]
      assert names == [
        'fc/weights',
        'fc/batch_norm/beta',
        'fc/batch_norm/gamma',
        'fc/batch_norm/moving_mean',
        'fc/batch_norm/moving_variance',
      ]
      trainable = [v.op.name for v in dense.trainable_variables]
      assert trainable == names[:3]

  def test_follow_the_latest_graph(self):
    model = _mnist_mlp()
    for _ in range(2):
      with tf.Graph().as_default() as graph:
        model(tf.placeholder(tf.float32, [None, 784]))
      assert all(v.graph is graph for v in model.variables)

  def test_named_sequential_scopes_its_layers(self):
    with tf.Graph().as_default():
      model = layers.Sequential([layers.Dense(3), layers.Dense(2)], 'net')
      model(tf.placeholder(tf.float32, [None, 4]))
      assert [v.op.name for v in model.variables] == [
        'net/dense/weights',
        'net/dense/biases',
        'net/dense_1/weights',
        'net/dense_1/biases',
      ]

  def test_nested_models_get_distinct_scopes(self):
    block = layers.Sequential([layers.Dense(4), layers.Dense(4)], 'block')
    inner = layers.Sequential([layers.Dense(3)])
    model = layers.Sequential([block, inner, layers.Dense(2)])
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 5])
      model(images, is_training=True)
      with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        model(images)
      assert len(tf.global_variables()) == 8
      assert [v.op.name for v in model.variables] == [
        'block/dense/weights',
        'block/dense/biases',
        'block/dense_1/weights',
        'block/dense_1/biases',
        'dense/weights',
        'dense/biases',
        'dense_1/weights',
        'dense_1/biases',
      ]


class TestDropout:
  def test_off_in_evaluation(self):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 100])
      outputs = layers.Dropout(0.5)(images)
      graph = tf.get_default_graph()
      assert not [op for op in graph.get_operations() if 'keep_prob' in op.name]
      batch = _images(4, 100)
      with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(outputs, {images: batch}), batch)

  def test_active_in_training_without_a_feed(self):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 1000])
      outputs = layers.Dropout(0.25)(images, is_training=True)
      keep_prob = tf.get_default_graph().get_tensor_by_name(
        'dropout/keep_prob:0'
      )
      batch = np.ones((2, 1000), np.float32)
      with tf.Session() as sess:
        dropped = sess.run(outputs, {images: batch})
        kept_all = sess.run(outputs, {images: batch, keep_prob: 1.0})
    assert set(np.unique(dropped)) <= {0.0, 4.0}
    assert 0.15 < (dropped > 0).mean() < 0.35
    np.testing.assert_array_equal(kept_all, batch)

  @pytest.mark.parametrize('keep_prob', [0.0, 1.5, -0.1, True, '0.5'])
  def test_bad_keep_prob(self, keep_prob):
    with pytest.raises(errors.ConfigError, match='keep_prob'):
      layers.Dropout(keep_prob)


class TestBatchNorm:
  def _build(self, is_training):
    images = tf.placeholder(tf.float32, [None, 3])
    norm = layers.BatchNorm(decay=0.9, epsilon=1e-3)
    return images, norm, norm(images, is_training)

  def test_update_ops_only_in_training(self):
    with tf.Graph().as_default():
      images, norm, _ = self._build(is_training=False)
      assert not tf.get_collection(tf.GraphKeys.UPDATE_OPS)
      with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        norm(images, is_training=True)
      assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2

  def test_training_uses_batch_statistics_and_updates(self):
    batch = np.random.RandomState(5).normal(3.0, 2.0, (50, 3))
    batch = batch.astype(np.float32)
    with tf.Graph().as_default():
      images, _, outputs = self._build(is_training=True)
      updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out, _ = sess.run([outputs, updates], {images: batch})
        moving = sess.run(
          [
            _var('batch_norm/moving_mean'),
            _var('batch_norm/moving_variance'),
          ]
        )
    mean, var = batch.mean(0), batch.var(0)
    np.testing.assert_allclose(
      out, (batch - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(moving[0], 0.1 * mean, rtol=1e-4)
    np.testing.assert_allclose(moving[1], 0.9 + 0.1 * var, rtol=1e-4)

  def test_evaluation_uses_moving_statistics(self):
    rng = np.random.RandomState(6)
    batch = rng.normal(size=(7, 3)).astype(np.float32)
    stats = {
      'moving_mean': rng.normal(size=3),
      'moving_variance': rng.uniform(0.5, 2.0, 3),
      'beta': rng.normal(size=3),
      'gamma': rng.normal(size=3),
    }
    with tf.Graph().as_default():
      images, norm, outputs = self._build(is_training=False)
      variables = {v.op.name.split('/')[-1]: v for v in norm.variables}
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for name, value in stats.items():
          variables[name].load(value.astype(np.float32), sess)
        out = sess.run(outputs, {images: batch})
    expected = (batch - stats['moving_mean']) / np.sqrt(
      stats['moving_variance'] + 1e-3
    ) * stats['gamma'] + stats['beta']
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)

  def test_conv_inputs_normalise_per_channel(self):
    batch = np.random.RandomState(7).normal(2.0, 3.0, (4, 5, 5, 2))
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 5, 5, 2])
      outputs = layers.BatchNorm()(images, is_training=True)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(outputs, {images: batch.astype(np.float32)})
    np.testing.assert_allclose(out.mean((0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std((0, 1, 2)), 1.0, atol=1e-3)


class TestShapes:
  @pytest.mark.parametrize(
    'input_shape, layer, expected',
    [
      ([8, 8, 1], layers.Conv2D(4, 3), [8, 8, 4]),
      ([8, 8, 1], layers.Conv2D(4, 3, padding='VALID'), [6, 6, 4]),
      ([8, 8, 1], layers.Conv2D(4, (3, 1), strides=2), [4, 4, 4]),
      ([32, 32, 3], layers.Conv2D(16, 5), [32, 32, 16]),
      ([32, 32, 3], layers.Conv2D(8, 5, 2, 'VALID'), [14, 14, 8]),
      ([8, 8, 1], layers.MaxPool2D(), [4, 4, 1]),
      ([8, 8, 1], layers.MaxPool2D(3, 1, 'VALID'), [6, 6, 1]),
      ([32, 32, 3], layers.MaxPool2D(), [16, 16, 3]),
      ([32, 32, 3], layers.MaxPool2D(3), [11, 11, 3]),
      ([8, 8, 1], layers.Flatten(), [64]),
      ([32, 32, 3], layers.Flatten(), [3072]),
    ],
  )
  def test_static_and_run_shapes(self, input_shape, layer, expected):
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, *input_shape])
      outputs = layer(images)
      assert outputs.shape.as_list() == [None, *expected]
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(outputs, {images: np.ones([2, *input_shape])})
    assert list(out.shape) == [2, *expected]

  def test_conv_kernel_shape(self):
    with tf.Graph().as_default():
      conv = layers.Conv2D(16, (5, 3), name='c')
      conv(tf.placeholder(tf.float32, [None, 32, 32, 3]))
      assert _var_shapes() == {'c/weights': [5, 3, 3, 16], 'c/biases': [16]}

  def test_small_conv_net_end_to_end(self):
    model = layers.Sequential(
      [
        layers.Conv2D(8, 3, activation=relu),
        layers.MaxPool2D(),
        layers.Conv2D(16, 3, activation=relu),
        layers.MaxPool2D(),
        layers.Flatten(),
        layers.Dense(10),
      ]
    )
    with tf.Graph().as_default():
      logits = model(tf.placeholder(tf.float32, [None, 32, 32, 3]))
      assert logits.shape.as_list() == [None, 10]
      assert sorted(_var_shapes()) == [
        'conv2d/biases',
        'conv2d/weights',
        'conv2d_1/biases',
        'conv2d_1/weights',
        'dense/biases',
        'dense/weights',
      ]
      assert _var_shapes()['dense/weights'] == [8 * 8 * 16, 10]


class TestErrors:
  @pytest.mark.parametrize(
    'make, match',
    [
      (lambda: layers.Dense(0), 'units'),
      (lambda: layers.Dense(2.5), 'units'),
      (lambda: layers.Dense(3, activation='relu'), 'activation'),
      (lambda: layers.Dense(3, name='a/b'), 'name'),
      (lambda: layers.Conv2D(3, 0), 'kernel_size'),
      (lambda: layers.Conv2D(3, (3, 3, 3)), 'kernel_size'),
      (lambda: layers.Conv2D(3, 3, padding='full'), 'padding'),
      (lambda: layers.MaxPool2D(strides=-1), 'strides'),
      (lambda: layers.BatchNorm(decay=1.0), 'decay'),
      (lambda: layers.BatchNorm(epsilon=0.0), 'epsilon'),
      (lambda: layers.Reshape([28, 0]), 'target_shape'),
      (lambda: layers.Sequential([]), 'empty'),
      (lambda: layers.Sequential([tf.nn.relu]), 'Layer'),
      (
        lambda: layers.Sequential([layers.Dense(2, name='a')] * 2),
        "named 'a'",
      ),
      (
        lambda: layers.Sequential(
          [
            layers.Sequential([layers.Dense(3, name='a')]),
            layers.Dense(2, name='a'),
          ]
        ),
        "named 'a'",
      ),
      (lambda: layers.fan_in_truncated_normal(0.0), 'gain'),
    ],
  )
  def test_bad_arguments(self, make, match):
    with pytest.raises(errors.ConfigError, match=match):
      make()

  @pytest.mark.parametrize(
    'layer, shape, dtype, match',
    [
      (layers.Dense(3), [None, 4, 4], tf.float32, 'Flatten'),
      (layers.Dense(3), [None, 4], tf.uint8, 'tf.cast'),
      (layers.Conv2D(3, 3), [None, 784], tf.float32, 'Reshape'),
      (layers.Reshape([5, 5]), [None, 784], tf.float32, '784 values'),
    ],
  )
  def test_bad_inputs(self, layer, shape, dtype, match):
    with tf.Graph().as_default():
      with pytest.raises(errors.ConfigError, match=match):
        layer(tf.placeholder(dtype, shape))

  def test_is_training_must_be_a_python_bool(self):
    with tf.Graph().as_default():
      with pytest.raises(errors.ConfigError, match='is_training'):
        layers.Dense(2)(
          tf.placeholder(tf.float32, [None, 3]), tf.constant(True)
        )

  def test_eager_mode_is_refused_with_a_hint(self):
    code = (
      'import numpy as np\n'
      'from graphnet import errors\n'
      'from graphnet import layers\n'
      'try:\n'
      '  layers.Dense(2)(np.ones((1, 3), np.float32))\n'
      'except errors.ConfigError as e:\n'
      '  print(e)\n'
    )
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
      [sys.executable, '-c', code],
      capture_output=True,
      text=True,
      timeout=300,
      env=dict(os.environ, PYTHONPATH=repo, TF_CPP_MIN_LOG_LEVEL='2'),
    )
    assert done.returncode == 0, done.stderr
    assert 'disable_eager_execution' in done.stdout


def _digits():
  digits = sk_datasets.load_digits()
  images = (digits.data / 16.0).astype(np.float32)  # [1797, 64] in [0, 1]
  labels = digits.target.astype(np.int32)
  order = np.random.RandomState(0).permutation(len(labels))
  images, labels = images[order], labels[order]
  return (images[:1400], labels[:1400]), (images[1400:], labels[1400:])


def test_dense_model_learns_sklearn_digits():
  (train_x, train_y), (test_x, test_y) = _digits()
  model = layers.Sequential(
    [
      layers.Dense(64, relu, name='hidden1'),
      layers.Dropout(0.9),
      layers.Dense(10, name='softmax_linear'),
    ]
  )
  with tf.Graph().as_default():
    tf.set_random_seed(0)
    images = tf.placeholder(tf.float32, [None, 64])
    labels = tf.placeholder(tf.int32, [None])
    loss = mnist.loss(model(images, is_training=True), labels)
    train_op = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
      num_correct = mnist.evaluation(model(images), labels)
    rng = np.random.RandomState(1)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      for _ in range(400):
        index = rng.randint(0, len(train_y), 32)
        sess.run(train_op, {images: train_x[index], labels: train_y[index]})
      correct = sess.run(num_correct, {images: test_x, labels: test_y})
  accuracy = correct / len(test_y)
  assert accuracy > 0.9, accuracy
  assert len(model.variables) == 4


def test_module_exports_what_it_documents():
  for name in layers.__all__:
    assert hasattr(layers, name), name
  assert layers.__doc__ and 'Example:' in layers.__doc__
