"""README.md's training commands, run from the command line.

The commands are read from README.md itself, so a changed command fails
here until it has a check. Each runs as a subprocess, shortened with
`--fake_data` and a small `--max_steps` (appended: absl keeps the last
value), paths under /tmp moved into the test's directory; each must exit 0
and show the effect it promises: the variables of its checkpoint, the
learning rates it wrote as summaries, its output.
"""

import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest
import tensorflow.compat.v1 as tf
from tensorboard.backend.event_processing import event_accumulator

_REPO = pathlib.Path(__file__).parents[1]
_TRAIN = 'python -m graphnet.fully_connected_feed'
_STEP = re.compile(r'^Step (\d+): loss = [0-9.]+ ')
_PRECISION = re.compile(
  r'^Num examples: 10000  Num correct: \d+  Precision @ 1: ([0-9.]+)$'
)


def _readme_commands(heading):
  """The training commands of the first ```sh block after `heading`.

  Returns:
    list of the commands' arguments after `python -m ...`, comments
    dropped, each as a tuple of strings.
  """
  text = (_REPO / 'README.md').read_text(encoding='utf-8')
  section = text.split(f'\n{heading}\n', 1)[1]
  block = section.split('```sh\n', 1)[1].split('```', 1)[0]
  commands = []
  for line in block.splitlines():
    words = ' '.join(shlex.split(line, comments=True))
    for command in words.split(' && '):
      if command.startswith(_TRAIN):
        commands.append(tuple(shlex.split(command)[3:]))
  return commands


def _run(argv, cwd, timeout=120):
  env = dict(os.environ, TEST_TMPDIR=str(cwd / 'root'), PYTHONPATH=str(_REPO))
  done = subprocess.run(
    [sys.executable, '-m', 'graphnet.fully_connected_feed', *argv],
    capture_output=True,
    text=True,
    timeout=timeout,
    cwd=cwd,
    env=env,
  )
  assert done.returncode == 0, (argv, done.stderr[-3000:])
  return done


def _default_log_dir(cwd, preset=None):
  suffix = f'_{preset}' if preset else ''
  return cwd / f'root/tensorflow/mnist/logs/fully_connected_feed{suffix}'


def _variables(log_dir):
  prefix = tf.train.latest_checkpoint(str(log_dir))
  assert prefix, os.listdir(log_dir)
  return prefix, dict(tf.train.list_variables(prefix))


def _learning_rates(log_dir):
  """{step: learning rate} of the `learning_rate` summaries in `log_dir`."""
  events = event_accumulator.EventAccumulator(
    str(log_dir), size_guidance={event_accumulator.SCALARS: 0}
  )
  events.Reload()
  return {e.step: e.value for e in events.Scalars('learning_rate')}


def _assert_rates(log_dir, rate_at):
  """Checks the summaries against `rate_at(global step)`."""
  rates = _learning_rates(log_dir)
  assert len(rates) >= 3, rates
  for step, rate in rates.items():
    # TF's SummarySaverHook labels a run's summaries with the step after
    # it; the rate was computed at the step the run started from.
    expected = rate_at(step - 1)
    assert rate == pytest.approx(expected, rel=1e-5), (step, rates)


def _check_max_steps(log_dir, done):
  assert _variables(log_dir)[0].endswith('model.ckpt-20')
  assert _STEP.match(done.stdout.splitlines()[0])


def _check_softmax(log_dir, done):
  shapes = _variables(log_dir)[1]
  assert shapes['softmax_linear/weights'] == [784, 10]
  assert not any(name.startswith('hidden') for name in shapes)
  _assert_rates(log_dir, lambda step: 0.5)


