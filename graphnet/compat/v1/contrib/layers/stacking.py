"""`repeat` and `stack` of `tf.contrib.layers` (and slim) of TF 1.15.

Apply a layer function several times, each in a numbered scope, so that
VGG-style slim definitions keep their variable names.

Example:
    net = repeat(net, 2, conv2d, 64, [3, 3], scope='conv1')
    # conv1/conv1_1/weights, conv1/conv1_2/weights
"""

import tensorflow.compat.v1 as tf

__all__ = [
  'repeat',
  'stack',
]


def _layer_name(layer, fallback):
  """The scope prefix `repeat` / `stack` give an unnamed layer."""
  if hasattr(layer, '__name__'):
    return layer.__name__
  if hasattr(layer, 'func') and hasattr(layer.func, '__name__'):
    return layer.func.__name__
  return fallback


def repeat(inputs, repetitions, layer, *args, **kwargs):
  """Applies `layer` `repetitions` times, in scopes `<scope>/<scope>_<i>`.

  `repeat(x, 2, conv2d, 64, [3, 3], scope='conv1')` makes
  'conv1/conv1_1/weights' and 'conv1/conv1_2/weights' (as VGG's slim
  definition). Without a scope the layer's function name is used
  ('convolution2d_1', 'fully_connected_1', ...) under 'Repeat'.
  """
  scope = kwargs.pop('scope', None)
  with tf.variable_scope(scope, 'Repeat', [inputs]):
    outputs = tf.convert_to_tensor(inputs)
    if scope is None:
      scope = _layer_name(layer, 'repeat')
    for i in range(repetitions):
      kwargs['scope'] = f'{scope}_{i + 1}'
      outputs = layer(outputs, *args, **kwargs)
    return outputs


def stack(inputs, layer, stack_args, **kwargs):
  """Applies `layer` once per entry of `stack_args`, in `<scope>_<i>`.

  `stack(x, fully_connected, [32, 64], scope='fc')` makes 'fc/fc_1' (32
  units) and 'fc/fc_2' (64 units); an entry may be a tuple of positional
  arguments.

  Raises:
    ValueError: `stack_args` is not a list or tuple.
  """
  scope = kwargs.pop('scope', None)
  if not isinstance(stack_args, (list, tuple)):
    raise ValueError(
      f'stack: stack_args must be a list or tuple, got {stack_args!r}.'
    )
  with tf.variable_scope(scope, 'Stack', [inputs]):
    outputs = tf.convert_to_tensor(inputs)
    if scope is None:
      scope = _layer_name(layer, 'stack')
    for i, layer_args in enumerate(stack_args):
      kwargs['scope'] = f'{scope}_{i + 1}'
      if not isinstance(layer_args, (list, tuple)):
        layer_args = [layer_args]
      outputs = layer(outputs, *layer_args, **kwargs)
    return outputs
