"""TF 1.15's premade estimators on `tf.feature_column`, without Keras.

DNNClassifier, DNNRegressor, LinearClassifier, LinearRegressor,
DNNLinearCombinedClassifier and DNNLinearCombinedRegressor, with TF 1.15's
constructor arguments, loss reduction (SUM), metric names, prediction keys,
export signatures and variable names (TF1 checkpoints restore). Reached as
`graphnet.compat.v1.estimator.DNNClassifier` (loaded on first use).

Example:
  import graphnet.compat.v1 as tf
  model = tf.estimator.DNNClassifier(
      hidden_units=[10, 10], n_classes=3,
      feature_columns=[tf.feature_column.numeric_column('x', shape=[4])])
"""

from graphnet.compat.v1.estimator.canned.dnn import DNNClassifier
from graphnet.compat.v1.estimator.canned.dnn import DNNRegressor
from graphnet.compat.v1.estimator.canned.dnn_linear_combined import (
  DNNLinearCombinedClassifier,
)
from graphnet.compat.v1.estimator.canned.dnn_linear_combined import (
  DNNLinearCombinedRegressor,
)
from graphnet.compat.v1.estimator.canned.linear import LinearClassifier
from graphnet.compat.v1.estimator.canned.linear import LinearRegressor

__all__ = [
  'DNNClassifier',
  'DNNLinearCombinedClassifier',
  'DNNLinearCombinedRegressor',
  'DNNRegressor',
  'LinearClassifier',
  'LinearRegressor',
]
