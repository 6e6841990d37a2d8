"""graphnet's trainer messages in an Estimator's words.

The guarantees an Estimator's `model_dir` shares with graphnet's trainer
(the lock, a checkpoint of another model refused, a full disk, a
diverging loss, a signal) raise errors written for the trainer, which name
its `log_dir`, its learning-rate settings and "the same command". An
Estimator user has `model_dir`, a `model_fn` and `train`: `setting_name`
names the settings for the hooks that take a `names` function, and
`in_estimator_words` rewrites the rest of a message in place.

Example:
    try:
      ...
    except errors.GraphnetError as e:
      raise in_estimator_words(e)
"""

import re

__all__ = ['in_estimator_words', 'setting_name']

# The trainer's names, bare or as flags, never inside a path.
_REWRITES = (
  (re.compile(r'(?<![\w/.-])(?:--)?log_dir(?![\w/-])(?!\.\w)'), 'model_dir'),
  (
    re.compile(r'the settings that built the checkpoint'),
    'the model_fn and params that built the checkpoint',
  ),
  (re.compile(r'run the same command again'), 'call train again'),
)

_SETTINGS = {
  'base_rate': "the learning rate of model_fn's optimizer",
  'kind': 'learning rate such as tf.train.exponential_decay',
}


def setting_name(field_name):
  """How a message to an Estimator user names a training setting."""
  return _SETTINGS.get(field_name, field_name)


def in_estimator_words(error):
  """`error`, its message naming `model_dir` and `train`; returns it."""
  if len(error.args) != 1 or not isinstance(error.args[0], str):
    return error
  text = error.args[0]
  for pattern, words in _REWRITES:
    text = pattern.sub(words, text)
  error.args = (text,)
  return error
