"""Fault injection: damaged, missing, foreign and hostile checkpoints.

Each damage is applied to a copy of a real training run's log_dir; the
trainer (resuming there), `Predictor.from_checkpoint` and the evaluator
must each end in the documented `errors.CheckpointError` family (or
`UnsafeGraphError`) naming the checkpoint, and leave every file of the
directory byte-identical.
"""

import os
import shutil

import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import contents
from graphnet.data import mnist_reader as input_data
from graphnet.serving import predictor
from graphnet.training import checkpoint_eval
from graphnet.training import config as config_lib

import _helpers

_TALLY = {'tried': 0, 'documented': 0}


@pytest.fixture(scope='module', autouse=True)
def _stats():
  yield
  _helpers.record_stats('checkpoints', dict(_TALLY))


def _train(log_dir, hidden1=16, max_steps=20):
  return _helpers.train_fake(
    log_dir,
    max_steps=max_steps,
    save_checkpoint_steps=10,
    model=config_lib.ModelConfig(hidden1=hidden1, hidden2=8),
  )


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """(log_dir, latest prefix, .meta bytes of a different model)."""
  root = tmp_path_factory.mktemp('ckpt')
  result = _train(root / 'good')
  other = _train(root / 'other', hidden1=7, max_steps=1)
  with open(other.checkpoint + '.meta', 'rb') as f:
    other_meta = f.read()
  return root / 'good', os.path.basename(result.checkpoint), other_meta


def _unsafe_meta(meta_path):
  meta = tf.MetaGraphDef()
  with open(meta_path, 'rb') as f:
    meta.ParseFromString(f.read())
  node = meta.graph_def.node.add()
  node.name = 'exfiltrate'
  node.op = 'WriteFile'
  node.input.extend(['images', 'images'])
  return meta.SerializeToString()


def _truncate(path, keep=0.5):
  with open(path, 'rb') as f:
    data = f.read()
  with open(path, 'wb') as f:
    f.write(data[: int(len(data) * keep)])


def _damage(log_dir, name, case, other_meta):
  prefix = os.path.join(log_dir, name)
  data = prefix + '.data-00000-of-00001'
  if case == 'truncated_data':
    _truncate(data)
  elif case == 'truncated_index':
    _truncate(prefix + '.index')
  elif case == 'missing_data':
    os.remove(data)
  elif case == 'missing_index':
    os.remove(prefix + '.index')
  elif case == 'state_points_nowhere':
    with open(os.path.join(log_dir, 'checkpoint'), 'w') as f:
      f.write('model_checkpoint_path: "model.ckpt-999999"\n')
  elif case == 'garbage_meta':
    _truncate(prefix + '.meta', keep=0.3)
  elif case == 'other_model_meta':
    with open(prefix + '.meta', 'wb') as f:
      f.write(other_meta)
  elif case == 'unsafe_meta':
    unsafe = _unsafe_meta(prefix + '.meta')
    with open(prefix + '.meta', 'wb') as f:
      f.write(unsafe)
  else:
    raise AssertionError(case)


# case -> which consumers must refuse it. The trainer builds its own graph
# and never reads .meta files, so only damage to the variables concerns it.
_CASES = {
  'truncated_data': ('trainer', 'predictor', 'evaluator'),
  'truncated_index': ('trainer', 'predictor', 'evaluator'),
  'missing_data': ('trainer', 'predictor', 'evaluator'),
  'missing_index': ('trainer', 'predictor', 'evaluator'),
  'state_points_nowhere': ('trainer', 'predictor', 'evaluator'),
  'garbage_meta': ('predictor',),
  'other_model_meta': ('predictor',),
  'unsafe_meta': ('predictor',),
}


def _attempt(consumer, log_dir):
  if consumer == 'trainer':
    _train(log_dir, max_steps=40)
  elif consumer == 'predictor':
    predictor.Predictor.from_checkpoint(str(log_dir)).close()
  else:
    prefix = os.path.join(log_dir, 'model.ckpt-20')
    state = tf.train.get_checkpoint_state(str(log_dir))
    if state is not None:
      prefix = state.model_checkpoint_path
    checkpoint_eval.evaluate_checkpoint(
      prefix, input_data.read_data_sets('', fake_data=True).test
    )


@pytest.mark.parametrize(
  'case, consumer',
  [(case, consumer) for case, who in _CASES.items() for consumer in who],
)
def test_damaged_checkpoint_is_refused_and_left_alone(
  tmp_path, trained, case, consumer
):
  good_dir, name, other_meta = trained
  log_dir = tmp_path / 'logs'
  shutil.copytree(good_dir, log_dir)
  _damage(str(log_dir), name, case, other_meta)
  before = _helpers.file_bytes(log_dir)
  _TALLY['tried'] += 1
  expected = (
    errors.UnsafeGraphError
    if case == 'unsafe_meta'
    else (errors.CheckpointError)
  )
  with pytest.raises(expected) as caught:
    _attempt(consumer, log_dir)
  _TALLY['documented'] += 1
  message = str(caught.value)
  if case != 'unsafe_meta':
    assert str(log_dir) in message, message
  else:
    assert 'WriteFile' in message
  assert _helpers.file_bytes(log_dir) == before


