"""The unit cells of `tf.nn.rnn_cell` of TF 1.15: RNN, GRU and LSTM.

Public through `graphnet.compat.v1.rnn_cell` (which documents their
variables); this module holds their gates. Each cell makes its variables
in `build` under its own scope, with TF 1.15's names, shapes and gate
order, so a TF 1.15 checkpoint restores.

Example:
    cell = BasicLSTMCell(128)   # basic_lstm_cell/kernel, /bias
"""

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1 import _rnn_base
from graphnet.compat.v1 import _rnn_checks

__all__ = [
  'BasicRNNCell',
  'BasicLSTMCell',
  'LSTMCell',
  'GRUCell',
]


class _UnitsCell(_rnn_base.LayerRNNCell):
  """A cell of `num_units` units; checks the inputs' known depth.

  Its state and output are `num_units` wide unless a subclass says
  otherwise; `activation` (callable or name) defaults to tanh.
  """

  def __init__(
    self,
    num_units,
    activation=None,
    reuse=None,
    name=None,
    dtype=None,
    **kwargs,
  ):
    super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
    _rnn_checks.check_dtype(type(self).__name__, self._dtype)
    self._num_units = num_units
    self._activation = _rnn_checks.get_activation(
      activation, type(self).__name__
    )

  @property
  def output_size(self):
    """`num_units`, unless a subclass says otherwise."""
    return self._num_units

  state_size = output_size

  def _input_depth(self, inputs_shape):
    depth = tf.compat.dimension_value(tf.TensorShape(inputs_shape)[-1])
    if depth is None:
      raise errors.ConfigError(
        f"Cell {self.name!r} needs the inputs' last dimension to be known, "
        f'saw shape {inputs_shape}; give the placeholder a fixed depth.',
        field='inputs',
      )
    _rnn_checks.check_dtype(type(self).__name__, self._dtype)
    return depth

  def _add_kernel_and_bias(self, rows, columns, **kernel_options):
    """Makes `kernel` [rows, columns] and `bias` [columns] (zeros).

    TF 1.15's variables of the basic RNN and the LSTMs; `kernel_options`
    (`initializer`, `partitioner`) go to the kernel.
    """
    self._kernel = self.add_variable(
      'kernel', [rows, columns], **kernel_options
    )
    self._bias = self.add_variable(
      'bias', [columns], initializer=tf.zeros_initializer()
    )


class _LSTMStateCell(_UnitsCell):
  """An LSTM's state: `LSTMStateTuple(c, h)`, or c then h in one tensor.

  c is `num_units` wide, h `output_size`; `forget_bias` is added to the
  forget gate at each step.
  """

  def __init__(
    self, num_units, forget_bias=1.0, state_is_tuple=True, *args, **kwargs
  ):
    # TF1's order goes on with _UnitsCell's (activation, reuse, ...).
    super().__init__(num_units, *args, **kwargs)
    self._forget_bias = forget_bias
    self._state_is_tuple = state_is_tuple

  @property
  def state_size(self):
    if self._state_is_tuple:
      return _rnn_base.LSTMStateTuple(self._num_units, self.output_size)
    return self._num_units + self.output_size

  def _pack_state(self, c, h):
    """Returns (output, new state) for the new `c` and `h`."""
    if self._state_is_tuple:
      return h, _rnn_base.LSTMStateTuple(c, h)
    return h, tf.concat([c, h], 1)


class BasicRNNCell(_UnitsCell):
  """`output = new_state = activation(W [inputs, state] + b)`.

  Args:
    num_units: int, the state size.
    activation: callable or name; tanh by default.
    reuse: True to share an existing scope's variables.
    name: the scope name; default `basic_rnn_cell` made unique.
    dtype: the variables' dtype; default the inputs'.
  """

  def build(self, inputs_shape):
    depth = self._input_depth(inputs_shape)
    self._add_kernel_and_bias(depth + self._num_units, self._num_units)

  def call(self, inputs, state):
    _rnn_checks.check_float_dtypes(self.name, inputs, state)
    gates = tf.matmul(tf.concat([inputs, state], 1), self._kernel)
    output = self._activation(tf.nn.bias_add(gates, self._bias))
    return output, output


