"""TF1's `tf.layers.Layer`: variable scopes, reuse and collections.

A layer object makes its variables with `tf.get_variable` in a variable
scope chosen at its first call (or first `add_weight`) as TF 1.x chose it:

- made by a function (`tf.layers.dense(..., name='fc')`): the scope is
  `name` as given, so a second call with the same name and no `reuse`
  raises TF's "Variable fc/kernel already exists";
- made as an object (`tf.layers.Dense(10, name='fc')`) or without a name:
  `tf.variable_scope(None, default_name=name or 'dense')`, which TF makes
  unique per graph and enclosing scope: `dense`, `dense_1`, ...;
- `reuse=True` (functions) opens the scope by name, reusing its variables;
  an enclosing `tf.variable_scope(..., reuse=True)` reuses as in TF1.

Every later call of the same object reuses its variables. Ops go in the
scope's name scope (`dense/MatMul`). Collections, as TF1's:
`REGULARIZATION_LOSSES` gets each weight regularizer's loss (named
`<scope>/<weight>/Regularizer/...`) when the weight is created, and the
activity regularizer's loss divided by the batch size at each call;
`UPDATE_OPS` gets the layer's update ops (batch norm's moving averages)
after each call, unless the layer was built with `trainable=False`.

No Keras: this is graphnet's own code on `tf.compat.v1`.

Example:
    class Scale(Layer):
      def build(self, input_shape):
        self.scale = self.add_weight(
            'scale', [], initializer=tf.ones_initializer())
        super().build(input_shape)

      def call(self, inputs):
        return inputs * self.scale
"""

import weakref

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1 import _layer_state

__all__ = [
  'InputSpec',
  'Layer',
]

# Layer.name counters per graph (`dense_1`, `dense_2`, ... as TF1 numbered
# its layer objects; the variable scope is numbered separately, by TF).
_NAME_UIDS = weakref.WeakKeyDictionary()


class InputSpec:
  """What a layer accepts: `ndim`, `min_ndim`, `max_ndim`, fixed `axes`.

  TF1's `tf.layers.InputSpec`; `dtype` and `shape` are recorded, not checked.
  """

  def __init__(
    self,
    dtype=None,
    shape=None,
    ndim=None,
    max_ndim=None,
    min_ndim=None,
    axes=None,
  ):
    self.dtype = dtype
    self.shape = shape
    self.ndim = len(shape) if shape is not None else ndim
    self.max_ndim = max_ndim
    self.min_ndim = min_ndim
    self.axes = dict(axes or {})

  def __repr__(self):
    return (
      f'InputSpec(ndim={self.ndim}, min_ndim={self.min_ndim}, '
      f'max_ndim={self.max_ndim}, axes={self.axes})'
    )

  def check(self, layer_name, inputs):
    """Raises ConfigError if `inputs` (a tensor) does not fit this spec."""
    ndims = inputs.shape.ndims
    wanted = None
    if self.ndim is not None and ndims != self.ndim:
      wanted = f'ndim={self.ndim}'
    elif self.min_ndim is not None and (ndims is None or ndims < self.min_ndim):
      wanted = f'min_ndim={self.min_ndim}'
    elif self.max_ndim is not None and (ndims is None or ndims > self.max_ndim):
      wanted = f'max_ndim={self.max_ndim}'
    if wanted:
      raise errors.ConfigError(
        f'layer {layer_name!r}: expected inputs of {wanted}, got shape '
        f'{inputs.shape} (tensor {inputs.name}).'
      )
    dims = inputs.shape.as_list() if ndims is not None else []
    for axis, size in self.axes.items():
      found = dims[axis] if dims else None
      if size is not None and found not in (None, size):
        raise errors.ConfigError(
          f'layer {layer_name!r}: expected axis {axis} of the inputs to have '
          f'size {size} (as at its first call), got shape {inputs.shape} '
          f'(tensor {inputs.name}).'
        )


