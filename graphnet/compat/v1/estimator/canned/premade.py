"""TF 1.15's premade estimators' constructors, each argument written once.

TF1 repeats most constructor arguments across its six premade estimators:
a Classifier and its Regressor differ only in the head's arguments
(`n_classes`, `weight_column`, `label_vocabulary` against
`label_dimension`, `weight_column`) in the middle of the list. Here each
estimator's arguments are groups of `inspect.Parameter`s built by
`_signatures.group`; subclassing `Classifier` or `Regressor` with the groups
before and after the head gives the class TF 1.15's signature (so a TF1
call binds the same, positionally or by keyword), an `__init__` binding
through it, and an `Args:` section in its docstring from `_MEANINGS`.

The bound arguments (a dict) make the estimator: the head comes from them,
the module's `model_fn_of(args)` builds the `model_fn`, and the Estimator
gets `model_dir`, `config` and `warm_start_from`.

Example:
    _BEFORE = _signatures.group('hidden_units', 'feature_columns',
                                 model_dir=None)
    class DNNRegressor(premade.Regressor, before=_BEFORE, after=_AFTER,
                       model_fn_of=_model_fn_of):
      '''TF 1.15's `tf.estimator.DNNRegressor`.'''
"""

import inspect
import textwrap

from graphnet.compat.v1 import _signatures
from graphnet.compat.v1.estimator.canned import head as head_lib
from graphnet.compat.v1.estimator.estimator import Estimator

__all__ = [
  'Classifier',
  'DNN_TAIL',
  'Regressor',
  'head_of',
]

_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD


# TF 1.15's head arguments, between each estimator's own groups.
_CLASSIFIER_HEAD = _signatures.group(
  n_classes=2, weight_column=None, label_vocabulary=None
)
_REGRESSOR_HEAD = _signatures.group(label_dimension=1, weight_column=None)
# The arguments DNN* and DNNLinearCombined* end with (`batch_norm` last).
DNN_TAIL = _signatures.group(
  input_layer_partitioner=None,
  config=None,
  warm_start_from=None,
  loss_reduction='weighted_sum',
  batch_norm=False,
)

# What each premade estimator argument means, for the docstrings' `Args:`.
_MEANINGS = {
  'hidden_units': 'sizes of the hidden layers, e.g. [64, 32].',
  'feature_columns': 'the `tf.feature_column`s the model reads.',
  'model_dir': 'directory of checkpoints and summaries (None: a new '
  'temporary directory).',
  'n_classes': 'number of label classes, at least 2.',
  'weight_column': 'name (or numeric column) of the per-example loss '
  'weights, or None.',
  'label_vocabulary': 'the string labels, n_classes of them, or None for '
  'integer labels in [0, n_classes).',
  'label_dimension': 'number of float targets per example.',
  'optimizer': "an optimizer name ('Adagrad', 'Adam', 'Ftrl', 'RMSProp', "
  "'SGD'), a `tf.train.Optimizer` or a function returning one.",
  'activation_fn': 'applied after each hidden layer; None means '
  'tf.nn.relu, as TF 1.15 documents.',
  'dropout': 'probability of dropping a hidden unit while training, in '
  '[0, 1), or None.',
  'input_layer_partitioner': 'accepted and ignored (variables are not '
  'partitioned).',
  'partitioner': 'accepted and ignored (variables are not partitioned).',
  'config': 'a `RunConfig`, or None for the default one.',
  'warm_start_from': 'a checkpoint path or `WarmStartSettings` to '
  'initialize from, or None.',
  'loss_reduction': "a `tf.losses.Reduction`; TF 1.15's 'weighted_sum' "
  'sums the loss over the batch.',
  'batch_norm': 'batch normalization after each hidden layer.',
  'sparse_combiner': "how a multivalent categorical column's weights "
  "combine: 'sum', 'mean' or 'sqrtn'.",
  'linear_feature_columns': 'the columns of the linear part (e.g. crossed '
  'and hashed ones), or None.',
  'linear_optimizer': "the linear part's optimizer (as `optimizer`).",
  'dnn_feature_columns': 'the dense columns of the DNN part (e.g. '
  'embedding and indicator ones), or None.',
  'dnn_optimizer': "the DNN part's optimizer (as `optimizer`).",
  'dnn_hidden_units': "the DNN part's layer sizes; needed with "
  'dnn_feature_columns.',
  'dnn_activation_fn': "the DNN part's activation (as `activation_fn`).",
  'dnn_dropout': "the DNN part's dropout (as `dropout`).",
  'linear_sparse_combiner': "the linear part's `sparse_combiner`.",
}


