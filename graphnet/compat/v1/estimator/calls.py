"""Calling an Estimator's `input_fn` and `model_fn`, checking what they give.

A `model_fn` may take any of `features, labels, mode, params, config` and
an `input_fn` any of `mode, params, config`, as TF1's Estimator allowed;
each gets the ones it names. An `input_fn` returns features, a
`(features, labels)` pair or a `tf.data.Dataset` of them (read through an
initializable iterator, initialised by `DatasetIterator` as the session
starts); a `model_fn` returns an `EstimatorSpec`.

Example:
    check_model_fn(model_fn)            # in Estimator.__init__
    graph, global_step, spec, input_hooks = build(estimator, input_fn, mode)
"""

import contextlib
import inspect

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1.estimator import inputs
from graphnet.compat.v1.estimator import model_fn as model_fn_lib

__all__ = [
  'DatasetIterator',
  'build',
  'call_input_fn',
  'call_model_fn',
  'check_model_fn',
  'device',
  'input_dataset',
  'input_fn_result',
  'new_graph',
]

_MODEL_FN_ARGS = ('features', 'labels', 'mode', 'params', 'config')


def _fn_args(fn):
  """The argument names `fn` takes (partials and bound methods handled)."""
  try:
    parameters = inspect.signature(fn).parameters
  except (TypeError, ValueError):
    return ()
  return tuple(
    name
    for name, p in parameters.items()
    if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
  )


def _takes_kwargs(fn):
  try:
    parameters = inspect.signature(fn).parameters.values()
  except (TypeError, ValueError):
    return False
  return any(p.kind == p.VAR_KEYWORD for p in parameters)


def check_model_fn(model_fn):
  """Raises ConfigError unless `model_fn` can be called as a model_fn."""
  if not callable(model_fn):
    raise errors.ConfigError(
      f'Estimator: model_fn must be callable, got {model_fn!r}.',
      field='model_fn',
    )
  args = _fn_args(model_fn)
  if 'features' not in args and not _takes_kwargs(model_fn):
    raise errors.ConfigError(
      f'Estimator: model_fn {getattr(model_fn, "__name__", model_fn)} must '
      f'take a `features` argument, it takes {list(args)}.',
      field='model_fn',
    )
  unknown = [a for a in args if a not in _MODEL_FN_ARGS]
  if unknown:
    raise errors.ConfigError(
      f'Estimator: model_fn takes {unknown}, which an Estimator cannot '
      f'pass; its arguments may be any of {list(_MODEL_FN_ARGS)}.',
      field='model_fn',
    )


def _optional_kwargs(fn, estimator, mode):
  """The `mode`, `params` and `config` arguments `fn` names."""
  args = _fn_args(fn)
  kwargs = {}
  if 'mode' in args:
    kwargs['mode'] = mode
  if 'params' in args:
    kwargs['params'] = estimator.params
  if 'config' in args:
    kwargs['config'] = estimator.config
  return kwargs


class DatasetIterator(tf.train.SessionRunHook):
  """Initialises an input_fn's dataset iterator when the session starts."""

  def __init__(self, iterator):
    self._iterator = iterator

  def after_create_session(self, session, coord):
    session.run(self._iterator.initializer)


def _parse_input(result, mode):
  """(features, labels, hooks) from what an input_fn returned."""
  hooks = []
  if isinstance(result, tf.data.Dataset):
    iterator = tf.data.make_initializable_iterator(result)
    hooks.append(DatasetIterator(iterator))
    result = iterator.get_next()
  if isinstance(result, (tuple, list)):
    if len(result) != 2:
      raise errors.ConfigError(
        f'input_fn must return features, (features, labels) or a '
        f'tf.data.Dataset of them; got a sequence of {len(result)} items in '
        f'mode {mode}.',
        field='input_fn',
      )
    return result[0], result[1], hooks
  return result, None, hooks


def input_fn_result(estimator, input_fn, mode):
  """What `input_fn` returns, called with the arguments it names."""
  if not callable(input_fn):
    raise errors.ConfigError(
      f'input_fn must be callable, got {input_fn!r}.', field='input_fn'
    )
  kwargs = _optional_kwargs(input_fn, estimator, mode)
  # The input pipeline stays on the CPU, as TF1's Estimator put it.
  with tf.device('/cpu:0'):
    return input_fn(**kwargs)


def input_dataset(estimator, input_fn, mode):
  """`input_fn`'s data as a `tf.data.Dataset`, or None if it gives none.

  The input_fns of `inputs` (numpy, pandas) give theirs without building
  their iterator; any other input_fn is called.
  """
  dataset_fn = getattr(input_fn, inputs.DATASET_FN, None)
  if dataset_fn is not None:
    with tf.device('/cpu:0'):
      return dataset_fn()
  result = input_fn_result(estimator, input_fn, mode)
  return result if isinstance(result, tf.data.Dataset) else None


def call_input_fn(estimator, input_fn, mode):
  """(features, labels or None, input hooks) of `input_fn` in `mode`."""
  return _parse_input(input_fn_result(estimator, input_fn, mode), mode)


def call_model_fn(estimator, features, labels, mode):
  """The `EstimatorSpec` of the estimator's model_fn on these tensors.

  Raises:
    ConfigError: labels given to a model_fn without a `labels` argument,
      or the model_fn returned no EstimatorSpec.
  """
  model_fn = estimator.model_fn
  kwargs = _optional_kwargs(model_fn, estimator, mode)
  if 'labels' in _fn_args(model_fn):
    kwargs['labels'] = labels
  elif labels is not None:
    raise errors.ConfigError(
      'model_fn does not take labels, but input_fn returns labels; add a '
      '`labels` argument to model_fn or return features only.',
      field='model_fn',
    )
  spec = model_fn(features=features, **kwargs)
  if not isinstance(spec, model_fn_lib.EstimatorSpec):
    raise errors.ConfigError(
      f'model_fn must return an EstimatorSpec, got {type(spec).__name__} '
      f'in mode {mode}.',
      field='model_fn',
    )
  return spec


@contextlib.contextmanager
def device(device_fn):
  """`tf.device(device_fn)`, or nothing when `device_fn` is None."""
  if device_fn is None:
    yield
    return
  with tf.device(device_fn):
    yield


@contextlib.contextmanager
def new_graph(config, device_fn=None):
  """A new default graph with the config's seed and a global step.

  Yields:
    (graph, global_step variable).
  """
  graph = tf.Graph()
  with graph.as_default(), device(device_fn):
    if config.tf_random_seed is not None:
      tf.set_random_seed(config.tf_random_seed)
    yield graph, tf.train.get_or_create_global_step()


def build(estimator, input_fn, mode, device_fn=None):
  """Graph, global step, spec and input hooks of `mode` in a new graph."""
  with new_graph(estimator.config, device_fn) as (graph, global_step):
    features, labels, input_hooks = call_input_fn(estimator, input_fn, mode)
    spec = call_model_fn(estimator, features, labels, mode)
  return graph, global_step, spec, input_hooks
