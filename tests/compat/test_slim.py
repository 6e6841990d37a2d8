"""graphnet.compat.v1.contrib.slim against TF 1.15 goldens and its semantics.

`build_slim_cnn` of scripts/tf1_goldens/contrib_models.py (conv +
batch_norm + fully_connected under arg_scope, slim.losses,
slim.learning.create_train_op with Momentum) runs here with only its
import lines changed and must restore TF 1.15's checkpoint and give its
outputs and training step; then slim.losses, slim.learning.train and
slim.metrics on tiny graphs.
"""

import os
import threading
import time

import _contrib_models
import numpy as np
import pytest

import graphnet.compat.v1 as tf
import graphnet.compat.v1.contrib.slim as slim
from graphnet import errors


@pytest.fixture(scope='module')
def models():
  return _contrib_models.load()


class TestTf1Golden:
  def test_slim_cnn_restores_and_matches_tf1(self, models):
    expected, outputs, checkpoint = _contrib_models.golden('slim_cnn')
    with tf.Graph().as_default():
      model = models['build_slim_cnn']()
      checked = _contrib_models.check_golden(
        tf, model, expected, outputs, checkpoint
      )
    # Weights, biases, batch norm (moving averages included), Momentum
    # slots and the global step, all after one step.
    assert checked == len(expected['global']) == 23

  def test_fine_tuning_restores_all_but_the_head(self, models):
    _, outputs, checkpoint = _contrib_models.golden('slim_cnn')
    with tf.Graph().as_default():
      model = models['build_slim_cnn']()
      restore = slim.assign_from_checkpoint_fn(
        checkpoint, slim.get_variables_to_restore(exclude=['logits'])
      )
      conv1 = slim.get_model_variables('conv1')
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        restore(sess)
        found = sess.run(conv1[0])
        logits = sess.run(model['logits'], {model['x']: outputs['images']})
    np.testing.assert_allclose(found, outputs['after/conv1/weights'], atol=0.1)
    reader = tf.train.load_checkpoint(checkpoint)
    np.testing.assert_array_equal(found, reader.get_tensor('conv1/weights'))
    assert not np.allclose(logits, outputs['logits'], atol=1e-2)


class TestArgScope:
  def test_layer_defaults_and_saved_scope(self):
    def net_arg_scope():
      with slim.arg_scope(
        [slim.conv2d, slim.fully_connected],
        activation_fn=tf.nn.tanh,
        weights_regularizer=slim.l2_regularizer(0.1),
      ):
        with slim.arg_scope([slim.conv2d], padding='VALID') as scope:
          return scope

    with tf.Graph().as_default():
      x = tf.zeros([1, 5, 5, 1])
      with slim.arg_scope(net_arg_scope()):
        net = slim.conv2d(x, 2, [3, 3], scope='conv')
        logits = slim.fully_connected(
          slim.flatten(net), 3, activation_fn=None, scope='fc'
        )
      unscoped = slim.conv2d(x, 2, [3, 3], scope='plain')
      assert net.shape.as_list() == [1, 3, 3, 2]
      assert net.op.type == 'Tanh'
      assert logits.op.type == 'BiasAdd'
      assert unscoped.shape.as_list() == [1, 5, 5, 2]
      assert unscoped.op.type == 'Relu'
      losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
      assert len(losses) == 2

  def test_model_variable_device_from_arg_scope(self):
    with tf.Graph().as_default():
      with slim.arg_scope([slim.model_variable], device='/cpu:0'):
        slim.fully_connected(tf.zeros([1, 2]), 2)
      devices = {v.device for v in slim.get_model_variables()}
    assert devices == {'/device:CPU:0'}


class TestPositionalArguments:
  def test_layers_bind_positional_arguments_as_tf1(self):
    # slim's AlexNet: `slim.conv2d(inputs, 64, [11, 11], 4, padding=
    # 'VALID', scope='conv1')`, the stride positional.
    with tf.Graph().as_default():
      images = tf.zeros([1, 23, 23, 3])
      with slim.arg_scope([slim.conv2d], activation_fn=None):
        net = slim.conv2d(
          images, 64, [11, 11], 4, padding='VALID', scope='conv1'
        )
      logits = slim.fully_connected(slim.flatten(net), 10, None, scope='fc')
      names = [v.op.name for v in slim.get_model_variables()]
    assert net.shape.as_list() == [1, 4, 4, 64]  # (23 - 11) / 4 + 1.
    assert net.op.type == logits.op.type == 'BiasAdd'
    assert names == ['conv1/weights', 'conv1/biases', 'fc/weights', 'fc/biases']
    assert 'stride' in slim.arg_scoped_arguments(slim.conv2d)


class TestLosses:
  def test_softmax_cross_entropy_and_total_loss(self):
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], np.float32)
    labels = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    with tf.Graph().as_default():
      w = slim.model_variable(
        'w',
        shape=[2],
        initializer=tf.ones_initializer(),
        regularizer=slim.l2_regularizer(0.5),
      )
      loss = slim.losses.softmax_cross_entropy(logits, labels)
      mse = slim.losses.mean_squared_error(
        tf.constant([1.0, 3.0]), tf.constant([0.0, 0.0])
      )
      assert slim.losses.get_losses() == [loss, mse]
      total = slim.losses.get_total_loss()
      with tf.Session() as sess:
        sess.run(w.initializer)
        found = sess.run([loss, mse, total])
    expected = -np.log(np.exp(logits) / np.exp(logits).sum(1, keepdims=True))
    xent = (expected * labels).sum(1).mean()
    np.testing.assert_allclose(found, [xent, 5.0, xent + 5.0 + 0.5], rtol=1e-5)

  def test_get_total_loss_without_losses_says_so(self):
    with tf.Graph().as_default():
      with pytest.raises(ValueError, match='no losses'):
        slim.losses.get_total_loss()


