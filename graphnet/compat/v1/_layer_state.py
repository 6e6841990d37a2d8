"""What TF1's layers and RNN cells share (private).

`tf.layers.Layer` and `tf.nn.rnn_cell.RNNCell` were one Keras class in
TF 1.15; here they are two, sharing how the variable scope is fixed on the
first call, `add_weight`, the read-only names, losses, updates and weight
lists (a layer or cell made with `trainable=False` reports its trainable
variables as non-trainable, as TF 1.15 did), and how a class's TF1
constructor signature is read off its `__init__` chain
(`ConstructorSignature`).

Example:
    class Layer(LayerState):
      __signature__ = ConstructorSignature()
      ...  # holds trainable, _scope, _reuse, _base_name and the lists
"""

import contextlib
import inspect
import re

import tensorflow.compat.v1 as tf

from graphnet import errors

__all__ = [
  'ConstructorSignature',
  'LayerState',
  'add_to_collection',
  'bind',
  'parts',
  'snake_case',
]

_NAMED = inspect.Parameter.POSITIONAL_OR_KEYWORD
_VAR_KEYWORD = inspect.Parameter.VAR_KEYWORD


def snake_case(class_name):
  """'BasicLSTMCell' -> 'basic_lstm_cell', as TF 1.15 named layers."""
  step = re.sub(r'(.)([A-Z][a-z0-9]+)', r'\1_\2', class_name)
  return re.sub(r'([a-z])([A-Z])', r'\1_\2', step).lower()


class LayerState:
  """Scope, `add_weight`, names, losses, updates and weight lists.

  Subclasses hold `trainable` and call `_init_state` from `__init__`,
  which sets `built`, `_dtype`, `_reuse`, `_name`, `_base_name`, `_scope`
  (None until the first call unless fixed), `_current_scope` and the lists
  `_trainable_weights` and `_non_trainable_weights` (variables in creation
  order), `_losses` and `_updates`.
  """

  def _init_state(self, name, dtype, kwargs, base_name, counts):
    """Sets what layers and cells hold before their first call.

    Args:
      name: see `_init_names`.
      dtype: the weights' dtype, or None to take the first inputs'.
      kwargs: the constructor's other keyword arguments: `_scope` (a scope
        to fix now: name or VariableScope) and `_reuse` (True to share
        the variables of an existing scope), TF1's private ones.
      base_name: see `_init_names`.
      counts: see `_init_names`.

    Raises:
      TypeError: another keyword argument, as Python would.
    """
    scope = kwargs.pop('_scope', None)
    self._reuse = kwargs.pop('_reuse', None)
    if kwargs:
      raise TypeError(
        f'{type(self).__name__}() got unexpected keyword argument(s) '
        f'{sorted(kwargs)}.'
      )
    self.built = False
    self._dtype = None if dtype is None else tf.as_dtype(dtype).base_dtype
    self._trainable_weights = []
    self._non_trainable_weights = []
    self._losses = []
    self._updates = []
    self._init_names(name, scope, base_name, counts)

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
  def name(self):
    """The name given, else `<snake_case class name>_<n>` (n per graph)."""
    return self._name

  @property
  def dtype(self):
    """The weights' dtype name; None until the first call infers it."""
    return None if self._dtype is None else tf.as_dtype(self._dtype).name

  @property
  def scope_name(self):
    """The full name of the variable scope (chosen at the first call)."""
    if self._scope is None:
      raise errors.ConfigError(
        f'{type(self).__name__} {self._name!r} has no variable scope yet: it '
        'is chosen at the first call; call it (a cell: run it in an RNN) '
        'before asking for scope_name.'
      )
    return self._scope.name

  @property
  def updates(self):
    """Update ops of the calls so far; none if not trainable."""
    return list(self._updates) if self.trainable else []

  @property
  def losses(self):
    """Regularization losses made so far (tensors)."""
    return list(self._losses)

  def add_weight(
    self,
    name,
    shape,
    dtype=None,
    initializer=None,
    regularizer=None,
    trainable=None,
    constraint=None,
    use_resource=None,
    synchronization=tf.VariableSynchronization.AUTO,
    aggregation=tf.VariableAggregation.NONE,
    partitioner=None,
    **kwargs,
  ):
    """Makes (or, reusing, gets) variable `<scope>/<name>`; returns it.

    Called from `build`. The variable scope is the object's own; once
    built (or made with `_reuse`) it reuses.

    Args:
      name: the variable's name inside the scope, e.g. 'kernel'.
      shape: its shape (list of ints).
      dtype: default: the object's dtype, else float32.
      initializer: default: the variable scope's initializer, else TF's
        default for `get_variable` (glorot uniform for floats).
      regularizer: optional function variable -> scalar loss, added to
        `REGULARIZATION_LOSSES` (and `losses`) when the variable is
        created (not reused), its ops named `<scope>/<name>/Regularizer/`.
      trainable: default True (False with `synchronization=ON_READ`); the
        variable is trainable only if the object is too.
      constraint: optional projection the optimizer applies after updates.
      use_resource: passed to `tf.get_variable`.
      synchronization: passed to `tf.get_variable`.
      aggregation: passed to `tf.get_variable`.
      partitioner: passed to `tf.get_variable`.
      **kwargs: only `experimental_autocast`, ignored.

    Returns:
      the variable.
    """
    kwargs.pop('experimental_autocast', None)
    if kwargs:
      raise TypeError(f'add_weight: unexpected keyword argument(s) {kwargs}.')
    if synchronization == tf.VariableSynchronization.ON_READ:
      if trainable:
        raise ValueError(
          'add_weight: synchronization=ON_READ is only for non-trainable '
          'variables; pass trainable=False.'
        )
      trainable = False
    elif trainable is None:
      trainable = True
    existing = {id(v) for v in tf.global_variables()}
    with self._in_own_scope(self.built or self._reuse) as scope:
      variable = tf.get_variable(
        name,
        shape,
        dtype=tf.as_dtype(dtype or self._dtype or tf.float32),
        initializer=initializer or scope.initializer,
        trainable=trainable and self.trainable,
        constraint=constraint,
        partitioner=partitioner,
        use_resource=use_resource,
        synchronization=synchronization,
        aggregation=aggregation,
      )
      if regularizer and _is_new(variable, existing):
        with tf.name_scope(f'{name}/Regularizer'):
          self._add_losses([regularizer(variable)])
    if trainable and self.trainable and _is_trainable(variable):
      self._trainable_weights.append(variable)
    else:
      self._non_trainable_weights.append(variable)
    return variable

  # TF1's older name.
  add_variable = add_weight

  def _add_losses(self, losses):
    losses = [loss for loss in losses if loss is not None]
    self._losses.extend(losses)
    add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, losses)

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


