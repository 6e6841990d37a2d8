"""TF1-style programs run unchanged but for their imports (tests/tf1_programs).

Each program uses only `tensorflow.compat.v1` and graphnet's drop-in
modules (`input_data`, `mnist`, `hooks`) and runs in its own process on the
bundled MNIST, a few hundred steps; the independent ones run side by side.
"""

import ast
import os
import re
import subprocess
import sys

import pytest

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PROGRAMS = os.path.join(_REPO, 'tests', 'tf1_programs')
_DROP_INS = frozenset(
  {'graphnet.input_data', 'graphnet.mnist', 'graphnet.hooks'}
)
_TIMEOUT = 300


def _start(tmp_path, name, *args):
  """Starts tests/tf1_programs/<name>.py; returns the process."""
  env = dict(os.environ, PYTHONPATH=_REPO, TEST_TMPDIR=str(tmp_path))
  return subprocess.Popen(
    [sys.executable, os.path.join(_PROGRAMS, f'{name}.py'), *args],
    cwd=tmp_path,
    env=env,
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
  )


def _finish(process):
  """Waits for a process; returns its stdout, or fails with its stderr."""
  out, err = process.communicate(timeout=_TIMEOUT)
  assert process.returncode == 0, err[-3000:]
  return out


@pytest.fixture(scope='module')
def outputs(tmp_path_factory):
  """{program: stdout} of the four programs, and the root they ran in."""
  root = tmp_path_factory.mktemp('tf1')
  book = root / 'book'
  # TF1's trainer puts data and logs under $TEST_TMPDIR by default.
  (root / 'mechanics').mkdir()
  started = {
    'fully_connected_feed': _start(
      root / 'mechanics',
      'fully_connected_feed',
      '--max_steps',
      '500',
      '--learning_rate',
      '0.1',
    ),
    'book_train': _start(
      root,
      'book_train',
      f'--data_dir={book / "data"}',
      f'--model_dir={book / "model"}',
      '--training_steps=600',
      '--seed=1',
    ),
    'monitored_session': _start(
      root,
      'monitored_session',
      f'--data_dir={root / "mts" / "data"}',
      f'--train_dir={root / "mts" / "logs"}',
      '--train_steps=600',
      '--learning_rate=0.1',
      '--seed=1',
    ),
  }
  # Finish every process, even after a failure, then report the first one.
  results = {}
  for name, process in started.items():
    try:
      results[name] = _finish(process)
    except (AssertionError, subprocess.TimeoutExpired) as e:
      process.kill()
      results[name] = e
  if not isinstance(results['book_train'], Exception):
    try:
      results['book_eval'] = _finish(
        _start(
          root,
          'book_eval',
          f'--data_dir={book / "data"}',
          f'--model_dir={book / "model"}',
        )
      )
    except AssertionError as e:
      results['book_eval'] = e
  return root, results


def _output(outputs, name):
  _, results = outputs
  result = results.get(name)
  if isinstance(result, Exception):
    raise result
  assert result is not None, f'{name} did not run (its trainer failed)'
  return result


def _imported_modules(path):
  with open(path, encoding='utf-8') as f:
    tree = ast.parse(f.read())
  modules = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      modules.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
      modules.update(f'{node.module}.{alias.name}' for alias in node.names)
  return modules


@pytest.mark.parametrize(
  'program',
  ['fully_connected_feed', 'book_train', 'book_eval', 'monitored_session'],
)
def test_program_imports_only_tf_compat_v1_and_drop_ins(program):
  modules = _imported_modules(os.path.join(_PROGRAMS, f'{program}.py'))
  graphnet = {m for m in modules if m.split('.')[0] == 'graphnet'}
  tensorflow = {m for m in modules if m.split('.')[0] == 'tensorflow'}
  assert graphnet and graphnet <= _DROP_INS
  assert tensorflow == {'tensorflow.compat.v1'}


def test_mechanics_101_trains_saves_and_evaluates(outputs):
  root, _ = outputs
  out = _output(outputs, 'fully_connected_feed')
  steps = re.findall(r'^Step (\d+): loss = [\d.]+ \([\d.]+ sec\)$', out, re.M)
  assert steps == ['0', '100', '200', '300', '400']
  evals = re.findall(
    r'^(\w+) Data Eval:\nNum examples: (\d+)  Num correct: \d+  '
    r'Precision @ 1: ([\d.]+)$',
    out,
    re.M,
  )
  assert [(e[0], e[1]) for e in evals] == [
    ('Training', '55000'),
    ('Validation', '5000'),
    ('Test', '10000'),
  ]
  # No seed, as in TF1's program: the margin covers run-to-run spread.
  assert float(evals[2][2]) >= 0.90
  log_dir = root / 'mechanics' / 'tensorflow/mnist/logs/fully_connected_feed'
  names = os.listdir(log_dir)
  assert 'model.ckpt-499.index' in names
  assert 'model.ckpt-499.meta' in names
  assert any('tfevents' in n for n in names)


def test_book_eval_restores_moving_averages(outputs):
  train = _output(outputs, 'book_train')
  assert 'After 599 training step(s), loss on training batch is' in train
  out = _output(outputs, 'book_eval')
  match = re.fullmatch(
    r'After 600 training step\(s\), validation accuracy = ([\d.]+)\n', out
  )
  assert match, out
  assert float(match.group(1)) >= 0.96


def test_monitored_session_is_fed_a_constant_rate_by_the_hook(outputs):
  out = _output(outputs, 'monitored_session')
  assert 'Learning rates fed: [0.1]' in out
  match = re.search(r'^Step 600: test accuracy = ([\d.]+)$', out, re.M)
  assert match, out
  assert float(match.group(1)) >= 0.91
