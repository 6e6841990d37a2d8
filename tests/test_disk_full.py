"""disk_full: a full disk recognised, reported in one line, cleaned up.

Two kinds of tests:

- On a real, small tmpfs (root only; skipped with the reason otherwise):
  TF's own writers (SaveV2, MergeV2Checkpoints, the `.meta`, the events
  writer, a whole training run) and the bundled data copy fill it, and the
  recogniser and the cleanup run on the real exceptions and leftovers.
- Everywhere: a fault-injecting writer (the data copy written to
  `/dev/full`, which fails every write with ENOSPC), and the messages and
  leftover names recorded from the tmpfs runs. These cannot notice a TF
  release that changes its messages or temp names; the tmpfs tests can.
"""

import errno
import glob
import os
import re
import subprocess
import threading
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import contents
from graphnet.checkpoints import disk_full
from graphnet.data import mnist_files
from graphnet.data import mnist_reader as input_data
from graphnet.training import config as config_lib
from graphnet.training import trainer

import _helpers

_FULL = 'No space left on device'
_PAGE = 4096
# 400 000 bytes of weights: about 98 tmpfs pages per checkpoint.
_UNITS = 100000
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------
# Helpers.


@pytest.fixture
def tmpfs(tmp_path):
  """mount(size) -> the path of a new tmpfs of that size; unmounted after."""
  mounted = []

  def mount(size):
    if os.geteuid() != 0:
      pytest.skip('a real full disk needs a tmpfs mount, which needs root')
    path = tmp_path / f'tmpfs{len(mounted)}'
    path.mkdir()
    done = subprocess.run(
      ['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(path)],
      capture_output=True,
      text=True,
    )
    if done.returncode:
      why = (done.stderr.strip().splitlines() or ['?'])[0]
      pytest.skip(f'root, but mount -t tmpfs failed: {why}')
    mounted.append(path)
    return str(path)

  yield mount
  for path in mounted:
    # Lazy: a TF writer thread may still hold a file open.
    subprocess.run(['umount', '-l', str(path)], check=True)


def _fill(directory, leave):
  """Writes `directory`/filler until only `leave` bytes are free."""
  info = os.statvfs(directory)
  size = info.f_bavail * info.f_frsize - leave
  with open(os.path.join(directory, 'filler'), 'ab') as f:
    f.write(b'\0' * max(size, 0))


def _saver_graph(sharded):
  graph = tf.Graph()
  with graph.as_default():
    tf.train.get_or_create_global_step()
    tf.get_variable('w', initializer=tf.range(_UNITS, dtype=tf.float32))
    saver = tf.train.Saver(sharded=sharded, save_relative_paths=True)
    init = tf.global_variables_initializer()
  return graph, saver, init


def _weights(prefix):
  return tf.train.load_variable(prefix, 'w')


def _temp_names(directory):
  """Names in `directory` that look like any writer's temp file."""
  return [
    n for n in os.listdir(directory) if re.search(r'tempstate|\.tmp|_temp$', n)
  ]


def _unlisted_checkpoint_files(directory):
  """`model.ckpt-N.*` files whose prefix the state file does not list."""
  state = tf.train.get_checkpoint_state(directory)
  listed = (
    {os.path.basename(p) for p in state.all_model_checkpoint_paths}
    if state
    else set()
  )
  files = glob.glob(os.path.join(directory, 'model.ckpt-*'))
  return [
    f
    for f in files
    if re.sub(r'\.(index|meta|data-.*)$', '', os.path.basename(f)) not in listed
  ]


def _record(**counts):
  """Adds counts to scripts/fault_suite.py's table (when it runs us)."""
  _helpers.record_stats('disk_full', counts)


def _one_line(log_dir, path, prefix, step):
  return (
    f'{_FULL} writing {path}; the last good checkpoint is {prefix} '
    f'(step {step}); free space and run the same command again to resume.'
  )


# ----------------------------------------------------------------------------
# Real full disks (tmpfs).


class TestSaverOnFullTmpfs:
  """Saver.save into a tmpfs filled to within a few pages of the end."""

  def _sweep(self, directory, sharded):
    """Saves ckpt-1 with 96..101 pages free; returns what each raised.

    Checkpoint 0 is saved with room to spare first; each failure is then
    checked: recognised, one line naming checkpoint 0, cleaned up, and a
    save after space is freed succeeds.
    """
    graph, saver, init = _saver_graph(sharded)
    prefix = os.path.join(directory, 'model.ckpt')
    failures = {}
    with tf.Session(graph=graph) as sess:
      sess.run(init)
      for pages in range(96, 102):
        for name in os.listdir(directory):
          os.remove(os.path.join(directory, name))
        saver.set_last_checkpoints_with_time([])
        saver.save(sess, prefix, global_step=0)
        started_at = time.time()
        _fill(directory, pages * _PAGE)
        try:
          saver.save(sess, prefix, global_step=1)
          continue
        except tf.errors.ResourceExhaustedError as e:
          failures[pages] = e
          _record(tried=1)
          self._check_failure(e, directory, started_at)
        os.remove(os.path.join(directory, 'filler'))
        saver.save(sess, prefix, global_step=2)
        assert tf.train.latest_checkpoint(directory) == prefix + '-2'
        assert _unlisted_checkpoint_files(directory) == []
        _record(clean=1)
    return failures

  def _check_failure(self, error, directory, started_at):
    reason, path = disk_full.full_disk_cause(error)
    assert reason == _FULL
    # The file TF was writing, not its temp name.
    assert re.fullmatch(
      re.escape(directory)
      + r'/(model\.ckpt-1\.(index|meta|data-00000-of-00001)|checkpoint)',
      path,
    ), path
    ckpt0 = os.path.join(directory, 'model.ckpt-0')
    full = disk_full.disk_full_error(error, directory)
    assert str(full) == _one_line(directory, path, ckpt0, 0)
    assert (full.path, full.last_checkpoint) == (path, ckpt0)
    disk_full.remove_partial_save(directory, started_at)
    assert _temp_names(directory) == []
    assert _unlisted_checkpoint_files(directory) == []
    np.testing.assert_array_equal(_weights(ckpt0), np.arange(_UNITS))

  def test_plain_save_fails_in_save_v2_or_meta_and_is_cleaned(self, tmpfs):
    failures = self._sweep(tmpfs('2m'), sharded=False)
    nodes = {_failed_node(e) for e in failures.values()}
    assert {'save/SaveV2', '.meta'} <= nodes, nodes

  def test_sharded_save_fails_in_merge_and_is_cleaned(self, tmpfs):
    failures = self._sweep(tmpfs('2m'), sharded=True)
    nodes = {_failed_node(e) for e in failures.values()}
    assert 'save/MergeV2Checkpoints' in nodes, nodes


def _failed_node(error):
  """The op that failed, or '.meta' / 'checkpoint' (the state file) for
  the file of a failed atomic write.
  """
  match = re.search(r"Detected at node '([^']+)'", error.message)
  if match:
    return match[1]
  match = re.match(r'\S+(\.meta|/checkpoint)\.tmp[0-9a-f]{32}; ', error.message)
  assert match, error.message
  return match[1].lstrip('/')


# Writes events into argv[1], on a full disk, with argv[2] == 'quiet' under
# quiet_writer_threads; prints the cause of the RuntimeError raised. TF 2.21
# drops the first event after it failed to start the file (one C++ log
# line) and raises on the second.
_EVENTS_CHILD = """
import contextlib
import sys
import tensorflow.compat.v1 as tf
from graphnet.checkpoints import disk_full

summary = tf.Summary(value=[tf.Summary.Value(tag='x', simple_value=1.0)])
with tf.Graph().as_default():
  writer = tf.summary.FileWriter(sys.argv[1])
quiet = sys.argv[2] == 'quiet'
with disk_full.quiet_writer_threads() if quiet else contextlib.nullcontext():
  try:
    for step in range(2):
      writer.add_summary(summary, step)
      writer.flush()
  except RuntimeError as e:
    print(disk_full.full_disk_cause(e))
"""


def test_events_writer_on_full_tmpfs(tmpfs):
  directory = tmpfs('256k')
  _fill(directory, 0)
  for quiet in ('quiet', 'loud'):
    events_dir = os.path.join(directory, quiet)
    done = _helpers.run_python(
      '-c',
      _EVENTS_CHILD,
      events_dir,
      quiet,
      env=dict(os.environ, PYTHONPATH=_REPO),
      timeout=300,
      cwd=_REPO,
    )
    assert done.returncode == 0, done.stderr
    # The writer thread's traceback, hidden only under quiet_writer_threads.
    shown = 'Exception in thread EventLoggerThread' in done.stderr
    assert shown == (quiet == 'loud'), done.stderr
    events = glob.glob(os.path.join(events_dir, 'events.*'))
    assert done.stdout == f'{(_FULL, *events)!r}\n'


def test_bundled_data_copy_on_full_tmpfs(tmpfs, tmp_path):
  data_dir = tmpfs('2m')
  with pytest.raises(errors.DataError) as caught:
    input_data.read_data_sets(data_dir)
  full = disk_full.disk_full_error(caught.value, str(tmp_path))
  destination = os.path.join(data_dir, 'train-images-idx3-ubyte.gz')
  assert str(full) == (
    f'{_FULL} writing {destination}; {tmp_path} holds no complete '
    'checkpoint yet; free space and run the same command again to start.'
  )
  assert os.listdir(data_dir) == []


def _train_config(log_dir, tmp_path, **overrides):
  values = dict(
    log_dir=log_dir,
    input_data_dir=str(tmp_path / 'data'),
    fake_data=True,
    max_steps=400,
    save_checkpoint_steps=20,
    log_every=20,
    eval_every=1000,
  )
  values.update(overrides)
  return config_lib.TrainConfig(**values)


def test_training_run_fills_tmpfs(tmpfs, tmp_path):
  """The trainer on a 2 MB log_dir: the real errors and leftovers.

  The trainer raises the DiskFullError built from TF's
  ResourceExhaustedError, also when the disk is full before training.
  """
  log_dir = os.path.join(tmpfs('2m'), 'logs')
  started_at = time.time()
  lines = []
  with pytest.raises(
    (tf.errors.ResourceExhaustedError, errors.DiskFullError)
  ) as caught:
    trainer.run_training(_train_config(log_dir, tmp_path), printer=lines.append)
  full = caught.value
  if not isinstance(full, errors.DiskFullError):
    full = disk_full.disk_full_error(caught.value, log_dir)
  last, step = disk_full.last_good_checkpoint(log_dir)
  match = re.fullmatch(
    re.escape(f'{_FULL} writing {log_dir}/model.ckpt-')
    + r'(\d+)\.data-00000-of-00001; .*',
    str(full),
  )
  assert match, str(full)
  assert step == int(match[1]) - 20
  assert str(full) == _one_line(log_dir, full.path, last, step)
  contents.check_readable(last)
  disk_full.remove_partial_save(log_dir, started_at)
  assert _temp_names(log_dir) == []
  assert _unlisted_checkpoint_files(log_dir) == []
  # The same command on the still full disk: the first write fails.
  _fill(os.path.dirname(log_dir), 0)
  started_at = time.time()
  with pytest.raises(errors.DiskFullError) as e:
    trainer.run_training(_train_config(log_dir, tmp_path), printer=lines.append)
  assert str(e.value).startswith(f'{_FULL} writing {log_dir}/'), str(e.value)
  assert os.path.dirname(e.value.path) == log_dir
  assert e.value.last_checkpoint == last
  disk_full.remove_partial_save(log_dir, started_at)
  assert _temp_names(log_dir) == []
  assert disk_full.last_good_checkpoint(log_dir) == (last, step)


def test_cli_on_full_disk_says_one_line_and_resumes(tmpfs):
  """The goal: exit 1 with one line, nothing half-written, then resume."""
  mount = tmpfs('2m')
  log_dir = os.path.join(mount, 'logs')
  command = _helpers.trainer_argv(
    '--fake_data',
    log_dir=log_dir,
    max_steps=200,
    save_checkpoint_steps=20,
    log_every=20,
    eval_every=1000,
  )

  def run():
    return subprocess.run(
      command,
      capture_output=True,
      text=True,
      timeout=600,
      env=dict(os.environ, PYTHONPATH=_REPO),
      # `python -m` looks in the working directory first.
      cwd=_REPO,
    )

  done = run()
  assert done.returncode == 1, done.stderr
  assert 'Traceback' not in done.stderr
  errors_printed = _helpers.error_lines(done.stderr)
  assert len(errors_printed) == 1, done.stderr
  match = re.fullmatch(
    re.escape(f'graphnet: error: {_FULL} writing {log_dir}/model.ckpt-')
    + r'\d+\.\S+; the last good checkpoint is (\S+) \(step (\d+)\); free '
    r'space and run the same command again to resume\.',
    errors_printed[0],
  )
  assert match, errors_printed[0]
  assert _temp_names(log_dir) == []
  assert _unlisted_checkpoint_files(log_dir) == []
  contents.check_readable(match[1])
  subprocess.run(['mount', '-o', 'remount,size=32m', mount], check=True)
  again = run()
  assert again.returncode == 0, again.stderr
  assert f'Restoring parameters from {log_dir}/model.ckpt-' in again.stderr
  final = tf.train.latest_checkpoint(log_dir)
  assert final == os.path.join(log_dir, 'model.ckpt-200')


# ----------------------------------------------------------------------------
# Everywhere: a fault-injecting writer, and the recorded messages.


def _dev_full_open(real_open):
  """open() that sends every file opened for writing to /dev/full.

  /dev/full fails each write with ENOSPC, from the kernel; without it
  (not Linux) the writes fail with the same OSError raised here.
  """

  class _FullFile:
    def __init__(self, *args, **kwargs):
      pass

    def __enter__(self):
      return self

    def __exit__(self, *exc):
      return False

    def write(self, data):
      raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

  def fake_open(path, mode='r', *args, **kwargs):
    if 'w' not in mode:
      return real_open(path, mode, *args, **kwargs)
    if os.path.exists('/dev/full'):
      # Unbuffered, so the first write reaches the device and fails.
      return real_open('/dev/full', mode, buffering=0)
    return _FullFile()

  return fake_open


def test_injected_enospc_in_data_copy(tmp_path, monkeypatch):
  data_dir = tmp_path / 'data'
  data_dir.mkdir()
  monkeypatch.setattr(mnist_files, 'open', _dev_full_open(open), raising=False)
  with pytest.raises(errors.DataError) as caught:
    input_data.read_data_sets(str(data_dir))
  assert caught.value.__context__.errno == errno.ENOSPC
  reason, path = disk_full.full_disk_cause(caught.value)
  assert (reason, path) == (
    _FULL,
    str(data_dir / 'train-images-idx3-ubyte.gz'),
  )
  # The temp file of the failed copy is gone.
  assert os.listdir(data_dir) == []


# What TF 2.21 raised on a full tmpfs (see the tmpfs tests above), with
# the directory replaced by {d}.
_RECORDED = [
  (
    tf.errors.ResourceExhaustedError,
    "Graph execution error:\n\nDetected at node 'save/SaveV2' defined at "
    '(most recent call last):\n    File "x.py", line 1, in <module>\nNode: '
    "'save/SaveV2'\n{d}/model.ckpt-60.data-00000-of-00001.tempstate"
    '743823977430575943; No space left on device\n\t [[{{{{node '
    'save/SaveV2}}}}]]\nHint: If you want to see a list of allocated tensors '
    'when OOM happens, add report_tensor_allocations_upon_oom to '
    'RunOptions for current allocation info.',
    '{d}/model.ckpt-60.data-00000-of-00001',
  ),
  (
    tf.errors.ResourceExhaustedError,
    "Graph execution error:\n\nDetected at node 'save/MergeV2Checkpoints' "
    "defined at (most recent call last):\nNode: 'save/MergeV2Checkpoints'"
    '\n{d}/model.ckpt-1.index; No space left on device\n',
    '{d}/model.ckpt-1.index',
  ),
  (
    tf.errors.ResourceExhaustedError,
    "Graph execution error:\n\nNode: 'save/SaveV2'\n{d}/model.ckpt-1_temp/"
    'part-00000-of-00001.index.tempstate6922641882833420986; No space left '
    'on device\n',
    '{d}/model.ckpt-1.index',
  ),
  (
    tf.errors.ResourceExhaustedError,
    '{d}/model.ckpt-1.meta.tmp36f5f7687226464695d1849efd10e584; No space '
    'left on device',
    '{d}/model.ckpt-1.meta',
  ),
  (
    tf.errors.ResourceExhaustedError,
    '{d}/graph.pbtxt.tmpeff2af218a054b7688b2290a2a167ce8; No space left on '
    'device',
    '{d}/graph.pbtxt',
  ),
  (
    RuntimeError,
    '{d}/events.out.tfevents.1795297960.vm; No space left on device\n\t'
    'Failed to flush 1 events to {d}/events.out.tfevents.1795297960.vm',
    '{d}/events.out.tfevents.1795297960.vm',
  ),
  (
    tf.errors.ResourceExhaustedError,
    '{d}/model.ckpt-1.meta.tmp36f5f7687226464695d1849efd10e584; Disk quota '
    'exceeded',
    '{d}/model.ckpt-1.meta',
  ),
]


def _raise(kind, message):
  if kind is RuntimeError:
    return RuntimeError(message)
  return kind(None, None, message)


@pytest.mark.parametrize('kind, message, path', _RECORDED)
def test_recorded_messages_are_recognised(tmp_path, kind, message, path):
  d = str(tmp_path / 'my logs')  # A space in the path, too.
  error = _raise(kind, message.format(d=d))
  reason, found = disk_full.full_disk_cause(error)
  assert found == path.format(d=d)
  assert reason in (_FULL, 'Disk quota exceeded')
  full = disk_full.disk_full_error(error, d)
  assert isinstance(full, errors.DiskFullError)
  assert isinstance(full, RuntimeError)
  assert '\n' not in str(full)
  assert str(full).startswith(f'{reason} writing {found}; ')


def test_cause_found_through_the_exception_chain():
  try:
    try:
      raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT), '/x/ckpt')
    except OSError as e:
      raise errors.CheckpointError('could not save', path='/x') from e
  except errors.CheckpointError as e:
    assert disk_full.full_disk_cause(e) == ('Disk quota exceeded', '/x/ckpt')