class ConstructorSignature:
  """`cls.__signature__`: the TF1 constructor arguments of a class, in order.

  TF 1.15 stated every argument of each layer and cell class, repeating the
  groups they share (`Conv2D` restates `Dense`'s `activation, use_bias,
  kernel_initializer, ...`). Here a class names its own arguments and
  passes `*args, **kwargs` on to its base, which names the next group, so
  each group is written once and a positional TF1 call binds the same way.
  This descriptor reads the groups back for `inspect.signature(cls)`: the
  named arguments of each `__init__` up the bases while one passes
  `**kwargs` on, then `**kwargs` if the last one takes them. The walk
  stops before the class holding the descriptor (`Layer`'s `dtype` is no
  `Dense` argument) unless no class below it names an argument. A class
  may restate defaults in TF1's form (`_TF1_DEFAULTS = {'strides': (1,
  1)}` for an int 1) and drop arguments TF1's does not take (`_NOT_TF1 =
  ('dilation_rate',)`).
  """

  def __set_name__(self, owner, name):
    self._root = owner

  def __get__(self, instance, owner):
    if instance is not None:
      # An object's signature is its `__call__`'s.
      raise AttributeError('__signature__')
    return _constructor_signature(owner, self._root)


def bind(cls, args, kwargs):
  """`cls(*args, **kwargs)`'s arguments by name, bound as TF1's signature.

  For a constructor taking `(*args, **kwargs)` whose TF1 order is not its
  bases' (an argument dropped). Raises TypeError as a TF1 call would.

  Returns:
    {name: value} of every argument, `**kwargs`' merged in.
  """
  signature = cls.__signature__
  arguments = dict(signature.bind(*args, **kwargs).arguments)
  for name, parameter in signature.parameters.items():
    if parameter.kind == _VAR_KEYWORD:
      arguments.update(arguments.pop(name, {}))
  return arguments


def _constructor_signature(cls, root):
  """`cls`'s TF1 signature (see `ConstructorSignature`)."""
  named = {}
  var_keyword = None
  for klass in cls.__mro__:
    if '__init__' not in vars(klass):
      continue
    if klass is root and named:
      break
    own = list(inspect.signature(klass.__init__).parameters.values())[1:]
    for parameter in own:
      if parameter.kind == _NAMED:
        named.setdefault(parameter.name, parameter)
    var_keyword = next((p for p in own if p.kind == _VAR_KEYWORD), None)
    if var_keyword is None or klass is root:
      break
  defaults = getattr(cls, '_TF1_DEFAULTS', {})
  omitted = getattr(cls, '_NOT_TF1', ())
  parameters = [
    p.replace(default=defaults.get(name, p.default))
    for name, p in named.items()
    if name not in omitted
  ]
  return inspect.Signature(parameters + ([var_keyword] if var_keyword else []))


def parts(variable):
  """The variables of a (partitioned) variable."""
  if hasattr(variable, '_get_variable_list'):  # A PartitionedVariable.
    return list(variable)
  return [variable]


def _is_new(variable, existing):
  return not any(id(part) in existing for part in parts(variable))


def _is_trainable(variable):
  """Whether `variable` is in TRAINABLE_VARIABLES (a trainable scope)."""
  trainable = {id(v) for v in tf.trainable_variables()}
  return all(id(part) in trainable for part in parts(variable))


def add_to_collection(name, elements):
  """Appends each of `elements` not yet in graph collection `name`."""
  collection = tf.get_collection_ref(name)
  present = {id(e) for e in collection}
  for element in elements:
    if id(element) not in present:
      collection.append(element)
      present.add(id(element))
