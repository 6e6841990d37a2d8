"""TF1's cell wrappers: `DropoutWrapper`, `ResidualWrapper`, `DeviceWrapper`.

A wrapper calls the cell it wraps with the same `scope` argument and adds
no variable scope of its own, so a wrapped cell's variables keep the names
the bare cell would have (`rnn/basic_lstm_cell/kernel`), as in TF 1.15.

Example:
    cell = rnn_cell.DropoutWrapper(
        rnn_cell.BasicLSTMCell(32), output_keep_prob=keep_prob)
"""

import hashlib
import numbers

import tensorflow.compat.v1 as tf
from tensorflow.python.util import nest

from graphnet import errors
from graphnet.compat.v1 import _rnn_base
from graphnet.compat.v1 import _rnn_checks

__all__ = ['DropoutWrapper', 'ResidualWrapper', 'DeviceWrapper']


def _of_cell(attribute):
  """A read-only property: the wrapped cell's `attribute`.

  A list (of weights) is copied; a cell without weight lists (a user's,
  duck-typed) has none.
  """

  def get(self):
    value = getattr(self.cell, attribute, [])
    return list(value) if isinstance(value, list) else value

  return property(get, doc=f"The wrapped cell's `{attribute}`.")


class _Wrapper(_rnn_base.RNNCell):
  """A cell around `cell`, with its sizes and zero state."""

  def __init__(self, cell, name=None, dtype=None):
    super().__init__(name=name, dtype=dtype)
    _rnn_checks.assert_like_rnncell('cell', cell)
    self.cell = cell

  # The wrapped cell's, as TF1's wrappers reported them.
  wrapped_cell = property(lambda self: self.cell)
  state_size = _of_cell('state_size')
  output_size = _of_cell('output_size')
  trainable_weights = trainable_variables = _of_cell('trainable_weights')
  non_trainable_weights = non_trainable_variables = _of_cell(
    'non_trainable_weights'
  )

  def zero_state(self, batch_size, dtype):
    with tf.name_scope(type(self).__name__ + 'ZeroState', values=[batch_size]):
      return self.cell.zero_state(batch_size, dtype)

  def __call__(self, inputs, state, scope=None):
    return self._wrap(inputs, state, scope)

  def _wrap(self, inputs, state, scope):
    raise NotImplementedError


class DropoutWrapper(_Wrapper):
  """Dropout on a cell's inputs, outputs and (outgoing) state.

  A keep probability that is the constant 1 adds no op; a tensor (e.g. a
  placeholder fed 1.0 at evaluation) always adds the dropout op. The `c`
  part of an `LSTMStateTuple` is never dropped unless
  `dropout_state_filter_visitor` says so.

  Args:
    cell: the cell to wrap.
    input_keep_prob, output_keep_prob, state_keep_prob: floats in [0, 1] or
      scalar tensors.
    variational_recurrent: one dropout mask for every step (Gal and
      Ghahramani); needs `dtype`, and `input_size` when inputs are dropped.
    input_size: the input depth(s), for variational input dropout.
    dtype: the dtype of inputs, state and outputs (variational only).
    seed: an int; each dropout op gets a seed derived from it.
    dropout_state_filter_visitor: maps a part of the state to True/False
      (or a structure of them): which parts are dropped.

  Raises:
    ConfigError: a constant keep probability outside [0, 1], or a missing
      `dtype`/`input_size` for variational dropout.
    TypeError: `cell` is not a cell, or the visitor is not callable.
  """

  def __init__(
    self,
    cell,
    input_keep_prob=1.0,
    output_keep_prob=1.0,
    state_keep_prob=1.0,
    variational_recurrent=False,
    input_size=None,
    dtype=None,
    seed=None,
    dropout_state_filter_visitor=None,
    **kwargs,
  ):
    super().__init__(cell, dtype=dtype, **kwargs)
    if dropout_state_filter_visitor is not None and not callable(
      dropout_state_filter_visitor
    ):
      raise TypeError(
        'DropoutWrapper: dropout_state_filter_visitor must be callable, got '
        f'{dropout_state_filter_visitor!r}.'
      )
    self._state_filter = dropout_state_filter_visitor or _keep_lstm_c
    with tf.name_scope('DropoutWrapperInit'):
      self._input_keep_prob = _keep_prob(input_keep_prob, 'input_keep_prob')
      self._state_keep_prob = _keep_prob(state_keep_prob, 'state_keep_prob')
      self._output_keep_prob = _keep_prob(output_keep_prob, 'output_keep_prob')
    self._variational_recurrent = variational_recurrent
    self._seed = seed
    self._input_noise = self._state_noise = self._output_noise = None
    if variational_recurrent:
      self._make_noise(cell, input_size, dtype)

  def _make_noise(self, cell, input_size, dtype):
    """The per-run noise of variational dropout, [1, size] per part."""
    if dtype is None:
      raise errors.ConfigError(
        'DropoutWrapper: variational_recurrent=True needs dtype= (the dtype '
        'of the inputs and state), got None.',
        field='dtype',
      )

    def noise(kind, sizes):
      def one(i, size):
        shape = [1, *tf.TensorShape(size).as_list()]
        return tf.random_uniform(
          shape, seed=self._gen_seed(kind, i), dtype=dtype
        )

      return _enumerated_map(sizes, one, sizes)

    if _drops(self._input_keep_prob):
      if input_size is None:
        raise errors.ConfigError(
          'DropoutWrapper: variational_recurrent=True with input dropout '
          'needs input_size= (the input depth), got None.',
          field='input_size',
        )
      self._input_noise = noise('input', input_size)
    self._state_noise = noise('state', cell.state_size)
    self._output_noise = noise('output', cell.output_size)

  def _gen_seed(self, kind, index):
    """TF 1.15's per-op seed: md5 of the seed and the op's salt."""
    if self._seed is None:
      return None
    text = f'{self._seed}{kind}_{index}'.encode()
    return int(hashlib.md5(text).hexdigest()[:8], 16) & 0x7FFFFFFF

  def _dropout(self, values, kind, noise, keep_prob, filtered=None):
    filtered = values if filtered is None else filtered
    if not self._variational_recurrent:

      def drop(i, do_drop, value):
        if isinstance(do_drop, bool) and not do_drop:
          return value
        return tf.nn.dropout(
          value, rate=1.0 - keep_prob, seed=self._gen_seed(kind, i)
        )

      return _enumerated_map(filtered, drop, filtered, values)

    def drop_same(i, do_drop, value, value_noise):
      if isinstance(do_drop, bool) and not do_drop:
        return value
      kept = tf.floor(keep_prob + value_noise)
      dropped = value / keep_prob * kept
      dropped.set_shape(value.shape)
      return dropped

    return _enumerated_map(filtered, drop_same, filtered, values, noise)

  def _wrap(self, inputs, state, scope):
    if _drops(self._input_keep_prob):
      inputs = self._dropout(
        inputs, 'input', self._input_noise, self._input_keep_prob
      )
    output, new_state = self.cell(inputs, state, scope=scope)
    if _drops(self._state_keep_prob):
      filtered = nest.get_traverse_shallow_structure(
        self._state_filter, new_state
      )
      new_state = self._dropout(
        new_state,
        'state',
        self._state_noise,
        self._state_keep_prob,
        filtered,
      )
    if _drops(self._output_keep_prob):
      output = self._dropout(
        output, 'output', self._output_noise, self._output_keep_prob
      )
    return output, new_state


