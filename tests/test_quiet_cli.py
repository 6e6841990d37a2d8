"""The command line is quiet by default and shows TF's logs with -v 1.

Real processes on the bundled MNIST: the quick start's terminal output is
compared with README's sample, and mnist_eval, predict, export and
scripts/plot_training.py print only their own lines.
"""

import os
import re
import subprocess
import sys

import pytest

from graphnet.cli import quiet

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_GRAPHNET_FILES = frozenset(os.listdir(os.path.join(_REPO, 'graphnet')))

# A line of TF's C++ logging: level, date, time, thread, C++ file:line.
_CPP_LINE = re.compile(r'[IWEF]\d{4} [\d:.]+ +\d+ [\w.-]+\.(cc|h):\d+\] ')
# A line of absl's Python logging; graphnet's own modules may log this way.
_ABSL_LINE = re.compile(r'[IWEF]\d{4} [\d:.]+ +\d+ ([\w.-]+\.py):\d+\] ')
_BANNER = 'All log messages before absl::InitializeLog() is called'
_NUMBER = re.compile(r'\d+(\\\.\d+)?')

# What TF wrote to fd 2 while being imported on this CPU machine.
_CAPTURED = """\
WARNING: All log messages before absl::InitializeLog() is called are written \
to STDERR
I0000 00:00:1795297642.309919   27082 port.cc:153] oneDNN custom operations \
are on. You may see slightly different numerical results.
I0000 00:00:1795297642.310167   27082 cudart_stub.cc:31] Could not find cuda \
drivers on your machine, GPU will not be used.
I0000 00:00:1795297716.980643   27685 cpu_feature_guard.cc:227] This \
TensorFlow binary is optimized to use available CPU instructions.
To enable the following instructions: AVX2 FMA, in other operations, \
rebuild TensorFlow with the appropriate compiler flags.
E0000 00:00:1795297648.327487   27082 cuda_platform.cc:52] failed call to \
cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)
"""


def _env(tmp_path, **extra):
  env = dict(os.environ, PYTHONPATH=_REPO, TEST_TMPDIR=str(tmp_path))
  # The user's own settings would change what the tests see.
  env.pop('TF_CPP_MIN_LOG_LEVEL', None)
  env.pop(quiet.VERBOSE_ENV, None)
  env.update(extra)
  return env


def _run(args, tmp_path, **extra_env):
  """Runs a command as a terminal shows it: stderr merged into stdout."""
  done = subprocess.run(
    args,
    cwd=tmp_path,
    env=_env(tmp_path, **extra_env),
    stdout=subprocess.PIPE,
    stderr=subprocess.STDOUT,
    text=True,
    timeout=300,
  )
  assert done.returncode == 0, done.stdout[-3000:]
  return done.stdout.splitlines()


def _module(name, *flags):
  return [sys.executable, '-m', f'graphnet.{name}', *flags]


def _assert_no_noise(lines):
  """No C++ log line, banner, TF INFO, deprecation or repeated line."""
  for line in lines:
    assert not _CPP_LINE.match(line), line
    assert _BANNER not in line, line
    assert not line.startswith('INFO:tensorflow:'), line
    assert 'is deprecated' not in line, line
    absl_line = _ABSL_LINE.match(line)
    if absl_line:
      assert absl_line.group(1) in _GRAPHNET_FILES, line
  for first, second in zip(lines, lines[1:], strict=False):
    assert first != second, f'printed twice: {first}'


def _readme_sample():
  """The quick start's sample output in README.md, as lines."""
  with open(os.path.join(_REPO, 'README.md'), encoding='utf-8') as f:
    text = f.read()
  after = text[text.index('Its output') :]
  block = after.split('```\n', 2)[1]
  return block.splitlines()


def _shape_patterns(sample):
  """README's lines as regexes, numbers free, consecutive repeats merged."""
  patterns = []
  for line in sample:
    if line == '...':
      continue
    pattern = _NUMBER.sub(r'\\d+(\\.\\d+)?', re.escape(line))
    if not patterns or patterns[-1] != pattern:
      patterns.append(pattern)
  return patterns


