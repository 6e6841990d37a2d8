"""The networks graphnet trains, by name: the one place a network is added.

A `ModelSpec` says everything the rest of graphnet needs to know about a
network: its hyperparameters (a frozen dataclass checked in its
`__post_init__`; each `options.option()` field is also a flag), how to
build it, how many examples an evaluation run takes, and how to read its
hyperparameters back from a checkpoint's variable shapes (so an evaluator
rebuilds the network a checkpoint holds without being told).

`build(params, images, is_training, regularizer)` is a plain graph
function: images float32 `[batch, *feature_shape]` in (MNIST: `[batch,
784]`), logits float32 `[batch, num_classes]` out (a build with a
`num_classes` keyword is given the data's class count), variables made
with `tf.get_variable` so that a second call under `reuse=True` (the
evaluation tower) shares them. `is_training` is a python bool: True for
the train tower (dropout, batch statistics), False for evaluation and
serving. `regularizer` (or None) maps a weight to a scalar penalty added
to the `'losses'` collection, once per variable.

`build` and `read_config` may be given as `'package.module:function'`,
imported on first use: the built-in networks' are in `builders`, so that
this module, and the flags made from its configs, load no TensorFlow.

Adding a network is one `register()` call here; the command line makes a
flag of each `option()` field of its config:

    @dataclasses.dataclass(frozen=True)
    class TinyConfig:
      units: int = options.option(16, 'tiny: hidden units.', lower_bound=0)

    def _tiny(params, images, is_training, regularizer=None):
      del is_training  # No dropout.
      return mnist.inference(images, params.units, 0, regularizer)

    register(ModelSpec('tiny', TinyConfig, _tiny, eval_batch_size=10000))
    config.ModelConfig(model='tiny', units=32)

A user's model callable (`model(images) -> logits` or `model(images,
is_training) -> logits`, e.g. a `layers.Sequential`) becomes a network
through `register_callable(model)`, or on the command line through
`--model package.module:function` (`load(spec)`).
"""

import dataclasses
import importlib
import inspect
import re
from collections.abc import Callable

from graphnet import contract
from graphnet import errors
from graphnet import options
from graphnet.nn import hparams

__all__ = [
  'ModelSpec',
  'MlpConfig',
  'ConvConfig',
  'register',
  'get',
  'names',
  'read_config',
  'CallableConfig',
  'callable_spec',
  'register_callable',
  'load',
  'names_a_module',
]


@dataclasses.dataclass(frozen=True)
class ModelSpec:
  """How to build, evaluate and recognise one network."""

  # The network's name: what `config.ModelConfig.model` holds.
  name: str
  # Frozen dataclass of the network's hyperparameters, all with defaults;
  # its __post_init__ raises errors.ConfigError (`field=`) for a bad value.
  config_class: type
  # build(params, images, is_training, regularizer=None) -> logits, or
  # 'package.module:function' naming it, imported on its first call (so
  # that the registry and the flags made from it load no TensorFlow).
  build: Callable | str
  # Examples per evaluation session.run (bounds the activation memory).
  eval_batch_size: int = 10000
  # read_config(shapes) -> params, or None when the checkpoint holds
  # another network; shapes maps variable name -> shape (list of int).
  # None: the network cannot be recognised from a checkpoint. Or
  # 'package.module:function', as `build`.
  read_config: Callable | str | None = None

  def __post_init__(self):
    for name in ('build', 'read_config'):
      if isinstance(getattr(self, name), str):
        # Frozen: the named function stands in for the string, once.
        object.__setattr__(self, name, _Imported(getattr(self, name)))

  def logits(
    self,
    params,
    images,
    is_training,
    regularizer=None,
    num_classes=contract.NUM_CLASSES,
  ):
    """Builds one tower: `build`, given the class count, and checked.

    Args:
      params: an instance of `config_class`.
      images: float32 tensor `[batch, *feature_shape]`.
      is_training: python bool, which tower this is.
      regularizer: optional function weights -> scalar penalty.
      num_classes: the data's class count, the logits' width.

    Returns:
      float32 logits `[batch, num_classes]`.

    Raises:
      ConfigError: the logits are not `[batch, num_classes]`.
    """
    kwargs = {}
    if 'num_classes' in inspect.signature(self.build).parameters:
      kwargs['num_classes'] = num_classes
    logits = self.build(params, images, is_training, regularizer, **kwargs)
    shape = getattr(logits, 'shape', None)
    if shape is None or shape.ndims != 2 or shape[-1] != num_classes:
      raise errors.ConfigError(
        f'model {self.name!r}: expected logits [batch, {num_classes}] (the '
        f'data has {num_classes} classes), got '
        f'{shape if shape is not None else type(logits).__name__}; make '
        f'the last layer {num_classes} wide.',
        field='model',
      )
    return logits


