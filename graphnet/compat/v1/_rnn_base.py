"""The base of TF1's RNN cells (`tf.nn.rnn_cell.RNNCell`), without Keras.

TF 1.15's cells were legacy `tf.layers.Layer`s, a Keras class; Keras 3
took them away. `RNNCell` here keeps what TF1 programs and TF core's
`tf.nn.static_rnn`, `dynamic_rnn`, `bidirectional_dynamic_rnn` and
`static_bidirectional_rnn` use of them, and how TF 1.15 named and shared
their variables:

- TF core checks a cell only by duck typing (`_rnn_checks.assert_like_rnncell`):
  `output_size`, `state_size`, `zero_state` (or `get_initial_state`,
  which `dynamic_rnn` prefers and calls with `inputs=None`) and being
  callable as `cell(inputs, state)`.
- A cell made without `name` takes its scope on its first call, from its
  snake-cased class name made unique in the variable scope it is called in
  (`rnn/basic_lstm_cell`, `rnn/basic_lstm_cell_1`); with `reuse=True` the
  name is taken as is, to share variables made by another cell. Later
  calls of the same object reuse its variables.
- `scope=` given to a call is used as the cell's scope as is.
- A cell that is a plain `RNNCell` (not a `LayerRNNCell`), as cells
  users wrote, makes variables with `tf.get_variable` inside `call`; its
  first call runs inside a reusing copy of the caller's variable scope.

The scope rules are TF's own `variable_scope` calls, made in TF 1.15's
order, so the variable names match a TF 1.15 checkpoint.

Example:
    class MyCell(rnn_cell.RNNCell):
      state_size = output_size = 8
      def call(self, inputs, state):
        w = tf.get_variable('w', [inputs.shape[1] + 8, 8])
        out = tf.tanh(tf.matmul(tf.concat([inputs, state], 1), w))
        return out, out
"""

import collections
import inspect
import weakref

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1 import _layer_state

__all__ = [
  'LSTMStateTuple',
  'RNNCell',
  'LayerRNNCell',
  'zero_state_tensors',
]

# Per graph: {snake-cased class name: cells named so far}, for `cell.name`.
_NAME_COUNTS = weakref.WeakKeyDictionary()


class LSTMStateTuple(collections.namedtuple('LSTMStateTuple', ('c', 'h'))):
  """An LSTM state `(c, h)`: the cell state and the output, in that order.

  The `state_size` of LSTM cells made with `state_is_tuple=True` (ints),
  and their states (tensors shaped [batch, units]).
  """

  __slots__ = ()

  @property
  def dtype(self):
    """The dtype both tensors share; TypeError if they differ."""
    c, h = self
    if c.dtype != h.dtype:
      raise TypeError(
        f'LSTMStateTuple holds c of dtype {c.dtype} and h of dtype {h.dtype};'
        ' both must have the same dtype.'
      )
    return c.dtype


