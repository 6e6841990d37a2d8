"""A cluster's evaluator task: scores the chief's checkpoints as they come.

TF1 clusters ran a separate evaluator beside the chief (TF_CONFIG's task
type `evaluator`; on the command line also `--job_name evaluator`). It is
not part of the gRPC cluster: it reads the checkpoints the chief writes to
`log_dir`, scores each new one once on the validation set (the test set
when there is no validation split) with `continuous_eval.evaluation_loop`,
writes `accuracy/<subset>` summaries to `<log_dir>/eval_<subset>`, and ends
once it has scored a checkpoint at `max_steps` or later: training has
ended.
A chief whose TF_CONFIG lists the evaluator leaves evaluation to it.

Example:
    TF_CONFIG='{"cluster": {...}, "task": {"type": "evaluator", "index": 0}}' \
      python -m graphnet.fully_connected_feed --log_dir /shared/logs ...
"""

import functools
import os

from graphnet.training import continuous_eval
from graphnet.training import preflight

__all__ = ['IDLE_TIMEOUT_SECS', 'run']

# Stop after this long without a new checkpoint (a chief that died).
IDLE_TIMEOUT_SECS = 900.0

_print_flush = functools.partial(print, flush=True)


def run(config, printer=_print_flush, interval_secs=2.0):
  """Scores each new checkpoint of `config.log_dir` until `max_steps`.

  Args:
    config: the `config.TrainConfig` every task of the cluster was given.
    printer: function taking one output line.
    interval_secs: seconds between looks for a new checkpoint.

  Returns:
    the `continuous_eval.EvalRecord`s, one per scored checkpoint.

  Raises:
    DataError: the data files are missing or malformed.
    CheckpointMismatchError: log_dir holds another model's checkpoint.
  """
  data_sets = preflight.read_data(config)
  subset = 'validation' if len(data_sets.validation.labels) else 'test'
  printer(
    f'evaluator: scoring each new checkpoint of {config.log_dir} on the '
    f'{subset} set until step {config.max_steps}.'
  )
  return continuous_eval.evaluation_loop(
    config.log_dir,
    getattr(data_sets, subset),
    subset=subset,
    interval_secs=interval_secs,
    timeout_secs=IDLE_TIMEOUT_SECS,
    eval_dir=os.path.join(config.log_dir, f'eval_{subset}'),
    printer=printer,
    stop_at_step=config.max_steps,
  )
