"""Tests of graphnet.evaluation: counting every example."""

import math

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet.training import evaluation

tf.disable_eager_execution()


class _FakeDataSet:
  def __init__(self, images, labels):
    self.images = images
    self.labels = labels


class TestEvalResult:
  def test_format_is_tf1s_line(self):
    result = evaluation.EvalResult(10000, 9032)
    assert result.format() == (
      'Num examples: 10000  Num correct: 9032  Precision @ 1: 0.9032'
    )

  def test_format_rounds_to_four_places(self):
    assert evaluation.EvalResult(3, 2).format() == (
      'Num examples: 3  Num correct: 2  Precision @ 1: 0.6667'
    )
    assert evaluation.EvalResult(7, 7).precision == 1.0

  def test_empty_is_nan(self):
    result = evaluation.EvalResult(0, 0)
    assert math.isnan(result.precision)
    assert result.format().endswith('Precision @ 1: nan')


class TestEvalTower:
  def _tower(self, batch_size, shape=(None, 4)):
    images = tf.placeholder(tf.float32, shape)
    labels = tf.placeholder(tf.int32, [None])
    flat = tf.reshape(images, [-1, 4])  # [batch, 4]
    calls = tf.Variable(0, trainable=False)
    count = tf.assign_add(calls, 1)
    with tf.control_dependencies([count]):
      num_correct = tf.reduce_sum(
        tf.cast(tf.nn.in_top_k(flat, labels, 1), tf.int32)
      )
    return evaluation.EvalTower(images, labels, num_correct, batch_size), calls

  def _data(self, n, seed=0):
    rng = np.random.RandomState(seed)
    images = rng.rand(n, 4).astype(np.float32)
    labels = rng.randint(0, 4, n).astype(np.int32)
    return images, labels, int((images.argmax(1) == labels).sum())

  @pytest.mark.parametrize('batch_size', [1, 5, 7, 23, 24, 1000])
  def test_counts_every_example(self, batch_size):
    images, labels, correct = self._data(23)
    with tf.Graph().as_default():
      tower, calls = self._tower(batch_size)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        result = tower.run(sess, _FakeDataSet(images, labels))
        runs = sess.run(calls)
    assert result == evaluation.EvalResult(23, correct)
    assert runs == math.ceil(23 / batch_size)

  def test_default_batch_size(self):
    with tf.Graph().as_default():
      tower, _ = self._tower(None)
    assert tower.batch_size == 10000

  def test_one_hot_labels(self):
    images, labels, correct = self._data(19, seed=1)
    one_hot = np.eye(4, dtype=np.float64)[labels]  # [19, 4]
    with tf.Graph().as_default():
      tower, _ = self._tower(6)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        result = tower.run(sess, _FakeDataSet(images, one_hot))
    assert result == evaluation.EvalResult(19, correct)

  def test_images_are_flattened(self):
    images, labels, correct = self._data(10, seed=2)
    with tf.Graph().as_default():
      tower, _ = self._tower(4)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        result = tower.run(
          sess, _FakeDataSet(images.reshape(10, 2, 2, 1), labels)
        )
    assert result.num_correct == correct

  def test_empty_data_set(self):
    with tf.Graph().as_default():
      tower, calls = self._tower(5)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        empty = _FakeDataSet(
          np.zeros([0, 28, 28, 1], np.float32), np.zeros([0], np.int32)
        )
        result = tower.run(sess, empty)
        assert sess.run(calls) == 0
    assert result == evaluation.EvalResult(0, 0)

  def test_extra_feed_reaches_every_run(self):
    images, labels, _ = self._data(9, seed=3)
    with tf.Graph().as_default():
      scale = tf.placeholder_with_default(1.0, [])
      tower, _ = self._tower(4)
      # Negated logits: the prediction becomes the argmin.
      logits = tf.reshape(tower.images, [-1, 4]) * scale
      tower.num_correct = tf.reduce_sum(
        tf.cast(tf.nn.in_top_k(logits, tower.labels, 1), tf.int32)
      )
      with tf.Session() as sess:
        result = tower.run(
          sess, _FakeDataSet(images, labels), extra_feed={scale: -1.0}
        )
    assert result.num_correct == int((images.argmin(1) == labels).sum())