def test_trainer_damage_message_says_what_to_do(tmp_path, trained):
  good_dir, name, other_meta = trained
  log_dir = tmp_path / 'logs'
  shutil.copytree(good_dir, log_dir)
  _damage(str(log_dir), name, 'truncated_data', other_meta)
  with pytest.raises(errors.CheckpointError) as caught:
    _train(log_dir, max_steps=40)
  message = str(caught.value)
  assert f'--log_dir {log_dir}' in message
  assert 'model.ckpt-10' in message  # The previous checkpoint to resume.
  assert 'Traceback' not in message


def test_cli_trainer_and_evaluator_on_truncated_data(tmp_path, trained):
  """End to end: exit codes and one-line messages, nothing written."""
  good_dir, name, other_meta = trained
  log_dir = tmp_path / 'logs'
  shutil.copytree(good_dir, log_dir)
  _damage(str(log_dir), name, 'truncated_data', other_meta)
  before = _helpers.file_bytes(log_dir)
  env = dict(os.environ, TEST_TMPDIR=str(tmp_path / 'root'))
  train = _helpers.run_python(
    '-m',
    'graphnet.fully_connected_feed',
    '--fake_data',
    '--hidden1',
    '16',
    '--hidden2',
    '8',
    '--max_steps',
    '40',
    '--log_dir',
    str(log_dir),
    env=env,
    timeout=300,
  )
  assert train.returncode == 1, train.stderr
  assert f'graphnet: error: --log_dir {log_dir} holds a damaged' in (
    train.stderr
  )
  assert 'Traceback' not in train.stderr
  evaluate = _helpers.run_python(
    '-m',
    'graphnet.mnist_eval',
    '--run_once',
    '--checkpoint_dir',
    str(log_dir),
    '--eval_dir',
    str(tmp_path / 'eval'),
    '--input_data_dir',
    str(tmp_path / 'data'),
    env=env,
    timeout=300,
  )
  assert evaluate.returncode == 1
  assert 'Traceback' not in evaluate.stderr
  assert f'graphnet: error: Checkpoint {log_dir / name}' in evaluate.stderr
  assert _helpers.file_bytes(log_dir) == before


def test_training_in_a_copied_log_dir_leaves_the_original_alone(tmp_path):
  """A copy whose `checkpoint` file names the original by absolute path."""
  original = tmp_path / 'original'
  _train(original, max_steps=20)
  state = original / 'checkpoint'
  # What TF's savers (and graphnet before relative paths) wrote.
  state.write_text(
    f'model_checkpoint_path: "{original}/model.ckpt-20"\n'
    f'all_model_checkpoint_paths: "{original}/model.ckpt-10"\n'
    f'all_model_checkpoint_paths: "{original}/model.ckpt-20"\n'
  )
  before = _helpers.file_bytes(original)
  copy = tmp_path / 'copy'
  shutil.copytree(original, copy)
  result = _train(copy, max_steps=60)
  _TALLY['tried'] += 1
  assert _helpers.file_bytes(original) == before
  _TALLY['documented'] += 1
  assert result.checkpoint == str(copy / 'model.ckpt-60')
  assert 'model.ckpt-60' in (copy / 'checkpoint').read_text()
  assert str(original) not in (copy / 'checkpoint').read_text()


@pytest.mark.parametrize('keep', [0.0, 0.01, 0.5, 0.99])
@pytest.mark.parametrize('suffix', ['.data-00000-of-00001', '.index'])
def test_truncation_anywhere_is_refused_by_every_reader(
  tmp_path, trained, suffix, keep
):
  good_dir, name, _ = trained
  log_dir = tmp_path / 'logs'
  shutil.copytree(good_dir, log_dir)
  prefix = str(log_dir / name)
  _truncate(prefix + suffix, keep=keep)
  before = _helpers.file_bytes(log_dir)
  test_set = input_data.read_data_sets('', fake_data=True).test
  readers = [
    lambda: contents.check_readable(prefix),
    lambda: predictor.Predictor.from_checkpoint(prefix).close(),
    lambda: checkpoint_eval.evaluate_checkpoint(prefix, test_set),
  ]
  for read in readers:
    _TALLY['tried'] += 1
    with pytest.raises(errors.CheckpointError) as caught:
      read()
    _TALLY['documented'] += 1
    assert prefix in str(caught.value)
  assert _helpers.file_bytes(log_dir) == before
