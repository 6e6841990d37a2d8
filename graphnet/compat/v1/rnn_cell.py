"""TF1's `tf.nn.rnn_cell` (and `tf.contrib.rnn`'s cells), without Keras.

TF 2.16 made `tf.compat.v1.nn.rnn_cell.*` raise "not available with
Keras 3"; TF core's `tf.nn.static_rnn`, `dynamic_rnn`,
`bidirectional_dynamic_rnn` and `static_bidirectional_rnn` remain and
accept these cells. Variables, gate order and defaults are TF 1.15's, so a
TF 1.15 checkpoint restores with no name map:

  cell                 variables (under the cell's scope, e.g. rnn/...)
  BasicRNNCell         basic_rnn_cell/kernel [depth + units, units], /bias
  BasicLSTMCell        basic_lstm_cell/kernel [depth + units, 4 * units],
                       /bias [4 * units] (gates i, j, f, o)
  LSTMCell             lstm_cell/kernel [depth + (num_proj or units),
                       4 * units], /bias, /w_f_diag /w_i_diag /w_o_diag
                       (peepholes), /projection/kernel [units, num_proj]
  GRUCell              gru_cell/gates/kernel [depth + units, 2 * units],
                       /gates/bias (ones), /candidate/kernel, /candidate/bias
  MultiRNNCell         multi_rnn_cell/cell_<i>/<the cell's variables>

Kernels default to the variable scope's initializer, else glorot uniform;
biases to zeros (GRU's gate bias to ones). `forget_bias` (1.0) is added
to the forget gate at each step, not stored. States are `LSTMStateTuple`
`(c, h)` unless `state_is_tuple=False`. The variables go into
GLOBAL_VARIABLES and TRAINABLE_VARIABLES; no other collection.

Example:
    cell = rnn_cell.BasicLSTMCell(128)
    outputs, state = tf.nn.dynamic_rnn(cell, images, dtype=tf.float32)
    # rnn/basic_lstm_cell/kernel [28 + 128, 512], rnn/basic_lstm_cell/bias
"""

import tensorflow.compat.v1 as tf
from tensorflow.python.util import nest

from graphnet import errors
from graphnet.compat.v1 import _rnn_base
from graphnet.compat.v1 import _rnn_wrappers

__all__ = [
  'RNNCell',
  'LayerRNNCell',
  'BasicRNNCell',
  'BasicLSTMCell',
  'LSTMCell',
  'GRUCell',
  'MultiRNNCell',
  'DropoutWrapper',
  'ResidualWrapper',
  'DeviceWrapper',
  'LSTMStateTuple',
]

RNNCell = _rnn_base.RNNCell
LayerRNNCell = _rnn_base.LayerRNNCell
LSTMStateTuple = _rnn_base.LSTMStateTuple
DropoutWrapper = _rnn_wrappers.DropoutWrapper
ResidualWrapper = _rnn_wrappers.ResidualWrapper
DeviceWrapper = _rnn_wrappers.DeviceWrapper


class _UnitsCell(LayerRNNCell):
  """A cell of `num_units` units; checks the inputs' known depth."""

  def __init__(self, num_units, reuse=None, name=None, dtype=None, **kwargs):
    super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
    _rnn_base.check_dtype(type(self).__name__, self._dtype)
    self._num_units = num_units

  def _input_depth(self, inputs_shape):
    depth = tf.compat.dimension_value(tf.TensorShape(inputs_shape)[-1])
    if depth is None:
      raise errors.ConfigError(
        f"Cell {self.name!r} needs the inputs' last dimension to be known, "
        f'saw shape {inputs_shape}; give the placeholder a fixed depth.',
        field='inputs',
      )
    _rnn_base.check_dtype(type(self).__name__, self._dtype)
    return depth


