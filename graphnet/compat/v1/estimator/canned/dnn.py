"""DNNClassifier and DNNRegressor: TF 1.15's premade feed-forward networks.

The network reads its `feature_columns` through
`tf.compat.v1.feature_column.input_layer`, then stacks fully connected
layers (Glorot-uniform kernels, zero biases, `activation_fn`, optional
dropout while training and batch normalization) and a linear logits layer.
Variables carry TF 1.15's names, so TF1 checkpoints restore:

  dnn/input_from_feature_columns/input_layer/<col>_embedding/embedding_weights
  dnn/hiddenlayer_<i>/kernel, dnn/hiddenlayer_<i>/bias   [in, units], [units]
  dnn/hiddenlayer_<i>/batchnorm_<i>/{gamma,beta,moving_mean,moving_variance}
  dnn/logits/kernel, dnn/logits/bias                     [last, logits_dim]

Summaries: `dnn/hiddenlayer_<i>/fraction_of_zero_values` and
`dnn/hiddenlayer_<i>/activation` (histogram), the same for `dnn/logits`.

Example:
  classifier = DNNClassifier(
      hidden_units=[10, 10],
      feature_columns=[tf.feature_column.numeric_column('x', shape=[4])],
      n_classes=3)
  classifier.train(input_fn, steps=1000)
"""

from typing import NamedTuple

from graphnet.compat.v1 import _signatures
from graphnet.compat.v1.estimator.canned import _tf
from graphnet.compat.v1.estimator.canned import optimizers
from graphnet.compat.v1.estimator.canned import premade
from graphnet.errors import ConfigError
from graphnet.errors import DataError

__all__ = [
  'DNNClassifier',
  'DNNRegressor',
  'Network',
  'add_layer_summary',
  'check_dropout',
  'check_feature_columns',
  'check_features',
  'check_hidden_units',
  'dnn_logits',
  'network_of',
]

# TF 1.15's default learning rate of a DNN estimator's optimizer name.
LEARNING_RATE = 0.05
# TF1's batch normalization after hidden layers (keras defaults but this).
_BATCH_NORM_MOMENTUM = 0.999
_BATCH_NORM_EPSILON = 1e-3


class Network(NamedTuple):
  """A DNN's checked arguments, as `network_of` reads them."""

  feature_columns: list  # The dense columns input_layer reads.
  hidden_units: list  # Layer sizes, positive ints, e.g. [10, 10].
  activation_fn: object  # After each hidden layer; None: tf.nn.relu.
  dropout: object  # Probability of dropping a unit in training, or None.
  batch_norm: bool  # Batch normalization after each hidden layer.


def network_of(args, prefix=''):
  """The Network the constructor arguments `args` (a dict) ask for.

  Args:
    args: the arguments by name.
    prefix: of the network's argument names ('dnn_' in wide & deep).

  Raises:
    ConfigError: empty feature columns or hidden units, or a dropout
      outside [0, 1).
  """
  columns, hidden, activation, dropout = (
    f'{prefix}{name}'
    for name in ('feature_columns', 'hidden_units', 'activation_fn', 'dropout')
  )
  hidden_units = check_hidden_units(args[hidden], hidden)
  return Network(
    check_feature_columns(args[columns], columns),
    hidden_units,
    args[activation],
    check_dropout(args[dropout], dropout),
    args['batch_norm'],
  )


def _as_list(value, argument, expected, refused):
  """`value` as a list, or ConfigError if None or one of `refused` types."""
  if value is None or isinstance(value, refused):
    raise ConfigError(
      f'{argument}: expected a list of {expected}, found {value!r}.'
    )
  return list(value)


def check_feature_columns(feature_columns, argument='feature_columns'):
  """Returns the columns as a list; raises ConfigError if there are none."""
  columns = _as_list(feature_columns, argument, 'feature columns', (str, dict))
  if not columns:
    raise ConfigError(f'{argument}: expected at least one feature column.')
  return columns


def check_features(features):
  """The features dict; a bare Tensor is refused as TF1 did."""
  if not isinstance(features, dict):
    raise DataError(
      'features: the premade estimators expect a dict of Tensors keyed by '
      f'feature column names; the input_fn gave {type(features).__name__}.'
    )
  return features


def add_layer_summary(value, tag):
  """TF1's per-layer summaries (zero fraction and activation histogram)."""
  tf = _tf.v1()
  tf.summary.scalar(
    f'{tag}/fraction_of_zero_values', tf.nn.zero_fraction(value)
  )
  tf.summary.histogram(f'{tag}/activation', value)


def _dense(inputs, units, activation=None):
  """Dense layer: kernel [in, units] (Glorot uniform), bias [units] (zeros)."""
  tf = _tf.v1()
  kernel = tf.get_variable(
    'kernel',
    [inputs.shape[-1], units],
    initializer=tf.glorot_uniform_initializer(),
  )
  bias = tf.get_variable('bias', [units], initializer=tf.zeros_initializer())
  out = tf.nn.bias_add(tf.matmul(inputs, kernel), bias)
  return activation(out) if activation is not None else out


