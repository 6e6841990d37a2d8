"""tf.contrib.layers and slim networks, written as TF1 programs were in 2017-18.

One source for both sides: make_contrib_goldens.py runs it under TF 1.15
as is; tests/compat/test_contrib.py and test_slim.py run it under graphnet
with only the two import lines below changed (see IMPORT_SWAPS), and the
variables, checkpoints and outputs must match.

Each `build_<model>()` makes, in the default graph, the placeholders `x`
[batch, 784] float32 and `y` [batch] int64 and returns a dict with
`logits` [batch, 10], `loss`, `train_op`, and the feeds for training
(`train_feed`: batch statistics, dropout on) and for a deterministic
training step (`step_feed`: batch statistics, dropout off).
"""

import tensorflow as tf
import tensorflow.contrib.slim as slim

# What the graphnet side puts in place of each TF 1.15 import line.
IMPORT_SWAPS = {
  'import tensorflow as tf': 'import graphnet.compat.v1 as tf',
  'import tensorflow.contrib.slim as slim': (
    'import graphnet.compat.v1.contrib.slim as slim'
  ),
}

PIXELS = 784
CLASSES = 10
MLP_HIDDEN = 32
MOVING_AVERAGE_DECAY = 0.99
MODELS = ('contrib_mlp', 'slim_cnn', 'contrib_decoder')


def _inputs():
  x = tf.placeholder(tf.float32, [None, PIXELS], name='x')
  y = tf.placeholder(tf.int64, [None], name='y')
  return x, y


def build_contrib_mlp():
  """A contrib fully_connected MLP, L2 on the weights, moving averages."""
  x, y = _inputs()
  regularizer = tf.contrib.layers.l2_regularizer(0.0001)
  hidden = tf.contrib.layers.fully_connected(
    x, MLP_HIDDEN, weights_regularizer=regularizer
  )
  logits = tf.contrib.layers.fully_connected(
    hidden, CLASSES, activation_fn=None, weights_regularizer=regularizer
  )
  global_step = tf.Variable(0, trainable=False, name='global_step')
  ema = tf.train.ExponentialMovingAverage(MOVING_AVERAGE_DECAY, global_step)
  ema_op = ema.apply(tf.trainable_variables())
  cross_entropy = tf.reduce_mean(
    tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
  )
  loss = cross_entropy + tf.add_n(
    tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
  )
  step = tf.train.GradientDescentOptimizer(0.5).minimize(
    loss, global_step=global_step
  )
  with tf.control_dependencies([step, ema_op]):
    train_op = tf.no_op(name='train')
  return {
    'x': x,
    'y': y,
    'logits': logits,
    'loss': loss,
    'train_op': train_op,
    'train_feed': {},
    'step_feed': {},
  }


def mlp_ema_logits():
  """The MLP rebuilt for evaluation: restore its moving averages.

  Returns (x, logits, saver) where the saver maps the shadow variables
  onto the model's, as the book's evaluator does.
  """
  x = tf.placeholder(tf.float32, [None, PIXELS], name='x')
  hidden = tf.contrib.layers.fully_connected(x, MLP_HIDDEN)
  logits = tf.contrib.layers.fully_connected(
    hidden, CLASSES, activation_fn=None
  )
  ema = tf.train.ExponentialMovingAverage(MOVING_AVERAGE_DECAY)
  saver = tf.train.Saver(ema.variables_to_restore())
  return x, logits, saver


def build_slim_cnn():
  """A slim CNN under arg_scope: conv + batch_norm + fully_connected."""
  x, y = _inputs()
  is_training = tf.placeholder_with_default(False, [], name='is_training')
  keep_prob = tf.placeholder_with_default(1.0, [], name='keep_prob')
  images = tf.reshape(x, [-1, 28, 28, 1])
  with slim.arg_scope(
    [slim.conv2d, slim.fully_connected],
    normalizer_fn=slim.batch_norm,
    normalizer_params={'is_training': is_training, 'decay': 0.9},
    weights_regularizer=slim.l2_regularizer(0.0005),
  ):
    net = slim.conv2d(images, 8, [5, 5], scope='conv1')
    net = slim.max_pool2d(net, [2, 2], scope='pool1')
    net = slim.conv2d(net, 16, [3, 3], scope='conv2')
    net = slim.max_pool2d(net, [2, 2], scope='pool2')
    net = slim.flatten(net)
    net = slim.fully_connected(net, 16, scope='fc3')
    net = slim.dropout(net, keep_prob, is_training=is_training)
    logits = slim.fully_connected(
      net, CLASSES, activation_fn=None, normalizer_fn=None, scope='logits'
    )
  slim.losses.softmax_cross_entropy(logits, tf.one_hot(y, CLASSES))
  total_loss = slim.losses.get_total_loss()
  optimizer = tf.train.MomentumOptimizer(0.05, 0.9)
  train_op = slim.learning.create_train_op(total_loss, optimizer)
  return {
    'x': x,
    'y': y,
    'logits': logits,
    'loss': total_loss,
    'train_op': train_op,
    'train_feed': {is_training: True, keep_prob: 0.8},
    'step_feed': {is_training: True, keep_prob: 1.0},
  }