class BasicRNNCell(_UnitsCell):
  """`output = new_state = activation(W [inputs, state] + b)`.

  Args:
    num_units: int, the state size.
    activation: callable or name; tanh by default.
    reuse: True to share an existing scope's variables.
    name: the scope name; default `basic_rnn_cell` made unique.
    dtype: the variables' dtype; default the inputs'.
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
    super().__init__(num_units, reuse, name, dtype, **kwargs)
    self._activation = _rnn_base.get_activation(activation, 'BasicRNNCell')

  @property
  def state_size(self):
    return self._num_units

  @property
  def output_size(self):
    return self._num_units

  def build(self, inputs_shape):
    depth = self._input_depth(inputs_shape)
    self._kernel = self.add_variable(
      'kernel', [depth + self._num_units, self._num_units]
    )
    self._bias = self.add_variable(
      'bias', [self._num_units], initializer=tf.zeros_initializer()
    )

  def call(self, inputs, state):
    _rnn_base.check_float_dtypes(self.name, inputs, state)
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
    name=None,
    dtype=None,
    **kwargs,
  ):
    super().__init__(num_units, reuse, name, dtype, **kwargs)
    self._activation = _rnn_base.get_activation(activation, 'GRUCell')
    self._kernel_initializer = _rnn_base.get_initializer(
      kernel_initializer, 'GRUCell'
    )
    self._bias_initializer = _rnn_base.get_initializer(
      bias_initializer, 'GRUCell'
    )

  @property
  def state_size(self):
    return self._num_units

  @property
  def output_size(self):
    return self._num_units

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
    _rnn_base.check_float_dtypes(self.name, inputs, state)
    gates = tf.matmul(tf.concat([inputs, state], 1), self._gate_kernel)
    gates = tf.sigmoid(tf.nn.bias_add(gates, self._gate_bias))
    r, u = tf.split(gates, 2, axis=1)  # reset, update: [batch, units] each
    candidate = tf.matmul(
      tf.concat([inputs, r * state], 1), self._candidate_kernel
    )
    c = self._activation(tf.nn.bias_add(candidate, self._candidate_bias))
    new_h = u * state + (1 - u) * c
    return new_h, new_h


class BasicLSTMCell(_UnitsCell):
  """LSTM without peepholes, clipping or projection (Zaremba et al. 2014).

  Args:
    num_units: int, the size of c and h.
    forget_bias: added to the forget gate at each step (not stored).
    state_is_tuple: states are `LSTMStateTuple(c, h)`; if False, one
      tensor [batch, 2 * num_units] holding c then h.
    activation: callable or name; tanh by default.
    reuse: True to share an existing scope's variables.
    name: the scope name; default `basic_lstm_cell` made unique.
    dtype: the variables' dtype; default the inputs'.
  """

  def __init__(
    self,
    num_units,
    forget_bias=1.0,
    state_is_tuple=True,
    activation=None,
    reuse=None,
    name=None,
    dtype=None,
    **kwargs,
  ):
    super().__init__(num_units, reuse, name, dtype, **kwargs)
    self._forget_bias = forget_bias
    self._state_is_tuple = state_is_tuple
    self._activation = _rnn_base.get_activation(activation, 'BasicLSTMCell')

  @property
  def state_size(self):
    if self._state_is_tuple:
      return LSTMStateTuple(self._num_units, self._num_units)
    return 2 * self._num_units

  @property
  def output_size(self):
    return self._num_units

  def build(self, inputs_shape):
    depth = self._input_depth(inputs_shape)
    self._kernel = self.add_variable(
      'kernel', [depth + self._num_units, 4 * self._num_units]
    )
    self._bias = self.add_variable(
      'bias', [4 * self._num_units], initializer=tf.zeros_initializer()
    )

  def call(self, inputs, state):
    _rnn_base.check_float_dtypes(self.name, inputs, state)
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
    if self._state_is_tuple:
      return new_h, LSTMStateTuple(new_c, new_h)
    return new_h, tf.concat([new_c, new_h], 1)


class LSTMCell(_UnitsCell):
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
    activation: callable or name; tanh by default.
    reuse, name, dtype: as for `BasicLSTMCell` (default name `lstm_cell`).
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
    forget_bias=1.0,
    state_is_tuple=True,
    activation=None,
    reuse=None,
    name=None,
    dtype=None,
    **kwargs,
  ):
    super().__init__(num_units, reuse, name, dtype, **kwargs)
    self._use_peepholes = use_peepholes
    self._cell_clip = cell_clip
    self._initializer = _rnn_base.get_initializer(initializer, 'LSTMCell')
    self._num_proj = num_proj
    self._proj_clip = proj_clip
    self._num_unit_shards = num_unit_shards
    self._num_proj_shards = num_proj_shards
    self._forget_bias = forget_bias
    self._state_is_tuple = state_is_tuple
    self._activation = _rnn_base.get_activation(activation, 'LSTMCell')
    h_size = num_proj or num_units
    if state_is_tuple:
      self._state_size = LSTMStateTuple(num_units, h_size)
    else:
      self._state_size = num_units + h_size
    self._output_size = h_size

  @property
  def state_size(self):
    return self._state_size

  @property
  def output_size(self):
    return self._output_size

  def build(self, inputs_shape):
    depth = self._input_depth(inputs_shape)
    units = self._num_units
    self._kernel = self.add_variable(
      'kernel',
      [depth + (self._num_proj or units), 4 * units],
      initializer=self._initializer,
      partitioner=_partitioner(self._num_unit_shards),
    )
    self._bias = self.add_variable(
      'bias', [4 * units], initializer=tf.zeros_initializer()
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
    _rnn_base.check_float_dtypes(self.name, inputs, state)
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
    if self._state_is_tuple:
      return m, LSTMStateTuple(c, m)
    return m, tf.concat([c, m], 1)


class MultiRNNCell(RNNCell):
  """Cells stacked: each one's output is the next one's input.

  Cell i runs in the scope `cell_<i>` under the stack's scope
  (`rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel`). The same cell
  object listed twice shares its variables (and needs matching depths).

  Args:
    cells: a non-empty list of cells.
    state_is_tuple: the state is a tuple of the cells' states; if False,
      their states concatenated (cells with tuple states not allowed).

  Raises:
    ConfigError: `cells` empty or not a list, or tuple states with
      `state_is_tuple=False`.
  """

  def __init__(self, cells, state_is_tuple=True):
    super().__init__()
    if not cells or not nest.is_nested(cells):
      raise errors.ConfigError(
        f'MultiRNNCell needs a non-empty list of cells, got {cells!r}.',
        field='cells',
      )
    self._cells = list(cells) if isinstance(cells, list) else cells
    self._state_is_tuple = state_is_tuple
    if not state_is_tuple and any(nest.is_nested(c.state_size) for c in cells):
      raise errors.ConfigError(
        'MultiRNNCell(state_is_tuple=False) needs cells whose states are '
        f'single tensors; state sizes are {[c.state_size for c in cells]}. '
        'Use state_is_tuple=True (the default).',
        field='state_is_tuple',
      )

  @property
  def state_size(self):
    if self._state_is_tuple:
      return tuple(cell.state_size for cell in self._cells)
    return sum(cell.state_size for cell in self._cells)

  @property
  def output_size(self):
    return self._cells[-1].output_size

  @property
  def trainable_weights(self):
    if not self._trainable:
      return []
    return [w for c in self._cells for w in getattr(c, 'trainable_weights', [])]

  @property
  def non_trainable_weights(self):
    weights = [
      w for c in self._cells for w in getattr(c, 'non_trainable_weights', [])
    ]
    if self._trainable:
      return weights
    trainable = [
      w for c in self._cells for w in getattr(c, 'trainable_weights', [])
    ]
    return trainable + weights

  trainable_variables = trainable_weights
  non_trainable_variables = non_trainable_weights

  def zero_state(self, batch_size, dtype):
    with tf.name_scope(type(self).__name__ + 'ZeroState', values=[batch_size]):
      if self._state_is_tuple:
        return tuple(c.zero_state(batch_size, dtype) for c in self._cells)
      return _rnn_base.zero_state_tensors(self.state_size, batch_size, dtype)

  def call(self, inputs, state):
    position = 0
    output = inputs
    new_states = []
    for i, cell in enumerate(self._cells):
      with tf.variable_scope(f'cell_{i}'):
        if self._state_is_tuple:
          if not nest.is_nested(state):
            raise errors.ConfigError(
              f'MultiRNNCell expected a tuple of {len(self._cells)} states, '
              f'got {state!r}.',
              field='state',
            )
          cell_state = state[i]
        else:
          cell_state = tf.slice(state, [0, position], [-1, cell.state_size])
          position += cell.state_size
        output, new_state = cell(output, cell_state)
        new_states.append(new_state)
    if self._state_is_tuple:
      return output, tuple(new_states)
    return output, tf.concat(new_states, 1)


def _partitioner(shards):
  return None if shards is None else tf.fixed_size_partitioner(shards)