class GRUCell(_UnitsCell):
  """Gated recurrent unit (Cho et al. 2014): gates r, u, then a candidate.

  Args:
    num_units: int, the state size.
    activation: callable or name; tanh by default.
    reuse: True to share an existing scope's variables.
    kernel_initializer: for both kernels; default the scope's / glorot.
    bias_initializer: for both biases; default ones (gates), zeros
      (candidate).
    name: the scope name; default `gru_cell` made unique.
    dtype: the variables' dtype; default the inputs'.
  """

  def __init__(
    self,
    num_units,
    activation=None,
    reuse=None,
    kernel_initializer=None,
    bias_initializer=None,
    *args,
    **kwargs,
  ):
    # TF1's order goes on with _UnitsCell's (name, dtype).
    super().__init__(num_units, activation, reuse, *args, **kwargs)
    self._kernel_initializer = _rnn_checks.get_initializer(
      kernel_initializer, 'GRUCell'
    )
    self._bias_initializer = _rnn_checks.get_initializer(
      bias_initializer, 'GRUCell'
    )

  def build(self, inputs_shape):
    depth = self._input_depth(inputs_shape) + self._num_units
    units = self._num_units
    self._gate_kernel = self.add_variable(
      'gates/kernel', [depth, 2 * units], initializer=self._kernel_initializer
    )
    self._gate_bias = self.add_variable(
      'gates/bias',
      [2 * units],
      initializer=self._bias_initializer or tf.constant_initializer(1.0),
    )
    self._candidate_kernel = self.add_variable(
      'candidate/kernel', [depth, units], initializer=self._kernel_initializer
    )
    self._candidate_bias = self.add_variable(
      'candidate/bias',
      [units],
      initializer=self._bias_initializer or tf.zeros_initializer(),
    )

  def call(self, inputs, state):
    _rnn_checks.check_float_dtypes(self.name, inputs, state)
    gates = tf.matmul(tf.concat([inputs, state], 1), self._gate_kernel)
    gates = tf.sigmoid(tf.nn.bias_add(gates, self._gate_bias))
    r, u = tf.split(gates, 2, axis=1)  # reset, update: [batch, units] each
    candidate = tf.matmul(
      tf.concat([inputs, r * state], 1), self._candidate_kernel
    )
    c = self._activation(tf.nn.bias_add(candidate, self._candidate_bias))
    new_h = u * state + (1 - u) * c
    return new_h, new_h


class BasicLSTMCell(_LSTMStateCell):
  """LSTM without peepholes, clipping or projection (Zaremba et al. 2014).

  Args:
    num_units: int, the size of c and h.
    forget_bias: added to the forget gate at each step (not stored).
    state_is_tuple: states are `LSTMStateTuple(c, h)`; if False, one
      tensor [batch, 2 * num_units] holding c then h.
    activation, reuse, name, dtype: as for `BasicRNNCell` (default name
      `basic_lstm_cell`).
  """

  def build(self, inputs_shape):
    depth = self._input_depth(inputs_shape)
    self._add_kernel_and_bias(depth + self._num_units, 4 * self._num_units)

  def call(self, inputs, state):
    _rnn_checks.check_float_dtypes(self.name, inputs, state)
    if self._state_is_tuple:
      c, h = state
    else:
      c, h = tf.split(state, 2, axis=1)
    gates = tf.matmul(tf.concat([inputs, h], 1), self._kernel)
    gates = tf.nn.bias_add(gates, self._bias)
    # input gate, new input, forget gate, output gate: [batch, units] each.
    i, j, f, o = tf.split(gates, 4, axis=1)
    forget_bias = tf.constant(self._forget_bias, dtype=f.dtype)
    new_c = tf.add(
      tf.multiply(c, tf.sigmoid(tf.add(f, forget_bias))),
      tf.multiply(tf.sigmoid(i), self._activation(j)),
    )
    new_h = tf.multiply(self._activation(new_c), tf.sigmoid(o))
    return self._pack_state(new_c, new_h)


