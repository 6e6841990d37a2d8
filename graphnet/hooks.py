"""graphnet's SessionRunHooks (`LearningRateSetterHook`, ...).

Implemented in `graphnet.training.hooks`; this module keeps the name users type.
"""

from graphnet.training.hooks import DivergenceHook
from graphnet.training.hooks import EvaluationHook
from graphnet.training.hooks import FiniteWeightsListener
from graphnet.training.hooks import LearningRateSetterHook
from graphnet.training.hooks import LoopCheckpointSaverHook
from graphnet.training.hooks import LoopSummarySaverHook
from graphnet.training.hooks import SignalStopHook
from graphnet.training.hooks import StepLoggingHook
from graphnet.training.hooks import StopAtStepHook

__all__ = [
  'LearningRateSetterHook',
  'StopAtStepHook',
  'DivergenceHook',
  'FiniteWeightsListener',
  'StepLoggingHook',
  'EvaluationHook',
  'LoopCheckpointSaverHook',
  'LoopSummarySaverHook',
  'SignalStopHook',
]
