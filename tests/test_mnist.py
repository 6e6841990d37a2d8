"""Tests of the graph builders in graphnet.mnist."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.nn import mlp as mnist

tf.disable_eager_execution()


def _var_names():
  return sorted(v.op.name for v in tf.global_variables())


class TestInference:
  @pytest.mark.parametrize(
    'hidden1, hidden2, expected',
    [
      (
        128,
        32,
        [
          'hidden1/biases',
          'hidden1/weights',
          'hidden2/biases',
          'hidden2/weights',
          'softmax_linear/biases',
          'softmax_linear/weights',
        ],
      ),
      (
        500,
        0,
        [
          'hidden1/biases',
          'hidden1/weights',
          'softmax_linear/biases',
          'softmax_linear/weights',
        ],
      ),
      (0, 0, ['softmax_linear/biases', 'softmax_linear/weights']),
    ],
  )
  def test_shapes_and_variable_names(self, hidden1, hidden2, expected):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      logits = mnist.inference(images, hidden1, hidden2)
      assert logits.shape.as_list() == [None, mnist.NUM_CLASSES]
      assert logits.dtype == tf.float32
      assert _var_names() == expected
      last_in = hidden2 or hidden1 or mnist.IMAGE_PIXELS
      weights = tf.global_variables('softmax_linear/weights')[0]
      assert weights.shape.as_list() == [last_in, 10]

  def test_reuse_shares_and_creates_nothing(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      first = mnist.inference(images, 16, 8)
      before = _var_names()
      with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        second = mnist.inference(images, 16, 8)
      assert _var_names() == before
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {images: np.random.RandomState(0).rand(4, 784)}
        a, b = sess.run([first, second], feed)
      np.testing.assert_array_equal(a, b)

  def test_name_scope_does_not_change_variable_names(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      with tf.name_scope('tower0'):
        logits = mnist.inference(images, 8, 4)
      assert _var_names()[0] == 'hidden1/biases'
      assert logits.op.name.startswith('tower0/softmax_linear/')

  def test_variable_scope_prefixes_variable_names(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      with tf.variable_scope('model'):
        mnist.inference(images, 8, 0)
      assert _var_names() == [
        'model/hidden1/biases',
        'model/hidden1/weights',
        'model/softmax_linear/biases',
        'model/softmax_linear/weights',
      ]

  def test_weight_init_stddev_is_inverse_sqrt_fan_in(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      mnist.inference(images, 512, 0)
      weights = tf.global_variables('hidden1/weights')[0]
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = sess.run(weights)
      # Truncated at 2 sigma, the std is about 0.88 sigma.
      assert w.std() == pytest.approx(0.88 / np.sqrt(784), rel=0.05)
      assert np.abs(w).max() <= 2.0 / np.sqrt(784) + 1e-6

  def test_regularizer_adds_one_penalty_per_weight_once(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      reg = mnist.l2_regularizer(1e-4)
      mnist.inference(images, 8, 4, reg)
      with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        mnist.inference(images, 8, 4, reg)
      assert len(tf.get_collection('losses')) == 3

  def test_second_call_without_reuse_says_how_to_share_or_copy(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      mnist.inference(images, 8, 4)
      before = _var_names()
      with pytest.raises(errors.ConfigError) as info:
        mnist.inference(images, 8, 4)
      message = str(info.value)
      assert 'hidden1/weights' in message
      assert 'reuse=True' in message
      assert "tf.variable_scope('copy')" in message
      assert _var_names() == before
      # The advice works: a new scope makes a second set of variables.
      with tf.variable_scope('copy'):
        mnist.inference(images, 8, 4)
      assert len(_var_names()) == 2 * len(before)
      assert 'copy/hidden1/weights' in _var_names()

  def test_second_softmax_call_without_reuse_raises(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      mnist.inference(images, 0, 0)
      with pytest.raises(errors.ConfigError, match='softmax_linear/weights'):
        mnist.inference(images, 0, 0)

  def test_auto_reuse_still_shares(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      mnist.inference(images, 8, 0)
      before = _var_names()
      with tf.variable_scope(tf.get_variable_scope(), reuse=tf.AUTO_REUSE):
        mnist.inference(images, 8, 0)
      assert _var_names() == before

  def test_hidden2_without_hidden1_is_an_error(self):
    with tf.Graph().as_default():
      images, _ = mnist.placeholder_inputs()
      with pytest.raises(errors.ConfigError, match='hidden1_units'):
        mnist.inference(images, 0, 5)


class TestLoss:
  def test_matches_numpy_cross_entropy(self):
    rng = np.random.RandomState(1)
    logits_v = rng.randn(6, 10).astype(np.float32)
    labels_v = rng.randint(0, 10, 6).astype(np.int32)
    with tf.Graph().as_default():
      logits = tf.constant(logits_v)
      value = mnist.loss(logits, tf.constant(labels_v))
      assert value.op.name == 'xentropy_mean'
      with tf.Session() as sess:
        got = sess.run(value)
    shifted = logits_v - logits_v.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected = -log_probs[np.arange(6), labels_v].mean()
    assert got == pytest.approx(expected, rel=1e-5)

  def test_adds_regularisation_losses(self):
    with tf.Graph().as_default():
      images, labels = mnist.placeholder_inputs()
      logits = mnist.inference(images, 8, 0, mnist.l2_regularizer(0.5))
      # Summed before loss() adds the cross-entropy to the collection.
      penalty = tf.add_n(tf.get_collection('losses'))
      total = mnist.loss(logits, labels)
      xent = tf.get_default_graph().get_tensor_by_name('xentropy_mean:0')
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {images: np.zeros((2, 784)), labels: [1, 2]}
        t, x, p = sess.run([total, xent, penalty], feed)
      assert p > 0
      assert t == pytest.approx(x + p, rel=1e-6)


class TestLossRegistration:
  def _run(self, tensors, images, labels):
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      feed = {images: np.random.RandomState(0).rand(3, 784), labels: [1, 2, 3]}
      return sess.run(tensors, feed)

  def test_get_total_loss_equals_loss_with_penalties_once(self):
    with tf.Graph().as_default():
      images, labels = mnist.placeholder_inputs()
      logits = mnist.inference(images, 8, 4, mnist.l2_regularizer(0.5))
      total = mnist.loss(logits, labels)
      assert total.op.name == 'total_loss'
      tf_total = tf.losses.get_total_loss()
      xent = tf.get_default_graph().get_tensor_by_name('xentropy_mean:0')
      penalty = tf.add_n(
        [t for t in tf.get_collection('losses') if t is not xent]
      )
      got, tf_got, x, p = self._run(
        [total, tf_total, xent, penalty], images, labels
      )
    assert p > 0
    assert tf_got == pytest.approx(got, rel=1e-6)
    assert got == pytest.approx(x + p, rel=1e-6)

  def test_get_total_loss_without_penalties_is_the_cross_entropy(self):
    with tf.Graph().as_default():
      images, labels = mnist.placeholder_inputs()
      total = mnist.loss(mnist.inference(images, 8, 0), labels)
      assert total.op.name == 'xentropy_mean'
      assert tf.losses.get_losses() == [total]
      got, tf_got = self._run(
        [total, tf.losses.get_total_loss()], images, labels
      )
    assert tf_got == pytest.approx(got, rel=1e-6)

  def test_second_loss_does_not_count_the_first(self):
    with tf.Graph().as_default():
      images, labels = mnist.placeholder_inputs()
      reg = mnist.l2_regularizer(0.5)
      logits = mnist.inference(images, 8, 0, reg)
      first = mnist.loss(logits, labels)
      second = mnist.loss(2.0 * logits, labels)
      xent2 = second.op.inputs[0]
      penalty = tf.add_n(tf.get_collection('losses')[:2])
      a, b, x2, p = self._run([first, second, xent2, penalty], images, labels)
    assert b == pytest.approx(x2 + p, rel=1e-6)
    assert a != pytest.approx(b)


class TestTraining:
  def test_each_optimizer_name_has_one_factory(self):
    # The names are written without TensorFlow (for the flags), the
    # factories beside TF's optimizers.
    from graphnet.nn import training_tools

    assert tuple(training_tools._FACTORIES) == mnist.OPTIMIZERS

  @pytest.mark.parametrize('optimizer', mnist.OPTIMIZERS)
  def test_advances_global_step_and_lowers_loss(self, optimizer):
    rng = np.random.RandomState(2)
    x = rng.rand(50, 784).astype(np.float32)
    y = rng.randint(0, 10, 50).astype(np.int32)
    with tf.Graph().as_default():
      tf.set_random_seed(0)
      images, labels = mnist.placeholder_inputs()
      total = mnist.loss(mnist.inference(images, 16, 0), labels)
      rate = 0.001 if optimizer in ('adam', 'rmsprop') else 0.05
      train_op = mnist.training(total, rate, optimizer)
      step = tf.train.get_global_step()
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {images: x, labels: y}
        first = sess.run(total, feed)
        for _ in range(20):
          sess.run(train_op, feed)
        assert sess.run(step) == 20
        assert sess.run(total, feed) < first

  def test_moving_average_follows_weights(self):
    with tf.Graph().as_default():
      images, labels = mnist.placeholder_inputs()
      total = mnist.loss(mnist.inference(images, 4, 0), labels)
      step = tf.train.get_or_create_global_step()
      ema = tf.train.ExponentialMovingAverage(0.5, num_updates=step)
      train_op = mnist.training(total, 1.0, moving_average=ema)
      weights = tf.global_variables('softmax_linear/biases')[0]
      shadow = ema.average(weights)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {images: np.ones((3, 784)), labels: [1, 2, 3]}
        before = sess.run(shadow)
        sess.run(train_op, feed)
        w, s = sess.run([weights, shadow])
      # num_updates=1 gives decay min(0.5, 2/11) = 2/11 after the update.
      decay = min(0.5, (1 + 1) / (10 + 1))
      np.testing.assert_allclose(s, decay * before + (1 - decay) * w, rtol=1e-5)
      assert not np.allclose(s, before)

  def test_eval_tower_on_moving_averages_creates_no_variables(self):
    with tf.Graph().as_default():
      images, labels = mnist.placeholder_inputs()
      total = mnist.loss(mnist.inference(images, 4, 0), labels)
      step = tf.train.get_or_create_global_step()
      ema = tf.train.ExponentialMovingAverage(0.9, num_updates=step)
      mnist.training(total, 0.1, moving_average=ema)
      before = _var_names()
      with tf.variable_scope(
        tf.get_variable_scope(),
        reuse=True,
        custom_getter=mnist.moving_average_getter(ema),
      ):
        eval_logits = mnist.inference(images, 4, 0)
      assert _var_names() == before
      shadows = [ema.average(v) for v in tf.trainable_variables()]
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run([s.assign(tf.zeros_like(s)) for s in shadows])
        got = sess.run(eval_logits, {images: np.ones((2, 784))})
      # All-zero averaged weights give all-zero logits; the live ones do not.
      np.testing.assert_array_equal(got, np.zeros((2, 10)))

  def test_groups_update_ops(self):
    with tf.Graph().as_default():
      images, labels = mnist.placeholder_inputs()
      total = mnist.loss(mnist.inference(images, 4, 0), labels)
      counter = tf.Variable(0, name='counter')
      tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, counter.assign_add(1))
      train_op = mnist.training(total, 0.1)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train_op, {images: np.ones((1, 784)), labels: [0]})
        assert sess.run(counter) == 1

  def test_unknown_optimizer_is_an_error(self):
    with tf.Graph().as_default():
      images, labels = mnist.placeholder_inputs()
      total = mnist.loss(mnist.inference(images, 4, 0), labels)
      with pytest.raises(errors.ConfigError, match='adadelta'):
        mnist.training(total, 0.1, 'adadelta')


class TestEvaluation:
  def test_counts_top1_hits(self):
    logits_v = np.eye(10, dtype=np.float32)[[3, 1, 4, 1, 5]]
    labels_v = np.array([3, 1, 0, 1, 0], np.int32)
    with tf.Graph().as_default():
      count = mnist.evaluation(tf.constant(logits_v), tf.constant(labels_v))
      with tf.Session() as sess:
        assert sess.run(count) == 3