class LSTMCell(_LSTMStateCell):
  """LSTM with optional peepholes, cell clipping and projection.

  Args:
    num_units: int, the size of c.
    use_peepholes: add diagonal peephole weights (Sak et al. 2014).
    cell_clip: clip c to [-cell_clip, cell_clip] before the output.
    initializer: for the kernels, peepholes and projection; default the
      scope's / glorot uniform.
    num_proj: project h to this size (h is then [batch, num_proj]).
    proj_clip: clip the projected h to [-proj_clip, proj_clip].
    num_unit_shards, num_proj_shards: split the kernel / projection into
      this many variables (`kernel/part_0`, ...).
    forget_bias: added to the forget gate at each step (not stored).
    state_is_tuple: states are `LSTMStateTuple(c, h)`; if False, one
      tensor holding c then h.
    activation, reuse, name, dtype: as for `BasicRNNCell` (default name
      `lstm_cell`).
  """

  def __init__(
    self,
    num_units,
    use_peepholes=False,
    cell_clip=None,
    initializer=None,
    num_proj=None,
    proj_clip=None,
    num_unit_shards=None,
    num_proj_shards=None,
    *args,
    **kwargs,
  ):
    # TF1's order goes on with BasicLSTMCell's (forget_bias, ...).
    super().__init__(num_units, *args, **kwargs)
    self._use_peepholes = use_peepholes
    self._cell_clip = cell_clip
    self._initializer = _rnn_checks.get_initializer(initializer, 'LSTMCell')
    self._num_proj = num_proj
    self._proj_clip = proj_clip
    self._num_unit_shards = num_unit_shards
    self._num_proj_shards = num_proj_shards

  @property
  def output_size(self):
    return self._num_proj or self._num_units

  def build(self, inputs_shape):
    depth = self._input_depth(inputs_shape)
    units = self._num_units
    self._add_kernel_and_bias(
      depth + (self._num_proj or units),
      4 * units,
      initializer=self._initializer,
      partitioner=_partitioner(self._num_unit_shards),
    )
    if self._use_peepholes:
      self._w_f_diag, self._w_i_diag, self._w_o_diag = (
        self.add_variable(name, [units], initializer=self._initializer)
        for name in ('w_f_diag', 'w_i_diag', 'w_o_diag')
      )
    if self._num_proj is not None:
      self._proj_kernel = self.add_variable(
        'projection/kernel',
        [units, self._num_proj],
        initializer=self._initializer,
        partitioner=_partitioner(self._num_proj_shards),
      )

  def call(self, inputs, state):
    _rnn_checks.check_float_dtypes(self.name, inputs, state)
    h_size = self._num_proj or self._num_units
    if self._state_is_tuple:
      c_prev, m_prev = state
    else:
      c_prev = tf.slice(state, [0, 0], [-1, self._num_units])
      m_prev = tf.slice(state, [0, self._num_units], [-1, h_size])
    gates = tf.matmul(tf.concat([inputs, m_prev], 1), self._kernel)
    gates = tf.nn.bias_add(gates, self._bias)
    i, j, f, o = tf.split(gates, 4, axis=1)  # [batch, units] each
    forget = f + self._forget_bias
    if self._use_peepholes:
      forget += self._w_f_diag * c_prev
      i += self._w_i_diag * c_prev
    c = tf.sigmoid(forget) * c_prev + tf.sigmoid(i) * self._activation(j)
    if self._cell_clip is not None:
      c = tf.clip_by_value(c, -self._cell_clip, self._cell_clip)
    if self._use_peepholes:
      m = tf.sigmoid(o + self._w_o_diag * c) * self._activation(c)
    else:
      m = tf.sigmoid(o) * self._activation(c)
    if self._num_proj is not None:
      m = tf.matmul(m, self._proj_kernel)  # [batch, num_proj]
      if self._proj_clip is not None:
        m = tf.clip_by_value(m, -self._proj_clip, self._proj_clip)
    return self._pack_state(c, m)


def _partitioner(shards):
  return None if shards is None else tf.fixed_size_partitioner(shards)
