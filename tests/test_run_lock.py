"""run_lock: one trainer per log_dir, checked with real processes."""

import contextlib
import glob
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from graphnet import errors
from graphnet import options
from graphnet.checkpoints import run_lock

import _helpers

# A child that takes the lock, says so, and holds it until stdin closes.
_HOLDER = textwrap.dedent("""
  import sys
  from graphnet.checkpoints import run_lock
  with run_lock.LogDirLock(sys.argv[1], printer=print):
    print('locked', flush=True)
    sys.stdin.read()
  print('released', flush=True)
""")
# A child that tries once and reports the one line it was refused with.
_TRIER = textwrap.dedent("""
  import sys
  from graphnet import errors
  from graphnet import options
  from graphnet.checkpoints import run_lock
  try:
    with run_lock.LogDirLock(sys.argv[1], names=options.as_flag):
      print('locked', flush=True)
  except errors.LogDirLockedError as e:
    print(e, file=sys.stderr, flush=True)
    sys.exit(1)
""")
_TIMEOUT = 60
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child(script, log_dir):
  return subprocess.Popen(
    [sys.executable, '-c', script, log_dir],
    stdin=subprocess.PIPE,
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
  )


@contextlib.contextmanager
def _holder(log_dir):
  """A real process holding the lock on `log_dir` for the block."""
  child = _child(_HOLDER, log_dir)
  try:
    line = child.stdout.readline()
    assert line == 'locked\n', child.stderr.read()
    yield child
  finally:
    if child.poll() is None:
      child.kill()
    child.wait(timeout=_TIMEOUT)
    for stream in (child.stdin, child.stdout, child.stderr):
      stream.close()


def _record(**counts):
  """Adds counts to scripts/fault_suite.py's table (when it runs us)."""
  _helpers.record_stats('lock', counts)


# The command line's names: the messages below are the trainer's CLI's.
_AS_FLAG = options.as_flag


def _expected_refusal(log_dir, pid):
  return (
    f'--log_dir {log_dir} is in use by pid {pid} on host '
    f'{socket.gethostname()} (since '
  )


class TestTwoProcesses:
  def test_second_holder_is_refused_naming_the_first(self, tmp_path):
    log_dir = str(tmp_path)
    with _holder(log_dir) as holder:
      with pytest.raises(errors.LogDirLockedError) as caught:
        with run_lock.LogDirLock(log_dir, names=_AS_FLAG):
          pytest.fail('took a lock another process holds')
    message = str(caught.value)
    assert message.startswith(_expected_refusal(log_dir, holder.pid))
    assert message.endswith('stop that trainer or use another --log_dir.')
    assert '\n' not in message
    assert caught.value.pid == holder.pid
    assert isinstance(caught.value, RuntimeError)

  def test_second_process_is_refused_in_one_line(self, tmp_path):
    log_dir = str(tmp_path)
    with _holder(log_dir) as holder:
      trier = _child(_TRIER, log_dir)
      out, err = trier.communicate(timeout=_TIMEOUT)
    _record(tried=1)
    assert trier.returncode == 1
    assert out == ''
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(_expected_refusal(log_dir, holder.pid))
    _record(refused=1)

  def test_lock_is_free_again_after_the_holder_exits(self, tmp_path):
    log_dir = str(tmp_path)
    with _holder(log_dir) as holder:
      holder.stdin.close()
      assert holder.stdout.readline() == 'released\n'
      holder.wait(timeout=_TIMEOUT)
    # A clean release removes the file: nothing stale to report.
    assert not os.path.exists(os.path.join(log_dir, run_lock.LOCK_NAME))
    lines = []
    with run_lock.LogDirLock(log_dir, printer=lines.append):
      pass
    assert lines == []

  def test_sigkilled_holder_is_taken_over_with_a_message(self, tmp_path):
    log_dir = str(tmp_path)
    with _holder(log_dir) as holder:
      holder.send_signal(signal.SIGKILL)
      holder.wait(timeout=_TIMEOUT)
    # The file survives SIGKILL and names the dead process; the kernel
    # dropped its flock.
    assert run_lock.read_holder(log_dir)['pid'] == holder.pid
    lines = []
    _record(stale_tried=1)
    with run_lock.LogDirLock(log_dir, printer=lines.append, names=_AS_FLAG):
      assert run_lock.read_holder(log_dir)['pid'] == os.getpid()
    assert lines == [
      f'--log_dir {log_dir}: taking over the stale lock of pid {holder.pid} '
      f'on host {socket.gethostname()} (no longer running).'
    ]
    _record(stale_taken=1)
    assert not os.path.exists(os.path.join(log_dir, run_lock.LOCK_NAME))

  def test_readers_need_no_lock(self, tmp_path):
    log_dir = str(tmp_path)
    (tmp_path / 'checkpoint').write_text('model_checkpoint_path: "x"\n')
    with _holder(log_dir) as holder:
      assert (tmp_path / 'checkpoint').read_text().startswith('model')
      assert run_lock.read_holder(log_dir)['pid'] == holder.pid