class TestLearning:
  def _graph(self):
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    y = tf.constant([[1.0], [2.0]])
    pred = slim.fully_connected(x, 1, activation_fn=None, scope='fc')
    slim.losses.mean_squared_error(pred, y)
    return slim.learning.create_train_op(
      slim.losses.get_total_loss(), tf.train.GradientDescentOptimizer(0.01)
    )

  def test_final_checkpoint_is_latest_after_a_slow_timed_save(
    self, tmp_path, monkeypatch
  ):
    # The Supervisor's timed save at step 0 runs in its own thread; made
    # slow (the step read, then 1 s to write), it ends after the 3 steps.
    # The final step must still be the latest checkpoint, or a resume would
    # lose the run's work.
    save = tf.train.Saver.save

    def slow_in_threads(self, sess, save_path, global_step=None, **kwargs):
      if threading.current_thread() is not threading.main_thread():
        global_step = sess.run(global_step)
        time.sleep(1.0)
      return save(self, sess, save_path, global_step=global_step, **kwargs)

    monkeypatch.setattr(tf.train.Saver, 'save', slow_in_threads)
    logdir = str(tmp_path / 'logs')
    with tf.Graph().as_default():
      slim.learning.train(self._graph(), logdir, number_of_steps=3)
    assert tf.train.latest_checkpoint(logdir).endswith('model.ckpt-3')

  def test_train_saves_in_logdir_and_resumes(self, tmp_path):
    logdir = str(tmp_path / 'logs')
    calls = []
    with tf.Graph().as_default():
      train_op = self._graph()
      assert train_op in tf.get_collection(tf.GraphKeys.TRAIN_OP)
      first = slim.learning.train(
        train_op,
        logdir,
        number_of_steps=3,
        init_fn=calls.append,
        save_summaries_secs=3600,
        save_interval_secs=3600,
      )
    assert tf.train.latest_checkpoint(logdir).endswith('model.ckpt-3')
    assert len(calls) == 1
    with tf.Graph().as_default():
      train_op = self._graph()
      last = slim.learning.train(
        train_op, logdir, number_of_steps=6, init_fn=calls.append
      )
    # Restored from the checkpoint: init_fn is not called again.
    assert len(calls) == 1
    assert tf.train.latest_checkpoint(logdir).endswith('model.ckpt-6')
    assert last < first

  def test_bad_arguments(self, tmp_path):
    with tf.Graph().as_default():
      train_op = self._graph()
      with pytest.raises(ValueError, match='number_of_steps'):
        slim.learning.train(train_op, str(tmp_path), number_of_steps=0)
      with pytest.raises(NotImplementedError, match='sync_optimizer'):
        slim.learning.train(train_op, str(tmp_path), sync_optimizer=object())

  def test_create_train_op_runs_update_ops_first(self):
    with tf.Graph().as_default():
      counter = tf.Variable(0.0)
      tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, counter.assign_add(1.0))
      train_op = self._graph()
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train_op)
        sess.run(train_op)
        assert sess.run(counter) == 2.0
        assert sess.run(tf.train.get_global_step()) == 2


class TestMetricsAndNamespace:
  def test_streaming_accuracy(self):
    with tf.Graph().as_default():
      predictions = tf.placeholder(tf.int64, [None])
      labels = tf.placeholder(tf.int64, [None])
      values, updates = slim.metrics.aggregate_metric_map(
        {'accuracy': slim.metrics.streaming_accuracy(predictions, labels)}
      )
      with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(updates, {predictions: [1, 2], labels: [1, 1]})
        sess.run(updates, {predictions: [3, 3], labels: [3, 3]})
        assert sess.run(values['accuracy']) == pytest.approx(0.75)

  def test_slim_exposes_its_modules(self):
    assert slim.variables.get_model_variables is slim.get_model_variables
    assert tf.contrib.slim is slim
    assert slim.utils.convert_collection_to_dict

  def test_slim_names_are_contrib_layers_and_framework_objects(self):
    # As TF 1.15's slim, which also had the global-step asserts.
    for name in tf.contrib.layers.__all__:
      assert getattr(slim, name) is getattr(tf.contrib.layers, name)
    assert slim.assert_global_step is tf.contrib.framework.assert_global_step
    assert slim.arg_scope is tf.contrib.framework.arg_scope

  @pytest.mark.parametrize('name', ['evaluation', 'nets'])
  def test_missing_slim_modules_raise_not_provided(self, name):
    with pytest.raises(errors.NotProvidedError, match=f'slim.{name}'):
      getattr(slim, name)


def test_golden_files_are_small():
  total = 0
  for root, _, files in os.walk(_contrib_models.GOLDENS):
    total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
  assert total < 2_000_000
