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

from graphnet import compat as _compat
from graphnet import errors
from graphnet.compat.v1 import _rnn_base
from graphnet.compat.v1 import _rnn_cells
from graphnet.compat.v1 import _rnn_wrappers

RNNCell = _rnn_base.RNNCell
LayerRNNCell = _rnn_base.LayerRNNCell
LSTMStateTuple = _rnn_base.LSTMStateTuple

# The cells and wrappers are their modules' (listed once, in their
# `__all__`), in TF 1.15's order.
__all__ = [
  'RNNCell',
  'LayerRNNCell',
  *_compat.reexport(globals(), [_rnn_cells]),
  'MultiRNNCell',
  *_compat.reexport(globals(), [_rnn_wrappers]),
  'LSTMStateTuple',
]


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
