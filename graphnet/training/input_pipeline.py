"""Many training steps per `session.run`: the in-graph training loop.

Two ways to give the loop its batches. `FedBatches` (`input_pipeline='feed'`,
`steps_per_run=N`) draws N batches in Python with exactly the order of N
`DataSet.next_batch` calls and feeds them in one run, as uint8 pixels when
the set has them. `ResidentInputs` (`input_pipeline='resident'`) keeps the
whole training set in the graph and draws batches there.

`input_pipeline='resident'` keeps the whole training set in the graph: two
LOCAL variables (`resident/images`, uint8 pixels or float32 features
`[N, *feature_shape]`, and `resident/labels` int32 `[N]`) filled once per
session from the NumPy arrays through placeholders (the Scaffold's
`local_init_feed_dict`), so the `.meta` graph holds no data. Batches are
gathered inside the graph with the epoch rules of
`input_data.DataSet.next_batch`: the order is shuffled at the start of every
epoch (the first included), and a batch that crosses the end of an epoch is
the old epoch's tail followed by the new epoch's head. Epoch `e`'s order is
a stateless shuffle seeded by `(seed, e)`.

`ResidentInputs.train_loop(step_fn, num_steps)` runs `num_steps` training
steps per `session.run` in a `tf.while_loop` whose body gathers a batch and
builds `step_fn(images, labels)` on it. The body may only reuse variables
made before it (model weights, optimizer slots, moving averages): variables
live outside the loop so checkpoints, hooks and the evaluation tower see
them, and a variable made inside would be a new one every run.

Example:
    images, labels = mnist.placeholder_inputs()
    inputs = ResidentInputs(data_sets.train, images, labels, batch_size=100,
                            seed=0)
    step_fn(images, labels)  # Creates the variables, on the placeholders.
    loss, train_op = inputs.train_loop(step_fn, num_steps=100)
    scaffold = tf.train.Scaffold(
        local_init_feed_dict=inputs.local_init_feed_dict)
"""

import secrets

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.training import loop

__all__ = ['FedBatches', 'ResidentInputs']


def _resident_images(data_set, images):
  """The training images to keep in the graph, and whether they are bytes.

  Raw uint8 pixels when the set has them (a quarter of the memory and of
  the bytes each batch gathers), else its float32 features; either shaped
  `[N, *feature_shape]` like the `images` placeholder.

  Returns:
    (array, scale): scale is True for uint8 pixels (batches are / 255).
  """
  try:
    data, scale = data_set.pixels, True
  except errors.DataError:
    data, scale = data_set.images, False
  feature_shape = images.shape.as_list()[1:]
  if None not in feature_shape:
    data = np.reshape(data, [data_set.num_examples, *feature_shape])
  return np.ascontiguousarray(data), scale


