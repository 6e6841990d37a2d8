"""The weight lists TF1's layers and RNN cells both expose (private).

`tf.layers.Layer` and `tf.nn.rnn_cell.RNNCell` were one Keras class in
TF 1.15; here they are two, sharing these read-only lists: a layer or cell
made with `trainable=False` reports its trainable variables as
non-trainable, as TF 1.15 did.

Example:
    class Layer(WeightLists):
      trainable = True
      _trainable_weights, _non_trainable_weights = [], []
"""

__all__ = ['WeightLists']


class WeightLists:
  """`trainable_weights`, `non_trainable_weights`, `weights` (+ aliases).

  Subclasses hold `trainable` and the lists `_trainable_weights` and
  `_non_trainable_weights` (variables in creation order).
  """

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
