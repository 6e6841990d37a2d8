"""Fault injection: unusable log and data directories.

A directory path that is a file, lies under a file, or lies where nothing
can be created (under /proc/self, which refuses even root) must stop the
trainer with a clear error naming the path before training starts, and
leave no partial files or directories behind.
"""

import os

import pytest

from graphnet import errors
from graphnet.training import config as config_lib
from graphnet.training import trainer

import _helpers

_TALLY = {'tried': 0, 'clean': 0}


@pytest.fixture(scope='module', autouse=True)
def _stats():
  yield
  _helpers.record_stats('filesystem', dict(_TALLY))


def _listing(root):
  return sorted(
    os.path.relpath(os.path.join(d, n), root)
    for d, dirs, files in os.walk(root)
    for n in dirs + files
  )


def _bad_path(tmp_path, kind):
  blocker = tmp_path / 'a_file'
  blocker.write_text('not a directory')
  if kind == 'is_a_file':
    return str(blocker)
  if kind == 'under_a_file':
    return str(blocker / 'sub')
  if kind == 'uncreatable':
    return f'/proc/self/graphnet-{os.getpid()}/sub'
  raise AssertionError(kind)


_KINDS = ['is_a_file', 'under_a_file', 'uncreatable']


@pytest.mark.parametrize('which', ['log_dir', 'input_data_dir'])
@pytest.mark.parametrize('kind', _KINDS)
def test_unusable_directory_stops_before_training(tmp_path, which, kind):
  paths = {
    'log_dir': str(tmp_path / 'logs'),
    'input_data_dir': str(tmp_path / 'data'),
  }
  paths[which] = _bad_path(tmp_path, kind)
  before = _listing(tmp_path)
  lines = []
  _TALLY['tried'] += 1
  expected = errors.ConfigError if which == 'log_dir' else errors.DataError
  with pytest.raises(expected) as caught:
    trainer.run_training(
      config_lib.TrainConfig(max_steps=5, **paths), printer=lines.append
    )
  message = str(caught.value)
  assert paths[which] in message or os.path.dirname(paths[which]) in message
  if which == 'log_dir':
    assert '--log_dir' in message
  assert not any(line.startswith('Step ') for line in lines)
  assert _listing(tmp_path) == before
  _TALLY['clean'] += 1


def test_cli_uncreatable_data_dir_exits_1_naming_it(tmp_path):
  data_dir = _bad_path(tmp_path, 'uncreatable')
  before = _listing(tmp_path)
  done = _helpers.run_python(
    '-m',
    'graphnet.fully_connected_feed',
    '--max_steps',
    '5',
    '--log_dir',
    str(tmp_path / 'logs'),
    '--input_data_dir',
    data_dir,
    env=dict(os.environ, TEST_TMPDIR=str(tmp_path / 'root')),
    timeout=300,
  )
  assert done.returncode == 1, done.stderr[-2000:]
  assert 'graphnet: error:' in done.stderr
  assert data_dir in done.stderr
  assert 'Traceback' not in done.stderr
  assert _listing(tmp_path) == before
