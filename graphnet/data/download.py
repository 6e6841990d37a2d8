"""Downloads a data file once, verified, bounded, never leaving a partial file.

A missing file is fetched from `source_url + filename` into a temporary file
beside its destination, its decompressed content is checked against an
expected MD5, and only then is it renamed into place. Network failures are
retried with exponential back-off; every failure removes the temporary file
and raises a `graphnet.errors.DataError` subclass that names the URL and the
file.

A download is bounded: it fails once it has run longer than `deadline`
seconds (a socket still sending a byte a second is shut), or once the
server declares or sends more than `max_bytes`; redirects are followed only
to http and https URLs. The temporary file is removed on SIGTERM too, and
temporary files that killed runs left behind are removed by the next one
(see `partial_file`).

Example:
  path = download.maybe_download(
      'train-labels-idx1-ubyte.gz', '/tmp/mnist',
      'https://example.org/mnist/',
      expected_md5='a25bea736e30d166cdddb491f175f624')
"""

import contextlib
import http.client
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from absl import logging

from graphnet import errors
from graphnet.data import http_fetch
from graphnet.data import idx
from graphnet.data import temp_files

__all__ = [
  'DEFAULT_RETRIES',
  'DEFAULT_BACKOFF',
  'DEFAULT_TIMEOUT',
  'DEFAULT_DEADLINE',
  'DEFAULT_MAX_BYTES',
  'maybe_download',
  'make_directory',
  'partial_file',
]

# Attempts after the first network failure, the wait before the first of
# them (doubled each time), and each connect's and read's socket timeout
# (seconds): `maybe_download`'s and `read_data_sets`' defaults.
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 1.0
DEFAULT_TIMEOUT = 30.0
# Enough for MNIST's largest file (9.9 MB) over a 40 KB/s link.
DEFAULT_DEADLINE = 300.0
# MNIST's largest file decompresses to 47,040,016 bytes, and gzip never
# grows data by more than a few bytes per 16 KB block: any honest MNIST
# file is far below this, while an endless body stops well before the
# disk fills.
DEFAULT_MAX_BYTES = 64 << 20


class _Terminated(BaseException):
  """SIGTERM arrived while a partial file existed.

  A BaseException, so `except Exception` blocks on its way do not swallow
  it before the partial file is removed.
  """


def make_directory(directory):
  """Creates `directory` (and its parents) unless it exists.

  Args:
    directory: path of the directory.

  Raises:
    DataError: the path exists but is not a directory, or cannot be created
      (e.g. the parent is not writable).
  """
  try:
    os.makedirs(directory, exist_ok=True)
  except FileExistsError:
    raise errors.DataError(
      f'{directory}: expected a directory, found a file; pass a directory '
      'path or remove the file.',
      path=directory,
    ) from None
  except OSError as e:
    raise errors.DataError(
      f'{directory}: cannot create the data directory '
      f'({e.strerror or e}); choose a writable location.',
      path=directory,
    ) from None
  if not os.path.isdir(directory):
    raise errors.DataError(
      f'{directory}: expected a directory, found something else.',
      path=directory,
    )


def _remove_quietly(path):
  try:
    os.remove(path)
  except OSError:
    pass


def _raise_terminated(signum, frame):
  del frame  # Unused.
  # A second SIGTERM must not interrupt the clean-up the first one started.
  signal.signal(signal.SIGTERM, signal.SIG_IGN)
  raise _Terminated(signum)


@contextlib.contextmanager
def _sigterm_unwinds(destination):
  """Inside the block SIGTERM raises, so `finally` clauses run first.

  Once the block has unwound, the previous handler is restored and the
  signal delivered again, so it has its usual effect: by default the
  process ends, killed by SIGTERM. Signals can only be handled in the main
  thread, and a SIGTERM that is ignored or handled outside Python is left
  alone; `remove_stale_temp_files` covers those cases on the next run.
  """
  previous = signal.getsignal(signal.SIGTERM)
  in_main_thread = threading.current_thread() is threading.main_thread()
  if not in_main_thread or previous in (signal.SIG_IGN, None):
    yield
    return
  signal.signal(signal.SIGTERM, _raise_terminated)
  try:
    yield
  except _Terminated:
    signal.signal(signal.SIGTERM, previous)
    signal.raise_signal(signal.SIGTERM)
    # Only reached when the previous handler returns instead of exiting.
    raise errors.DataError(
      f'{destination}: interrupted by SIGTERM before the file was complete; '
      'nothing was saved.',
      path=destination,
    ) from None
  finally:
    signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def partial_file(directory, name):
  """Yields the path of a new, empty temp file that is to become `name`.

  The block writes the file and renames it into place (`os.replace`);
  whatever is left of it when the block ends, by an exception, Ctrl-C or
  SIGTERM, is removed. Before the file is created, temp files of killed
  graphnet runs are removed from `directory`
  (`temp_files.remove_stale_temp_files`).

  Args:
    directory: an existing directory.
    name: the final file name in `directory`.

  Yields:
    The temp file's path (str), in `directory`.

  Raises:
    DataError: the temp file cannot be created, or SIGTERM arrived and the
      previous SIGTERM handler did not end the process.

  Example:
    with download.partial_file(train_dir, name) as tmp:
      write(tmp)
      os.replace(tmp, os.path.join(train_dir, name))
  """
  destination = os.path.join(directory, name)
  temp_files.remove_stale_temp_files(directory)
  with _sigterm_unwinds(destination):
    try:
      fd, tmp_path = temp_files.create_temp_file(directory, name)
    except OSError as e:
      raise errors.DataError(
        f'{directory}: cannot write {name} there ({e.strerror or e}); '
        'choose a writable directory.',
        path=directory,
      ) from None
    try:
      os.close(fd)
      yield tmp_path
    finally:
      _remove_quietly(tmp_path)


