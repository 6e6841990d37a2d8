"""RNN classifiers over MNIST rows, written as TF1 programs were in 2017-18.

One source for both sides: make_rnn_goldens.py runs it under TF 1.15 as
is; tests/compat/test_rnn_cell.py runs it under graphnet with only the
two import lines below changed (see IMPORT_SWAPS), and the variables,
checkpoints and outputs must match.

Each `build_<model>()` makes, in the default graph, the placeholders
`x` [batch, 28, 28] float32 (28 time steps of 28 pixels), `y` [batch]
int64 and `keep_prob` (a float scalar, default 1.0), and returns a dict
with `logits` [batch, 10], `loss` and `train_op` (Adam; None when built
with `train=False`, which leaves out Adam's variables and the gradients).
"""

import tensorflow as tf
from tensorflow.contrib import rnn

# What the graphnet side puts in place of each TF 1.15 import line.
IMPORT_SWAPS = {
  'import tensorflow as tf': 'import graphnet.compat.v1 as tf',
  'from tensorflow.contrib import rnn': (
    'from graphnet.compat.v1.contrib import rnn'
  ),
}

STEPS = 28
PIXELS = 28
CLASSES = 10
UNITS = 32


def _inputs():
  x = tf.placeholder(tf.float32, [None, STEPS, PIXELS], name='x')
  y = tf.placeholder(tf.int64, [None], name='y')
  keep_prob = tf.placeholder_with_default(1.0, [], name='keep_prob')
  return x, y, keep_prob


def _head(features, y, units, train):
  """Softmax layer the way the tutorials wrote it: weights/biases dicts."""
  weights = tf.Variable(tf.random_normal([units, CLASSES]), name='out_w')
  biases = tf.Variable(tf.random_normal([CLASSES]), name='out_b')
  logits = tf.matmul(features, weights) + biases
  loss = tf.reduce_mean(
    tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
  )
  train_op = tf.train.AdamOptimizer(0.01).minimize(loss) if train else None
  return {'logits': logits, 'loss': loss, 'train_op': train_op}


def build_static_lstm(train=True):
  """rnn.BasicLSTMCell in rnn.static_rnn over 28 unstacked rows."""
  x, y, _ = _inputs()
  rows = tf.unstack(x, STEPS, 1)
  cell = rnn.BasicLSTMCell(UNITS, forget_bias=1.0)
  outputs, _ = rnn.static_rnn(cell, rows, dtype=tf.float32)
  return _head(outputs[-1], y, UNITS, train)


def build_dynamic_lstm(train=True):
  """tf.nn.rnn_cell.LSTMCell with peepholes and projection, dynamic_rnn."""
  x, y, _ = _inputs()
  lengths = tf.fill([tf.shape(x)[0]], STEPS)
  cell = tf.nn.rnn_cell.LSTMCell(
    UNITS, use_peepholes=True, num_proj=24, cell_clip=5.0
  )
  _, state = tf.nn.dynamic_rnn(
    cell, x, sequence_length=lengths, dtype=tf.float32
  )
  return _head(state.h, y, 24, train)


def build_multi_dropout(train=True):
  """Two BasicLSTMCells, each in a DropoutWrapper, in a MultiRNNCell."""
  x, y, keep_prob = _inputs()
  cells = [
    tf.nn.rnn_cell.DropoutWrapper(
      tf.nn.rnn_cell.BasicLSTMCell(UNITS), output_keep_prob=keep_prob
    )
    for _ in range(2)
  ]
  stack = tf.nn.rnn_cell.MultiRNNCell(cells)
  outputs, _ = tf.nn.dynamic_rnn(stack, x, dtype=tf.float32)
  return _head(outputs[:, -1, :], y, UNITS, train)


def build_gru(train=True):
  """tf.nn.rnn_cell.GRUCell in dynamic_rnn, time-major."""
  x, y, _ = _inputs()
  time_major = tf.transpose(x, [1, 0, 2])
  cell = tf.nn.rnn_cell.GRUCell(UNITS)
  _, state = tf.nn.dynamic_rnn(
    cell, time_major, dtype=tf.float32, time_major=True
  )
  return _head(state, y, UNITS, train)