class ResidentInputs:
  """The training set in LOCAL variables, batched and shuffled in-graph.

  Attributes:
    images: the float32 `[None, *features]` placeholder the step is first
      built on (to create the variables); also the restore contract's
      `images`.
    labels: the int32 `[None]` placeholder.
    local_init_feed_dict: feed of the local-variable initializer, for
      `tf.train.Scaffold(local_init_feed_dict=...)`.
    last_loss: float32 scalar, the last step's loss of the loop
      `train_loop` built (None before).
  """

  last_loss = None

  def __init__(self, data_set, images, labels, batch_size, seed=None):
    """Creates the resident data and the batch-order state.

    Creates LOCAL variables in name scope `resident/`: `images` uint8
    `[N, *feature_shape]` (raw pixels; batches are scaled to [0, 1] as
    `DataSet.images` are; float32 features when the set has no pixels),
    `labels` int32 `[N]` (initialised from placeholders
    `images_init` / `labels_init`), `order` int32 `[N]` (the current
    epoch's permutation), `index_in_epoch` and `epoch` (int32 scalars).
    They are not saved in checkpoints: like `DataSet`, a new session starts
    again at epoch 0.

    Args:
      data_set: an `input_data.DataSet` (`.pixels` uint8 `[N, features]`
        or float `.images`, `.labels` int `[N]`).
      images: the float32 `[None, *feature_shape]` images placeholder.
      labels: the int32 `[None]` labels placeholder.
      batch_size: examples per step, in [1, N].
      seed: int seed of the epoch shuffles; None picks one at random.

    Raises:
      DataError: `batch_size` is not in [1, N] or labels are one-hot.
    """
    loop.check_batches(data_set, batch_size, 'resident')
    data_labels = np.asarray(data_set.labels)
    num = data_set.num_examples
    self.images, self.labels = images, labels
    self._num_examples = num
    self._batch_size = batch_size
    self._seed = secrets.randbits(31) if seed is None else int(seed)
    data_images, self._scale = _resident_images(data_set, images)
    with tf.name_scope('resident'):
      images_init = tf.placeholder(
        tf.as_dtype(data_images.dtype), data_images.shape, name='images_init'
      )
      labels_init = tf.placeholder(tf.int32, [num], name='labels_init')
      self._images = loop.local_variable(images_init, 'images')
      self._labels = loop.local_variable(labels_init, 'labels')
      self._order = loop.local_variable(self._permutation(0), 'order')
      self._index = loop.local_variable(0, 'index_in_epoch')
      self._epoch = loop.local_variable(0, 'epoch')
    self.local_init_feed_dict = {
      images_init: data_images,
      labels_init: data_labels.astype(np.int32, copy=False),
    }

  def feed_dict(self):
    """Nothing is fed per training run: the data is already in the graph."""
    return None

  def _permutation(self, epoch):
    """int32 `[N]`: the order of epoch `epoch` (a scalar int32 tensor)."""
    seed = tf.stack([tf.constant(self._seed), tf.cast(epoch, tf.int32)])
    # Sorting random keys rather than StatelessShuffle keeps to ops that
    # graph_safety allows in a .meta; float64 keys make ties negligible.
    keys = tf.raw_ops.StatelessRandomUniform(
      shape=[self._num_examples], seed=seed, dtype=tf.float64
    )
    return tf.argsort(keys)  # int32

  def _draw(self, order, index, epoch):
    """Gathers one batch; returns (images, labels, order, index, epoch)."""
    size, num = self._batch_size, self._num_examples
    end = index + size

    def _within_epoch():
      return order[index:end], order, end, epoch

    def _crossing():
      new_order = self._permutation(epoch + 1)
      head = end - num
      indices = tf.concat([order[index:], new_order[:head]], 0)
      return indices, new_order, head, epoch + 1

    indices, order, index, epoch = tf.cond(end <= num, _within_epoch, _crossing)
    indices.set_shape([size])
    # [batch, *feature_shape]
    batch_images = tf.gather(self._images, indices)
    if self._scale:
      # Pixels: as DataSet.images to within one float32 rounding (TF
      # multiplies by 1/255, about 3% of a step cheaper than `FedBatches`'s
      # exact division; this order is not next_batch's anyway).
      batch_images = tf.cast(batch_images, tf.float32) / 255.0
    batch_labels = tf.gather(self._labels, indices)  # [batch]
    return batch_images, batch_labels, order, index, epoch

  def next_batch(self):
    """One batch outside any loop, advancing the stored order state.

    Returns:
      (images float32 `[batch, *features]`, labels int32 `[batch]`); running
      them (together, in one `session.run`) consumes the next batch.
    """
    images, labels, order, index, epoch = self._draw(
      self._order.read_value(),
      self._index.read_value(),
      self._epoch.read_value(),
    )
    with tf.control_dependencies([images, labels]):
      save = tf.group(
        self._order.assign(order),
        self._index.assign(index),
        self._epoch.assign(epoch),
      )
    with tf.control_dependencies([save]):
      return tf.identity(images), tf.identity(labels)

  def train_loop(self, step_fn, num_steps):
    """Builds `num_steps` training steps in one `tf.while_loop`.

    `step_fn(images, labels)` must return `(loss, train_op)` and must have
    been called once before (on `self.images` / `self.labels`) so that
    every variable, optimizer slot and moving average it uses exists. In
    the body it runs in the caller's variable scope with a getter that
    only returns existing variables; the collections `losses`,
    `regularization_losses`, `update_ops` and `summaries` start empty there
    and are restored afterwards (summaries of the body would be unusable
    outside it: add them on the returned loss).

    Args:
      step_fn: function (images float32 `[batch, *features]`, labels int32
        `[batch]`) -> (float32 scalar loss, train op).
      num_steps: int32 scalar tensor (or int): steps to run, >= 0.

    Returns:
      (loss, train_op): the first step's loss (0.0 when no step ran), as
      one step per run would report the run's starting step, and the op
      that runs the loop and stores the batch-order state. The last
      step's loss is then `self.last_loss` (for summaries written with
      the step the run ends at).

    Raises:
      ConfigError: `step_fn` creates a variable inside the loop.
    """

    def _draw(unused_i, order, index, epoch):
      del unused_i
      return self._draw(order, index, epoch)

    state = (
      self._order.read_value(),
      self._index.read_value(),
      self._epoch.read_value(),
    )
    losses, (order, index, epoch) = loop.steps_loop(
      step_fn, num_steps, _draw, state
    )
    save = tf.group(
      self._order.assign(order),
      self._index.assign(index),
      self._epoch.assign(epoch),
      name='save_batch_order',
    )
    with tf.control_dependencies([save]):
      return loop.loop_outputs(self, *losses)


