"""The command line's traps (issues 13 and 14), run as a user would.

Each test runs `python -m graphnet.fully_connected_feed` or
`graphnet.mnist_eval` in a subprocess on real files: README's commands in
README's order, a log_dir already trained past --max_steps, --train_dir,
a batch larger than the training split, a read-only checkpoint directory.
"""

import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet.data import idx
from graphnet.data import mnist_files

_REPO = pathlib.Path(__file__).parents[1]
_TRAIN = 'python -m graphnet.fully_connected_feed'
_LOGS = 'tensorflow/mnist/logs'
_FAKE = ['--fake_data', '--max_steps']


def _train(argv, root):
  """Runs the trainer with `argv` and TEST_TMPDIR=`root`."""
  return subprocess.run(
    [sys.executable, '-m', 'graphnet.fully_connected_feed', *argv],
    capture_output=True,
    text=True,
    timeout=300,
    env=dict(os.environ, TEST_TMPDIR=str(root), PYTHONPATH=str(_REPO)),
  )


def _graphnet_lines(stderr):
  return [line for line in stderr.splitlines() if line.startswith('graphnet')]


def _latest(log_dir):
  return tf.train.latest_checkpoint(str(log_dir))


def _files(directory):
  """{name: (size, mtime_ns)} of every file under `directory`."""
  found = {}
  for path in pathlib.Path(directory).rglob('*'):
    stat = path.stat()
    found[str(path.relative_to(directory))] = (stat.st_size, stat.st_mtime_ns)
  return found


def _readme_train_commands(until):
  """README's training commands before heading `until`, in README's order.

  Returns:
    list of each command's arguments after `python -m ...` (a tuple).
  """
  text = (_REPO / 'README.md').read_text(encoding='utf-8')
  commands = []
  for line in text.split(f'\n{until}\n', 1)[0].splitlines():
    for part in line.split('&&'):
      part = part.split('#', 1)[0].strip()
      if part.startswith(_TRAIN):
        commands.append(tuple(part[len(_TRAIN) :].split()))
  return commands


def _shortened(command, tmp_path):
  """`command` on real MNIST with fewer steps, its /tmp paths in tmp_path.

  Steps keep README's order of sizes: an explicit --max_steps (30000)
  goes past the default (2000), so the run after it finds a log_dir
  already trained as far as a user would.
  """
  argv = [
    str(tmp_path / arg[len('/tmp/') :]) if arg.startswith('/tmp/') else arg
    for arg in command
  ]
  return [*argv, '--max_steps', '400' if '--max_steps' in argv else '300']


