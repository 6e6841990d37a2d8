"""TF1's `tf.estimator`, kept alive on TensorFlow 2 (graph mode).

A program written for `tf.estimator` runs with its import changed:

    import graphnet.compat.v1 as tf      # tf.estimator.Estimator, ...
    # or
    from graphnet.compat.v1 import estimator

What is here: `Estimator`, `EstimatorSpec`, `ModeKeys`, `RunConfig`,
`TrainSpec`, `EvalSpec`, `train_and_evaluate` (locally and on a `TF_CONFIG`
cluster) with its `LatestExporter`, `BestExporter` and `FinalExporter`,
the `inputs` (`numpy_input_fn`, `pandas_input_fn`) and `export`
namespaces, the hook aliases (`SessionRunHook`, `LoggingTensorHook`, ...)
and, loaded on first use, the premade estimators (`DNNClassifier`, ...).

Example:
    from graphnet.compat.v1 import estimator
    est = estimator.Estimator(model_fn, model_dir='/tmp/model')
    est.train(estimator.inputs.numpy_input_fn(
        {'x': x}, y, batch_size=32, num_epochs=None, shuffle=True),
        max_steps=1000)
"""

import importlib

from graphnet import compat as _compat
from graphnet import errors as _errors
from graphnet.compat.v1.estimator import export
from graphnet.compat.v1.estimator import hooks as _hooks
from graphnet.compat.v1.estimator import inputs
from graphnet.compat.v1.estimator.estimator import Estimator
from graphnet.compat.v1.estimator.estimator import VocabInfo
from graphnet.compat.v1.estimator.estimator import WarmStartSettings
from graphnet.compat.v1.estimator.exporter import BestExporter
from graphnet.compat.v1.estimator.exporter import Exporter
from graphnet.compat.v1.estimator.exporter import FinalExporter
from graphnet.compat.v1.estimator.exporter import LatestExporter
from graphnet.compat.v1.estimator.model_fn import EstimatorSpec
from graphnet.compat.v1.estimator.model_fn import ModeKeys
from graphnet.compat.v1.estimator.run_config import RunConfig
from graphnet.compat.v1.estimator.run_config import TaskType
from graphnet.compat.v1.estimator.training import EvalSpec
from graphnet.compat.v1.estimator.training import TrainSpec
from graphnet.compat.v1.estimator.training import train_and_evaluate

__all__ = [
  'BestExporter',
  'DNNClassifier',
  'DNNLinearCombinedClassifier',
  'DNNLinearCombinedRegressor',
  'DNNRegressor',
  'Estimator',
  'EstimatorSpec',
  'EvalSpec',
  'Exporter',
  'FinalExporter',
  'LatestExporter',
  'LinearClassifier',
  'LinearRegressor',
  'ModeKeys',
  'RunConfig',
  'TaskType',
  'TrainSpec',
  'VocabInfo',
  'WarmStartSettings',
  'export',
  'inputs',
  'train_and_evaluate',
  # TF1's hook aliases, listed once in `hooks`.
  *_compat.reexport(globals(), [_hooks]),
]


# The premade estimators live in `canned` and load on first use.
_CANNED = (
  'DNNClassifier',
  'DNNRegressor',
  'LinearClassifier',
  'LinearRegressor',
  'DNNLinearCombinedClassifier',
  'DNNLinearCombinedRegressor',
)


def __getattr__(name):
  if name in _CANNED:
    canned = importlib.import_module('graphnet.compat.v1.estimator.canned')
    return getattr(canned, name)
  if name.startswith('__'):
    # Python's own probes (__path__, __wrapped__, ...) stay plain.
    raise AttributeError(name)
  raise _errors.NotProvidedError(
    f'tf.estimator.{name} is not provided by graphnet: graphnet.compat.v1 '
    'brings back Estimator, EstimatorSpec, RunConfig, train_and_evaluate, '
    'inputs, export, the Latest, Best and Final exporters and the DNN, '
    'Linear and DNNLinearCombined premade estimators (README, "Coming from '
    'tf.estimator"). Port the '
    f'tf.estimator.{name} code, or keep this program on TensorFlow 1.15.',
    name=f'tf.estimator.{name}',
  )