class _Imported:
  """The function `package.module:function`, imported on its first call."""

  def __init__(self, path):
    self.path = path

  def resolve(self):
    """The function itself (its module imported now)."""
    module_name, _, function_name = self.path.partition(':')
    return getattr(importlib.import_module(module_name), function_name)

  def __call__(self, *args, **kwargs):
    return self.resolve()(*args, **kwargs)

  @property
  def __signature__(self):
    # `ModelSpec.logits` reads the parameters (num_classes) of the build.
    return inspect.signature(self.resolve())

  def __repr__(self):
    return f'<function {self.path}>'


# The TensorFlow side of the networks registered below.
_BUILDERS = 'graphnet.nn.builders:'
_CALLABLE_LOGITS = _Imported(_BUILDERS + 'callable_logits')

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

  hidden1: int = options.option(
    128, 'Units in hidden layer 1 (0: none).', lower_bound=0
  )
  hidden2: int = options.option(
    32, 'Units in hidden layer 2 (0: none).', lower_bound=0
  )

  def __post_init__(self):
    hparams.check_hidden_units(
      self.hidden1, self.hidden2, 'MlpConfig', ('hidden1', 'hidden2')
    )


@dataclasses.dataclass(frozen=True)
class ConvConfig:
  """The convolutional network of "Deep MNIST" (`deep_mnist`)."""

  keep_prob: float = options.option(
    0.5, 'conv: probability of keeping an fc1 unit in training, in (0, 1].'
  )
  batch_norm: bool = options.option(
    False, 'conv: batch-normalise conv1, conv2 and fc1.'
  )

  def __post_init__(self):
    hparams.check_keep_prob(self.keep_prob, 'ConvConfig')


register(
  ModelSpec(
    'mlp', MlpConfig, _BUILDERS + 'mlp', 10000, _BUILDERS + 'mlp_config'
  )
)
# The conv net's activations for 10000 images take about 2 GB, too much
# for a small GPU.
register(
  ModelSpec(
    'conv', ConvConfig, _BUILDERS + 'conv', 1000, _BUILDERS + 'conv_config'
  )
)


@dataclasses.dataclass(frozen=True)
class CallableConfig:
  """A user's model callable has no hyperparameters graphnet knows of."""


# id(callable) -> (callable, its ModelSpec): one registration per object.
_CALLABLES = {}
_NAME_CLEANUP = re.compile(r'[^A-Za-z0-9_.:]+')


