"""What every premade estimator's constructor does with its arguments.

A premade estimator (`DNNClassifier`, `LinearRegressor`, ...) keeps TF
1.15's constructor signature; its body passes the arguments (`locals()`)
here: the head comes from them (a classifier's when they name
`n_classes`, else a regressor's), the module's builder makes the
`model_fn`, and the Estimator gets `model_dir`, `config` and
`warm_start_from`.

Example:
    class DNNRegressor(Estimator):
      def __init__(self, hidden_units, feature_columns, ...):
        premade.init(self, locals(), _model_fn_of)
"""

from graphnet.compat.v1.estimator.canned import head as head_lib
from graphnet.compat.v1.estimator.estimator import Estimator

__all__ = ['head_of', 'init']


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


def init(estimator, args, model_fn_of):
  """`Estimator.__init__` of a premade `estimator` from its arguments.

  Args:
    estimator: the premade estimator being constructed.
    args: its constructor's arguments by name (`locals()`).
    model_fn_of: function (args) -> model_fn; checks the arguments it uses.
  """
  Estimator.__init__(
    estimator,
    model_fn=model_fn_of(args),
    model_dir=args['model_dir'],
    config=args['config'],
    warm_start_from=args['warm_start_from'],
  )
