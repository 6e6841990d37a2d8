"""TF1's `tf.contrib.rnn.LayerNormBasicLSTMCell`, without Keras.

A BasicLSTMCell whose four gate pre-activations and new cell state are
layer-normalized (Ba et al. 2016), with optional recurrent dropout on the
new input (Semeniuta et al. 2016). As in TF 1.15 it is a plain `RNNCell`
making its variables with `tf.get_variable` in `call`, under the cell's
scope (`rnn/layer_norm_basic_lstm_cell/`):

  kernel [depth + units, 4 * units]   glorot uniform
  bias [4 * units]                    only with layer_norm=False;
                                      glorot uniform too, as in TF 1.15
  input|transform|forget|output|state/gamma [units]  (norm_gain)
  input|transform|forget|output|state/beta [units]   (norm_shift)

Example:
    cell = rnn.LayerNormBasicLSTMCell(64, dropout_keep_prob=keep_prob)
    outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
"""

import tensorflow.compat.v1 as tf

from graphnet.compat.v1 import _rnn_base

__all__ = ['LayerNormBasicLSTMCell']

# contrib.layers.layer_norm's variance epsilon (float16: 1e-3).
_EPSILON = 1e-12


class LayerNormBasicLSTMCell(_rnn_base.RNNCell):
  """LSTM with layer normalization and recurrent dropout.

  Args:
    num_units: int, the size of c and h.
    forget_bias: added to the forget gate at each step.
    input_size: deprecated and unused (TF 1.15 only warned).
    activation: the activation of the new input and the output; tanh.
    layer_norm: normalize the gates and the new state (no bias then).
    norm_gain: the initial gamma of each normalization.
    norm_shift: the initial beta of each normalization.
    dropout_keep_prob: keep probability of the new input (float or tensor);
      the constant 1.0 adds no op.
    dropout_prob_seed: the dropout's seed.
    reuse: True to share an existing scope's variables.
  """

  def __init__(
    self,
    num_units,
    forget_bias=1.0,
    input_size=None,
    activation=tf.tanh,
    layer_norm=True,
    norm_gain=1.0,
    norm_shift=0.0,
    dropout_keep_prob=1.0,
    dropout_prob_seed=None,
    reuse=None,
  ):
    super().__init__(_reuse=reuse)
    del input_size  # Deprecated in TF1 too.
    self._num_units = num_units
    self._activation = activation
    self._forget_bias = forget_bias
    self._keep_prob = dropout_keep_prob
    self._seed = dropout_prob_seed
    self._layer_norm = layer_norm
    self._norm_gain = norm_gain
    self._norm_shift = norm_shift

  @property
  def state_size(self):
    return _rnn_base.LSTMStateTuple(self._num_units, self._num_units)

  @property
  def output_size(self):
    return self._num_units

  def _norm(self, inputs, scope, dtype):
    """Layer norm of inputs [batch, units] with `scope`/gamma and /beta."""
    shape = inputs.shape[-1:]
    with tf.variable_scope(scope):
      gamma = tf.get_variable(
        'gamma',
        shape=shape,
        initializer=tf.constant_initializer(self._norm_gain),
        dtype=dtype,
      )
      beta = tf.get_variable(
        'beta',
        shape=shape,
        initializer=tf.constant_initializer(self._norm_shift),
        dtype=dtype,
      )
    # contrib's layer_norm(reuse=True, scope=scope) opened the scope again.
    with tf.variable_scope(scope, reuse=True):
      mean, variance = tf.nn.moments(inputs, [1], keep_dims=True)
      epsilon = 1e-3 if dtype == tf.float16 else _EPSILON
      normalized = tf.nn.batch_normalization(
        inputs, mean, variance, beta, gamma, epsilon
      )
    normalized.set_shape(inputs.shape)
    return normalized

  def call(self, inputs, state):
    c, h = state
    args = tf.concat([inputs, h], 1)
    dtype = args.dtype
    depth = tf.compat.dimension_value(args.shape[-1])
    kernel = tf.get_variable(
      'kernel', [depth, 4 * self._num_units], dtype=dtype
    )
    gates = tf.matmul(args, kernel)
    if not self._layer_norm:
      bias = tf.get_variable('bias', [4 * self._num_units], dtype=dtype)
      gates = tf.nn.bias_add(gates, bias)
    i, j, f, o = tf.split(gates, 4, axis=1)  # [batch, units] each
    if self._layer_norm:
      i = self._norm(i, 'input', dtype)
      j = self._norm(j, 'transform', dtype)
      f = self._norm(f, 'forget', dtype)
      o = self._norm(o, 'output', dtype)
    g = self._activation(j)
    if not isinstance(self._keep_prob, float) or self._keep_prob < 1:
      g = tf.nn.dropout(g, rate=1 - self._keep_prob, seed=self._seed)
    new_c = c * tf.sigmoid(f + self._forget_bias) + tf.sigmoid(i) * g
    if self._layer_norm:
      new_c = self._norm(new_c, 'state', dtype)
    new_h = self._activation(new_c) * tf.sigmoid(o)
    return new_h, _rnn_base.LSTMStateTuple(new_c, new_h)
