"""The scope and weight lists TF1's layers and RNN cells share (private).

`tf.layers.Layer` and `tf.nn.rnn_cell.RNNCell` were one Keras class in
TF 1.15; here they are two, sharing how the variable scope is fixed on the
first call and the read-only weight lists: a layer or cell made with
`trainable=False` reports its trainable variables as non-trainable, as
TF 1.15 did.

Example:
    class Layer(LayerState):
      ...  # holds trainable, _scope, _reuse, _base_name and the lists
"""

import contextlib
import re

import tensorflow.compat.v1 as tf

__all__ = ['LayerState', 'snake_case']


def snake_case(class_name):
  """'BasicLSTMCell' -> 'basic_lstm_cell', as TF 1.15 named layers."""
  step = re.sub(r'(.)([A-Z][a-z0-9]+)', r'\1_\2', class_name)
  return re.sub(r'([a-z])([A-Z])', r'\1_\2', step).lower()


class LayerState:
  """`_set_scope`, `trainable_weights`, `non_trainable_weights`, `weights`.

  Subclasses hold `trainable` and `_reuse`, and call `_init_names` from
  `__init__`, which sets `_name`, `_base_name`, `_scope` (None until the
  first call unless fixed), `_current_scope` and the lists
  `_trainable_weights` and `_non_trainable_weights` (variables in
  creation order).
  """

  def _init_names(self, name, scope, base_name, counts):
    """Names the object and fixes a given scope, as TF 1.15 did.

    Args:
      name: the name given (used as is), a `tf.VariableScope` (its name is
        the scope's base name), or None.
      scope: a scope to fix now (name or VariableScope), or None.
      base_name: the default scope name, e.g. 'dense'.
      counts: per graph, {base name: objects named so far}; an object
        without a name is `<base_name>_<n>`.
    """
    if name and not isinstance(name, tf.VariableScope):
      self._name = self._base_name = name
    else:
      graph_counts = counts.setdefault(tf.get_default_graph(), {})
      graph_counts[base_name] = graph_counts.get(base_name, 0) + 1
      self._name = f'{base_name}_{graph_counts[base_name]}'
      self._base_name = name.name if name else base_name
    self._trainable_weights = []
    self._non_trainable_weights = []
    self._current_scope = None
    self._scope = None
    if scope:
      with tf.variable_scope(scope) as captured:
        self._scope = captured

  def _set_scope(self, scope=None):
    """Fixes the variable scope once, as TF 1.15's layers did."""
    if self._scope is not None:
      return
    if self._reuse:
      with tf.variable_scope(
        scope if scope is not None else self._base_name
      ) as captured:
        self._scope = captured
    else:
      with tf.variable_scope(scope, default_name=self._base_name) as captured:
        self._scope = captured

  @contextlib.contextmanager
  def _in_own_scope(self, reuse, scope=None):
    """Enters the object's variable scope and its name scope.

    The scope is fixed first (`scope`, else the default, see `_set_scope`);
    ops made inside go in its original name scope (`dense/MatMul`), and
    `_current_scope` is the entered scope.

    Yields:
      the entered `tf.VariableScope`.
    """
    self._set_scope(scope)
    with tf.variable_scope(
      self._scope, reuse=reuse, auxiliary_name_scope=False
    ) as current:
      self._current_scope = current
      with tf.name_scope(current.original_name_scope):
        yield current

  @property
  def trainable_weights(self):
    return list(self._trainable_weights) if self.trainable else []

  @property
  def non_trainable_weights(self):
    if self.trainable:
      return list(self._non_trainable_weights)
    return self._trainable_weights + self._non_trainable_weights

  @property
  def weights(self):
    return self.trainable_weights + self.non_trainable_weights

  trainable_variables = trainable_weights
  non_trainable_variables = non_trainable_weights
  variables = weights