def build_contrib_decoder():
  """A contrib conv encoder and conv2d_transpose decoder (an autoencoder).

  `logits` here are the reconstructions [batch, 784]; `y` is unused.
  """
  x, y = _inputs()
  images = tf.reshape(x, [-1, 28, 28, 1])
  code = tf.contrib.layers.conv2d(images, 4, [3, 3], stride=2)  # 14x14x4
  code = tf.contrib.layers.conv2d(code, 8, 3, stride=2, padding='VALID')
  # 6x6x8 -> 14x14x4 (VALID: 6 * 2 + 4 - 2) -> 28x28x1 (SAME: 14 * 2).
  up = tf.contrib.layers.conv2d_transpose(code, 4, 4, stride=2, padding='VALID')
  up = tf.contrib.layers.conv2d_transpose(
    up, 1, [3, 3], stride=2, activation_fn=tf.nn.sigmoid
  )
  reconstruction = tf.reshape(up, [-1, PIXELS])
  loss = tf.losses.mean_squared_error(x, reconstruction)
  train_op = tf.train.AdamOptimizer(0.01).minimize(
    loss, global_step=tf.train.get_or_create_global_step()
  )
  return {
    'x': x,
    'y': y,
    'logits': reconstruction,
    'loss': loss,
    'train_op': train_op,
    'train_feed': {},
    'step_feed': {},
  }


def build_naming():
  """Many layer calls, for their variable names, shapes and collections.

  Returns {label: output tensor}; naming.json records the static shapes.
  """
  images = tf.placeholder(tf.float32, [None, 8, 8, 3], name='images')
  flat = tf.placeholder(tf.float32, [None, 12], name='flat')
  seq = tf.placeholder(tf.float32, [None, 5, 12], name='seq')
  layers = tf.contrib.layers
  out = {}
  out['fc'] = layers.fully_connected(flat, 4)
  out['fc_1'] = layers.fully_connected(flat, 4)
  out['shared'] = layers.fully_connected(flat, 4, scope='shared')
  out['shared_again'] = layers.fully_connected(
    flat, 4, scope='shared', reuse=True
  )
  out['fc_bn'] = layers.fully_connected(
    flat,
    4,
    normalizer_fn=layers.batch_norm,
    normalizer_params={'scale': True},
  )
  out['fc_nobias'] = layers.fully_connected(
    flat, 4, biases_initializer=None, trainable=False
  )
  out['fc_rank3'] = layers.fully_connected(seq, 3)
  out['conv'] = layers.conv2d(images, 4, 3)
  out['conv_valid'] = layers.conv2d(
    images, 4, [3, 1], stride=2, padding='VALID'
  )
  out['deconv'] = layers.conv2d_transpose(images, 2, 3, stride=2)
  out['deconv_valid'] = layers.conv2d_transpose(
    images, 2, [3, 3], stride=2, padding='VALID'
  )
  out['repeat'] = slim.repeat(images, 2, slim.conv2d, 3, [3, 3])
  out['repeat_scoped'] = slim.repeat(
    images, 2, slim.conv2d, 3, [3, 3], scope='conv1'
  )
  out['stack_fc'] = slim.stack(flat, slim.fully_connected, [5, 6], scope='fc')
  out['stack_conv'] = slim.stack(
    images, slim.conv2d, [(4, [3, 3]), (5, [1, 1])]
  )
  out['bn4'] = layers.batch_norm(images)
  out['bn2'] = layers.batch_norm(flat, scale=True, center=False)
  out['bn4_scaled'] = layers.batch_norm(images, scale=True)
  out['bn4_in_place'] = layers.batch_norm(
    images, scale=True, updates_collections=None
  )
  out['bn2_unfused'] = layers.batch_norm(flat, scale=True, fused=False)
  out['bn3'] = layers.batch_norm(seq, scale=True)
  out['bias_add'] = layers.bias_add(flat)
  out['max_pool'] = layers.max_pool2d(images, 2)
  out['max_pool_same'] = layers.max_pool2d(images, 3, padding='SAME')
  out['avg_pool'] = layers.avg_pool2d(images, [2, 2], stride=1)
  out['flatten'] = layers.flatten(images)
  out['dropout'] = layers.dropout(flat, 0.5)
  out['one_hot'] = layers.one_hot_encoding(tf.constant([1, 2]), 5)
  out['softmax'] = layers.softmax(seq)
  out['model_variable'] = slim.model_variable('mv', shape=[2])
  out['variable'] = slim.variable('v', shape=[3])
  return out
