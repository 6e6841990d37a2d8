"""Compatibility namespaces for programs written against older TensorFlow.

`graphnet.compat.v1` is TF1's `tf`. Its modules stand for TF1's
namespaces in three ways, built with the functions here (which import no
TensorFlow):

- TF's namespaces with graphnet's additions (`tf`, `tf.nn`, `tf.compat`):
  graphnet's own names first, then TF 2's `tf.compat.v1` object, else
  `NotProvidedError` (`tf_namespace`);
- graphnet's own TF1 modules (`tf.layers`, `tf.contrib.layers`, ...): a
  name they lack raises `NotProvidedError` (`not_provided`);
- modules whose names are, in TF1, another module's (slim's layers are
  `tf.contrib.layers`', a package's are its modules'): `reexport`.

`NotProvidedError` is an `AttributeError`, so `hasattr` sees the name
missing; Python's own probes (`__path__`, `__wrapped__`, ...) get a plain
AttributeError.

Example:
    __getattr__ = compat.not_provided(
      'tf.contrib.learn', 'is not provided by graphnet: only datasets is.'
    )
"""

import importlib

from graphnet import errors

__all__ = ['import_own', 'not_provided', 'reexport', 'tf_namespace']


def not_provided(label, explain):
  """A module `__getattr__` raising NotProvidedError for `label.<name>`.

  Args:
    label: the TF1 name of the module, e.g. 'tf.contrib.layers'.
    explain: the message after `label.<name> `: a string, or a function of
      the name returning one.

  Returns:
    the `__getattr__` function.
  """

  def module_getattr(name):
    if name.startswith('__'):
      raise AttributeError(name)
    text = explain(name) if callable(explain) else explain
    raise errors.NotProvidedError(
      f'{label}.{name} {text}', name=f'{label}.{name}'
    )

  return module_getattr


def import_own(label, full_name, what=None):
  """The graphnet module `full_name`, standing for TF1's `label`.

  Raises:
    NotProvidedError: this graphnet has no module `full_name`.
  """
  try:
    return importlib.import_module(full_name)
  except ModuleNotFoundError as e:
    if e.name != full_name:
      raise
    kind = f' ({what})' if what else ''
    raise errors.NotProvidedError(
      f'{label}{kind} is not provided: this graphnet has no module '
      f'{full_name}.',
      name=label,
    ) from None


def tf_namespace(namespace, label, tf_module, own, missing):
  """`__getattr__` and `__dir__` of a module standing for TF's `tf_module`.

  Args:
    namespace: the module's `globals()`; TF's objects are cached there, so
      later lookups skip `__getattr__`.
    label: TF1's name of the namespace, e.g. 'tf.nn'.
    tf_module: TF 2's `tf.compat.v1` module behind it.
    own: graphnet's names there: name -> function of no arguments
      returning the object (a submodule, imported on first use).
    missing: the message after `label.<name> is not provided: `.

  Returns:
    (`__getattr__`, `__dir__`).
  """

  def module_getattr(name):
    if name in own:
      return own[name]()
    try:
      value = getattr(tf_module, name)
    except AttributeError:
      raise errors.NotProvidedError(
        f'{label}.{name} is not provided: {missing}', name=f'{label}.{name}'
      ) from None
    namespace[name] = value
    return value

  def module_dir():
    return sorted(set(namespace) | set(dir(tf_module)) | set(own))

  return module_getattr, module_dir


def reexport(namespace, modules, exclude=()):
  """Binds the public names of `modules` in `namespace`; returns them.

  For a module whose names are, in TF1, the same objects as another's
  (`slim.conv2d is tf.contrib.layers.conv2d`): the list is the other
  module's `__all__`, written once there.

  Args:
    namespace: the re-exporting module's `globals()`.
    modules: the modules whose `__all__` names are bound.
    exclude: names left out.

  Returns:
    the bound names, for the module's `__all__`.
  """
  names = []
  for module in modules:
    for name in module.__all__:
      if name not in exclude:
        namespace[name] = getattr(module, name)
        names.append(name)
  return names
