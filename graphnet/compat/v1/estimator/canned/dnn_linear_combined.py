"""Wide & deep: TF 1.15's DNNLinearCombinedClassifier and ...Regressor.

The logits are the sum of a linear model over `linear_feature_columns`
(scope 'linear', TF1's names `linear/linear_model/<col>/weights`, e.g.
crossed and hashed columns) and a DNN over `dnn_feature_columns` (scope
'dnn', e.g. embedding and indicator columns; see dnn.py). Each part has its
own optimizer, TF1's defaults 'Ftrl' at min(0.005, 1/sqrt(n_linear)) and
'Adagrad' at 0.001; one train step runs both and adds 1 to the global step.
Slots keep TF1's plain names (`.../Adagrad`, `.../Ftrl`, `.../Ftrl_1`).

Example:
  model = DNNLinearCombinedClassifier(
      linear_feature_columns=[education, occupation, education_x_occupation],
      dnn_feature_columns=[age, tf.feature_column.embedding_column(
          occupation, dimension=8)],
      dnn_hidden_units=[100, 50])
  model.train(input_fn, steps=1000)
"""

from graphnet.compat.v1 import _signatures
from graphnet.compat.v1.estimator.canned import _tf
from graphnet.compat.v1.estimator.canned import dnn
from graphnet.compat.v1.estimator.canned import linear
from graphnet.compat.v1.estimator.canned import optimizers
from graphnet.compat.v1.estimator.canned import premade
from graphnet.errors import ConfigError

__all__ = ['DNNLinearCombinedClassifier', 'DNNLinearCombinedRegressor']

# TF 1.15's default learning rates of the two parts' optimizer names.
DNN_LEARNING_RATE = 0.001
LINEAR_LEARNING_RATE = 0.005


def _parts_of(args):
  """(linear columns, dnn.Network or None) of the constructor's `args`."""
  linear_columns = args['linear_feature_columns']
  if not linear_columns and not args['dnn_feature_columns']:
    raise ConfigError(
      'linear_feature_columns, dnn_feature_columns: give at least one of '
      'them (both are empty).'
    )
  if linear_columns:
    linear_columns = dnn.check_feature_columns(
      linear_columns, 'linear_feature_columns'
    )
  network = None
  if args['dnn_feature_columns']:
    if not args['dnn_hidden_units']:
      raise ConfigError(
        'dnn_hidden_units: must be given when dnn_feature_columns is, e.g. '
        '[100, 50].'
      )
    network = dnn.network_of(args, 'dnn_')
  return linear_columns or [], network


def _combined_model_fn_builder(
  head, linear_columns, linear_optimizer, network, dnn_optimizer, combiner
):
  """The model_fn of the wide & deep estimators (`network` None: no DNN)."""

  def model_fn(features, labels, mode):
    tf = _tf.v1()
    features = dnn.check_features(features)
    parts = []  # (logits, optimizer, scope name)
    training = str(mode) == 'train'
    if network:
      with tf.variable_scope('dnn') as scope:
        logits = dnn.dnn_logits(features, network, head.logits_dimension, mode)
      opt = training and optimizers.get_optimizer_instance(
        dnn_optimizer, DNN_LEARNING_RATE
      )
      parts.append((logits, opt, scope.name))
    if linear_columns:
      with tf.variable_scope('linear') as scope:
        logits = linear.linear_logits(
          features, linear_columns, head.logits_dimension, combiner
        )
        dnn.add_layer_summary(logits, scope.name)
      opt = training and optimizers.get_optimizer_instance(
        linear_optimizer,
        linear.default_learning_rate(len(linear_columns), LINEAR_LEARNING_RATE),
      )
      parts.append((logits, opt, scope.name))
    logits = tf.add_n([part[0] for part in parts])  # [batch, logits_dim]

    def train_op_fn(loss):
      steps = [
        opt.minimize(
          loss,
          var_list=tf.get_collection(
            tf.GraphKeys.TRAINABLE_VARIABLES, scope=name
          ),
        )
        for _, opt, name in parts
      ]
      # Both parts step, then the global step counts one.
      with tf.control_dependencies([tf.group(*steps)]):
        return tf.assign_add(tf.train.get_global_step(), 1).op

    return head.create_estimator_spec(
      features, mode, logits, labels, train_op_fn=train_op_fn
    )

  return model_fn


def _model_fn_of(args):
  """The model_fn a wide & deep constructor's arguments (a dict) ask for."""
  linear_columns, network = _parts_of(args)
  return _combined_model_fn_builder(
    premade.head_of(args),
    linear_columns,
    args['linear_optimizer'],
    network,
    args['dnn_optimizer'],
    linear.check_combiner(
      args['linear_sparse_combiner'], 'linear_sparse_combiner'
    ),
  )


# TF 1.15's arguments of the wide & deep estimators around the head's.
_BEFORE = _signatures.group(
  model_dir=None,
  linear_feature_columns=None,
  linear_optimizer='Ftrl',
  dnn_feature_columns=None,
  dnn_optimizer='Adagrad',
  dnn_hidden_units=None,
  dnn_activation_fn=_tf.v1().nn.relu,
  dnn_dropout=None,
)
_AFTER = (*premade.DNN_TAIL, *_signatures.group(linear_sparse_combiner='sum'))


class DNNLinearCombinedClassifier(
  premade.Classifier, before=_BEFORE, after=_AFTER, model_fn_of=_model_fn_of
):
  """TF 1.15's `tf.estimator.DNNLinearCombinedClassifier` (wide & deep).

  Raises (when constructed):
    ConfigError: no columns at all, dnn columns without hidden units,
      n_classes < 2, a label_vocabulary of another length.
  """


class DNNLinearCombinedRegressor(
  premade.Regressor, before=_BEFORE, after=_AFTER, model_fn_of=_model_fn_of
):
  """TF 1.15's `tf.estimator.DNNLinearCombinedRegressor`.

  Raises (when constructed):
    ConfigError: as DNNLinearCombinedClassifier's, or label_dimension < 1.
  """
