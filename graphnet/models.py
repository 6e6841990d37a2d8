"""The networks graphnet trains, by name: the one place a network is added.

A `ModelSpec` says everything the rest of graphnet needs to know about a
network: its hyperparameters (a frozen dataclass whose fields are also the
names of its command-line flags, checked in its `__post_init__`), how to
build it, how many examples an evaluation run takes, and how to read its
hyperparameters back from a checkpoint's variable shapes (so an evaluator
rebuilds the network a checkpoint holds without being told).

`build(params, images, is_training, regularizer)` is a plain graph
function: images float32 `[batch, 784]` in, logits float32 `[batch, 10]`
out, variables made with `tf.get_variable` so that a second call under
`reuse=True` (the evaluation tower) shares them. `is_training` is a python
bool: True for the train tower (dropout, batch statistics), False for
evaluation and serving. `regularizer` (or None) maps a weight to a scalar
penalty added to the `'losses'` collection, once per variable.

Adding a network is one `register()` call here (plus, for the command line,
one flag per field of its config):

    @dataclasses.dataclass(frozen=True)
    class TinyConfig:
      units: int = 16

    def _tiny(params, images, is_training, regularizer=None):
      del is_training  # No dropout.
      return mnist.inference(images, params.units, 0, regularizer)

    register(ModelSpec('tiny', TinyConfig, _tiny, eval_batch_size=10000))
    config.ModelConfig(model='tiny', units=32)
"""

import dataclasses
from collections.abc import Callable

from graphnet import contract
from graphnet import deep_mnist
from graphnet import errors
from graphnet import mnist

__all__ = [
  'ModelSpec',
  'MlpConfig',
  'ConvConfig',
  'register',
  'get',
  'names',
  'read_config',
]


@dataclasses.dataclass(frozen=True)
class ModelSpec:
  """How to build, evaluate and recognise one network."""

  # The name of --model and of `config.ModelConfig.model`.
  name: str
  # Frozen dataclass of the network's hyperparameters; every field has a
  # default, and its __post_init__ raises errors.ConfigError (with `field=`)
  # for a bad value.
  config_class: type
  # build(params, images, is_training, regularizer=None) -> logits.
  build: Callable
  # Examples per evaluation session.run (bounds the activation memory).
  eval_batch_size: int = 10000
  # read_config(shapes) -> params, or None when the checkpoint holds
  # another network; shapes maps variable name -> shape (list of int).
  # None: the network cannot be recognised from a checkpoint.
  read_config: Callable | None = None


_REGISTRY = {}


def register(spec):
  """Adds `spec` to the networks `ModelConfig(model=...)` accepts.

  Returns:
    `spec`.

  Raises:
    ConfigError: another network is registered under the same name.
  """
  if spec.name in _REGISTRY:
    raise errors.ConfigError(
      f'models.register: a network named {spec.name!r} is already '
      f'registered; choose another name (registered: {names()}).',
      field='model',
    )
  _REGISTRY[spec.name] = spec
  return spec


def names():
  """The registered network names, in registration order (a tuple)."""
  return tuple(_REGISTRY)


def get(name):
  """The `ModelSpec` registered as `name`.

  Raises:
    ConfigError: no network has that name.
  """
  if name not in _REGISTRY:
    raise errors.ConfigError(
      f'model must be one of {names()}, got {name!r}.', field='model'
    )
  return _REGISTRY[name]


def read_config(shapes):
  """(name, params) of the registered network whose variables `shapes` holds.

  Args:
    shapes: dict variable name -> shape (list of int), as from
      `tf.train.list_variables`.

  Returns:
    (name, params), or None when no registered network recognises them.
  """
  for spec in _REGISTRY.values():
    params = spec.read_config(shapes) if spec.read_config else None
    if params is not None:
      return spec.name, params
  return None


@dataclasses.dataclass(frozen=True)
class MlpConfig:
  """TF1's fully connected network (`mnist.inference`)."""

  # Units of the first hidden layer; 0 = softmax regression.
  hidden1: int = 128
  # Units of the second hidden layer; 0 = one hidden layer.
  hidden2: int = 32

  def __post_init__(self):
    mnist.check_hidden_units(
      self.hidden1, self.hidden2, 'MlpConfig', ('hidden1', 'hidden2')
    )


def _mlp(params, images, is_training, regularizer=None):
  del is_training  # The same graph trains and evaluates.
  return mnist.inference(images, params.hidden1, params.hidden2, regularizer)


def _mlp_config(shapes):
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
    return MlpConfig(units['hidden1'], units['hidden2'])
  except errors.ConfigError:
    return None


@dataclasses.dataclass(frozen=True)
class ConvConfig:
  """The convolutional network of "Deep MNIST" (`deep_mnist`)."""

  # Probability of keeping each fc1 unit while training, in (0, 1].
  keep_prob: float = 0.5
  # Batch-normalise the conv1, conv2 and fc1 pre-activations.
  batch_norm: bool = False

  def __post_init__(self):
    deep_mnist.check_keep_prob(self.keep_prob, 'ConvConfig')


def _conv(params, images, is_training, regularizer=None):
  return deep_mnist.model_fn(
    images, params.keep_prob, params.batch_norm, is_training, regularizer
  )


def _conv_config(shapes):
  """ConvConfig of `conv1/`, `conv2/`, `fc1/`, `fc2/` variables."""
  expected = {
    'conv1/weights': deep_mnist.CONV1_WEIGHTS_SHAPE,
    'fc2/weights': [deep_mnist.FC1_UNITS, contract.NUM_CLASSES],
  }
  if any(list(shapes.get(n, [])) != s for n, s in expected.items()):
    return None
  # keep_prob only matters while training: the default.
  return ConvConfig(batch_norm='conv1/batch_norm/gamma' in shapes)


register(ModelSpec('mlp', MlpConfig, _mlp, 10000, _mlp_config))
# The conv net's activations for 10000 images take about 2 GB, too much
# for a small GPU.
register(ModelSpec('conv', ConvConfig, _conv, 1000, _conv_config))
