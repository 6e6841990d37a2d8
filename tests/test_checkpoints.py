"""Tests of graphnet.checkpoints on real TF checkpoints."""

import os

import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import contents
from graphnet.checkpoints import state as checkpoints
from graphnet.nn import mlp as mnist

tf.disable_eager_execution()


def _build(hidden1=4, hidden2=3, global_step=True):
  if global_step:
    tf.train.get_or_create_global_step()
  images, _ = mnist.placeholder_inputs()
  mnist.inference(images, hidden1, hidden2)


def _save(directory, step=7, **kwargs):
  """Saves a tiny model's checkpoint; returns its prefix."""
  with tf.Graph().as_default():
    _build(**kwargs)
    saver = tf.train.Saver()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      if kwargs.get('global_step', True):
        tf.train.get_global_step().load(step, sess)
      return saver.save(
        sess, os.path.join(directory, 'model.ckpt'), global_step=step
      )


class TestLatestCheckpoint:
  def test_none_in_empty_or_missing_dir(self, tmp_path):
    assert checkpoints.latest_checkpoint(str(tmp_path)) is None
    assert checkpoints.latest_checkpoint(str(tmp_path / 'nope')) is None

  def test_newest(self, tmp_path):
    _save(str(tmp_path), step=3)
    prefix = _save(str(tmp_path), step=11)
    assert checkpoints.latest_checkpoint(str(tmp_path)) == prefix
    assert prefix.endswith('model.ckpt-11')

  def test_checkpoint_file_naming_missing_files(self, tmp_path):
    prefix = _save(str(tmp_path))
    for name in os.listdir(tmp_path):
      if name.startswith(os.path.basename(prefix)):
        os.remove(tmp_path / name)
    with pytest.raises(errors.CheckpointError) as info:
      checkpoints.latest_checkpoint(str(tmp_path))
    assert str(tmp_path) in str(info.value)
    assert 'missing' in str(info.value)
    assert info.value.path == str(tmp_path)

  def test_garbled_checkpoint_file(self, tmp_path):
    (tmp_path / 'checkpoint').write_text('model_checkpoint_path: {{{')
    with pytest.raises(errors.CheckpointError) as info:
      checkpoints.latest_checkpoint(str(tmp_path))
    assert str(tmp_path) in str(info.value)


class TestFilesPresent:
  def test_leftover_of_a_killed_save_beside_a_complete_checkpoint(
    self, tmp_path
  ):
    prefix = _save(str(tmp_path))
    shard = prefix + '.data-00000-of-00001'
    # What a save killed while writing the same step leaves behind.
    with open(shard + '.tempstate1234567', 'wb') as f:
      f.write(b'half')
    assert checkpoints.files_present(prefix)
    os.remove(shard)
    assert not checkpoints.files_present(prefix)


class TestCheckpointStep:
  def test_step(self, tmp_path):
    assert contents.checkpoint_step(_save(str(tmp_path), step=42)) == 42

  def test_no_global_step(self, tmp_path):
    prefix = _save(str(tmp_path), global_step=False)
    assert contents.checkpoint_step(prefix) is None

  def test_unreadable(self, tmp_path):
    prefix = str(tmp_path / 'model.ckpt-5')
    with pytest.raises(errors.CheckpointError, match='cannot be read') as info:
      contents.checkpoint_step(prefix)
    assert info.value.path == prefix


class TestCheckCompatible:
  def test_same_model(self, tmp_path):
    prefix = _save(str(tmp_path))
    with tf.Graph().as_default():
      _build()
      contents.check_compatible(prefix, tf.global_variables())

  def test_other_layer_sizes(self, tmp_path):
    prefix = _save(str(tmp_path), hidden1=4)
    with tf.Graph().as_default():
      _build(hidden1=5)
      with pytest.raises(errors.CheckpointMismatchError) as info:
        contents.check_compatible(
          prefix, tf.global_variables(), where='--log_dir'
        )
    message = str(info.value)
    assert 'hidden1/weights is [784, 4], the model needs [784, 5]' in message
    assert 'hidden1/biases is [4], the model needs [5]' in message
    assert 'hidden2/weights is [4, 3], the model needs [5, 3]' in message
    assert 'Use a new --log_dir' in message
    assert prefix in message
    assert info.value.path == prefix
    assert isinstance(info.value, errors.CheckpointError)

  def test_missing_variable(self, tmp_path):
    prefix = _save(str(tmp_path), hidden2=0)
    with tf.Graph().as_default():
      _build(hidden2=3)
      with pytest.raises(errors.CheckpointMismatchError) as info:
        contents.check_compatible(prefix, tf.global_variables())
    assert 'hidden2/weights [4, 3] is missing' in str(info.value)
    assert 'hidden2/biases [3] is missing' in str(info.value)

  def test_lists_at_most_five_problems(self, tmp_path):
    prefix = _save(str(tmp_path), hidden1=4, hidden2=0)
    with tf.Graph().as_default():
      for i in range(8):
        tf.get_variable(f'extra{i}', [2])
      with pytest.raises(errors.CheckpointMismatchError) as info:
        contents.check_compatible(prefix, tf.global_variables())
    message = str(info.value)
    assert message.count('is missing') == 5
    assert '(and 3 more)' in message

  def test_subset_is_compatible(self, tmp_path):
    # Only the variables that will be restored are checked.
    prefix = _save(str(tmp_path))
    with tf.Graph().as_default():
      _build()
      tf.get_variable('not_saved', [2])
      variables = [
        v for v in tf.global_variables() if 'not_saved' not in v.name
      ]
      contents.check_compatible(prefix, variables)