class FedBatches:
  """Up to N batches fed per `session.run`, in `DataSet.next_batch` order.

  `feed_dict()` draws N batches with `DataSet.next_batch_indices` (so the
  order is exactly that of N `next_batch` calls: same seed, same batches
  as one step per run) and feeds them as one `[N, batch, *features]`
  array, raw uint8 pixels when the set has them (a quarter of the bytes).
  `train_loop` builds the steps over them in a `tf.while_loop`.

  Attributes:
    images: the float32 `[None, *features]` placeholder the step is first
      built on (to create the variables); also the restore contract's
      `images`.
    labels: the int32 `[None]` placeholder.
    local_init_feed_dict: None (nothing to load into the graph).
    last_loss: float32 scalar, the last step's loss of the loop
      `train_loop` built (None before).
  """

  local_init_feed_dict = None
  last_loss = None

  def __init__(self, data_set, images, labels, batch_size, steps_per_run):
    """Makes the placeholders of the fed batches.

    Creates, in name scope `fed_batches/`, the placeholders `images`
    (uint8, or float32 when the set has no pixels, `[None, batch_size,
    *features]`) and `labels` (int32 `[None, batch_size]`), and
    `pixel_scale` (float32 scalar, 255 by default).

    Args:
      data_set: an `input_data.DataSet` with int labels `[N]`.
      images: the float32 `[None, *feature_shape]` images placeholder.
      labels: the int32 `[None]` labels placeholder.
      batch_size: examples per step, in [1, N].
      steps_per_run: batches fed per run, >= 1.

    Raises:
      DataError: `batch_size` is not in [1, N] or labels are one-hot.
    """
    loop.check_batches(data_set, batch_size, 'fed')
    self.images, self.labels = images, labels
    self._data_set = data_set
    self._batch_size = batch_size
    self._batches_per_run = steps_per_run
    self._data, scale = _resident_images(data_set, images)
    self._label_data = np.asarray(data_set.labels, dtype=np.int32)
    shape = [None, batch_size, *self._data.shape[1:]]
    with tf.name_scope('fed_batches'):
      self._batch_images = tf.placeholder(
        tf.as_dtype(self._data.dtype), shape, name='images'
      )
      self._batch_labels = tf.placeholder(
        tf.int32, [None, batch_size], name='labels'
      )
      self._scale = loop.pixel_scale() if scale else None

  def feed_dict(self):
    """The next `steps_per_run` batches, as the loop's feed."""
    n, size = self._batches_per_run, self._batch_size
    indices = np.concatenate(
      [self._data_set.next_batch_indices(size) for _ in range(n)]
    )
    images = np.take(self._data, indices, axis=0)
    labels = np.take(self._label_data, indices, axis=0)
    return {
      self._batch_images: images.reshape(n, size, *images.shape[1:]),
      self._batch_labels: labels.reshape(n, size),
    }

  def train_loop(self, step_fn, num_steps):
    """Builds up to `num_steps` steps over the fed batches.

    As `ResidentInputs.train_loop`; the loop runs min(`num_steps`, batches
    fed) steps.

    Returns:
      (loss, train_op): the first step's loss (0.0 when no step ran) and
      the op that runs the loop; the last step's loss is then
      `self.last_loss`.
    """
    fed = tf.shape(self._batch_images, out_type=tf.int32)[0]
    count = tf.minimum(fed, num_steps)

    def _draw(i):
      images = self._batch_images[i]
      if self._scale is not None:
        images = tf.cast(images, tf.float32) / self._scale
      return (images, self._batch_labels[i])

    losses, _ = loop.steps_loop(step_fn, count, _draw, ())
    return loop.loop_outputs(self, *losses)
