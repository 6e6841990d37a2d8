"""Tests of graphnet.input_pipeline: resident and fed batches, the loop."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.data import mnist_reader as input_data
from graphnet.nn import mlp as mnist
from graphnet.training import input_pipeline

_NUM = 37  # Not a multiple of the batch size: batches cross epochs.
_BATCH = 10


def _indexed_data_set(num=_NUM, seed=None):
  """A data set whose image i has pixel 0 = i (so batches reveal indices)."""
  images = np.zeros((num, 784), np.uint8)
  images[:, 0] = np.arange(num)
  return input_data.DataSet(
    images, np.arange(num) % 10, dtype=np.uint8, seed=seed
  )


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
    # TF divides by multiplying with 1/255: one rounding apart at most.
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


def _first_pixels(inputs, num_steps, runs):
  """Pixel 0 (the example's index) of every step's batch, per loop run."""
  seen = tf.get_variable(
    'seen', [runs * num_steps, _BATCH], tf.int32, trainable=False
  )
  count = tf.get_variable('count', [], tf.int32, trainable=False)
  first_losses = []

  def step_fn(images, labels):
    index = tf.cast(tf.round(images[:, 0] * 255), tf.int32)
    # The loss of step k is k: the loop reports its first step's.
    loss = tf.cast(count.read_value(), tf.float32)
    with tf.control_dependencies([labels]):
      write = tf.scatter_update(seen, count.read_value(), index)
    with tf.control_dependencies([write, loss]):
      return loss, count.assign_add(1)

  loss, train_op = inputs.train_loop(step_fn, num_steps)
  with _session(inputs) as sess:
    for _ in range(runs):
      first_losses.append(sess.run([train_op, loss], inputs.feed_dict())[1])
    return sess.run(seen), first_losses


class TestFedBatches:
  def _inputs(self, data, steps_per_run):
    images, labels = mnist.placeholder_inputs()
    return input_pipeline.FedBatches(
      data, images, labels, _BATCH, steps_per_run
    )

  def test_batches_are_those_of_next_batch(self):
    twin = _indexed_data_set(seed=4)
    data = _indexed_data_set(seed=4)
    with tf.Graph().as_default():
      # 3 runs of 4 steps: 120 examples, crossing three epochs of 37.
      seen, losses = _first_pixels(self._inputs(data, 4), 4, 3)
    expected = [twin.next_batch(_BATCH)[0][:, 0] for _ in range(12)]
    np.testing.assert_array_equal(seen, np.asarray(expected, np.int32))
    _assert_epochs(seen.ravel())
    assert losses == [0.0, 4.0, 8.0]

  def test_images_bit_for_bit_those_of_data_set(self):
    rng = np.random.default_rng(3)
    data = input_data.DataSet(
      rng.integers(0, 256, (_NUM, 784), dtype=np.uint8), np.arange(_NUM) % 10
    )
    with tf.Graph().as_default():
      inputs = self._inputs(data, 1)
      last = tf.get_variable('last', [_BATCH, 784], trainable=False)

      def step_fn(images, labels):
        del labels
        return tf.constant(0.0), last.assign(images, read_value=False)

      _, train_op = inputs.train_loop(step_fn, 1)
      feed = inputs.feed_dict()
      pixels = next(v for v in feed.values() if v.ndim == 3)
      # Pixels go over the wire: a quarter of the float32 bytes.
      assert pixels.dtype == np.uint8 and pixels.shape == (1, _BATCH, 784)
      with _session(inputs) as sess:
        sess.run(train_op, feed)
        x = sess.run(last)
    np.testing.assert_array_equal(
      x, np.divide(pixels[0], np.float32(255.0), dtype=np.float32)
    )

  def test_loop_runs_min_of_num_steps_and_batches_fed(self):
    twin = _indexed_data_set(seed=6)
    with tf.Graph().as_default():
      # Three batches fed per run, two steps taken: the third is dropped.
      data = _indexed_data_set(seed=6)
      seen, _ = _first_pixels(self._inputs(data, 3), 2, 2)
    batches = [
      np.rint(twin.next_batch(_BATCH)[0][:, 0]).astype(np.int32)
      for _ in range(6)
    ]
    np.testing.assert_array_equal(seen, [batches[i] for i in (0, 1, 3, 4)])

  def test_one_hot_labels_refused(self):
    data = input_data.DataSet(
      np.zeros((_NUM, 784), np.uint8), np.arange(_NUM) % 10, one_hot=True
    )
    with tf.Graph().as_default():
      with pytest.raises(errors.DataError, match='one_hot=False'):
        self._inputs(data, 2)
