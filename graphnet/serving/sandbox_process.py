"""The parent's handle of a sandbox worker process, and the idle pool.

`acquire` starts `python -m graphnet.serving.sandbox_child` with a socket
for messages, a shared memory file (`memfd`) for batches and a file for its
stderr, or hands back an idle worker of the same memory limit: starting a
process that loads TensorFlow takes seconds. `release` keeps a worker that
resets cleanly for the next `acquire`, and ends it otherwise; the idle
workers end when the interpreter exits.

Example:
    process = sandbox_process.acquire(memory_bytes=2**32)
    process.conn.send(('load', data))
    sandbox_process.release(process)
"""

import atexit
import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import tempfile
import typing
from multiprocessing import connection

__all__ = ['Process', 'acquire', 'release']

# How many idle workers are kept for reuse.
_MAX_IDLE = 1
# Seconds a worker may take to reset or quit before it is killed.
_GRACE_SECS = 5


@dataclasses.dataclass
class Process:
  """A worker process and the files the parent holds for it."""

  popen: subprocess.Popen
  # The parent's end of the message socket.
  conn: connection.Connection
  # The shared memory file batches travel through.
  memfd: int
  # A temporary file holding the worker's stderr (its last words).
  stderr: typing.BinaryIO
  # The address-space limit the worker was started with, in bytes.
  memory_bytes: int

  @classmethod
  def start(cls, memory_bytes):
    """Starts a worker limited to `memory_bytes` more than TF takes."""
    parent, child = socket.socketpair()
    memfd = os.memfd_create('graphnet-batch')
    stderr = tempfile.TemporaryFile()
    env = dict(os.environ)
    env.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    try:
      popen = subprocess.Popen(
        [
          sys.executable,
          '-m',
          'graphnet.serving.sandbox_child',
          str(child.fileno()),
          str(memfd),
          str(memory_bytes),
        ],
        pass_fds=(child.fileno(), memfd),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        env=env,
        close_fds=True,
      )
    finally:
      child.close()
    conn = connection.Connection(parent.detach())
    return cls(popen, conn, memfd, stderr, memory_bytes)

  def alive(self):
    return self.popen.poll() is None

  def reset(self):
    """Whether the worker dropped its graph and answered in time."""
    try:
      self.conn.send(('reset',))
      return self.conn.poll(_GRACE_SECS) and self.conn.recv() == ('ok',)
    except (OSError, EOFError):
      return False

  def kill(self):
    """Kills the worker (if alive) and frees its files."""
    if self.alive():
      self.popen.kill()
      self.popen.wait()
    self.close_files()

  def end(self):
    """Asks the worker to quit (kills it after 5 s) and frees its files."""
    with contextlib.suppress(OSError, EOFError):
      self.conn.send(('quit',))
    try:
      self.popen.wait(timeout=_GRACE_SECS)
    except subprocess.TimeoutExpired:
      self.popen.kill()
      self.popen.wait()
    self.close_files()

  def close_files(self):
    for resource in (self.conn, self.stderr):
      with contextlib.suppress(OSError):
        resource.close()
    with contextlib.suppress(OSError):
      os.close(self.memfd)


# Idle workers kept for reuse.
_IDLE = []


def acquire(memory_bytes):
  """An idle worker of limit `memory_bytes`, or a new one."""
  for process in list(_IDLE):
    if not process.alive():
      _IDLE.remove(process)
      process.end()
    elif process.memory_bytes == memory_bytes:
      _IDLE.remove(process)
      return process
  return Process.start(memory_bytes)


def release(process):
  """Keeps `process` idle for reuse if it resets cleanly, else ends it."""
  if len(_IDLE) < _MAX_IDLE and process.alive() and process.reset():
    _IDLE.append(process)
  else:
    process.end()


@atexit.register
def _end_idle():
  while _IDLE:
    _IDLE.pop().end()
