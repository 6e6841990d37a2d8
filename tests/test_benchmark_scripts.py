"""The benchmark's TF1 contender still runs and prints TF1's lines.

`scripts/tf1_fully_connected_feed.py` is only ever run by
`scripts/benchmark.py --whole_job`; this runs it for a few steps on the
bundled MNIST in a real process so it cannot rot unnoticed, and feeds its
output to the benchmark's own parser.
"""

import os
import re
import subprocess
import sys

import pytest

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SCRIPTS = os.path.join(_REPO, 'scripts')
_STEPS = 20

sys.path.insert(0, _SCRIPTS)

import benchmark  # noqa: E402

_EVAL_LINE = re.compile(
  r'^Num examples: (\d+)  Num correct: (\d+)  Precision @ 1: (\d\.\d{4})$'
)


@pytest.fixture(scope='module')
def tf1_run(tmp_path_factory):
  """(completed process, log_dir) of a short run of the TF1 program."""
  root = tmp_path_factory.mktemp('tf1')
  log_dir = root / 'logs'
  env = dict(os.environ, PYTHONPATH=_REPO)
  done = subprocess.run(
    [
      sys.executable,
      os.path.join(_SCRIPTS, 'tf1_fully_connected_feed.py'),
      '--max_steps',
      str(_STEPS),
      '--log_dir',
      str(log_dir),
      '--input_data_dir',
      str(root / 'data'),
    ],
    capture_output=True,
    text=True,
    env=env,
    timeout=120,
  )
  assert done.returncode == 0, done.stderr[-2000:]
  return done, log_dir


def test_prints_tf1_step_and_eval_lines(tf1_run):
  lines = tf1_run[0].stdout.splitlines()
  assert len(lines) == 7, lines
  assert re.fullmatch(r'Step 0: loss = \d+\.\d\d \(\d+\.\d{3} sec\)', lines[0])
  assert lines[1::2] == [
    'Training Data Eval:',
    'Validation Data Eval:',
    'Test Data Eval:',
  ]
  counts = [_EVAL_LINE.match(line) for line in lines[2::2]]
  assert all(counts), lines
  # do_eval counts the whole batches of 100: 55000, 5000, 10000.
  assert [int(m.group(1)) for m in counts] == [55000, 5000, 10000]


def test_saves_the_last_step_checkpoint_and_events(tf1_run):
  log_dir = tf1_run[1]
  names = os.listdir(log_dir)
  prefix = f'model.ckpt-{_STEPS - 1}'
  assert {f'{prefix}.index', f'{prefix}.meta', 'checkpoint'} <= set(names)
  assert any(n.startswith('events.out.tfevents.') for n in names)


def test_benchmark_parses_its_output(tf1_run):
  parsed = benchmark.parse_job_output(tf1_run[0].stdout.splitlines())
  assert parsed['steps'] == [0]
  assert len(parsed['evaluations']) == 1
  assert set(parsed['evaluations'][0]) == {'Training', 'Validation', 'Test'}
  assert 0.0 <= parsed['test_precision'] <= 1.0
  last = _EVAL_LINE.match(tf1_run[0].stdout.splitlines()[-1])
  assert parsed['test_precision'] == float(last.group(3))


def test_time_to_accuracy_reads_both_kinds_of_check_lines():
  import time_to_accuracy

  lines = [
    'Step 0: loss = 2.30 (0.001 sec)',
    'Test Data Eval:',
    'Num examples: 10000  Num correct: 9100  Precision @ 1: 0.9100',
    'CHECK 1500 0.9650',
    'Num examples: 10000  Num correct: 9712  Precision @ 1: 0.9712',
  ]
  assert list(time_to_accuracy._precisions(lines)) == [
    (500, 0.91),
    (1500, 0.965),
    (1000, 0.9712),
  ]


def test_time_to_accuracy_times_the_graphnet_command(tmp_path, monkeypatch):
  import time_to_accuracy

  from graphnet.data import mnist_reader as input_data

  input_data.read_data_sets(str(tmp_path))
  # A target the first check reaches: the clock and the kill are tested.
  monkeypatch.setattr(time_to_accuracy, 'TARGET', 0.5)
  result = time_to_accuracy.time_one('fast', str(tmp_path), cap=120)
  assert result['steps'] == time_to_accuracy.EVAL_EVERY
  assert result['precision'] >= 0.5
  assert 0 < result['seconds'] < 120
