"""The session hooks programs imported from `tf.estimator` (TF1's aliases).

`tf.estimator.SessionRunHook`, `tf.estimator.LoggingTensorHook`, ... were
TF's own `tf.train` hooks under a second name; they still are.

Example:
    class MyHook(estimator.SessionRunHook):
      def after_run(self, run_context, run_values): ...
"""

import tensorflow.compat.v1 as tf

__all__ = [
  'CheckpointSaverHook',
  'CheckpointSaverListener',
  'FeedFnHook',
  'FinalOpsHook',
  'GlobalStepWaiterHook',
  'LoggingTensorHook',
  'NanLossDuringTrainingError',
  'NanTensorHook',
  'ProfilerHook',
  'SecondOrStepTimer',
  'SessionRunArgs',
  'SessionRunContext',
  'SessionRunHook',
  'SessionRunValues',
  'StepCounterHook',
  'StopAtStepHook',
  'SummarySaverHook',
]

CheckpointSaverHook = tf.train.CheckpointSaverHook
CheckpointSaverListener = tf.train.CheckpointSaverListener
FeedFnHook = tf.train.FeedFnHook
FinalOpsHook = tf.train.FinalOpsHook
GlobalStepWaiterHook = tf.train.GlobalStepWaiterHook
LoggingTensorHook = tf.train.LoggingTensorHook
NanLossDuringTrainingError = tf.train.NanLossDuringTrainingError
NanTensorHook = tf.train.NanTensorHook
ProfilerHook = tf.train.ProfilerHook
SecondOrStepTimer = tf.train.SecondOrStepTimer
SessionRunArgs = tf.train.SessionRunArgs
SessionRunContext = tf.train.SessionRunContext
SessionRunHook = tf.train.SessionRunHook
SessionRunValues = tf.train.SessionRunValues
StepCounterHook = tf.train.StepCounterHook
StopAtStepHook = tf.train.StopAtStepHook
SummarySaverHook = tf.train.SummarySaverHook