def _check_book(log_dir, done):
  shapes = _variables(log_dir)[1]
  assert shapes['hidden1/weights'] == [784, 500]
  assert shapes['softmax_linear/weights'] == [500, 10]
  assert 'hidden2/weights' not in shapes
  assert 'hidden1/weights/ExponentialMovingAverage' in shapes
  # Staircase decay of 0.99 every (shortened) 5 steps from 0.8.
  _assert_rates(log_dir, lambda step: 0.8 * 0.99 ** (step // 5))


def _check_momentum_staircase(log_dir, done):
  shapes = _variables(log_dir)[1]
  assert 'hidden1/weights/Momentum' in shapes
  _assert_rates(log_dir, lambda step: 0.01 * 0.96 ** (step // 5))


def _check_piecewise_hook(log_dir, done):
  def rate_at(step):
    return 0.1 if step < 1000 else 0.01 if step < 1500 else 0.001

  _assert_rates(log_dir, rate_at)
  # Summaries on both sides of each boundary.
  rates = _learning_rates(log_dir).values()
  assert {round(rate, 6) for rate in rates} == {0.1, 0.01, 0.001}


def _check_flagfile(log_dir, done):
  assert _variables(log_dir)[1]['hidden1/weights'] == [784, 10]


def _check_resident(log_dir, done):
  steps = [
    int(m.group(1)) for m in map(_STEP.match, done.stdout.splitlines()) if m
  ]
  assert steps and all(step % 100 == 0 for step in steps), steps
  assert _variables(log_dir)[0].endswith('model.ckpt-300')


def _check_deep_mnist(log_dir, done):
  shapes = _variables(log_dir)[1]
  assert shapes['conv1/weights'] == [5, 5, 1, 32]
  assert shapes['conv2/weights'] == [5, 5, 32, 64]
  assert shapes['fc1/weights'] == [7 * 7 * 64, 1024]
  assert shapes['fc2/weights'] == [1024, 10]
  assert 'fc1/weights/Adam' in shapes
  assert not any(name.startswith('hidden') for name in shapes)
  _assert_rates(log_dir, lambda step: 1e-4)


_SHORT = ['--fake_data', '--max_steps', '20']

# README command -> (arguments appended to shorten it, the log_dir it
# writes (None: the default one; 'preset:' + name: that preset's default),
# the check of its effect).
_COMMANDS = {
  ('--max_steps', '30000'): (_SHORT, None, _check_max_steps),
  ('--preset', 'softmax'): (
    _SHORT + ['--log_every', '5'],
    'preset:softmax',
    _check_softmax,
  ),
  ('--preset', 'book', '--log_dir', '/tmp/book'): (
    _SHORT + ['--decay_steps', '5', '--log_every', '3'],
    'book',
    _check_book,
  ),
  (
    '--optimizer',
    'momentum',
    '--lr_schedule',
    'exponential',
    '--decay_rate',
    '0.96',
    '--staircase',
    '--log_dir',
    '/tmp/momentum',
  ): (
    _SHORT + ['--decay_steps', '5', '--log_every', '3'],
    'momentum',
    _check_momentum_staircase,
  ),
  (
    '--lr_schedule',
    'piecewise_hook',
    '--lr_boundaries',
    '1000,1500',
    '--lr_values',
    '0.1,0.01,0.001',
    '--log_dir',
    '/tmp/piecewise',
  ): (
    ['--fake_data', '--max_steps', '1700', '--log_every', '100'],
    'piecewise',
    _check_piecewise_hook,
  ),
  ('--flagfile', '/tmp/my.flags'): ([], None, _check_flagfile),
  (
    '--input_pipeline',
    'resident',
    '--steps_per_run',
    '100',
    '--max_steps',
    '30000',
    '--log_dir',
    '/tmp/resident',
  ): (['--fake_data', '--max_steps', '300'], 'resident', _check_resident),
  ('--preset', 'deep_mnist', '--log_dir', '/tmp/deep'): (
    ['--fake_data', '--max_steps', '3', '--log_every', '1'],
    'deep',
    _check_deep_mnist,
  ),
}

_README_COMMANDS = _readme_commands(
  '## Overriding settings'
) + _readme_commands('## Faster training, bigger models')


def test_every_readme_command_is_checked():
  assert len(_README_COMMANDS) >= 8
  assert set(_README_COMMANDS) == set(_COMMANDS)


def _log_dir_of(command):
  """The log directory `command` writes, as README spells it."""
  if '--log_dir' in command:
    return command[command.index('--log_dir') + 1]
  if '--preset' in command:
    preset = command[command.index('--preset') + 1]
    if preset != 'tutorial':
      return f'default_{preset}'
  return 'default'


def test_readme_commands_each_train_in_a_directory_of_their_own():
  # Run one after the other, two commands sharing a directory would find
  # it already trained (or holding another model) and do nothing. A flag
  # file may name its own --log_dir.
  dirs = [_log_dir_of(c) for c in _README_COMMANDS if '--flagfile' not in c]
  assert len(set(dirs)) == len(dirs), sorted(dirs)


@pytest.mark.parametrize(
  'command', _README_COMMANDS, ids=lambda c: '_'.join(c)[:60]
)
def test_readme_command_runs_with_its_effect(tmp_path, command):
  extra, log_name, check = _COMMANDS[command]
  argv = list(command)
  if log_name is None:
    log_dir = _default_log_dir(tmp_path)
  elif log_name.startswith('preset:'):
    log_dir = _default_log_dir(tmp_path, log_name.split(':')[1])
  else:
    log_dir = tmp_path / log_name
    argv[argv.index('--log_dir') + 1] = str(log_dir)
  # my.flags: the flag file a user would write.
  (tmp_path / 'my.flags').write_text(
    '--fake_data\n--max_steps=5\n--hidden1=10\n'
  )
  if '--flagfile' in argv:
    argv[argv.index('--flagfile') + 1] = str(tmp_path / 'my.flags')
  done = _run(argv + extra, tmp_path)
  check(log_dir, done)


def test_quick_start_trains_the_tutorial_and_resumes(tmp_path):
  assert _readme_commands('## Quick start') == [()]
  done = _run([], tmp_path)
  lines = done.stdout.splitlines()
  assert _STEP.match(lines[0]) and lines[0].startswith('Step 0: ')
  # Evaluations at steps 1000 and 2000, in TF1's format.
  assert lines.count('Test Data Eval:') == 2
  assert 'Num examples: 55000' in done.stdout
  assert 'Num examples: 5000 ' in done.stdout
  precision = float(_PRECISION.match(lines[-1]).group(1))
  # README: about 0.900 to 0.903 from run to run.
  assert precision >= 0.89, lines[-1]
  log_dir = _default_log_dir(tmp_path)
  prefix, shapes = _variables(log_dir)
  assert prefix.endswith('model.ckpt-2000')
  assert shapes['hidden1/weights'] == [784, 128]
  assert shapes['hidden2/weights'] == [128, 32]
  assert shapes['softmax_linear/weights'] == [32, 10]
  assert os.listdir(tmp_path / 'root/tensorflow/mnist/input_data')
  _assert_rates(log_dir, lambda step: 0.01)

  again = _run(['--max_steps', '2100'], tmp_path)
  assert again.stdout.splitlines()[0].startswith('Step 2000: ')
  assert _variables(log_dir)[0].endswith('model.ckpt-2100')
