"""A saver writing optimizer slots under TF 1.15's checkpoint keys.

TF 1.15's DNNClassifier/DNNRegressor and LinearClassifier/LinearRegressor
built their variables under a variable partitioner (one part when there is
no ps), and its slot bookkeeping keyed each slot from an op name that lacks
the estimator's top scope, so their checkpoints hold keys such as
`dnn/hiddenlayer_0/kernel/t_0/Adagrad` and
`linear/linear_model/age/weights/part_0/Ftrl` (the slot's name with the
first `len(top scope) + 1` characters of `part_0/` cut off, or fewer).
graphnet's variables are not partitioned; this saver maps each slot to that
key, so a TF 1.15 model_dir resumes training with its accumulators and TF
1.15 reads graphnet's checkpoints. Other variables keep their own names.
(The wide & deep estimators' checkpoints use plain slot names: no mapping.)

Example:
  scaffold = _saver.tf1_scaffold([optimizer], config)
"""

from graphnet.checkpoints import saver as saver_lib
from graphnet.compat.v1.estimator.canned import _tf

__all__ = ['tf1_slot_key', 'tf1_scaffold']

# RunConfig's keep_checkpoint_every_n_hours default: in effect, never.
_EVERY_N_HOURS_OFF = 10000


def tf1_slot_key(variable_name, slot_name):
  """TF 1.15's checkpoint key of a slot of a partitioned estimator variable.

  Args:
    variable_name: the variable's name without ':0', e.g.
      'dnn/hiddenlayer_0/kernel'.
    slot_name: the slot variable's own suffix, e.g. 'Adagrad', 'Ftrl_1'.

  Returns:
    the key, e.g. 'dnn/hiddenlayer_0/kernel/t_0/Adagrad'.
  """
  top = variable_name.split('/', 1)[0]
  part_path = f'{variable_name}/part_0/{slot_name}'
  # TF1 cut the slot's path by the length of the part's op name (its
  # variable path without the top scope, plus '/part_0') and a slash.
  cut = len(variable_name) - len(top) - 1 + len('/part_0') + 1
  return f'{variable_name}/{part_path[cut:]}'


def tf1_scaffold(optimizers, config):
  """A Scaffold whose saver uses TF 1.15's slot keys (see module doc).

  Args:
    optimizers: the TF1 Optimizers whose slots exist in the default graph.
    config: the estimator's RunConfig (keep_checkpoint_max and
      keep_checkpoint_every_n_hours are read as the Estimator's own saver).

  Returns:
    a `tf.train.Scaffold` with a sharded saver over every global variable.
  """
  tf = _tf.v1()
  names = {}
  for optimizer in optimizers:
    for slot in optimizer.get_slot_names():
      for variable in tf.trainable_variables():
        slot_var = optimizer.get_slot(variable, slot)
        if slot_var is None:
          continue
        base = variable.op.name
        names[slot_var.op.name] = tf1_slot_key(
          base, slot_var.op.name[len(base) + 1 :]
        )
  var_list = {names.get(v.op.name, v.op.name): v for v in tf.global_variables()}
  keep = getattr(config, 'keep_checkpoint_max', 5)
  hours = getattr(config, 'keep_checkpoint_every_n_hours', _EVERY_N_HOURS_OFF)
  if hours == _EVERY_N_HOURS_OFF:
    saver = saver_lib.Saver(
      var_list=var_list,
      sharded=True,
      max_to_keep=keep,
      save_relative_paths=True,
    )
  else:
    saver = tf.train.Saver(
      var_list=var_list,
      sharded=True,
      max_to_keep=keep,
      keep_checkpoint_every_n_hours=hours,
      save_relative_paths=True,
    )
  return tf.train.Scaffold(saver=saver)
