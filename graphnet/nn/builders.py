"""The registered networks' TensorFlow side: build functions and readers.

`models` registers each network by the names of these functions
(`'graphnet.nn.builders:mlp'`), so that the registry, the config classes
and the command line's flags load no TensorFlow; this module is imported
when a graph is first built or a checkpoint first recognised.

Each `build` is a plain graph function (`models.ModelSpec`): params (the
network's config), images float32 `[batch, *feature_shape]`, the python
bool `is_training`, an optional `regularizer`, and `num_classes`, the
logits' width; logits float32 `[batch, num_classes]` out. Each reader maps
a checkpoint's variable shapes to the network's config, or None.

Example:
    logits = mlp(models.MlpConfig(hidden1=64), images, True)  # [batch, 10]
    mlp_config({'hidden1/weights': [784, 64], ...})  # MlpConfig or None
"""

import inspect

import tensorflow.compat.v1 as tf

from graphnet import contract
from graphnet import errors
from graphnet.nn import deep_mnist
from graphnet.nn import mlp as mnist
from graphnet.nn import models

__all__ = ['mlp', 'mlp_config', 'conv', 'conv_config', 'callable_logits']


def mlp(
  params,
  images,
  is_training,
  regularizer=None,
  num_classes=contract.NUM_CLASSES,
):
  """TF1's fully connected network of a `models.MlpConfig`."""
  del is_training  # The same graph trains and evaluates.
  return mnist.inference(
    images, params.hidden1, params.hidden2, regularizer, num_classes
  )


def mlp_config(shapes):
  """MlpConfig of `hidden1/`, `hidden2/`, `softmax_linear/` variables."""
  width, units = contract.IMAGE_PIXELS, {}
  for layer in ('hidden1', 'hidden2', 'softmax_linear'):
    weights = shapes.get(f'{layer}/weights')
    if weights is None:
      units[layer] = 0
      continue
    # Each layer's fan-in must be the previous layer's width.
    if list(weights) != [width, weights[-1]] or list(
      shapes.get(f'{layer}/biases', [])
    ) != [weights[-1]]:
      return None
    units[layer] = width = weights[-1]
  if units['softmax_linear'] != contract.NUM_CLASSES:
    return None
  try:
    return models.MlpConfig(units['hidden1'], units['hidden2'])
  except errors.ConfigError:
    return None


def conv(
  params,
  images,
  is_training,
  regularizer=None,
  num_classes=contract.NUM_CLASSES,
):
  """The "Deep MNIST" network of a `models.ConvConfig`."""
  return deep_mnist.model_fn(
    images,
    params.keep_prob,
    is_training,
    batch_norm=params.batch_norm,
    regularizer=regularizer,
    num_classes=num_classes,
  )


def conv_config(shapes):
  """ConvConfig of `conv1/`, `conv2/`, `fc1/`, `fc2/` variables."""
  expected = {
    'conv1/weights': deep_mnist.CONV1_WEIGHTS_SHAPE,
    'fc2/weights': [deep_mnist.FC1_UNITS, contract.NUM_CLASSES],
  }
  if any(list(shapes.get(n, [])) != s for n, s in expected.items()):
    return None
  # keep_prob only matters while training: the default.
  return models.ConvConfig(batch_norm='conv1/batch_norm/gamma' in shapes)


def callable_logits(model, weights_of, images, is_training, regularizer=None):
  """Logits of a user's model callable (`models.callable_spec`'s build).

  The model makes its variables with `tf.get_variable`, so a call under
  `reuse=True` shares them. `regularizer` penalises the trainable
  variables named `weights` that the first call in the graph made, in
  every tower built without reuse.

  Args:
    model: callable `model(images[, is_training]) -> logits`.
    weights_of: dict graph -> the weights the model's first call there
      made; filled by the first call.
    images: float32 `[batch, *feature_shape]`.
    is_training: python bool, which tower this is.
    regularizer: optional function weights -> scalar penalty, added to the
      `'losses'` collection.

  Returns:
    the model's logits.
  """
  graph = _root_graph()
  before = {v.ref() for v in tf.trainable_variables()}
  logits = _call_model(model, images, is_training)
  made = [v for v in tf.trainable_variables() if v.ref() not in before]
  if made and graph not in weights_of:
    weights_of[graph] = [
      v for v in made if v.op.name.rsplit('/', 1)[-1] == 'weights'
    ]
  if regularizer is not None and not tf.get_variable_scope().reuse:
    for weights in weights_of.get(graph, []):
      tf.add_to_collection('losses', regularizer(weights))
  return logits


def _call_model(model, images, is_training):
  """`model(images, is_training)`, or `model(images)` when it takes one."""
  try:
    inspect.signature(model).bind(images, is_training)
  except TypeError:
    return model(images)
  except ValueError:
    pass  # No signature to inspect (a builtin): try both.
  return model(images, is_training)


def _root_graph():
  """The default graph, or the graph holding it (an in-graph loop's body)."""
  graph = tf.get_default_graph()
  while getattr(graph, 'outer_graph', None) is not None:
    graph = graph.outer_graph
  return graph