@pytest.mark.parametrize(
  'error',
  [
    tf.errors.ResourceExhaustedError(None, None, 'OOM when allocating tensor'),
    OSError(errno.EACCES, 'Permission denied', '/x'),
    OSError(errno.EFBIG, 'File too large', '/x'),
    RuntimeError('Failed to flush 1 events to /x/events'),
    errors.DataError('bad file', path='/x'),
    ValueError('No space left on device'),
  ],
  ids=['oom', 'eacces', 'efbig', 'events', 'data', 'value'],
)
def test_other_errors_are_not_disk_full(error, tmp_path):
  assert disk_full.full_disk_cause(error) is None
  assert disk_full.disk_full_error(error, str(tmp_path)) is None


def _save(directory, steps, sharded=False):
  """Real checkpoints model.ckpt-<step> for each of `steps`."""
  graph, saver, init = _saver_graph(sharded)
  with tf.Session(graph=graph) as sess:
    sess.run(init)
    for step in steps:
      saver.save(sess, os.path.join(directory, 'model.ckpt'), step)


def _touch(directory, *names):
  for name in names:
    path = os.path.join(directory, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
      f.write(b'half')


class TestRemovePartialSave:
  # The leftovers the tmpfs runs left, by failing writer.
  _LEFTOVERS = [
    'model.ckpt-2.data-00000-of-00001.tempstate4550753213297743783',
    'model.ckpt-2.index.tempstate6922641882833420986',
    'model.ckpt-2.meta.tmp36f5f7687226464695d1849efd10e584',
    'graph.pbtxt.tmpeff2af218a054b7688b2290a2a167ce8',
    'checkpoint.tmp0123456789abcdef0123456789abcdef',
    'checkpoint.tmp',
    # A failed MergeV2Checkpoints: data renamed, index empty, temp dir.
    'model.ckpt-3.index',
    'model.ckpt-3.data-00000-of-00001',
    'model.ckpt-3_temp/part-00000-of-00001.index',
  ]

  def test_removes_recorded_leftovers_only(self, tmp_path):
    d = str(tmp_path)
    _save(d, [0, 1])
    kept = sorted(os.listdir(d))
    started_at = time.time() - 1
    _touch(d, *self._LEFTOVERS)
    _touch(d, 'notes.txt', 'model.ckpt-9.index.bak', 'events.out.tfevents.1')
    removed = disk_full.remove_partial_save(d, started_at)
    expected = {n.split('/')[0] for n in self._LEFTOVERS}
    assert {os.path.basename(p) for p in removed} == expected
    assert sorted(os.listdir(d)) == sorted(
      kept + ['notes.txt', 'model.ckpt-9.index.bak', 'events.out.tfevents.1']
    )
    np.testing.assert_array_equal(
      _weights(os.path.join(d, 'model.ckpt-1')), np.arange(_UNITS)
    )

  def test_keeps_unlisted_checkpoints_older_than_the_run(self, tmp_path):
    d = str(tmp_path)
    _save(d, [0])
    _touch(d, 'model.ckpt-5.index', 'model.ckpt-5.data-00000-of-00001')
    started_at = time.time() + 1
    assert disk_full.remove_partial_save(d, started_at) == []
    assert os.path.exists(os.path.join(d, 'model.ckpt-5.index'))

  def test_keeps_everything_listed(self, tmp_path):
    d = str(tmp_path)
    _save(d, [0, 1])
    # A .meta that failed after the state file already listed ckpt-1.
    os.remove(os.path.join(d, 'model.ckpt-1.meta'))
    before = sorted(os.listdir(d))
    assert disk_full.remove_partial_save(d, time.time() - 60) == []
    assert sorted(os.listdir(d)) == before

  def test_unreadable_state_file_removes_nothing(self, tmp_path):
    d = str(tmp_path)
    _save(d, [0])
    (tmp_path / 'checkpoint').write_text('not a state file {{{')
    _touch(d, 'model.ckpt-1.index', 'model.ckpt-1.meta.tmp' + '0' * 32)
    assert disk_full.remove_partial_save(d, time.time() - 60) == []

  def test_keeps_links_and_foreign_temp_dirs(self, tmp_path):
    d = str(tmp_path)
    _save(d, [0])
    _touch(str(tmp_path / 'elsewhere'), 'precious')
    os.symlink(tmp_path / 'elsewhere', tmp_path / 'model.ckpt-4_temp')
    os.symlink(tmp_path / 'elsewhere/precious', tmp_path / 'model.ckpt-4.meta')
    _touch(d, 'model.ckpt-5_temp/my-notes.txt')
    assert disk_full.remove_partial_save(d, time.time() - 60) == []
    assert (tmp_path / 'elsewhere' / 'precious').exists()

  def test_no_state_file_removes_this_runs_files(self, tmp_path):
    d = str(tmp_path)
    started_at = time.time() - 1
    _touch(d, 'model.ckpt-0.index', 'model.ckpt-0.data-00000-of-00001')
    removed = disk_full.remove_partial_save(d, started_at)
    assert len(removed) == 2
    assert os.listdir(d) == []


class TestLastGoodCheckpoint:
  def test_skips_a_listed_checkpoint_without_meta(self, tmp_path):
    d = str(tmp_path)
    _save(d, [0, 20])
    os.remove(os.path.join(d, 'model.ckpt-20.meta'))
    assert disk_full.last_good_checkpoint(d) == (
      os.path.join(d, 'model.ckpt-0'),
      0,
    )

  def test_sharded_checkpoint_needs_every_shard(self, tmp_path):
    d = str(tmp_path)
    _save(d, [0, 7], sharded=True)
    assert disk_full.last_good_checkpoint(d) == (
      os.path.join(d, 'model.ckpt-7'),
      7,
    )
    for f in glob.glob(os.path.join(d, 'model.ckpt-7.data-*')):
      os.remove(f)
    assert disk_full.last_good_checkpoint(d)[1] == 0

  def test_none_without_checkpoints(self, tmp_path):
    assert disk_full.last_good_checkpoint(str(tmp_path)) == (None, None)


def test_quiet_writer_threads_hides_only_disk_full_of_the_writer(
  monkeypatch,
):
  passed = []  # What reaches the hook that prints tracebacks.
  monkeypatch.setattr(threading, 'excepthook', passed.append)

  def run(name, error):
    def fail():
      raise error

    before = len(passed)
    thread = threading.Thread(target=fail, name=name)
    thread.start()
    thread.join()
    return [(a.thread.name, a.exc_value) for a in passed[before:]]

  full = RuntimeError('/x/events.out.tfevents.1.h; No space left on device')
  other = RuntimeError('other')
  with disk_full.quiet_writer_threads():
    assert run('EventLoggerThread', full) == []
    assert run('EventLoggerThread', other) == [('EventLoggerThread', other)]
    assert run('Thread-9', full) == [('Thread-9', full)]
  assert threading.excepthook == passed.append
  assert run('EventLoggerThread', full) == [('EventLoggerThread', full)]
