"""HTTP(S) transfers with a hard deadline, a size cap and safe redirects.

`download.maybe_download` fetches through `fetch`: each connect and read
has a socket timeout, a watchdog thread shuts the socket when the whole
allowance (`Limits.deadline`) runs out, bodies larger than
`Limits.max_bytes` are refused as they stream, and redirects may only go
to http or https URLs. A failure that a retry would repeat raises
`RefusedError`.

Example:
    limits = http_fetch.Limits(time.monotonic() + 30, 30, 10, 64 << 20)
    http_fetch.fetch('https://example.org/f.gz', '/tmp/f.gz.part', limits)
"""

import dataclasses
import functools
import http.client
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ['Limits', 'RefusedError', 'fetch']

_CHUNK_BYTES = 1 << 16
_ALLOWED_SCHEMES = ('http', 'https')


@dataclasses.dataclass(frozen=True)
class Limits:
  """What one `maybe_download` call may spend."""

  # time.monotonic() value after which the download fails.
  deadline_at: float
  # The whole allowance in seconds, for messages.
  deadline: float
  # Socket timeout of each connect and read, in seconds.
  timeout: float
  # Largest body accepted, in bytes.
  max_bytes: int

  def remaining(self):
    """Seconds left before the deadline (negative once it has passed)."""
    return self.deadline_at - time.monotonic()


class RefusedError(Exception):
  """A failure that a retry would repeat: too big, too slow, bad redirect."""


class _Watchdog:
  """Shuts a download's sockets down when its deadline passes.

  A socket timeout bounds each read, not the whole transfer: a server that
  sends a byte every second would never trip it. Shutting the socket down
  from this timer thread wakes the blocked read at once.

  Attributes:
    fired: whether the deadline has passed and the sockets were shut.
  """

  def __init__(self, seconds):
    self._lock = threading.Lock()
    self._sockets = []
    self.fired = False
    self._timer = threading.Timer(max(seconds, 0.0), self._fire)
    self._timer.daemon = True
    self._timer.start()

  def watch(self, sock):
    with self._lock:
      self._sockets.append(sock)
      fired = self.fired
    if fired:
      _shut_quietly(sock)

  def _fire(self):
    with self._lock:
      self.fired = True
      sockets = list(self._sockets)
    for sock in sockets:
      _shut_quietly(sock)

  def cancel(self):
    self._timer.cancel()


def _shut_quietly(sock):
  try:
    sock.shutdown(socket.SHUT_RDWR)
  except OSError:
    pass  # Closed already: nothing left to wake.


class _Watched:
  """Mixin for an `http.client` connection: its socket joins a `_Watchdog`.

  Put it before the connection class so `connect` wraps the real one.
  """

  def __init__(self, *args, watchdog, **kwargs):
    super().__init__(*args, **kwargs)
    self._watchdog = watchdog

  def connect(self):
    super().connect()
    self._watchdog.watch(self.sock)


class _WatchedHTTPConnection(_Watched, http.client.HTTPConnection):
  """An HTTP connection whose socket a `_Watchdog` can shut."""


class _WatchedHTTPSConnection(_Watched, http.client.HTTPSConnection):
  """An HTTPS connection whose (TLS) socket a `_Watchdog` can shut."""


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
  """Opens http:// URLs through connections the watchdog can shut."""

  def __init__(self, watchdog):
    super().__init__()
    self._watchdog = watchdog

  def http_open(self, req):
    connection = functools.partial(
      _WatchedHTTPConnection, watchdog=self._watchdog
    )
    return self.do_open(connection, req)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
  """Opens https:// URLs (verified as urlopen does) the same way."""

  def __init__(self, watchdog):
    super().__init__()
    self._watchdog = watchdog
    self._ssl_context = ssl.create_default_context()

  def https_open(self, req):
    connection = functools.partial(
      _WatchedHTTPSConnection, watchdog=self._watchdog
    )
    return self.do_open(connection, req, context=self._ssl_context)


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
  """Follows redirects only to http(s): urllib alone would follow ftp://."""

  def http_error_302(self, req, fp, code, msg, headers):
    target = headers.get('location') or headers.get('uri')
    if target:
      target = urllib.parse.urljoin(req.full_url, target)
      scheme = urllib.parse.urlsplit(target).scheme.lower()
      if scheme not in _ALLOWED_SCHEMES:
        fp.close()
        raise RefusedError(
          f'the server redirects (HTTP {code}) to {target}, expected an '
          'http or https URL'
        )
    return super().http_error_302(req, fp, code, msg, headers)

  http_error_301 = http_error_303 = http_error_307 = http_error_302
  http_error_308 = http_error_302


def _declared_length(response):
  declared = response.headers.get('Content-Length')
  if declared is not None and declared.strip().isdigit():
    return int(declared)
  return None


def _deadline_refusal(limits):
  return RefusedError(
    f'the download was still running after its {limits.deadline:g} s '
    'deadline (a stalled or very slow server)'
  )


def _copy_body(response, tmp_path, limits, watchdog):
  """Writes the response body to `tmp_path`; returns its length in bytes."""
  received = 0
  with open(tmp_path, 'wb') as f:
    while True:
      # read1, unlike read, returns what has arrived instead of waiting
      # for a whole chunk, so the limits are checked as bytes come in.
      chunk = response.read1(_CHUNK_BYTES)
      if watchdog.fired or limits.remaining() <= 0:
        raise _deadline_refusal(limits)
      if not chunk:
        return received
      received += len(chunk)
      if received > limits.max_bytes:
        raise RefusedError(
          f'the server sent more than the {limits.max_bytes}-byte limit '
          '(max_bytes)'
        )
      f.write(chunk)


def fetch(url, tmp_path, limits):
  """Downloads `url` into `tmp_path`.

  Raises:
    RefusedError: over the deadline or size cap, or a non-http(s) redirect.
    OSError, http.client.HTTPException: network failures (retried).
  """
  remaining = limits.remaining()
  if remaining <= 0:
    raise _deadline_refusal(limits)
  watchdog = _Watchdog(remaining)
  opener = urllib.request.build_opener(
    _HttpOnlyRedirects(),
    _WatchedHTTPHandler(watchdog),
    _WatchedHTTPSHandler(watchdog),
  )
  try:
    timeout = min(limits.timeout, remaining)
    with opener.open(url, timeout=timeout) as response:
      declared = _declared_length(response)
      # Checked before reading, so a 10 GB promise costs nothing.
      if declared is not None and declared > limits.max_bytes:
        raise RefusedError(
          f'the server declares {declared} bytes (Content-Length), over '
          f'the {limits.max_bytes}-byte limit (max_bytes)'
        )
      received = _copy_body(response, tmp_path, limits, watchdog)
  except (OSError, http.client.HTTPException):
    if watchdog.fired:
      raise _deadline_refusal(limits) from None
    raise
  finally:
    watchdog.cancel()
  # http.client does not complain when a chunked read stops early, so the
  # length is checked here: a dropped connection must not pass as a file.
  if declared is not None and received != declared:
    raise http.client.IncompleteRead(b'', declared - received)
