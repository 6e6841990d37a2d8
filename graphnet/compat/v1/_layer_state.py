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

import tensorflow.compat.v1 as tf

__all__ = ['LayerState']


class LayerState:
  """`_set_scope`, `trainable_weights`, `non_trainable_weights`, `weights`.

  Subclasses hold `trainable`, `_scope` (None until the first call),
  `_reuse`, `_base_name` and the lists `_trainable_weights` and
  `_non_trainable_weights` (variables in creation order).
  """

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