class TestOneProcess:
  def test_record_names_this_process(self, tmp_path):
    with run_lock.LogDirLock(str(tmp_path)) as lock:
      holder = run_lock.read_holder(str(tmp_path))
      assert lock.path == str(tmp_path / run_lock.LOCK_NAME)
    assert holder['pid'] == os.getpid()
    assert holder['host'] == socket.gethostname()
    assert holder['since'].endswith(' UTC')

  def test_released_on_exception(self, tmp_path):
    log_dir = str(tmp_path)
    with pytest.raises(KeyError):
      with run_lock.LogDirLock(log_dir):
        raise KeyError('boom')
    assert not os.path.exists(os.path.join(log_dir, run_lock.LOCK_NAME))
    # Free for another process at once.
    trier = _child(_TRIER, log_dir)
    out, err = trier.communicate(timeout=_TIMEOUT)
    assert (trier.returncode, out) == (0, 'locked\n'), err

  def test_second_lock_in_the_same_process_is_refused(self, tmp_path):
    log_dir = str(tmp_path)
    with run_lock.LogDirLock(log_dir):
      with pytest.raises(errors.LogDirLockedError) as caught:
        with run_lock.LogDirLock(log_dir, names=_AS_FLAG):
          pytest.fail('re-entered the lock')
      # The refused one must not remove the holder's file.
      assert run_lock.read_holder(log_dir)['pid'] == os.getpid()
    assert str(caught.value).startswith(_expected_refusal(log_dir, os.getpid()))

  def test_library_message_names_the_argument(self, tmp_path):
    log_dir = str(tmp_path)
    with run_lock.LogDirLock(log_dir):
      with pytest.raises(errors.LogDirLockedError) as caught:
        with run_lock.LogDirLock(log_dir):
          pytest.fail('re-entered the lock')
    message = str(caught.value)
    assert message.startswith(f'log_dir {log_dir} is in use by pid ')
    assert message.endswith('stop that trainer or use another log_dir.')
    assert '--' not in message

  def test_entering_one_object_twice_is_refused(self, tmp_path):
    lock = run_lock.LogDirLock(str(tmp_path))
    with lock:
      with pytest.raises(errors.LogDirLockedError, match='enter it once'):
        lock.acquire()
      assert run_lock.read_holder(str(tmp_path))['pid'] == os.getpid()

  def test_release_keeps_a_file_that_is_no_longer_ours(self, tmp_path):
    path = tmp_path / run_lock.LOCK_NAME
    with run_lock.LogDirLock(str(tmp_path)):
      # Someone removed the file and another process made a new one.
      path.unlink()
      path.write_text('pid 1\nhost elsewhere\n')
    assert path.read_text() == 'pid 1\nhost elsewhere\n'

  def test_empty_record_is_refused_without_a_pid(self, tmp_path):
    log_dir = str(tmp_path)
    path = os.path.join(log_dir, run_lock.LOCK_NAME)
    # A holder that took the flock but has not written its record yet.
    child = subprocess.Popen(
      [
        sys.executable,
        '-c',
        'import fcntl, os, sys; '
        'fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); '
        'fcntl.flock(fd, fcntl.LOCK_EX); print("locked", flush=True); '
        'sys.stdin.read()',
        path,
      ],
      stdin=subprocess.PIPE,
      stdout=subprocess.PIPE,
      text=True,
    )
    try:
      assert child.stdout.readline() == 'locked\n'
      with pytest.raises(errors.LogDirLockedError) as caught:
        run_lock.LogDirLock(log_dir).acquire()
    finally:
      child.kill()
      child.communicate(timeout=_TIMEOUT)
    assert 'in use by another process (its pid is not recorded)' in str(
      caught.value
    )
    assert caught.value.pid is None


