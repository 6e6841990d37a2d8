"""Downloads a data file once, verified, and never leaves a partial file.

A missing file is fetched from `source_url + filename` into a temporary file
beside its destination, its decompressed content is checked against an
expected MD5, and only then is it renamed into place. Network failures are
retried with exponential back-off; every failure removes the temporary file
and raises a `graphnet.errors.DataError` subclass that names the URL and the
file.

Example:
  path = download.maybe_download(
      'train-labels-idx1-ubyte.gz', '/tmp/mnist',
      'https://example.org/mnist/',
      expected_md5='a25bea736e30d166cdddb491f175f624')
"""

import http.client
import os
import socket
import time
import urllib.error
import urllib.request

from absl import logging

from graphnet import errors
from graphnet import idx

__all__ = ['maybe_download', 'make_directory']

_CHUNK_BYTES = 1 << 20


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


def _fetch(url, tmp_path, timeout):
  """Downloads `url` into `tmp_path`; raises OSError-family on failure."""
  with urllib.request.urlopen(url, timeout=timeout) as response:
    declared = response.headers.get('Content-Length')
    received = 0
    with open(tmp_path, 'wb') as f:
      while True:
        chunk = response.read(_CHUNK_BYTES)
        if not chunk:
          break
        f.write(chunk)
        received += len(chunk)
  # http.client does not complain when a chunked read stops early, so the
  # length is checked here: a dropped connection must not pass as a file.
  if declared is not None and declared.isdigit() and received != int(declared):
    raise http.client.IncompleteRead(b'', int(declared) - received)


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
  retries=3,
  backoff=1.0,
  timeout=30.0,
):
  """Downloads `filename` into `work_directory` unless it is already there.

  An existing file is returned as is, unverified, so any data set the user
  put there is used. A downloaded file is renamed into place only after its
  decompressed content matches `expected_md5`.

  Args:
    filename: the file name, appended to `source_url` to form the URL.
    work_directory: destination directory; created if missing.
    source_url: URL prefix, normally ending in '/'.
    expected_md5: lowercase hex MD5 of the file's gzip-decompressed content.
    retries: how many more attempts after the first network failure.
    backoff: seconds to wait before the first retry; doubled each retry.
    timeout: socket timeout in seconds for each attempt.

  Returns:
    The path of the file in `work_directory` (str).

  Raises:
    DataError: `work_directory` cannot be created or written.
    DownloadError: the host is unreachable, times out, drops the
      connection or answers with an HTTP error, after all retries (HTTP 4xx
      errors are not retried).
    ChecksumError: the downloaded content is not a gzip file or does not
      match `expected_md5` (not retried: the server would send it again).
  """
  work_directory = os.fspath(work_directory)
  filepath = os.path.join(work_directory, filename)
  if os.path.exists(filepath):
    return filepath
  make_directory(work_directory)
  url = source_url + filename
  try:
    fd, tmp_path = idx.create_temp_file(work_directory, filename)
  except OSError as e:
    raise errors.DataError(
      f'{work_directory}: cannot write the download of {filename} there '
      f'({e.strerror or e}); choose a writable directory.',
      path=work_directory,
    ) from None
  os.close(fd)
  try:
    _download_with_retries(url, tmp_path, filepath, retries, backoff, timeout)
    _verify(url, tmp_path, filepath, expected_md5)
    os.replace(tmp_path, filepath)
  except BaseException:
    _remove_quietly(tmp_path)
    raise
  logging.info('Downloaded %s to %s (checksum verified).', url, filepath)
  return filepath


def _download_with_retries(url, tmp_path, filepath, retries, backoff, timeout):
  """Fetches `url` into `tmp_path`, retrying transient network failures."""
  attempts = retries + 1
  delay = backoff
  for attempt in range(1, attempts + 1):
    try:
      _fetch(url, tmp_path, timeout)
      return
    except urllib.error.HTTPError as e:
      # A 4xx answer will not change on retry; a 5xx one might.
      if e.code < 500 or attempt == attempts:
        raise _download_error(url, filepath, e, attempt) from None
    except (OSError, http.client.HTTPException) as e:
      if attempt == attempts:
        raise _download_error(url, filepath, e, attempt) from None
    logging.warning(
      'Download of %s failed (attempt %d of %d); retrying in %.3g s.',
      url,
      attempt,
      attempts,
      delay,
    )
    time.sleep(delay)
    delay *= 2


def _download_error(url, filepath, error, attempts):
  return errors.DownloadError(
    f'{filepath}: cannot download {url}: {_describe(error)} after '
    f'{attempts} attempt(s). Check source_url and the network, or put the '
    'file in the directory yourself.',
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