class Layer(_layer_state.LayerState):
  """TF1's `tf.layers.Layer`: subclass it with `build` and `call`.

  Attributes:
    name: the layer's name (`dense_1` for the first unnamed `Dense` object,
      as TF1 numbered them; its variable scope is `scope_name`).
    trainable: whether its weights go to `TRAINABLE_VARIABLES` (and its
      updates to `UPDATE_OPS`).
    built: whether `build` has run (variables made).
    input_spec: an `InputSpec` checked at each call, or None.
  """

  # TF1's arguments of each subclass, read off its `__init__` chain.
  __signature__ = _layer_state.ConstructorSignature()

  def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
    self.activity_regularizer = kwargs.pop('activity_regularizer', None)
    # Keras's shape arguments mean nothing for a graph-mode layer.
    for ignored in ('input_shape', 'batch_input_shape', 'batch_size'):
      kwargs.pop(ignored, None)
    self.trainable = trainable
    self.input_spec = None
    base_name = _layer_state.snake_case(type(self).__name__)
    self._init_state(name, dtype, kwargs, base_name, _NAME_UIDS)

  def build(self, input_shape):
    """Makes the variables for inputs of `input_shape` (a TensorShape)."""
    del input_shape
    self.built = True

  def call(self, inputs, **kwargs):
    """The layer's computation; the base class returns `inputs`."""
    del kwargs
    return inputs

  def add_update(self, updates, inputs=None):
    """Records update ops (ops, tensors or callables making them)."""
    del inputs
    if not isinstance(updates, (list, tuple)):
      updates = [updates]
    for update in updates:
      if callable(update):
        update = update()
      if not isinstance(update, tf.Operation):
        update = update.op
      self._updates.append(update)

  def add_loss(self, losses, inputs=None):
    """Adds loss tensors to the layer and to `REGULARIZATION_LOSSES`."""
    del inputs
    if not isinstance(losses, (list, tuple)):
      losses = [losses]
    self._add_losses([loss() if callable(loss) else loss for loss in losses])

  def __call__(self, inputs, *args, **kwargs):
    """Builds the layer on `inputs` (first call: makes the variables).

    Args:
      inputs: a tensor (or array, converted).
      *args: passed to `call`.
      **kwargs: passed to `call` (e.g. `training=`), but `scope`: the
        variable scope for a first call.

    Returns:
      the output tensor.
    """
    if tf.executing_eagerly():
      raise errors.ConfigError(
        f'layer {self._name!r}: graphnet.compat.v1 layers build graphs; '
        'eager execution is on (call tf.disable_eager_execution() first).'
      )
    reuse = True if self.built else self._reuse
    with self._in_own_scope(reuse, kwargs.pop('scope', None)):
      if not isinstance(inputs, (tf.Tensor, tf.SparseTensor, tf.Variable)):
        inputs = tf.convert_to_tensor(inputs)
      if self.input_spec is not None:
        self.input_spec.check(self._name, inputs)
      if not self.built:
        if self._dtype is None:
          self._dtype = inputs.dtype.base_dtype
        self.build(inputs.shape)
        self.built = True
      outputs = self.call(inputs, *args, **kwargs)
      if self.activity_regularizer is not None:
        self._regularize_activity(outputs)
    if self.trainable:
      _layer_state.add_to_collection(tf.GraphKeys.UPDATE_OPS, self._updates)
    return outputs

  def apply(self, inputs, *args, **kwargs):
    """The same as calling the layer (TF1's older spelling)."""
    return self(inputs, *args, **kwargs)

  def __repr__(self):
    return f'<{type(self).__name__} name={self._name!r}>'

  def _regularize_activity(self, outputs):
    with tf.name_scope('ActivityRegularizer'):
      loss = self.activity_regularizer(outputs)
      batch = tf.cast(tf.shape(outputs)[0], loss.dtype)
      self._add_losses([loss / batch])