def callable_spec(model, name):
  """A `ModelSpec` named `name` that builds the user's model callable.

  The model makes its variables with `tf.get_variable` (a
  `layers.Sequential` does), so the evaluation tower's call under
  `reuse=True` shares them. The trainer's `regularization_rate` puts an
  L2 penalty on each trainable variable named `weights` (the layers'
  naming) that the model's first call made, in every tower built without
  reuse (also an in-graph loop's body); penalties the model's own layers
  add (`regularizer=`) count too.

  Args:
    model: callable `model(images) -> logits` or `model(images,
      is_training) -> logits`.
    name: the network name.

  Returns:
    an unregistered `ModelSpec`; its config is `CallableConfig()`, it has
    no `read_config` (an evaluator scores its checkpoints through the
    saved graph).

  Raises:
    ConfigError: `model` is not callable.
  """
  if not callable(model):
    raise errors.ConfigError(
      f'model must be a callable model(images) -> logits (e.g. a '
      f'graphnet.layers.Sequential), got {model!r}.',
      field='model',
    )
  # graph -> the weights the first call made, penalised in later towers.
  weights_of = {}

  def _build(params, images, is_training, regularizer=None):
    del params  # CallableConfig: nothing to read.
    return _CALLABLE_LOGITS(model, weights_of, images, is_training, regularizer)

  return ModelSpec(name, CallableConfig, _build)


def _callable_name(model):
  base = getattr(model, '__qualname__', None) or type(model).__qualname__
  module = getattr(model, '__module__', None) or type(model).__module__
  return _NAME_CLEANUP.sub('_', f'{module}.{base}')


def register_callable(model, name=None):
  """Registers a user's model callable as a network (once per object).

  Args:
    model: callable `model(images[, is_training]) -> logits`.
    name: the network name; default `module.qualname` of the callable,
      with `#2`, `#3`, ... added when another object took it.

  Returns:
    the `ModelSpec` (the same one for the same object).

  Raises:
    ConfigError: `model` is not callable, or `name` is taken.
  """
  known = _CALLABLES.get(id(model))
  if known is not None and known[0] is model and name in (None, known[1].name):
    return known[1]
  if name is None:
    base = name = _callable_name(model)
    count = 1
    while name in _REGISTRY:
      count += 1
      name = f'{base}#{count}'
  spec = register(callable_spec(model, name))
  # Holding the model keeps its id from being reused by another object.
  _CALLABLES[id(model)] = (model, spec)
  return spec


def names_a_module(spec_string):
  """Whether `load(spec_string)` imports a module (may import TensorFlow)."""
  return spec_string not in _REGISTRY and ':' in spec_string


def load(spec_string):
  """The network a `model` setting names: registered, or `module:function`.

  `package.module:function` imports the module and calls `function()`,
  which returns a model callable (`model(images[, is_training]) ->
  logits`, e.g. a `layers.Sequential`); it is registered under the spec
  string itself.

  Args:
    spec_string: a name from `names()`, or `package.module:function`.

  Returns:
    the network name to put in `config.ModelConfig(model=...)`.

  Raises:
    ConfigError (field 'model'): an unknown name, a module that does not
      import, a missing function, or one that fails or returns no
      callable.
  """
  if not names_a_module(spec_string):
    return get(spec_string).name
  module_name, _, function_name = spec_string.partition(':')
  where = f'model {spec_string!r}'
  try:
    module = importlib.import_module(module_name)
  except Exception as e:  # noqa: BLE001 - any import failure is the user's.
    raise errors.ConfigError(
      f'{where}: cannot import module {module_name!r} '
      f'({type(e).__name__}: {e}); expected package.module:function on '
      f'PYTHONPATH, or one of {names()}.',
      field='model',
    ) from e
  function = getattr(module, function_name, None)
  if not callable(function):
    raise errors.ConfigError(
      f'{where}: module {module_name!r} has no function {function_name!r}; '
      'expected a function returning a model callable.',
      field='model',
    )
  try:
    model = function()
  except Exception as e:  # noqa: BLE001 - the user's code, named below.
    raise errors.ConfigError(
      f'{where}: calling {function_name}() failed ({type(e).__name__}: '
      f'{e}); it must take no arguments and return a model callable.',
      field='model',
    ) from e
  if not callable(model):
    raise errors.ConfigError(
      f'{where}: {function_name}() returned {model!r}, expected a model '
      'callable model(images) -> logits (e.g. a graphnet.layers.Sequential).',
      field='model',
    )
  return register_callable(model, name=spec_string).name