class TestReadmeOrder:
  def test_readme_commands_in_readme_order_all_train(self, tmp_path):
    # The quick start and "Overriding settings", each shortened. The flag
    # file command needs README's printf line first: test_readme_commands
    # runs it with a flag file of its own.
    commands = _readme_train_commands('## Using the library')
    commands.remove(('--flagfile', '/tmp/my.flags'))
    assert commands[:3] == [
      (),
      ('--max_steps', '30000'),
      ('--preset', 'softmax'),
    ]
    for command in commands:
      done = _train(_shortened(command, tmp_path), tmp_path / 'root')
      assert done.returncode == 0, (command, done.stderr[-3000:])
      # It trained and evaluated, not found another model or nothing to do.
      assert 'Test Data Eval:' in done.stdout, (command, done.stdout)
    logs = tmp_path / 'root' / _LOGS
    tutorial = _latest(logs / 'fully_connected_feed')
    assert tutorial.endswith('model.ckpt-400')
    shapes = dict(tf.train.list_variables(tutorial))
    assert shapes['hidden1/weights'] == [784, 128]
    softmax = _latest(logs / 'fully_connected_feed_softmax')
    assert softmax.endswith('model.ckpt-300')
    shapes = dict(tf.train.list_variables(softmax))
    assert shapes['softmax_linear/weights'] == [784, 10]

  def test_other_model_is_refused_with_a_new_directory_to_use(self, tmp_path):
    log_dir = tmp_path / 'logs'
    assert (
      _train([*_FAKE, '2', '--log_dir', str(log_dir)], tmp_path).returncode == 0
    )
    (tmp_path / 'logs_2').mkdir()  # Taken: the suggestion must skip it.
    done = _train(
      [*_FAKE, '2', '--log_dir', str(log_dir), '--hidden1', '64'], tmp_path
    )
    assert done.returncode == 1
    [line] = _graphnet_lines(done.stderr)
    match = re.search(
      r'Use a new --log_dir for this model, e\.g\. (\S+) ', line
    )
    assert match, line
    suggested = pathlib.Path(match.group(1))
    assert suggested == tmp_path / 'logs_3'
    assert not suggested.exists()
    again = _train(
      [*_FAKE, '2', '--log_dir', str(suggested), '--hidden1', '64'], tmp_path
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert _latest(suggested).endswith('model.ckpt-2')


class TestAlreadyTrained:
  @pytest.mark.parametrize('max_steps', ['5', '20'])
  def test_one_line_and_nothing_written(self, tmp_path, max_steps):
    log_dir = tmp_path / 'logs'
    first = _train([*_FAKE, '20', '--log_dir', str(log_dir)], tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    before = _files(log_dir)
    done = _train([*_FAKE, max_steps, '--log_dir', str(log_dir)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == [
      f'already trained to step 20 (>= --max_steps {max_steps}): nothing '
      'to train; use a larger --max_steps or a new --log_dir'
    ]
    assert _files(log_dir) == before

  def test_larger_max_steps_still_resumes(self, tmp_path):
    log_dir = tmp_path / 'logs'
    assert (
      _train([*_FAKE, '5', '--log_dir', str(log_dir)], tmp_path).returncode == 0
    )
    done = _train([*_FAKE, '8', '--log_dir', str(log_dir)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[0].startswith('Step 5: ')
    assert _latest(log_dir).endswith('model.ckpt-8')


class TestTrainDir:
  def test_train_dir_is_log_dir(self, tmp_path):
    train_dir = tmp_path / 'train'
    done = _train(
      [*_FAKE, '3', '--train_dir', str(train_dir)], tmp_path / 'root'
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert _latest(train_dir).endswith('model.ckpt-3')
    assert not (tmp_path / 'root' / _LOGS).exists()

  def test_same_value_twice_is_fine(self, tmp_path):
    same = str(tmp_path / 'train')
    done = _train(
      [*_FAKE, '3', '--train_dir', same, '--log_dir', same], tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert _latest(same).endswith('model.ckpt-3')

  def test_different_values_are_a_usage_error(self, tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    done = _train(
      [*_FAKE, '3', '--train_dir', str(a), '--log_dir', str(b)], tmp_path
    )
    assert done.returncode == 1
    assert f'--train_dir {a} and --log_dir {b} differ' in done.stderr
    assert 'Traceback' not in done.stderr
    assert not a.exists() and not b.exists()


def _write_data(directory, num_train, num_test=100):
  """Writes random MNIST-shaped IDX files: `num_train` training images."""
  rng = np.random.default_rng(0)
  directory.mkdir(parents=True)
  for images, labels, n in [
    (mnist_files.TRAIN_IMAGES, mnist_files.TRAIN_LABELS, num_train),
    (mnist_files.TEST_IMAGES, mnist_files.TEST_LABELS, num_test),
  ]:
    pixels = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    idx.write_idx_images(directory / images, pixels)
    idx.write_idx_labels(directory / labels, rng.integers(0, 10, n, np.uint8))


class TestBatchAgainstData:
  def test_small_training_file_names_file_and_fix(self, tmp_path):
    data, log_dir = tmp_path / 'data', tmp_path / 'logs'
    _write_data(data, num_train=5000)
    # By default min(5000, 10%) are held out, so only an explicit 5000
    # (TF1's fixed default) leaves nothing to train on.
    done = _train(
      [
        *['--input_data_dir', str(data), '--log_dir', str(log_dir)],
        *['--validation_size', '5000'],
      ],
      tmp_path,
    )
    assert done.returncode == 1
    [line] = _graphnet_lines(done.stderr)
    assert str(data / mnist_files.TRAIN_IMAGES) in line
    assert '0 training examples' in line
    assert '--validation_size 4900 or less' in line
    assert 'Traceback' not in done.stderr
    assert not log_dir.exists()

    fixed = _train(
      [
        *['--input_data_dir', str(data), '--log_dir', str(log_dir)],
        *['--validation_size', '4900', '--max_steps', '5'],
      ],
      tmp_path,
    )
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    assert 'Num examples: 100  Num correct' in fixed.stdout
    assert _latest(log_dir).endswith('model.ckpt-5')

  def test_batch_larger_than_mnist_refused_before_any_file(
    self, tmp_path, data_dir
  ):
    log_dir = tmp_path / 'deep' / 'logs'
    argv = ['--input_data_dir', str(data_dir), '--log_dir', str(log_dir)]
    done = _train([*argv, '--batch_size', '60000'], tmp_path)
    assert done.returncode == 1
    [line] = _graphnet_lines(done.stderr)
    assert 'more than the 55000 training examples' in line
    assert '--batch_size 55000 or less' in line
    assert not (tmp_path / 'deep').exists()

  def test_empty_log_dir_stays_empty(self, tmp_path):
    log_dir = tmp_path / 'logs'
    log_dir.mkdir()
    done = _train(
      ['--fake_data', '--log_dir', str(log_dir), '--batch_size', '10001'],
      tmp_path,
    )
    assert done.returncode == 1
    assert '--batch_size 10000 or less' in done.stderr
    assert list(log_dir.iterdir()) == []


# Runs "$@" with directory $1 read-only: a bind mount in a private mount
# namespace, since root ignores permission bits; nothing outlives it.
_READ_ONLY = (
  'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && '
  'shift && exec "$@"'
)


def _read_only_command(directory, command):
  """`command` run with `directory` read-only (root or not)."""
  if os.geteuid() != 0:
    directory.chmod(0o555)
    return command
  return [
    *['unshare', '--mount', '--propagation', 'private'],
    *['sh', '-c', _READ_ONLY, 'sh', str(directory), *command],
  ]


class TestEvalReadOnlyCheckpointDir:
  @pytest.fixture
  def checkpoint_dir(self, tmp_path):
    log_dir = tmp_path / 'logs'
    done = _train([*_FAKE, '2', '--log_dir', str(log_dir)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    yield log_dir
    log_dir.chmod(0o755)

  def _eval(self, checkpoint_dir, data_dir, *argv):
    command = [sys.executable, '-m', 'graphnet.mnist_eval', '--run_once']
    command += ['--checkpoint_dir', str(checkpoint_dir)]
    command += ['--input_data_dir', str(data_dir), *argv]
    return subprocess.run(
      _read_only_command(checkpoint_dir, command),
      capture_output=True,
      text=True,
      timeout=300,
      env=dict(os.environ, PYTHONPATH=str(_REPO)),
    )

  def test_default_eval_dir_unwritable_prints_accuracy_and_a_note(
    self, checkpoint_dir, data_dir
  ):
    before = _files(checkpoint_dir)
    done = self._eval(checkpoint_dir, data_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(
      r'^After 2 training step\(s\), validation accuracy = [0-9.]+$',
      done.stdout,
      re.MULTILINE,
    ), done.stdout
    [note] = _graphnet_lines(done.stderr)
    assert note.startswith('graphnet: note: accuracy summaries are not written')
    assert '--eval_dir' in note
    assert 'Traceback' not in done.stderr
    assert _files(checkpoint_dir) == before

  def test_explicit_unwritable_eval_dir_is_an_error_before_evaluating(
    self, checkpoint_dir, data_dir
  ):
    eval_dir = checkpoint_dir / 'eval'
    done = self._eval(checkpoint_dir, data_dir, '--eval_dir', str(eval_dir))
    assert done.returncode == 1
    [line] = _graphnet_lines(done.stderr)
    assert line.startswith(
      f'graphnet: error: --eval_dir {eval_dir} cannot be written'
    )
    assert 'accuracy' not in done.stdout
    assert 'Traceback' not in done.stderr

  def test_writable_explicit_eval_dir_gets_the_summary(
    self, checkpoint_dir, data_dir, tmp_path
  ):
    eval_dir = tmp_path / 'eval'
    done = self._eval(checkpoint_dir, data_dir, '--eval_dir', str(eval_dir))
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'validation accuracy = ' in done.stdout
    assert _graphnet_lines(done.stderr) == []
    assert any(name.startswith('events.out') for name in os.listdir(eval_dir))
