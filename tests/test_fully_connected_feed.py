"""End-to-end tests of `python -m graphnet.fully_connected_feed`."""

import os
import subprocess
import sys

import pytest
import tensorflow.compat.v1 as tf


def _run(tmp_path, *flags, timeout=300):
  env = dict(os.environ, TEST_TMPDIR=str(tmp_path / 'root'))
  return subprocess.run(
    [sys.executable, '-m', 'graphnet.fully_connected_feed', *flags],
    capture_output=True,
    text=True,
    timeout=timeout,
    env=env,
  )


def test_default_dirs_follow_test_tmpdir_and_output_is_tf1_format(tmp_path):
  done = _run(tmp_path, '--fake_data', '--max_steps', '20', '--log_every', '10')
  assert done.returncode == 0, done.stderr
  root = tmp_path / 'root' / 'tensorflow' / 'mnist'
  log_dir = root / 'logs' / 'fully_connected_feed'
  assert tf.train.latest_checkpoint(str(log_dir)).endswith('model.ckpt-20')
  lines = done.stdout.splitlines()
  assert lines[0].startswith('Step 0: loss = ')
  assert 'Test Data Eval:' in lines
  assert any(x.startswith('Num examples: 10000  Num correct: ') for x in lines)


def test_preset_book_with_explicit_override(tmp_path):
  log_dir = tmp_path / 'logs'
  done = _run(
    tmp_path,
    '--preset',
    'book',
    '--max_steps',
    '3',
    '--fake_data',
    '--log_dir',
    str(log_dir),
  )
  assert done.returncode == 0, done.stderr
  prefix = tf.train.latest_checkpoint(str(log_dir))
  assert prefix.endswith('model.ckpt-3')  # --max_steps beat the preset.
  shapes = dict(tf.train.list_variables(prefix))
  assert shapes['hidden1/weights'] == [784, 500]
  assert 'hidden2/weights' not in shapes
  assert 'hidden1/weights/ExponentialMovingAverage' in shapes
  assert 'moving averages' in done.stdout


def test_flagfile(tmp_path):
  flagfile = tmp_path / 'train.flags'
  log_dir = tmp_path / 'logs'
  flagfile.write_text(
    f'--fake_data\n--max_steps=4\n--hidden1=10\n--log_dir={log_dir}\n'
  )
  done = _run(tmp_path, f'--flagfile={flagfile}')
  assert done.returncode == 0, done.stderr
  prefix = tf.train.latest_checkpoint(str(log_dir))
  assert dict(tf.train.list_variables(prefix))['hidden1/weights'] == [784, 10]


_BAD_FLAGS = [
  (['--batch_size', '0'], 'batch_size'),
  (['--batch_size', 'ten'], 'batch_size'),
  (['--learning_rate', '-0.1'], 'learning_rate'),
  (['--decay_rate', '1.5'], 'decay_rate'),
  (['--moving_average_decay', '1'], 'moving_average_decay'),
  (['--regularization_rate', '-1'], 'regularization_rate'),
  (['--optimizer', 'adadelta'], 'optimizer'),
  (['--lr_schedule', 'cosine'], 'lr_schedule'),
  (['--lr_boundaries', '10,20', '--lr_values', '0.1,0.01'], 'lr_values'),
  (['--lr_boundaries', '20,10', '--lr_values', '1,2,3'], 'lr_boundaries'),
  (['--lr_values', ''], 'lr_values'),
  (['--hidden1', '0', '--hidden2', '5'], 'hidden2'),
  (['--preset', 'huge'], 'preset'),
  (['--device', 'tpu'], 'device'),
  (['--gpu_memory_fraction', '2'], 'gpu_memory_fraction'),
  (['--max_steps', '-5'], 'max_steps'),
  (['--eval_every', '0'], 'eval_every'),
]

# Parses each case with the entry point's real flags in one process: absl
# runs the same validators there as under app.run.
_PARSE_ALL = """
import json, sys
from absl import flags
from graphnet import fully_connected_feed
cases = json.loads(sys.argv[1])
for argv, _ in cases:
  flags.FLAGS.unparse_flags()
  try:
    flags.FLAGS(['prog'] + argv)
    fully_connected_feed.config_from_flags()
    print('ACCEPTED')
  except Exception as e:  # absl errors and app.UsageError.
    print('REJECTED', type(e).__name__, str(e).replace(chr(10), ' '))
"""


def test_every_bad_flag_is_rejected_naming_it():
  import json

  done = subprocess.run(
    [sys.executable, '-c', _PARSE_ALL, json.dumps(_BAD_FLAGS)],
    capture_output=True,
    text=True,
    timeout=120,
  )
  assert done.returncode == 0, done.stderr
  results = done.stdout.strip().splitlines()[-len(_BAD_FLAGS) :]
  for (argv, named), line in zip(_BAD_FLAGS, results, strict=True):
    assert line.startswith('REJECTED'), (argv, line)
    assert named in line, (argv, line)


@pytest.mark.parametrize(
  'flags, named',
  [
    (['--batch_size', '0'], 'batch_size'),
    (['--preset', 'softmax', '--hidden2', '5'], 'hidden2'),
  ],
)
def test_bad_flag_stops_before_any_work(tmp_path, flags, named):
  log_dir = tmp_path / 'logs'
  data_dir = tmp_path / 'data'
  done = _run(
    tmp_path,
    *flags,
    '--log_dir',
    str(log_dir),
    '--input_data_dir',
    str(data_dir),
    timeout=120,
  )
  assert done.returncode != 0
  assert named in done.stderr
  assert not log_dir.exists()
  assert not data_dir.exists()


def test_graphnet_error_exits_1_with_one_line_message(tmp_path):
  blocker = tmp_path / 'file'
  blocker.write_text('x')
  done = _run(tmp_path, '--fake_data', '--log_dir', str(blocker / 'logs'))
  assert done.returncode == 1
  assert 'graphnet: error: --log_dir' in done.stderr
  assert 'Traceback' not in done.stderr