class RNNCell(_layer_state.LayerState):
  """An RNN cell: `(output, new_state) = cell(inputs, state)`.

  Subclasses define `state_size`, `output_size` and `call(inputs, state)`;
  `call` may make variables with `tf.get_variable` (see the module
  docstring for their names), or a `build(inputs_shape)` may make them
  with `add_variable`.

  Args:
    trainable: whether the variables go into TRAINABLE_VARIABLES.
    name: the cell's variable scope name (used as is); None makes one from
      the class name, unique where the cell is first called.
    dtype: the variables' dtype; None takes the first inputs' dtype.
    _reuse: True to share the variables of an existing scope of that name.
    _scope: a scope (name or VariableScope) fixed now instead of at the
      first call.
  """

  # TF1's arguments of each subclass, read off its `__init__` chain.
  __signature__ = _layer_state.ConstructorSignature()

  def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
    self._trainable = trainable
    self._reusing_scope = None
    self._rnncell_scope = None
    self._call_takes_scope = None
    base_name = _layer_state.snake_case(type(self).__name__)
    if base_name[0] == '_':  # TF 1.15's name for a private class's cells.
      base_name = 'private' + base_name
    self._init_state(name, dtype, kwargs, base_name, _NAME_COUNTS)

  @property
  def trainable(self):
    return self._trainable

  @property
  def state_size(self):
    """The state's sizes: an int, a TensorShape, or a nested tuple of them."""
    raise NotImplementedError(f'{type(self).__name__} defines no state_size.')

  @property
  def output_size(self):
    """The size of the output: an int or a TensorShape."""
    raise NotImplementedError(f'{type(self).__name__} defines no output_size.')

  def build(self, _):
    """Makes the variables before the first `call`; nothing by default.

    Subclasses take `inputs_shape` (a TensorShape or a structure of them);
    this one ignores it, under TF 1.15's name `_`.
    """

  def call(self, inputs, state):
    """One step: returns `(output, new_state)`."""
    raise NotImplementedError(f'{type(self).__name__} defines no call().')

  def __call__(self, inputs, state, scope=None):
    """Runs one step on `inputs` [batch, depth] from `state`.

    Args:
      inputs: a 2-D tensor [batch, input_size].
      state: tensor(s) matching `state_size`, each [batch, size].
      scope: a variable scope (name or object) for the cell's variables;
        by default the cell's own (see the module docstring).

    Returns:
      `(output, new_state)`: [batch, output_size] and the state's structure.
    """
    if scope is not None:
      with tf.variable_scope(
        scope, custom_getter=self._rnn_get_variable
      ) as scope:
        return self._layer_call(inputs, state, scope)
    if self._rnncell_scope is None:
      # Made once: the reusing copy of the scope of the first call.
      self._rnncell_scope = tf.variable_scope(
        tf.get_variable_scope(), custom_getter=self._rnn_get_variable
      )
    with self._rnncell_scope:
      return self._layer_call(inputs, state, None)

  def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
    """The zero state for `inputs`' batch and dtype, or those given."""
    if inputs is not None:
      inputs = tf.convert_to_tensor(inputs, name='inputs')
      batch_size = tf.compat.dimension_value(inputs.shape[0])
      if batch_size is None:
        batch_size = tf.shape(inputs)[0]
      dtype = inputs.dtype
    if batch_size is None or dtype is None:
      raise errors.ConfigError(
        f'{type(self).__name__}.get_initial_state needs inputs, or both '
        f'batch_size and dtype; got batch_size={batch_size}, dtype={dtype}.',
        field='batch_size' if batch_size is None else 'dtype',
      )
    return self.zero_state(batch_size, dtype)

  def zero_state(self, batch_size, dtype):
    """Zero tensors shaped [batch_size, s] for each s in `state_size`.

    Args:
      batch_size: an int or a scalar int32 tensor.
      dtype: the state's dtype.

    Returns:
      a tensor, or a structure of tensors like `state_size`.
    """
    with tf.name_scope(type(self).__name__ + 'ZeroState', values=[batch_size]):
      return zero_state_tensors(self.state_size, batch_size, dtype)

  def _layer_call(self, inputs, state, scope):
    """Builds on the first call and calls `call` in the cell's scope."""
    self._set_scope(scope)
    if self.built:
      if self._reusing_scope is None:
        self._reusing_scope = tf.variable_scope(
          self._scope, reuse=True, auxiliary_name_scope=False
        )
      scope_manager = self._reusing_scope
    else:
      scope_manager = tf.variable_scope(
        self._scope, reuse=self._reuse, auxiliary_name_scope=False
      )
    with scope_manager as current:
      self._current_scope = current
      with tf.name_scope(current.original_name_scope):
        if not self.built:
          first = tf.nest.flatten(inputs)[0]
          if self._dtype is None and hasattr(first, 'dtype'):
            self._dtype = tf.as_dtype(first.dtype).base_dtype
          self._check_inputs(inputs)
          self.build(_shapes(inputs))
          self.built = True
        if self._call_takes_scope is None:
          self._call_takes_scope = _takes_scope(self.call)
        if self._call_takes_scope:
          return self.call(inputs, state, scope=current)
        return self.call(inputs, state)

  def _check_inputs(self, inputs):
    """Checks the first inputs before `build`; any inputs by default."""
    del inputs

  def _rnn_get_variable(self, getter, *args, **kwargs):
    """Lists each variable `call` gets among the cell's weights, once."""
    variable = getter(*args, **kwargs)
    trainable = any(
      p in tf.trainable_variables() for p in _layer_state.parts(variable)
    )
    weights = (
      self._trainable_weights if trainable else self._non_trainable_weights
    )
    if all(variable is not w for w in weights):
      weights.append(variable)
    return variable


class LayerRNNCell(RNNCell):
  """A cell whose `build(inputs_shape)` makes its variables.

  Its scope is its own (`rnn/basic_lstm_cell`), not a copy of the caller's;
  `call` uses the variables `build` stored. Inputs must be 2-D.
  """

  def __call__(self, inputs, state, scope=None):
    return self._layer_call(inputs, state, scope)

  def _check_inputs(self, inputs):
    for i, value in enumerate(tf.nest.flatten(inputs)):
      rank = value.shape.ndims
      if rank is not None and rank != 2:
        raise errors.ConfigError(
          f'Input {i} of cell {self._name!r} has shape {value.shape}: '
          'expected a 2-D tensor [batch, depth]. static_rnn takes a list of '
          '[batch, depth] tensors, dynamic_rnn one [batch, time, depth].',
          field='inputs',
        )


def zero_state_tensors(state_size, batch_size, dtype):
  """Zeros [batch_size, *s] for each size s in the structure `state_size`."""
  static_batch = (
    tf.get_static_value(batch_size)
    if isinstance(batch_size, tf.Tensor)
    else batch_size
  )

  def zeros(size):
    dims = tf.TensorShape(size).as_list()
    if isinstance(batch_size, tf.Tensor):
      shape = tf.concat([tf.reshape(batch_size, [1]), dims], 0)
    else:
      shape = [batch_size, *dims]
    value = tf.zeros(shape, dtype=dtype)
    value.set_shape([static_batch, *dims])
    return value

  return tf.nest.map_structure(zeros, state_size)


def _shapes(inputs):
  """The TensorShape of `inputs`, or a structure of them."""
  return tf.nest.map_structure(lambda x: x.shape, inputs)


def _takes_scope(call):
  try:
    return 'scope' in inspect.signature(call).parameters
  except (TypeError, ValueError):
    return False