def _describe(error):
  """Returns a short human description of a network error."""
  if isinstance(error, urllib.error.HTTPError):
    return f'HTTP error {error.code} {error.reason}'
  if isinstance(error, urllib.error.URLError):
    return f'cannot reach the host ({error.reason})'
  if isinstance(error, http.client.IncompleteRead):
    return (
      f'the connection closed early ({len(error.partial)} bytes read, '
      f'{error.expected} more expected)'
    )
  if isinstance(error, (socket.timeout, TimeoutError)):
    return 'timed out'
  return f'{type(error).__name__}: {error}'


def maybe_download(
  filename,
  work_directory,
  source_url,
  expected_md5,
  *,
  retries=DEFAULT_RETRIES,
  backoff=DEFAULT_BACKOFF,
  timeout=DEFAULT_TIMEOUT,
  deadline=DEFAULT_DEADLINE,
  max_bytes=DEFAULT_MAX_BYTES,
):
  """Downloads `filename` into `work_directory` unless it is already there.

  An existing file is returned as is, unverified, so any data set the user
  put there is used. A downloaded file is renamed into place only after its
  decompressed content matches `expected_md5`. Redirects are followed only
  to http and https URLs.

  Args:
    filename: the file name, appended to `source_url` to form the URL.
    work_directory: destination directory; created if missing.
    source_url: URL prefix, normally ending in '/'.
    expected_md5: lowercase hex MD5 of the file's gzip-decompressed content.
    retries: how many more attempts after the first network failure.
    backoff: seconds to wait before the first retry; doubled each retry.
    timeout: socket timeout in seconds for each connect and read.
    deadline: seconds the whole call may take, all attempts and waits
      included; a transfer still running then is cut off.
    max_bytes: the largest file accepted, in bytes; a larger
      Content-Length is refused before reading, a longer body as soon as
      it passes the limit.

  Returns:
    The path of the file in `work_directory` (str).

  Raises:
    DataError: `work_directory` cannot be created or written, or SIGTERM
      arrived and the process's SIGTERM handler did not end it (with the
      default handler the process ends, the temp file removed).
    DownloadError: the host is unreachable, times out, drops the
      connection or answers with an HTTP error, after all retries (HTTP 4xx
      errors are not retried); or, without retry, the deadline passed, the
      file is larger than `max_bytes`, or the server redirects to a
      non-http(s) URL.
    ChecksumError: the downloaded content is not a gzip file or does not
      match `expected_md5` (not retried: the server would send it again).
  """
  limits = http_fetch.Limits(
    deadline_at=time.monotonic() + deadline,
    deadline=deadline,
    timeout=timeout,
    max_bytes=max_bytes,
  )
  work_directory = os.fspath(work_directory)
  filepath = os.path.join(work_directory, filename)
  if os.path.exists(filepath):
    return filepath
  make_directory(work_directory)
  url = source_url + filename
  with partial_file(work_directory, filename) as tmp_path:
    _download_with_retries(url, tmp_path, filepath, retries, backoff, limits)
    _verify(url, tmp_path, filepath, expected_md5)
    os.replace(tmp_path, filepath)
  logging.info('Downloaded %s to %s (checksum verified).', url, filepath)
  return filepath


def _download_with_retries(url, tmp_path, filepath, retries, backoff, limits):
  """Fetches `url` into `tmp_path`, retrying transient network failures."""
  attempts = retries + 1
  delay = backoff
  for attempt in range(1, attempts + 1):
    try:
      http_fetch.fetch(url, tmp_path, limits)
      return
    except http_fetch.RefusedError as e:
      raise _refusal_error(url, filepath, e) from None
    except urllib.error.HTTPError as e:
      # A 4xx answer will not change on retry; a 5xx one might.
      if e.code < 500:
        raise _download_error(url, filepath, e, attempt) from None
      error = e
    except (OSError, http.client.HTTPException) as e:
      error = e
    if attempt == attempts:
      raise _download_error(url, filepath, error, attempt) from None
    if delay >= limits.remaining():
      raise _download_error(
        url,
        filepath,
        error,
        attempt,
        f'; the {limits.deadline:g} s deadline leaves no time for another',
      ) from None
    logging.warning(
      'Download of %s failed (attempt %d of %d); retrying in %.3g s.',
      url,
      attempt,
      attempts,
      delay,
    )
    time.sleep(delay)
    delay *= 2


def _refusal_error(url, filepath, refusal):
  return errors.DownloadError(
    f'{filepath}: cannot download {url}: {refusal}; nothing was saved. '
    'Check source_url, or put the file in the directory yourself.',
    path=filepath,
  )


def _download_error(url, filepath, error, attempts, why_stopped=''):
  return errors.DownloadError(
    f'{filepath}: cannot download {url}: {_describe(error)} after '
    f'{attempts} attempt(s){why_stopped}. Check source_url and the '
    'network, or put the file in the directory yourself.',
    path=filepath,
  )


def _verify(url, tmp_path, filepath, expected_md5):
  """Raises ChecksumError unless the download has the expected content."""
  try:
    found = idx.md5_of_decompressed(tmp_path)
  except errors.DataError as e:
    reason = str(e).removeprefix(f'{tmp_path}: ')
    raise errors.ChecksumError(
      f'{filepath}: the file downloaded from {url} is not a valid gzip '
      f'file ({reason}); nothing was saved.',
      path=filepath,
    ) from None
  if found != expected_md5:
    raise errors.ChecksumError(
      f'{filepath}: the file downloaded from {url} has the wrong content: '
      f'expected decompressed MD5 {expected_md5}, found {found}; nothing '
      'was saved.',
      path=filepath,
    )