class ResidualWrapper(_Wrapper):
  """Adds a cell's inputs to its outputs (or applies `residual_fn`).

  Args:
    cell: the cell to wrap; its output must match the inputs' structure
      and shapes.
    residual_fn: optional `fn(inputs, outputs) -> outputs`.
  """

  def __init__(self, cell, residual_fn=None, **kwargs):
    super().__init__(cell, **kwargs)
    self._residual_fn = residual_fn

  def _wrap(self, inputs, state, scope):
    outputs, new_state = self.cell(inputs, state, scope=scope)
    if self._residual_fn is not None:
      return self._residual_fn(inputs, outputs), new_state
    tf.nest.assert_same_structure(inputs, outputs)

    def add(x, y):
      x.shape.assert_is_compatible_with(y.shape)
      return x + y

    return tf.nest.map_structure(add, inputs, outputs), new_state


class DeviceWrapper(_Wrapper):
  """Runs a cell (and makes its zero state) on `device`.

  Args:
    cell: the cell to wrap.
    device: a device string or function, as for `tf.device`.
  """

  def __init__(self, cell, device, **kwargs):
    super().__init__(cell, **kwargs)
    self._device = device

  def zero_state(self, batch_size, dtype):
    with tf.name_scope(type(self).__name__ + 'ZeroState', values=[batch_size]):
      with tf.device(self._device):
        return self.cell.zero_state(batch_size, dtype)

  def _wrap(self, inputs, state, scope):
    with tf.device(self._device):
      return self.cell(inputs, state, scope=scope)


def _keep_prob(value, field):
  """A constant keep probability as a float, else the tensor."""
  tensor = tf.convert_to_tensor(value)
  constant = tf.get_static_value(tensor)
  if constant is None:
    return tensor
  if not 0 <= constant <= 1:
    raise errors.ConfigError(
      f'DropoutWrapper: {field}={constant} is outside [0, 1]; it is the '
      'probability of keeping a unit (1.0 keeps all).',
      field=field,
    )
  return float(constant)


def _drops(keep_prob):
  return not isinstance(keep_prob, numbers.Real) or keep_prob < 1


def _keep_lstm_c(substate):
  """Drops every part of a state but an LSTM's `c` and TensorArrays."""
  if isinstance(substate, _rnn_base.LSTMStateTuple):
    return _rnn_base.LSTMStateTuple(c=False, h=True)
  if isinstance(substate, tf.TensorArray):
    return False
  return True


def _enumerated_map(shallow, fn, *structures):
  """`nest.map_structure_up_to` with a running index as first argument."""
  index = [0]

  def numbered(*args):
    result = fn(index[0], *args)
    index[0] += 1
    return result

  return nest.map_structure_up_to(shallow, numbered, *structures)
