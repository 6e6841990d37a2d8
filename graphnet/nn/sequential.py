"""`Sequential`: layers applied one after the other, as one model callable.

Unnamed layers get unique default names in the model (`dense`,
`dense_1`, ...); two layers with variables may not share a name.
`graphnet.layers` re-exports it.

Example:
    model = Sequential([layers.Dense(32, tf.nn.relu), layers.Dense(10)])
    logits = model(images, is_training=True)   # [batch, 10]
"""

import contextlib

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.nn import layer_base
from graphnet.nn.layer_base import Layer

__all__ = ['Sequential']


class Sequential(Layer):
  """Layers applied one after the other: a model.

  `model(images, is_training)` calls each layer on the previous one's
  output with the same `is_training`. Without a name the layers' scopes
  sit directly in the caller's variable scope (`hidden1/weights`); with
  one, under it (`name/hidden1/weights`). Unnamed layers get their class's
  default name, made unique in the model: `dense`, `dense_1`, ...
  """

  _DEFAULT_NAME = None

  def __init__(self, layers, name=None):
    """Makes the model from layer objects (called in this order).

    Args:
      layers: non-empty sequence of `Layer` objects.
      name: optional variable scope around all layers.

    Raises:
      ConfigError: `layers` is empty or holds something else than a
        `Layer`, or two layers with variables have the same name.
    """
    super().__init__(name)
    self._layers = tuple(layers)
    if not self._layers:
      raise errors.ConfigError(f'{self._label()}: layers must not be empty.')
    for layer in self._layers:
      layer_base.optional_layer(self._label(), layer)
    _name_layers(self._label(), self._layers)

  @property
  def layers(self):
    """The tuple of layers, in calling order."""
    return self._layers

  def __repr__(self):
    inner = ', '.join(repr(layer) for layer in self._layers)
    return f'Sequential([{inner}], name={self._name!r})'

  def _scope(self):
    if self._name is None:
      return contextlib.nullcontext()
    return tf.variable_scope(self._name)

  def _owns_variables(self):
    return any(layer._owns_variables() for layer in self._layers)

  def _existing_variables(self, scope_name):
    inner = layer_base.join_scope(scope_name, self._name)
    found = []
    for layer in self._layers:
      found.extend(layer._existing_variables(inner))
    return found

  def _label(self):
    return 'Sequential' if self._name is None else super()._label()

  def _build(self, inputs, is_training):
    outputs = inputs
    for layer in self._layers:
      outputs = layer(outputs, is_training)
    return outputs


def _name_layers(label, layers):
  """Gives unnamed layers unique default names; rejects clashing names.

  The layers of an unnamed `Sequential` inside sit in the same scope, so
  their names count too.
  """
  taken, with_variables = set(), set()
  for layer in _fixed_scope_names(layers):
    if layer._owns_variables():
      if layer._name in with_variables:
        raise errors.ConfigError(
          f'{label}: two layers with variables are named {layer._name!r}; '
          'give each a different name (or share one object under reuse).'
        )
      with_variables.add(layer._name)
    taken.add(layer._name)
  for layer in layers:
    if layer._named or layer._name is None:
      continue
    base, index = layer._DEFAULT_NAME, 0
    candidate = base
    while candidate in taken:
      index += 1
      candidate = f'{base}_{index}'
    layer._name = candidate
    # Fixed from now on: another model holding the layer must not rename it.
    layer._named = True
    taken.add(candidate)


def _fixed_scope_names(layers):
  """Yields the named layers, looking inside unnamed `Sequential`s."""
  for layer in layers:
    if layer._name is None:
      yield from _fixed_scope_names(layer.layers)
    elif layer._named:
      yield layer