def build_bidirectional(train=True):
  """bidirectional_dynamic_rnn of two LSTMs, and a static bidirectional."""
  x, y, _ = _inputs()
  fw = rnn.BasicLSTMCell(UNITS // 2)
  bw = rnn.BasicLSTMCell(UNITS // 2)
  (out_fw, out_bw), _ = tf.nn.bidirectional_dynamic_rnn(
    fw, bw, x, dtype=tf.float32
  )
  both = tf.concat([out_fw, out_bw], 2)
  rows = tf.unstack(both[:, -4:], 4, 1)  # the last 4 steps
  outputs, _, _ = rnn.static_bidirectional_rnn(
    rnn.GRUCell(UNITS // 4),
    rnn.GRUCell(UNITS // 4),
    rows,
    dtype=tf.float32,
    scope='static_bidi',
  )
  return _head(outputs[-1], y, UNITS // 2, train)


def build_layer_norm(train=True):
  """rnn.LayerNormBasicLSTMCell with recurrent dropout, dynamic_rnn."""
  x, y, keep_prob = _inputs()
  # Pixels in [-1, 1]: an all-zero row would give gates of zero variance,
  # whose layer-norm gradient is NaN (in TF 1.15 too).
  centered = 2.0 * x - 1.0
  cell = rnn.LayerNormBasicLSTMCell(UNITS // 2, dropout_keep_prob=keep_prob)
  _, state = tf.nn.dynamic_rnn(cell, centered, dtype=tf.float32)
  return _head(state.h, y, UNITS // 2, train)


MODELS = {
  'static_lstm': build_static_lstm,
  'dynamic_lstm': build_dynamic_lstm,
  'multi_dropout': build_multi_dropout,
  'gru': build_gru,
  'bidirectional': build_bidirectional,
  'layer_norm': build_layer_norm,
}


def build_naming():
  """Cells made and called the ways that test TF1's naming and reuse.

  Returns {label: cell.name} for the cells made here; the variables are
  in the default graph.
  """
  x = tf.placeholder(tf.float32, [4, 3, 5], name='x')
  rows = tf.unstack(x, 3, 1)
  names = {}
  # Two cells run in one scope: the second one's scope is numbered.
  with tf.variable_scope('two'):
    a = rnn.BasicLSTMCell(4)
    b = rnn.BasicLSTMCell(4)
    out_a, _ = rnn.static_rnn(a, rows, dtype=tf.float32, scope='rnn_a')
    rnn.static_rnn(b, out_a, dtype=tf.float32, scope='rnn_a_again')
    names['a'], names['b'] = a.name, b.name
  # Two new cells called in one scope: the second scope gets a number.
  with tf.variable_scope('same'):
    f = tf.nn.rnn_cell.BasicLSTMCell(2)
    g = tf.nn.rnn_cell.BasicLSTMCell(2)
    f(rows[0], f.zero_state(4, tf.float32))
    g(rows[1], g.zero_state(4, tf.float32))
    f(rows[2], f.zero_state(4, tf.float32))
  # A cell called directly, twice, then again in an RNN: one set of vars.
  with tf.variable_scope('direct'):
    c = tf.nn.rnn_cell.GRUCell(6, name='my_gru')
    state = c.zero_state(4, tf.float32)
    out, state = c(rows[0], state)
    out, state = c(rows[1], state)
    tf.nn.static_rnn(c, rows, initial_state=state)
    names['c'] = c.name
  # reuse=True takes the name as is and shares.
  with tf.variable_scope('shared'):
    tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(3), x, dtype=tf.float32)
  with tf.variable_scope('shared', reuse=True):
    d = tf.nn.rnn_cell.BasicRNNCell(3, reuse=True)
    tf.nn.dynamic_rnn(d, x, dtype=tf.float32)
  # Stacks: wrappers add no scope; a MultiRNNCell in a MultiRNNCell.
  with tf.variable_scope('stacks'):
    inner = tf.nn.rnn_cell.MultiRNNCell(
      [tf.nn.rnn_cell.LSTMCell(4), tf.nn.rnn_cell.LSTMCell(4, num_proj=2)]
    )
    outer = tf.nn.rnn_cell.MultiRNNCell(
      [
        tf.nn.rnn_cell.ResidualWrapper(tf.nn.rnn_cell.BasicRNNCell(5)),
        inner,
        tf.nn.rnn_cell.DeviceWrapper(
          tf.nn.rnn_cell.LSTMCell(3, state_is_tuple=False), '/cpu:0'
        ),
      ]
    )
    tf.nn.dynamic_rnn(outer, x, dtype=tf.float32)
    names['outer'], names['inner'] = outer.name, inner.name
  # Explicit scope objects and a stacked bidirectional layer.
  with tf.variable_scope('given') as given:
    pass
  e = tf.nn.rnn_cell.BasicLSTMCell(2, state_is_tuple=False)
  e(rows[0], e.zero_state(4, tf.float32), scope=given)
  rnn.stack_bidirectional_dynamic_rnn(
    [rnn.LSTMCell(2), rnn.LSTMCell(2)],
    [rnn.LSTMCell(2), rnn.LSTMCell(2)],
    x,
    dtype=tf.float32,
  )
  names['e'] = e.name
  with tf.variable_scope('norm'):
    plain = rnn.LayerNormBasicLSTMCell(3, layer_norm=False)
    tf.nn.dynamic_rnn(plain, x, dtype=tf.float32)
    names['plain'] = plain.name
  return names
