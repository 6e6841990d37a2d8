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

from graphnet.compat.v1.estimator.canned import _tf
from graphnet.compat.v1.estimator.canned import optimizers
from graphnet.compat.v1.estimator.canned import premade
from graphnet.errors import ConfigError
from graphnet.errors import DataError

__all__ = [
  'DNNClassifier',
  'DNNRegressor',
  'add_layer_summary',
  'check_dropout',
  'check_feature_columns',
  'check_features',
  'check_hidden_units',
  'dnn_logits',
]

# TF 1.15's default learning rate of a DNN estimator's optimizer name.
LEARNING_RATE = 0.05
# TF1's batch normalization after hidden layers (keras defaults but this).
_BATCH_NORM_MOMENTUM = 0.999
_BATCH_NORM_EPSILON = 1e-3


def check_feature_columns(feature_columns, argument='feature_columns'):
  """Returns the columns as a list; raises ConfigError if there are none."""
  if feature_columns is None or isinstance(feature_columns, (str, dict)):
    raise ConfigError(
      f'{argument}: expected a list of feature columns, found '
      f'{feature_columns!r}.'
    )
  columns = list(feature_columns)
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


def dnn_logits(
  features,
  feature_columns,
  hidden_units,
  units,
  mode,
  activation_fn=None,
  dropout=None,
  batch_norm=False,
):
  """Builds TF1's DNN in the current variable scope ('dnn' for TF1 names).

  Args:
    features: dict of feature Tensors/SparseTensors.
    feature_columns: the dense feature columns read by input_layer.
    hidden_units: layer sizes, e.g. [10, 10].
    units: logits dimension.
    mode: a ModeKeys value ('train' enables dropout and batch statistics).
    activation_fn: applied after each hidden layer (default tf.nn.relu).
    dropout: probability of dropping a hidden unit while training, or None.
    batch_norm: batch normalization after each hidden layer.

  Returns:
    float32 logits [batch, units].
  """
  tf = _tf.v1()
  activation_fn = activation_fn or tf.nn.relu
  training = str(mode) == 'train'
  scope = tf.get_variable_scope().name
  prefix = f'{scope}/' if scope else ''
  with tf.variable_scope('input_from_feature_columns'):
    net = tf.feature_column.input_layer(features, feature_columns)
  for index, width in enumerate(hidden_units):
    with tf.variable_scope(f'hiddenlayer_{index}'):
      net = _dense(net, width, activation_fn)
      if dropout is not None and training:
        net = tf.nn.dropout(net, rate=dropout)
      if batch_norm:
        net = _batch_norm(net, f'batchnorm_{index}', training)
    add_layer_summary(net, f'{prefix}hiddenlayer_{index}')
  with tf.variable_scope('logits'):
    logits = _dense(net, units)  # [batch, units]
  add_layer_summary(logits, f'{prefix}logits')
  return logits


def check_hidden_units(hidden_units, argument='hidden_units'):
  """The layer sizes as a list of positive ints, or ConfigError."""
  if hidden_units is None or isinstance(hidden_units, (int, str)):
    raise ConfigError(
      f'{argument}: expected a list of layer sizes such as [10, 10], found '
      f'{hidden_units!r}.'
    )
  units = list(hidden_units)
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


def _dnn_model_fn_builder(
  head,
  hidden_units,
  feature_columns,
  optimizer,
  activation_fn,
  dropout,
  batch_norm,
):
  """The model_fn of DNNClassifier/DNNRegressor."""

  def model_fn(features, labels, mode):
    tf = _tf.v1()
    features = check_features(features)
    opt = None
    with tf.variable_scope('dnn') as scope:
      logits = dnn_logits(
        features,
        feature_columns,
        hidden_units,
        head.logits_dimension,
        mode,
        activation_fn,
        dropout,
        batch_norm,
      )
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
    premade.head_of(args),
    check_hidden_units(args['hidden_units']),
    check_feature_columns(args['feature_columns']),
    args['optimizer'],
    args['activation_fn'],
    check_dropout(args['dropout']),
    args['batch_norm'],
  )


# TF 1.15's arguments of DNNClassifier and DNNRegressor around the head's.
_BEFORE = premade.parameters('hidden_units', 'feature_columns', model_dir=None)
_AFTER = (
  *premade.parameters(
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
