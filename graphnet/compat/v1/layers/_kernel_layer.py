"""The base of TF1's layers with a kernel and a bias (Dense, convolutions).

Holds TF1's `activation`, `use_bias` and `kernel_*` / `bias_*`
initializer, regularizer and constraint arguments, written once here for
`Dense` and the convolutions, and makes the two variables.

Example:
    class Dense(KernelLayer):
      def build(self, input_shape):
        self._add_kernel_and_bias([last, self.units], self.units)
"""

from graphnet.compat.v1.layers import _arguments
from graphnet.compat.v1.layers import base

__all__ = ['KernelLayer']


class KernelLayer(base.Layer):
  """A layer making `kernel` and (with `use_bias`) `bias` in its scope.

  Default kernel initializer: the variable scope's, else glorot uniform;
  biases start at zero. Both are trainable; a regularizer's loss goes to
  `REGULARIZATION_LOSSES` when the variable is made.
  """

  def __init__(
    self,
    activation=None,
    use_bias=True,
    kernel_initializer=None,
    bias_initializer=_arguments.ZEROS,
    kernel_regularizer=None,
    bias_regularizer=None,
    activity_regularizer=None,
    kernel_constraint=None,
    bias_constraint=None,
    trainable=True,
    name=None,
    **kwargs,
  ):
    super().__init__(
      trainable=trainable,
      name=name,
      activity_regularizer=activity_regularizer,
      **kwargs,
    )
    self.activation = _arguments.activation_of(
      f'layer {self.name!r}', activation
    )
    self.use_bias = use_bias
    self.kernel_initializer = kernel_initializer
    self.bias_initializer = bias_initializer
    self.kernel_regularizer = kernel_regularizer
    self.bias_regularizer = bias_regularizer
    self.kernel_constraint = kernel_constraint
    self.bias_constraint = bias_constraint

  def _add_kernel_and_bias(self, kernel_shape, units):
    """Makes `self.kernel` and, if `self.use_bias`, `self.bias` [units]."""
    self.kernel = self.add_weight(
      'kernel',
      kernel_shape,
      initializer=self.kernel_initializer,
      regularizer=self.kernel_regularizer,
      constraint=self.kernel_constraint,
      dtype=self.dtype,
      trainable=True,
    )
    self.bias = None
    if self.use_bias:
      self.bias = self.add_weight(
        'bias',
        [units],
        initializer=self.bias_initializer,
        regularizer=self.bias_regularizer,
        constraint=self.bias_constraint,
        dtype=self.dtype,
        trainable=True,
      )
