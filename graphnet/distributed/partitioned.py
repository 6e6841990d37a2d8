"""Checkpoints of partitioned variables that hold each variable whole.

A variable split over the ps tasks (`cluster.partitioner`) is several
graph variables `<name>/part_<i>`; TF's `Saver` writes each as a slice of
`<name>`. graphnet's readers of untrusted checkpoints (`Predictor`,
`export`, freezing) accept whole tensors only, and a single process would
need the same partitioning to read such a file. So the chief saves each
partitioned variable (and each of its optimizer slots and moving averages,
which are partitioned alike) as one whole tensor under its full name: the
parts concatenated when saving, split again when restoring. The file is
then the same as one written by a single process: either restores into
the other.

Example:
    saver = tf.train.Saver(var_list=partitioned.whole_var_list(
        tf.global_variables()))
"""

import collections

import tensorflow.compat.v1 as tf
from tensorflow.python.training.saving import saveable_object

__all__ = ['whole_var_list']


def _axis(info, part):
  """The axis along which `part` is a slice of its whole (0 if whole)."""
  shape = part.shape.as_list()
  for axis, (full, size) in enumerate(zip(info.full_shape, shape, strict=True)):
    if full != size:
      return axis
  return 0


class _Whole(saveable_object.SaveableObject):
  """Saves the parts of one partitioned variable as one whole tensor."""

  def __init__(self, name, parts):
    """Creates the saveable.

    Args:
      name: the whole variable's name (its `_save_slice_info.full_name`).
      parts: the part variables, each with `_save_slice_info`.
    """
    axis = _axis(parts[0]._save_slice_info, parts[0])
    self._parts = sorted(
      parts, key=lambda p: p._save_slice_info.var_offset[axis]
    )
    self._axis = axis
    whole = tf.concat([p.value() for p in self._parts], axis, name=None)
    spec = saveable_object.SaveSpec(whole, '', name)
    super().__init__(whole, [spec], name)

  def restore(self, restored_tensors, restored_shapes):
    del restored_shapes
    sizes = [p.shape.as_list()[self._axis] for p in self._parts]
    pieces = tf.split(restored_tensors[0], sizes, axis=self._axis)
    return tf.group(
      *[
        tf.assign(part, piece, validate_shape=True)
        for part, piece in zip(self._parts, pieces, strict=True)
      ]
    )


def whole_var_list(variables):
  """`variables` with each partitioned variable's parts as one saveable.

  None when nothing is partitioned: a `Saver` given None saves every
  global variable and saveable object, as by default.

  Args:
    variables: graph variables (e.g. `tf.global_variables()`).

  Returns:
    a list for `tf.train.Saver(var_list=...)`: the variables that are not
    partitioned, then one saveable per partitioned variable, saved whole
    under its full name; or None.
  """
  plain, groups = [], collections.OrderedDict()
  for var in variables:
    info = getattr(var, '_save_slice_info', None)
    if info is None:
      plain.append(var)
    else:
      groups.setdefault(info.full_name, []).append(var)
  if not groups:
    return None
  return plain + [_Whole(name, parts) for name, parts in groups.items()]
