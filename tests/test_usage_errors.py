"""Usage errors come back before TensorFlow is imported (issue 24, item 5).

Each case runs an entry point in a fresh Python process through a probe
that, whatever way the program ends, prints whether `tensorflow` is in
`sys.modules`: a module anywhere on the path to the usage error that
imports TensorFlow (even inside a try) puts it there. The processes run
side by side; each takes about 0.3 CPU-seconds instead of 4-5.
"""

import os
import subprocess
import sys

import pytest

# Runs `python -m <argv[1]> <argv[2:]>` and reports on the last line.
_PROBE = """
import runpy, sys
module = sys.argv[1]
sys.argv = [module, *sys.argv[2:]]
code = 0
try:
  runpy.run_module(module, run_name='__main__', alter_sys=True)
except SystemExit as e:
  code = e.code
finally:
  loaded = 'tensorflow' in sys.modules
  print('tensorflow imported' if loaded else 'no tensorflow', flush=True)
sys.exit(code)
"""

_IMAGE = '_an_image.png'

# (entry point, arguments, what stderr says).
_CASES = {
  'train_typo': (
    'fully_connected_feed',
    ['--max_stpes', '5'],
    "Unknown command line flag 'max_stpes'. Did you mean: max_steps ?",
  ),
  'train_bound': (
    'fully_connected_feed',
    ['--batch_size', '0'],
    'flag --batch_size=0: 0 is not a positive integer',
  ),
  # Read into the config (graphnet's rule, absl's usage error).
  'train_config': (
    'fully_connected_feed',
    ['--hidden1', '0', '--hidden2', '5'],
    '--hidden2: MlpConfig: hidden2=5 needs hidden1 > 0',
  ),
  'eval_typo': (
    'mnist_eval',
    ['--run_onec'],
    "Unknown command line flag 'run_onec'. Did you mean: run_once ?",
  ),
  'eval_bound': (
    'mnist_eval',
    ['--timeout_secs', '-1'],
    'flag --timeout_secs=-1: -1.0 is not a non-negative number',
  ),
  'predict_typo': (
    'predict',
    ['--batch_sise', '5'],
    "Unknown command line flag 'batch_sise'. Did you mean: batch_size ?",
  ),
  'predict_bound': (
    'predict',
    ['--checkpoint', 'ckpt', '--batch_size', '0', _IMAGE],
    'flag --batch_size=0: 0 is not a positive integer',
  ),
  # Checked once the flags are read (graphnet's error, exit code 1).
  'predict_missing_file': (
    'predict',
    ['--checkpoint', 'ckpt', 'no_such.png'],
    'graphnet: error: image files: no such file: no_such.png.',
  ),
  'export_typo': (
    'export',
    ['--frozen_grpah', 'x.pb'],
    "Unknown command line flag 'frozen_grpah'. Did you mean: frozen_graph ?",
  ),
  'export_bad_value': (
    'export',
    ['--checkpoint', 'ckpt', '--frozen_graph', 'no_such_dir/x.pb'],
    "--frozen_graph's directory must exist.",
  ),
}


def _start(cwd, module, args, env=None):
  return subprocess.Popen(
    [sys.executable, '-c', _PROBE, module, *args],
    cwd=cwd,
    env=env,
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
  )


@pytest.fixture(scope='module')
def results(tmp_path_factory):
  """case -> (exit code, stdout, stderr), all run at once."""
  cwd = tmp_path_factory.mktemp('usage')
  (cwd / _IMAGE).write_bytes(b'')
  running = {
    case: _start(cwd, f'graphnet.{module}', args)
    for case, (module, args, _) in _CASES.items()
  }
  done = {}
  for case, process in running.items():
    out, err = process.communicate(timeout=300)
    done[case] = (process.returncode, out, err)
  return done


@pytest.mark.parametrize('case', sorted(_CASES))
def test_usage_error_before_tensorflow(results, case):
  code, out, err = results[case]
  assert code == 1, err
  assert _CASES[case][2] in err
  assert out.splitlines()[-1] == 'no tensorflow', err


def test_the_probe_sees_an_import_of_tensorflow(tmp_path):
  # A stand-in TensorFlow that fails like a broken install: the probe must
  # still report that it was imported.
  fake = tmp_path / 'tensorflow'
  fake.mkdir()
  (fake / '__init__.py').write_text('')
  env = {**os.environ, 'PYTHONPATH': str(tmp_path)}
  process = _start(tmp_path, 'graphnet.nn.mlp', [], env=env)
  out, err = process.communicate(timeout=300)
  assert process.returncode != 0
  assert 'ModuleNotFoundError' in err
  assert out.splitlines()[-1] == 'tensorflow imported'


def test_flag_modules_import_no_tensorflow():
  code = (
    'import sys\n'
    'from graphnet.cli import train_flags\n'
    'from graphnet.distributed import cluster_config\n'
    'from graphnet.nn import hparams, models\n'
    'from graphnet.training import config\n'
    "print('tensorflow' in sys.modules)\n"
  )
  done = subprocess.run(
    [sys.executable, '-c', code], capture_output=True, text=True, check=True
  )
  assert done.stdout.strip() == 'False', done.stderr