def _batch_norm(inputs, name, training):
  """Batch normalization over the batch; moving stats in UPDATE_OPS."""
  tf = _tf.v1()
  units = inputs.shape[-1]
  with tf.variable_scope(name):
    gamma = tf.get_variable('gamma', [units], initializer=tf.ones_initializer())
    beta = tf.get_variable('beta', [units], initializer=tf.zeros_initializer())
    stats = {}
    for stat, init in (
      ('moving_mean', tf.zeros_initializer()),
      ('moving_variance', tf.ones_initializer()),
    ):
      stats[stat] = tf.get_variable(
        stat,
        [units],
        initializer=init,
        trainable=False,
        collections=[
          tf.GraphKeys.GLOBAL_VARIABLES,
          tf.GraphKeys.MOVING_AVERAGE_VARIABLES,
        ],
      )
    if training:
      mean, variance = tf.nn.moments(inputs, axes=[0])
      decay = 1.0 - _BATCH_NORM_MOMENTUM
      for stat, value in (('moving_mean', mean), ('moving_variance', variance)):
        moving = stats[stat]
        update = tf.assign_sub(moving, (moving - value) * decay)
        tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, update)
    else:
      mean, variance = stats['moving_mean'], stats['moving_variance']
    return tf.nn.batch_normalization(
      inputs, mean, variance, beta, gamma, _BATCH_NORM_EPSILON
    )


def dnn_logits(features, network, units, mode):
  """Builds TF1's DNN in the current variable scope ('dnn' for TF1 names).

  Args:
    features: dict of feature Tensors/SparseTensors.
    network: a Network (columns, hidden units, activation, dropout, batch
      normalization).
    units: logits dimension.
    mode: a ModeKeys value ('train' enables dropout and batch statistics).

  Returns:
    float32 logits [batch, units].
  """
  tf = _tf.v1()
  activation_fn = network.activation_fn or tf.nn.relu
  dropout = network.dropout
  training = str(mode) == 'train'
  scope = tf.get_variable_scope().name
  prefix = f'{scope}/' if scope else ''
  with tf.variable_scope('input_from_feature_columns'):
    net = tf.feature_column.input_layer(features, network.feature_columns)
  for index, width in enumerate(network.hidden_units):
    with tf.variable_scope(f'hiddenlayer_{index}'):
      net = _dense(net, width, activation_fn)
      if dropout is not None and training:
        net = tf.nn.dropout(net, rate=dropout)
      if network.batch_norm:
        net = _batch_norm(net, f'batchnorm_{index}', training)
    add_layer_summary(net, f'{prefix}hiddenlayer_{index}')
  with tf.variable_scope('logits'):
    logits = _dense(net, units)  # [batch, units]
  add_layer_summary(logits, f'{prefix}logits')
  return logits


def check_hidden_units(hidden_units, argument='hidden_units'):
  """The layer sizes as a list of positive ints, or ConfigError."""
  units = _as_list(
    hidden_units, argument, 'layer sizes such as [10, 10]', (int, str)
  )
  if not units or not all(isinstance(u, int) and u > 0 for u in units):
    raise ConfigError(
      f'{argument}: expected positive ints such as [10, 10], found {units!r}.'
    )
  return units


def check_dropout(dropout, argument='dropout'):
  """None or a probability in [0, 1), else ConfigError."""
  if dropout is not None and not 0 <= dropout < 1:
    raise ConfigError(
      f'{argument}: expected a value in [0, 1), found {dropout!r}.'
    )
  return dropout


def _dnn_model_fn_builder(head, network, optimizer):
  """The model_fn of DNNClassifier/DNNRegressor."""

  def model_fn(features, labels, mode):
    tf = _tf.v1()
    features = check_features(features)
    opt = None
    with tf.variable_scope('dnn') as scope:
      logits = dnn_logits(features, network, head.logits_dimension, mode)
    if str(mode) == 'train':
      opt = optimizers.name_slots_as_tf1(
        optimizers.get_optimizer_instance(optimizer, LEARNING_RATE), 'dnn'
      )
    # TF1 built the head in the 'dnn' scope: its ops and Adam's
    # beta1_power/beta2_power are named 'dnn/head/...'. Slots are named
    # from the variable scope, which stays the root's.
    with tf.name_scope(scope.original_name_scope):
      return head.create_estimator_spec(
        features, mode, logits, labels, optimizer=opt
      )

  return model_fn


def _model_fn_of(args):
  """The model_fn a DNN estimator's constructor arguments (a dict) ask for."""
  return _dnn_model_fn_builder(
    premade.head_of(args), network_of(args), args['optimizer']
  )


# TF 1.15's arguments of DNNClassifier and DNNRegressor around the head's.
_BEFORE = _signatures.group('hidden_units', 'feature_columns', model_dir=None)
_AFTER = (
  *_signatures.group(
    optimizer='Adagrad', activation_fn=_tf.v1().nn.relu, dropout=None
  ),
  *premade.DNN_TAIL,
)


class DNNClassifier(
  premade.Classifier, before=_BEFORE, after=_AFTER, model_fn_of=_model_fn_of
):
  """TF 1.15's `tf.estimator.DNNClassifier` (loss summed over the batch).

  Raises (when constructed):
    ConfigError: empty hidden_units or feature_columns, n_classes < 2, a
      label_vocabulary of another length, dropout outside [0, 1).
  """


class DNNRegressor(
  premade.Regressor, before=_BEFORE, after=_AFTER, model_fn_of=_model_fn_of
):
  """TF 1.15's `tf.estimator.DNNRegressor` (mean squared error, summed).

  Raises (when constructed):
    ConfigError: as DNNClassifier's, or label_dimension < 1.
  """
