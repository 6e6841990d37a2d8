"""TF1's optimizer names for premade estimators ('Adagrad', 'Ftrl', ...).

A premade estimator takes its optimizer as a name, a
`tf.compat.v1.train.Optimizer`, or a callable returning one, as TF 1.15's
`tf.estimator` did. A name builds TF1's optimizer class (not Keras's) with
the estimator's default learning rate, so its slot variables carry TF1's
names (`.../Adagrad`, `.../Ftrl`, `.../Ftrl_1`, `.../Adam`, ...).

Example:
  opt = optimizers.get_optimizer_instance('Adagrad', learning_rate=0.05)
"""

from graphnet.compat.v1.estimator.canned import _tf
from graphnet.errors import ConfigError

__all__ = ['OPTIMIZER_NAMES', 'get_optimizer_instance', 'name_slots_as_tf1']

# The names TF 1.15's canned/optimizers.py accepted.
OPTIMIZER_NAMES = ('Adagrad', 'Adam', 'Ftrl', 'RMSProp', 'SGD')


def _classes(train):
  return {
    'Adagrad': train.AdagradOptimizer,
    'Adam': train.AdamOptimizer,
    'Ftrl': train.FtrlOptimizer,
    'RMSProp': train.RMSPropOptimizer,
    'SGD': train.GradientDescentOptimizer,
  }


def get_optimizer_instance(opt, learning_rate=None):
  """Returns a `tf.compat.v1.train.Optimizer` for an estimator argument.

  Args:
    opt: one of OPTIMIZER_NAMES, an Optimizer, or a callable of no
      arguments returning one (called here, inside the model_fn, so that
      learning-rate schedules can read the global step).
    learning_rate: float, used only when `opt` is a name.

  Returns:
    an Optimizer instance.

  Raises:
    ConfigError: an unknown name, a name without a learning rate, or an
      object that is not a TF1 Optimizer (a Keras optimizer, say).
  """
  tf = _tf.v1()
  if isinstance(opt, str):
    if opt not in OPTIMIZER_NAMES:
      raise ConfigError(
        f'optimizer: unknown name {opt!r}; expected one of '
        f'{", ".join(OPTIMIZER_NAMES)}, an Optimizer or a callable '
        'returning one.'
      )
    if not learning_rate:
      raise ConfigError(
        f'optimizer {opt!r} needs a learning rate; found {learning_rate!r}.'
      )
    return _classes(tf.train)[opt](learning_rate=learning_rate)
  if callable(opt) and not isinstance(opt, tf.train.Optimizer):
    opt = opt()
  if not isinstance(opt, tf.train.Optimizer):
    raise ConfigError(
      'optimizer: expected a name, a tf.compat.v1.train.Optimizer or a '
      f'callable returning one; found {type(opt).__name__}. Keras '
      'optimizers are not supported by the premade estimators; use '
      'e.g. tf.compat.v1.train.AdagradOptimizer.'
    )
  return opt


def name_slots_as_tf1(optimizer, top_scope):
  """Renames `optimizer` so its slots get TF 1.15's checkpoint names.

  TF 1.15's DNN* and Linear* estimators built their variables under a
  variable partitioner (one part without a ps), and its slot bookkeeping
  cut each slot's path by an op name that lacks the estimator's top scope;
  their checkpoints hold keys such as `dnn/hiddenlayer_0/kernel/t_0/Adagrad`
  and `linear/linear_model/age/weights/part_0/Ftrl`. graphnet's variables
  are not partitioned; an optimizer named `t_0/Adagrad` (under 'dnn') or
  `part_0/Ftrl` (under 'linear') makes slot variables of those very names,
  so a TF 1.15 model_dir resumes with its accumulators and TF 1.15 reads
  graphnet's checkpoints. (Wide & deep's checkpoints use plain names.)

  Args:
    optimizer: a TF1 Optimizer; its private name is changed in place.
    top_scope: 'dnn' or 'linear'.

  Returns:
    the optimizer.
  """
  # The part of '/part_0/' left after TF1's cut (offset 7 - len(top)).
  prefix = '/part_0/'[max(0, 7 - len(top_scope)) :]
  name = optimizer._name  # noqa: SLF001 (TF1 Optimizer has no setter)
  if not name.startswith(prefix):
    optimizer._name = prefix + name  # noqa: SLF001
  return optimizer
