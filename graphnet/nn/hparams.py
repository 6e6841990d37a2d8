"""The rules of the networks' and optimizers' settings, without TensorFlow.

What a value may be is checked where the value is given: in a network's
config class (`models.MlpConfig`, `models.ConvConfig`) while the command
line reads its flags, before TensorFlow is imported, and again in the
TF1 builders (`mnist.inference`, `deep_mnist.keep_prob_input`) for their
own callers. Each rule is written once, here.

Example:
    check_hidden_units(128, 32, 'MlpConfig')   # passes
    check_keep_prob(0.0, 'ConvConfig')         # raises ConfigError
"""

from graphnet import errors

__all__ = ['OPTIMIZERS', 'check_hidden_units', 'check_keep_prob']

# The optimizer names `training_tools.make_optimizer` (one factory each),
# `mnist.training` and the config's `optimizer` field accept.
OPTIMIZERS = ('sgd', 'momentum', 'adagrad', 'adam', 'rmsprop')


def check_hidden_units(
  hidden1, hidden2, where, names=('hidden1_units', 'hidden2_units')
):
  """The one rule of the MLP's sizes: both >= 0, hidden2 only after hidden1.

  Args:
    hidden1: units of the first hidden layer.
    hidden2: units of the second hidden layer.
    where: the function or class checking, for the message.
    names: how `where` calls the two sizes.

  Raises:
    ConfigError: for a negative count, or hidden2 without hidden1; its
      `field` is the name of the offending size.
  """
  if hidden1 < 0 or hidden2 < 0:
    raise errors.ConfigError(
      f'{where}: hidden units must be >= 0, got '
      f'{names[0]}={hidden1}, {names[1]}={hidden2}.',
      field=names[0] if hidden1 < 0 else names[1],
    )
  if hidden1 == 0 and hidden2 > 0:
    raise errors.ConfigError(
      f'{where}: {names[1]}={hidden2} needs {names[0]} > 0; '
      f'set {names[1]}=0 for softmax regression.',
      field=names[1],
    )


def check_keep_prob(value, where, name='keep_prob'):
  """The one rule of a dropout keep rate: in (0, 1].

  Args:
    value: the keep rate.
    where: the function or class checking, for the message.
    name: how `where` calls the value (also the error's `field`).

  Raises:
    ConfigError: `value` is not in (0, 1] (NaN included).
  """
  if not 0.0 < value <= 1.0:
    raise errors.ConfigError(
      f'{where}: {name} must be in (0, 1], got {value}.', field=name
    )