def _can_create_in(path):
  try:
    open(os.path.join(path, 'probe'), 'w').close()
  except OSError:
    return False
  os.remove(os.path.join(path, 'probe'))
  return True


@contextlib.contextmanager
def _read_only_dir(tmp_path):
  """A directory this process cannot write to.

  Mode 0555 for an ordinary user; root ignores permission bits, so for
  root a read-only tmpfs mount.
  """
  path = tmp_path / 'ro'
  path.mkdir()
  path.chmod(0o555)
  try:
    if not _can_create_in(path):
      yield str(path)
      return
  finally:
    path.chmod(0o755)
  done = subprocess.run(
    ['mount', '-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', str(path)],
    capture_output=True,
    text=True,
  )
  if done.returncode:
    pytest.skip(
      'mode 0555 does not stop this user (root) and mounting a read-only '
      f'tmpfs failed: {done.stderr.strip()}'
    )
  try:
    yield str(path)
  finally:
    subprocess.run(['umount', str(path)], check=True)


def test_read_only_log_dir_is_a_one_line_config_error(tmp_path):
  with _read_only_dir(tmp_path) as log_dir:
    with pytest.raises(errors.ConfigError) as caught:
      with run_lock.LogDirLock(log_dir, names=_AS_FLAG):
        pytest.fail('locked a read-only directory')
  message = str(caught.value)
  assert message.startswith(
    f'--log_dir {log_dir} is not writable: cannot create its lock file '
    f'{run_lock.LOCK_NAME} ('
  )
  assert message.endswith('); choose another --log_dir.')
  assert '\n' not in message


def test_full_disk_is_a_one_line_config_error_leaving_no_file(tmp_path):
  if os.geteuid() != 0:
    pytest.skip('a real full disk needs a tmpfs mount, which needs root')
  log_dir = tmp_path / 'full'
  log_dir.mkdir()
  done = subprocess.run(
    ['mount', '-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', str(log_dir)],
    capture_output=True,
    text=True,
  )
  if done.returncode:
    why = (done.stderr.strip().splitlines() or ['?'])[0]
    pytest.skip(f'root, but mount -t tmpfs failed: {why}')
  try:
    with open(log_dir / 'filler', 'wb') as f:
      with pytest.raises(OSError):
        f.write(b'\0' * (1 << 20))
        f.flush()
    with pytest.raises(errors.ConfigError) as caught:
      run_lock.LogDirLock(str(log_dir), names=_AS_FLAG).acquire()
    assert os.listdir(log_dir) == ['filler']
  finally:
    subprocess.run(['umount', str(log_dir)], check=True)
  assert str(caught.value) == (
    f'--log_dir {log_dir}: cannot write its lock file {run_lock.LOCK_NAME} '
    '(No space left on device); free space or choose another --log_dir.'
  )


def test_second_cli_trainer_is_refused_in_one_line(tmp_path):
  """The goal: the trainer takes the lock; a second one exits 1 at once."""
  log_dir = str(tmp_path / 'logs')
  command = _helpers.trainer_argv(
    '--fake_data',
    log_dir=log_dir,
    max_steps=10000000,
    save_checkpoint_steps=100000,
    eval_every=100000,
  )
  env = dict(os.environ, PYTHONPATH=_REPO)
  first = subprocess.Popen(
    command,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
    env=env,
    cwd=_REPO,
  )
  try:
    # Training has started once it wrote its events file (the lock comes
    # before any file).
    deadline = time.monotonic() + 120
    while not glob.glob(os.path.join(log_dir, 'events.out.tfevents.*')):
      assert first.poll() is None and time.monotonic() < deadline
      time.sleep(0.2)
    assert run_lock.read_holder(log_dir).get('pid') == first.pid
    second = subprocess.run(
      _helpers.trainer_argv('--fake_data', log_dir=log_dir, max_steps=10),
      capture_output=True,
      text=True,
      timeout=300,
      env=env,
      cwd=_REPO,
    )
  finally:
    first.send_signal(signal.SIGTERM)
    first.wait(timeout=120)
  assert second.returncode == 1
  assert 'Traceback' not in second.stderr
  printed = _helpers.error_lines(second.stderr)
  assert len(printed) == 1, second.stderr
  assert printed[0].startswith(
    'graphnet: error: ' + _expected_refusal(log_dir, first.pid)
  )
