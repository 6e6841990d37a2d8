"""Plain helpers shared by several test modules (fixtures: conftest.py).

pytest puts this directory on sys.path (tests/ is not a package), so a
test module imports it as `import _helpers`.

Example:
    done = _helpers.run_python('-m', 'graphnet.export', '--help')
    assert done.returncode == 0, done.stderr
"""

import json
import os
import subprocess
import sys
import time

import tensorflow.compat.v1 as tf

from graphnet.training import config
from graphnet.training import trainer


def record_stats(category, counts):
  """Appends `{category: counts}` to the GRAPHNET_FAULTS_STATS file.

  scripts/fault_suite.py sets that variable and sums the JSON lines into
  its table; in any other run nothing is written.

  Args:
    category: the table's key for the test module (str).
    counts: {name: int} of what the test tried and saw.
  """
  path = os.environ.get('GRAPHNET_FAULTS_STATS')
  if path:
    with open(path, 'a') as f:
      f.write(json.dumps({category: counts}) + '\n')


def file_bytes(directory):
  """{path relative to `directory`: bytes} of every file below it."""
  out = {}
  for root, _, names in os.walk(directory):
    for name in names:
      path = os.path.join(root, name)
      with open(path, 'rb') as f:
        out[os.path.relpath(path, directory)] = f.read()
  return out


def run_python(*args, env=None, timeout=None, cwd=None):
  """Runs `python *args` (this interpreter) to the end.

  Returns:
    the subprocess.CompletedProcess, stdout and stderr as str.
  """
  return subprocess.run(
    [sys.executable, *args],
    capture_output=True,
    text=True,
    timeout=timeout,
    env=env,
    cwd=cwd,
  )


def trainer_argv(*switches, **flags):
  """argv of `python -m graphnet.fully_connected_feed` (this interpreter).

  Args:
    *switches: flags as written, e.g. '--fake_data'.
    **flags: name=value, written as `--name=value`.

  Returns:
    the list of str, for subprocess.
  """
  named = [f'--{name}={value}' for name, value in flags.items()]
  return [
    sys.executable,
    '-m',
    'graphnet.fully_connected_feed',
    *switches,
    *named,
  ]


def train_fake(log_dir, printer=None, **overrides):
  """Trains in-process on fake data; its data dir is `<log_dir>_data`.

  Args:
    log_dir: the run's log_dir (str or path).
    printer: called with each printed line; None prints nothing.
    **overrides: other `config.TrainConfig` fields (evaluation is off
      unless `eval_every` is given).

  Returns:
    what `trainer.run_training` returns.
  """
  options = dict(
    log_dir=str(log_dir),
    input_data_dir=str(log_dir) + '_data',
    fake_data=True,
    eval_every=10**6,
  )
  options.update(overrides)
  return trainer.run_training(
    config.TrainConfig(**options),
    printer=printer or (lambda line: None),
  )


def start_printing(argv):
  """Starts `argv` unbuffered: its stdout lines can be read as printed.

  Returns:
    the subprocess.Popen (stdout a text pipe, stderr discarded).
  """
  return subprocess.Popen(
    argv,
    stdout=subprocess.PIPE,
    stderr=subprocess.DEVNULL,
    text=True,
    env=dict(os.environ, PYTHONUNBUFFERED='1'),
  )


def error_lines(stderr):
  """The `graphnet: error:` lines of a command's stderr (list of str)."""
  return [
    line for line in stderr.splitlines() if line.startswith('graphnet: error:')
  ]


def poll_for_new(proc, names, before, secs=20):
  """Polls `names()` until it holds one not in `before`.

  Also stops when `proc` has ended or `secs` have passed.

  Args:
    proc: a subprocess.Popen.
    names: function() -> set of str (file names, say).
    before: the set to compare with.
    secs: how long to poll at the most.
  """
  deadline = time.monotonic() + secs
  while time.monotonic() < deadline and proc.poll() is None:
    if names() - before:
      return
    # Saves take milliseconds; a busy loop would starve the trainer.
    time.sleep(0.0005)


def read_meta(prefix):
  """The MetaGraphDef of checkpoint `prefix` (its `.meta` file)."""
  meta = tf.MetaGraphDef()
  with open(prefix + '.meta', 'rb') as f:
    meta.ParseFromString(f.read())
  return meta


def write_meta(prefix, meta):
  """Replaces checkpoint `prefix`'s `.meta` file with MetaGraphDef `meta`."""
  with open(prefix + '.meta', 'wb') as f:
    f.write(meta.SerializeToString())


def graph_node(meta, name):
  """The NodeDef called `name` in `meta`'s graph (StopIteration if none)."""
  return next(n for n in meta.graph_def.node if n.name == name)