def _shape(lines, patterns):
  """The pattern each line matches, consecutive repeats merged."""
  shape = []
  for line in lines:
    pattern = next((p for p in patterns if re.fullmatch(p, line)), None)
    assert pattern is not None, f'not in README sample: {line!r}'
    if not shape or shape[-1] != pattern:
      shape.append(pattern)
  return shape


@pytest.fixture(scope='module')
def quick_start(tmp_path_factory):
  """The quick start, shortened, run in a fresh TEST_TMPDIR."""
  root = tmp_path_factory.mktemp('quick_start')
  lines = _run(
    _module(
      'fully_connected_feed',
      '--max_steps',
      '200',
      '--log_every',
      '100',
      '--log_dir',
      'tmp',
    ),
    root,
  )
  return root, lines


class TestVerboseRequested:
  @pytest.mark.parametrize(
    'argv',
    [
      ['prog', '-v', '1'],
      ['prog', '-v=1'],
      ['prog', '--verbosity=1'],
      ['prog', '--verbosity', '2'],
      ['prog', '--v=1'],
      ['prog', '--max_steps', '3', '-v', '1'],
    ],
  )
  def test_positive_verbosity_flag(self, argv):
    assert quiet.verbose_requested(argv, environ={})

  @pytest.mark.parametrize(
    'argv',
    [
      ['prog'],
      ['prog', '-v', '0'],
      ['prog', '--verbosity=-1'],
      ['prog', '-v'],
      ['prog', '-v', 'tests/test_x.py'],
      ['prog', '-vv'],
      ['prog', '--', '-v', '1'],
      ['prog', '--log_dir', '1', 'v'],
    ],
  )
  def test_no_positive_verbosity_flag(self, argv):
    assert not quiet.verbose_requested(argv, environ={})

  @pytest.mark.parametrize('value, verbose', [('1', True), ('0', False)])
  def test_environment(self, value, verbose):
    environ = {quiet.VERBOSE_ENV: value}
    assert quiet.verbose_requested(['prog'], environ) is verbose


class TestWithoutNoise:
  def test_drops_the_start_up_lines(self):
    assert quiet.without_noise(_CAPTURED) == ''

  def test_keeps_what_is_not_known_noise(self):
    real = (
      'E0000 00:00:1795297648.3 27082 cuda_platform.cc:52] failed call to '
      'cuInit: CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE\n'
      'W0000 00:00:1795297648.3 27082 loader.cc:9] libcudnn.so.9 not found\n'
      'Traceback (most recent call last):\n'
      'ImportError: libtensorflow_framework.so.2: cannot open shared object\n'
    )
    lines = _CAPTURED.splitlines(keepends=True)
    mixed = ''.join(lines[:2]) + real + ''.join(lines[2:])
    assert quiet.without_noise(mixed) == real


def test_broken_import_still_shows_its_error(tmp_path):
  """A TF that fails to load: its own message and the ImportError show."""
  fake = tmp_path / 'fake' / 'tensorflow'
  fake.mkdir(parents=True)
  (fake / '__init__.py').write_text(
    'import os\n'
    f'os.write(2, {_CAPTURED.encode()!r})\n'
    "os.write(2, b'W0000 00:00:1.5 7 loader.cc:9] libfoo.so: not found\\n')\n"
    "raise ImportError('libtensorflow_framework.so.2: cannot open')\n"
  )
  done = subprocess.run(
    [sys.executable, '-c', 'from graphnet.cli import quiet; quiet.setup()'],
    cwd=tmp_path,
    env=_env(tmp_path, PYTHONPATH=f'{tmp_path / "fake"}{os.pathsep}{_REPO}'),
    capture_output=True,
    text=True,
    timeout=60,
  )
  assert done.returncode == 1
  assert 'loader.cc:9] libfoo.so: not found' in done.stderr
  assert 'ImportError: libtensorflow_framework.so.2' in done.stderr
  assert _BANNER not in done.stderr
  assert 'cuInit' not in done.stderr


