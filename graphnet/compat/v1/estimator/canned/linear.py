"""LinearClassifier and LinearRegressor: TF 1.15's premade linear models.

Logits are `tf.compat.v1.feature_column.linear_model` over the columns in
variable scope 'linear', so the variables carry TF 1.15's names:

  linear/linear_model/<col>/weights   [n_buckets or dim, logits_dim]
  linear/linear_model/bias_weights    [logits_dim]

The default optimizer is TF1's 'Ftrl' at min(0.2, 1/sqrt(n_columns)).

Example:
  regressor = LinearRegressor(feature_columns=[
      tf.feature_column.numeric_column('age'),
      tf.feature_column.categorical_column_with_hash_bucket('job', 100)])
  regressor.train(input_fn, steps=1000)
"""

import math
import warnings

from graphnet.compat.v1 import _signatures
from graphnet.compat.v1.estimator.canned import _tf
from graphnet.compat.v1.estimator.canned import optimizers
from graphnet.compat.v1.estimator.canned import premade
from graphnet.compat.v1.estimator.canned.dnn import check_feature_columns
from graphnet.compat.v1.estimator.canned.dnn import check_features
from graphnet.errors import ConfigError

__all__ = [
  'LinearClassifier',
  'LinearRegressor',
  'check_combiner',
  'default_learning_rate',
  'linear_logits',
]

# TF 1.15's cap on the default Ftrl learning rate of a linear estimator.
LEARNING_RATE = 0.2
_COMBINERS = ('sum', 'mean', 'sqrtn')


def default_learning_rate(n_columns, cap=LEARNING_RATE):
  """TF1's default linear learning rate: min(cap, 1 / sqrt(n_columns))."""
  return min(cap, 1.0 / math.sqrt(n_columns))


def linear_logits(features, feature_columns, units, sparse_combiner='sum'):
  """Weighted sum of the columns in the current variable scope.

  Args:
    features: dict of feature Tensors/SparseTensors.
    feature_columns: dense or categorical columns.
    units: logits dimension.
    sparse_combiner: how a multivalent categorical column's weights
      combine: 'sum', 'mean' or 'sqrtn'.

  Returns:
    float32 logits [batch, units]; creates `linear_model/<col>/weights`
    and `linear_model/bias_weights`, and TF1's summaries `bias` and
    `fraction_of_zero_weights` (under the current name scope).
  """
  tf = _tf.v1()
  with warnings.catch_warnings():
    # linear_model builds its weights with TF's legacy Layer (keras'
    # base_layer_v1), whose `add_variable` warns on stderr past graphnet's
    # quiet logging. Kept rather than rebuilt: its resource variables,
    # names and sums are what TF 1.15's checkpoints and goldens hold.
    warnings.filterwarnings(
      'ignore', '`layer.add_variable` is deprecated', UserWarning
    )
    logits = tf.feature_column.linear_model(
      features, feature_columns, units=units, sparse_combiner=sparse_combiner
    )
  _add_summaries(units)
  return logits


def _add_summaries(units):
  """TF1's `bias` and `fraction_of_zero_weights` summaries of the model."""
  tf = _tf.v1()
  prefix = f'{tf.get_variable_scope().name}/linear_model/'.lstrip('/')
  created = [v for v in tf.global_variables() if v.op.name.startswith(prefix)]
  bias = [v for v in created if v.op.name == f'{prefix}bias_weights']
  weights = [v for v in created if v.op.name != f'{prefix}bias_weights']
  if bias:
    if units > 1:
      tf.summary.histogram('bias', bias[0])
    else:
      tf.summary.scalar('bias', bias[0][0])
  sizes = [v.shape.num_elements() for v in weights]
  if sum(sizes):
    zeros = tf.add_n(
      [
        tf.nn.zero_fraction(v) * size
        for v, size in zip(weights, sizes, strict=True)
      ]
    )
    tf.summary.scalar('fraction_of_zero_weights', zeros / float(sum(sizes)))


def check_combiner(sparse_combiner, argument='sparse_combiner'):
  """The combiner if it is 'sum', 'mean' or 'sqrtn', else ConfigError."""
  if sparse_combiner not in _COMBINERS:
    raise ConfigError(
      f'{argument}: expected one of {", ".join(_COMBINERS)}, found '
      f'{sparse_combiner!r}.'
    )
  return sparse_combiner


def _linear_model_fn_builder(head, feature_columns, optimizer, sparse_combiner):
  def model_fn(features, labels, mode):
    tf = _tf.v1()
    features = check_features(features)
    with tf.variable_scope('linear') as scope:
      logits = linear_logits(
        features, feature_columns, head.logits_dimension, sparse_combiner
      )
    opt = None
    if str(mode) == 'train':
      opt = optimizers.name_slots_as_tf1(
        optimizers.get_optimizer_instance(
          optimizer, default_learning_rate(len(feature_columns))
        ),
        'linear',
      )
    # As TF1: head ops (and Adam's beta powers) under 'linear/head'.
    with tf.name_scope(scope.original_name_scope):
      return head.create_estimator_spec(
        features, mode, logits, labels, optimizer=opt
      )

  return model_fn


def _model_fn_of(args):
  """The model_fn a linear estimator's constructor arguments ask for."""
  columns = check_feature_columns(args['feature_columns'])
  return _linear_model_fn_builder(
    premade.head_of(args),
    columns,
    args['optimizer'],
    check_combiner(args['sparse_combiner']),
  )


# TF 1.15's arguments of LinearClassifier and LinearRegressor.
_BEFORE = _signatures.group('feature_columns', model_dir=None)
_AFTER = _signatures.group(
  optimizer='Ftrl',
  config=None,
  partitioner=None,
  warm_start_from=None,
  loss_reduction='weighted_sum',
  sparse_combiner='sum',
)


class LinearClassifier(
  premade.Classifier, before=_BEFORE, after=_AFTER, model_fn_of=_model_fn_of
):
  """TF 1.15's `tf.estimator.LinearClassifier` (loss summed over batch).

  Raises (when constructed):
    ConfigError: no feature columns, n_classes < 2, a label_vocabulary of
      another length, an unknown sparse_combiner.
  """


class LinearRegressor(
  premade.Regressor, before=_BEFORE, after=_AFTER, model_fn_of=_model_fn_of
):
  """TF 1.15's `tf.estimator.LinearRegressor` (squared error, summed).

  Raises (when constructed):
    ConfigError: as LinearClassifier's, or label_dimension < 1.
  """
