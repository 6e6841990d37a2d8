"""graphnet's SessionRunHooks (`LearningRateSetterHook`, ...).

The names users type; `graphnet.training.hooks` implements them.
"""

from graphnet.training import hooks as _impl
from graphnet.training.hooks import DivergenceHook as DivergenceHook
from graphnet.training.hooks import EvaluationHook as EvaluationHook
from graphnet.training.hooks import (
  FiniteWeightsListener as FiniteWeightsListener,
)
from graphnet.training.hooks import (
  LearningRateSetterHook as LearningRateSetterHook,
)
from graphnet.training.hooks import (
  LoopCheckpointSaverHook as LoopCheckpointSaverHook,
)
from graphnet.training.hooks import LoopSummarySaverHook as LoopSummarySaverHook
from graphnet.training.hooks import SignalStopHook as SignalStopHook
from graphnet.training.hooks import StepLoggingHook as StepLoggingHook
from graphnet.training.hooks import StopAtStepHook as StopAtStepHook

__all__ = list(_impl.__all__)
