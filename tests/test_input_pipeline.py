"""Tests of graphnet.input_pipeline: resident data, epochs, the loop."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet import input_data
from graphnet import input_pipeline
from graphnet import mnist

_NUM = 37  # Not a multiple of the batch size: batches cross epochs.
_BATCH = 10


def _indexed_data_set(num=_NUM):
  """A data set whose image i has pixel 0 = i (so batches reveal indices)."""
  images = np.zeros((num, 784), np.uint8)
  images[:, 0] = np.arange(num)
  return input_data.DataSet(images, np.arange(num) % 10, dtype=np.uint8)


def _session(inputs):
  sess = tf.Session()
  sess.run(tf.global_variables_initializer())
  sess.run(tf.local_variables_initializer(), inputs.local_init_feed_dict)
  return sess


def _assert_epochs(indices, num=_NUM):
  indices = np.asarray(indices)
  full = len(indices) // num
  assert full >= 2
  orders = indices[: full * num].reshape(full, num)
  for order in orders:
    np.testing.assert_array_equal(np.sort(order), np.arange(num))
  # Shuffled, and reshuffled each epoch.
  assert not np.array_equal(orders[0], np.arange(num))
  assert not np.array_equal(orders[0], orders[1])


class TestResidentInputs:
  def _inputs(self, seed=0):
    images, labels = mnist.placeholder_inputs()
    return input_pipeline.ResidentInputs(
      _indexed_data_set(), images, labels, _BATCH, seed=seed
    )

  def test_next_batch_sees_every_example_once_per_epoch(self):
    with tf.Graph().as_default():
      inputs = self._inputs()
      images, labels = inputs.next_batch()
      with _session(inputs) as sess:
        seen = []
        for _ in range(12):  # 120 examples: 3 epochs and a bit.
          x, y = sess.run([images, labels])
          assert x.shape == (_BATCH, 784) and y.shape == (_BATCH,)
          index = np.rint(x[:, 0] * 255).astype(int)
          np.testing.assert_array_equal(y, index % 10)
          seen.extend(index)
    _assert_epochs(seen)

  def test_loop_sees_every_example_once_per_epoch(self):
    with tf.Graph().as_default():
      inputs = self._inputs()
      seen = tf.get_variable(
        'seen', [_NUM], tf.int32, tf.zeros_initializer(), trainable=False
      )

      def step_fn(images, labels):
        del labels
        index = tf.cast(tf.round(images[:, 0] * 255), tf.int32)
        return tf.constant(0.0), tf.scatter_add(
          seen, index, tf.ones_like(index)
        )

      loss, train_op = inputs.train_loop(step_fn, 7)
      with _session(inputs) as sess:
        for run in range(1, 4):
          sess.run([train_op, loss])
          counts = sess.run(seen)
          drawn = run * 7 * _BATCH
          # Every example seen floor or ceil of drawn / N times.
          assert counts.sum() == drawn
          assert counts.min() >= drawn // _NUM
          assert counts.max() <= -(-drawn // _NUM)

  def test_batches_match_data_set_images(self):
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (_NUM, 784), dtype=np.uint8)
    pixels[:, 0] = np.arange(_NUM)
    data = input_data.DataSet(pixels, np.arange(_NUM) % 10)  # float32
    with tf.Graph().as_default():
      images, labels = mnist.placeholder_inputs()
      inputs = input_pipeline.ResidentInputs(data, images, labels, _BATCH, 1)
      batch, _ = inputs.next_batch()
      with _session(inputs) as sess:
        x = sess.run(batch)
    index = np.rint(x[:, 0] * 255).astype(int)
    assert x.dtype == np.float32
    # TF may divide by multiplying with 1/255: one rounding apart at most.
    np.testing.assert_allclose(x, data.images[index], rtol=2e-7, atol=0)

  def test_same_seed_same_order_loop_or_not(self):
    def draw(use_loop):
      with tf.Graph().as_default():
        inputs = self._inputs(seed=5)
        last = tf.get_variable(
          'last', [_BATCH], tf.int32, tf.zeros_initializer(), trainable=False
        )
        if use_loop:

          def step_fn(images, labels):
            del labels
            index = tf.cast(tf.round(images[:, 0] * 255), tf.int32)
            return tf.constant(0.0), last.assign(index, read_value=False)

          # One step per run: the order state must carry across runs.
          _, train_op = inputs.train_loop(step_fn, 1)
          with _session(inputs) as sess:
            out = []
            for _ in range(9):
              sess.run(train_op)
              out.append(sess.run(last))
            out = np.concatenate(out)
        else:
          images, _ = inputs.next_batch()
          with _session(inputs) as sess:
            out = np.concatenate([sess.run(images)[:, 0] for _ in range(9)])
            out = np.rint(out * 255).astype(int)
        return np.asarray(out)

    np.testing.assert_array_equal(draw(True), draw(False))

  def test_loop_rejects_a_new_variable(self):
    with tf.Graph().as_default():
      inputs = self._inputs()

      def step_fn(images, labels):
        w = tf.get_variable('made_in_loop', [784, 1])
        return tf.reduce_sum(tf.matmul(images, w)), tf.no_op()

      with pytest.raises(errors.ConfigError, match='made_in_loop'):
        inputs.train_loop(step_fn, 3)

  def test_loop_keeps_outer_collections(self):
    with tf.Graph().as_default():
      inputs = self._inputs()
      tf.add_to_collection('losses', tf.constant(1.0))
      outer = list(tf.get_collection('losses'))

      def step_fn(images, labels):
        # The body sees an empty collection and may add to it.
        assert not tf.get_collection('losses')
        tf.add_to_collection('losses', tf.reduce_sum(images))
        return tf.add_n(tf.get_collection('losses')), tf.no_op()

      inputs.train_loop(step_fn, 2)
      assert tf.get_collection('losses') == outer

  def test_data_is_not_in_the_graph_def(self):
    with tf.Graph().as_default() as graph:
      inputs = self._inputs()
      inputs.next_batch()
      variables = {v.op.name for v in tf.local_variables()}
      assert 'resident/images' in variables
      assert not tf.global_variables()
      assert graph.as_graph_def().ByteSize() < 100_000

  def test_bad_batch_size(self):
    with tf.Graph().as_default():
      images, labels = mnist.placeholder_inputs()
      with pytest.raises(errors.DataError, match='batch_size'):
        input_pipeline.ResidentInputs(
          _indexed_data_set(), images, labels, _NUM + 1
        )