def _default_text(value):
  if value is inspect.Parameter.empty:
    return 'Required.'
  if callable(value):  # The activations, TF functions.
    return f'Default tf.nn.{value.__name__}.'
  return f'Default {value!r}.'


def _args_section(signature):
  """The docstring `Args:` section of a premade `signature`."""
  lines = ['Args:']
  for parameter in signature.parameters.values():
    meaning = _MEANINGS[parameter.name]
    lines.append(
      textwrap.fill(
        f'{parameter.name}: {meaning} {_default_text(parameter.default)}',
        width=76,
        initial_indent='  ',
        subsequent_indent='    ',
      )
    )
  return '\n'.join(lines)


def head_of(args):
  """The head the constructor arguments `args` (a dict) ask for.

  Raises:
    ConfigError: n_classes < 2, a label_vocabulary of another length, or
      label_dimension < 1.
  """
  if 'n_classes' in args:
    return head_lib.classifier_head(
      args['n_classes'],
      args['weight_column'],
      args['label_vocabulary'],
      args['loss_reduction'],
    )
  return head_lib.regression_head(
    args['label_dimension'], args['weight_column'], args['loss_reduction']
  )


def _init_binding(signature, model_fn_of):
  """An `__init__` taking `signature`'s arguments (after `self`)."""

  def init(self, *args, **kwargs):
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = bound.arguments
    Estimator.__init__(
      self,
      model_fn=model_fn_of(arguments),
      model_dir=arguments['model_dir'],
      config=arguments['config'],
      warm_start_from=arguments['warm_start_from'],
    )

  init.__name__ = '__init__'
  init.__signature__ = signature.replace(
    parameters=[
      inspect.Parameter('self', _KEYWORD),
      *signature.parameters.values(),
    ]
  )
  return init


class _Premade(Estimator):
  """A premade estimator: its TF1 arguments are groups around a head's."""

  _HEAD = ()

  def __init_subclass__(cls, before=None, after=(), model_fn_of=None, **kw):
    """Gives `cls` TF1's signature `before + head + after` and its Args.

    A subclass naming no `model_fn_of` (a user's subclass of
    DNNClassifier, say) keeps its base's `__init__`. The Args section
    follows the docstring's first line.

    Args:
      before: the `_signatures.group` before the head's.
      after: those after.
      model_fn_of: function (arguments by name) -> model_fn; checks the
        arguments it uses and raises ConfigError.
      **kw: for `Estimator`'s own `__init_subclass__`.
    """
    super().__init_subclass__(**kw)
    if model_fn_of is None:
      return
    signature = inspect.Signature([*before, *cls._HEAD, *after])
    cls.__init__ = _init_binding(signature, model_fn_of)
    cls.__init__.__qualname__ = f'{cls.__qualname__}.__init__'
    summary, _, rest = inspect.cleandoc(cls.__doc__ or '').partition('\n\n')
    cls.__doc__ = '\n\n'.join(
      part for part in (summary, _args_section(signature), rest) if part
    )


class Classifier(_Premade):
  """Base of the premade classifiers: the head is a classifier's."""

  _HEAD = _CLASSIFIER_HEAD


class Regressor(_Premade):
  """Base of the premade regressors: the head is a regressor's."""

  _HEAD = _REGRESSOR_HEAD