def test_tensorflow_logger_keeps_real_warnings_once(tmp_path):
  script = tmp_path / 'log.py'
  script.write_text(
    'import logging\n'
    'from graphnet.cli import quiet\n'
    'quiet.setup()\n'
    'import tensorflow.compat.v1 as tf\n'
    'from absl import app\n'
    'def main(argv):\n'
    "  tf.get_logger().info('an info line')\n"
    "  tf.get_logger().warning('a real warning')\n"
    '  tf.train.get_checkpoint_mtimes([])\n'
    "  board = logging.getLogger('tensorboard')\n"
    "  board.warning('Found more than one graph event per run, or ...')\n"
    "  board.warning('a real tensorboard warning')\n"
    'app.run(main)\n'
  )
  lines = _run([sys.executable, str(script)], tmp_path)
  assert len(lines) == 2, lines
  assert lines[0] == 'WARNING:tensorflow:a real warning'
  assert lines[1].endswith('a real tensorboard warning')


def test_quick_start_prints_readme_shape_and_no_noise(quick_start):
  root, lines = quick_start
  _assert_no_noise(lines)
  assert not any(_ABSL_LINE.match(line) for line in lines)
  # A fresh machine copies the bundled data once and says so, plainly.
  data_dir = root / 'tensorflow' / 'mnist' / 'input_data'
  assert lines[0] == (
    f'graphnet: note: copied the bundled MNIST into {data_dir} (checksums '
    'verified).'
  )
  patterns = _shape_patterns(_readme_sample())
  assert _shape(lines[1:], patterns) == patterns


def test_mnist_eval_prints_one_line(quick_start):
  root, _ = quick_start
  lines = _run(
    _module('mnist_eval', '--run_once', '--checkpoint_dir', str(root / 'tmp')),
    root,
  )
  assert len(lines) == 1
  assert re.fullmatch(
    r'After 200 training step\(s\), validation accuracy = [\d.]+', lines[0]
  )


def test_predict_prints_only_the_accuracy(quick_start):
  root, _ = quick_start
  data = root / 'tensorflow' / 'mnist' / 'input_data'
  lines = _run(
    _module(
      'predict',
      '--checkpoint_dir',
      str(root / 'tmp'),
      '--idx',
      str(data / 't10k-images-idx3-ubyte.gz'),
      '--labels',
      str(data / 't10k-labels-idx1-ubyte.gz'),
    ),
    root,
  )
  assert len(lines) == 1
  assert re.search(r': accuracy [\d.]+ \(\d+/10000\)$', lines[0])


def test_export_prints_what_it_wrote_and_no_temporary_path(quick_start):
  root, _ = quick_start
  frozen = root / 'frozen.pb'
  saved = root / 'saved_model'
  lines = _run(
    _module(
      'export',
      '--checkpoint_dir',
      str(root / 'tmp'),
      '--frozen_graph',
      str(frozen),
      '--saved_model_dir',
      str(saved),
    ),
    root,
  )
  assert lines == [f'Wrote frozen graph {frozen}', f'Wrote SavedModel {saved}']
  assert frozen.is_file()
  assert (saved / 'saved_model.pb').is_file()


def test_plot_training_prints_only_what_it_wrote(quick_start):
  root, _ = quick_start
  script = os.path.join(_REPO, 'scripts', 'plot_training.py')
  out = root / 'curves.png'
  args = [sys.executable, script, '--log_dir', 'tmp', '--out', str(out)]
  lines = _run(args, root)
  assert len(lines) == 1
  assert lines[0].startswith(f'Wrote {out} (')
  assert out.is_file()


def test_verbose_flag_shows_tensorflow_logs_once(tmp_path):
  lines = _run(
    _module(
      'fully_connected_feed',
      '--fake_data',
      '--max_steps',
      '2',
      '--log_dir',
      str(tmp_path / 'logs'),
      '-v',
      '1',
    ),
    tmp_path,
  )
  assert any(_BANNER in line for line in lines)
  assert any(_CPP_LINE.match(line) for line in lines)
  saving = [line for line in lines if 'Saving checkpoints for 2 ' in line]
  assert saving == [
    f'INFO:tensorflow:Saving checkpoints for 2 into {tmp_path}/logs/model.ckpt.'
  ]


def test_verbose_environment_shows_restoring_once(quick_start):
  root, _ = quick_start
  lines = _run(
    _module('mnist_eval', '--run_once', '--checkpoint_dir', str(root / 'tmp')),
    root,
    **{quiet.VERBOSE_ENV: '1'},
  )
  assert any(line.startswith('INFO:tensorflow:') for line in lines)
  restoring = [line for line in lines if 'Restoring parameters from' in line]
  assert len(restoring) == 1
