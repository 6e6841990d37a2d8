"""Inflates gzipped files on a thread while the process does other work.

The training command starts inflating the bundled MNIST files before it
imports TensorFlow: that import is two seconds of Python on one core, and
zlib releases the GIL, so the inflating costs no wall time on a machine
with a second core. A reader later offers each file's raw bytes to
`take`; when they are exactly the bytes read ahead it gets the result
instead of inflating them again. Nothing is assumed about the files the
user names: only byte-for-byte equal content is reused, and any other file
(or a file read ahead that failed to parse) takes the ordinary path, which
reports every problem itself.

Example:
    read_ahead.start([(path, 'images')], parse)  # parse(path, raw, kind)
    ...                                          # import TensorFlow
    result = read_ahead.take(raw, 'images')      # parse's result, or None
    read_ahead.clear()                           # drops what nobody took
"""

import os
import threading

__all__ = ['start', 'take', 'clear']

_lock = threading.Lock()
# Files read ahead and not yet taken, in the order they were started.
_pending = []


class _Entry:
  """One file being read ahead; `done` is set once `result` is final."""

  def __init__(self, path, kind):
    self.path = path
    self.kind = kind
    # Equal contents have equal sizes: takers wait only for a possible match.
    self.size = os.path.getsize(path)
    self.raw = None
    self.result = None
    self.done = threading.Event()


def start(files, parse):
  """Starts a daemon thread reading and parsing `files`, in order.

  Args:
    files: (path, kind) pairs; `kind` is any hashable telling how the file
      is parsed (e.g. its IDX magic number). A missing or unreadable file
      is skipped.
    parse: function (path, raw bytes, kind) -> result; an exception it
      raises only drops that file from what is read ahead.

  Returns:
    the started `threading.Thread`, or None when no file could be read.
  """
  entries = []
  for path, kind in files:
    try:
      entries.append(_Entry(path, kind))
    except OSError:
      continue
  if not entries:
    return None
  with _lock:
    _pending.extend(entries)
  thread = threading.Thread(
    target=_work, args=(entries, parse), name='graphnet-read-ahead', daemon=True
  )
  thread.start()
  return thread


def _work(entries, parse):
  for entry in entries:
    try:
      with open(entry.path, 'rb') as f:
        entry.raw = f.read()
      entry.result = parse(entry.path, entry.raw, entry.kind)
    except Exception:  # The ordinary read reports it, in the caller.
      entry.raw = entry.result = None
    finally:
      entry.done.set()


def take(raw, kind):
  """What was read ahead for a file of exactly these bytes, or None.

  Waits for a file of the same kind and size still being read; a result is
  handed out once (it is forgotten here when taken).
  """
  with _lock:
    candidates = [e for e in _pending if e.kind == kind and e.size == len(raw)]
  for entry in candidates:
    entry.done.wait()
    if entry.result is None or entry.raw != raw:
      continue
    with _lock:
      if entry not in _pending:
        continue  # Another reader took it meanwhile.
      _pending.remove(entry)
    return entry.result
  return None


def clear():
  """Forgets every file read ahead that nobody took (frees its memory)."""
  with _lock:
    _pending.clear()
