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

__all__ = ['OPTIMIZER_NAMES', 'get_optimizer_instance']

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
