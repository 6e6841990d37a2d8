"""Tests for graphnet.download against a real HTTP server on 127.0.0.1."""

import gzip
import hashlib
import http.server
import importlib.resources
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from graphnet import errors
from graphnet.data import download
from graphnet.data import mnist_files
from graphnet.data import mnist_reader as input_data

_GOOD = gzip.compress(b'\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02\x03', mtime=0)
_GOOD_MD5 = hashlib.md5(gzip.decompress(_GOOD)).hexdigest()
_WRONG = gzip.compress(b'\x00\x00\x08\x01\x00\x00\x00\x03\x09\x09\x09', mtime=0)
_FAST = dict(retries=2, backoff=0.01, timeout=2.0)

# Every test talks to a local server or a child process; none may hang.
pytestmark = pytest.mark.timeout(60)


class _Handler(http.server.BaseHTTPRequestHandler):
  """Serves the server's `routes`: name -> callable(handler) or bytes."""

  def do_GET(self):  # noqa: N802
    name = self.path.rsplit('/', 1)[-1]
    self.server.requests.append(name)
    route = self.server.routes.get(name)
    if route is None:
      self.send_error(404)
    elif callable(route):
      route(self)
    else:
      self._send(route)

  def _send(self, body, length=None):
    self.send_response(200)
    self.send_header(
      'Content-Length', str(len(body) if length is None else length)
    )
    self.end_headers()
    self.wfile.write(body)

  def log_message(self, *args):
    pass


def _cut_connection(handler):
  # Promises the whole file, sends half, then closes the connection.
  handler._send(_GOOD[: len(_GOOD) // 2], length=len(_GOOD))
  handler.close_connection = True


def _server_error(handler):
  handler.send_error(503)


def _slow(handler):
  time.sleep(1.0)
  handler._send(_GOOD)


def _drip(handler):
  # A byte at a time, each well within any per-read timeout.
  handler.send_response(200)
  handler.send_header('Content-Length', str(len(_GOOD)))
  handler.end_headers()
  for byte in _GOOD:
    if handler.server.stopping.wait(0.5):
      return
    handler.wfile.write(bytes([byte]))
    handler.wfile.flush()


def _drip_headers(handler):
  handler.wfile.write(b'HTTP/1.0 200 OK\r\nX-Slow: ')
  while not handler.server.stopping.wait(0.5):
    handler.wfile.write(b'a')
    handler.wfile.flush()


def _endless(handler, declared=None):
  handler.send_response(200)
  if declared is not None:
    handler.send_header('Content-Length', str(declared))
  handler.send_header('Connection', 'close')
  handler.end_headers()
  block = b'\0' * (1 << 16)
  while not handler.server.stopping.is_set():
    handler.wfile.write(block)
    handler.server.sent += len(block)


def _redirect(location):
  def redirect(handler):
    handler.send_response(302)
    handler.send_header('Location', location)
    handler.send_header('Content-Length', '0')
    handler.end_headers()

  return redirect


@pytest.fixture
def server():
  httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
  httpd.daemon_threads = True
  httpd.requests = []
  httpd.stopping = threading.Event()
  httpd.sent = 0
  httpd.routes = {
    'good.gz': _GOOD,
    'truncated.gz': _GOOD[:-10],
    'wrong.gz': _WRONG,
    'notgzip.gz': b'<html>mirror moved</html>',
    'cut.gz': _cut_connection,
    'error.gz': _server_error,
    'slow.gz': _slow,
    'drip.gz': _drip,
    'drip-headers.gz': _drip_headers,
    'endless.gz': _endless,
    'huge.gz': lambda handler: _endless(handler, declared=10 * 10**9),
  }
  thread = threading.Thread(
    target=httpd.serve_forever, args=(0.05,), daemon=True
  )
  thread.start()
  httpd.url = f'http://127.0.0.1:{httpd.server_address[1]}/files/'
  yield httpd
  httpd.stopping.set()
  httpd.shutdown()
  httpd.server_close()


def _unused_port():
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def test_good_file_lands_verified(server, tmp_path):
  path = download.maybe_download(
    'good.gz', tmp_path, server.url, _GOOD_MD5, **_FAST
  )
  assert path == os.path.join(tmp_path, 'good.gz')
  assert (tmp_path / 'good.gz').read_bytes() == _GOOD
  assert os.listdir(tmp_path) == ['good.gz']


def test_creates_work_directory(server, tmp_path):
  target = tmp_path / 'a' / 'b'
  download.maybe_download('good.gz', target, server.url, _GOOD_MD5, **_FAST)
  assert os.listdir(target) == ['good.gz']


def test_existing_file_is_not_downloaded(server, tmp_path):
  (tmp_path / 'good.gz').write_bytes(b'mine')
  download.maybe_download('good.gz', tmp_path, server.url, _GOOD_MD5)
  assert server.requests == []
  assert (tmp_path / 'good.gz').read_bytes() == b'mine'


@pytest.mark.parametrize('name', ['wrong.gz', 'truncated.gz', 'notgzip.gz'])
def test_bad_content_raises_checksum_error(server, tmp_path, name):
  with pytest.raises(errors.ChecksumError) as info:
    download.maybe_download(name, tmp_path, server.url, _GOOD_MD5, **_FAST)
  assert server.url + name in str(info.value)
  assert info.value.path == os.path.join(tmp_path, name)
  assert os.listdir(tmp_path) == []
  assert server.requests == [name]  # Content errors are not retried.


def test_not_found_raises_download_error_without_retry(server, tmp_path):
  with pytest.raises(errors.DownloadError, match='404') as info:
    download.maybe_download(
      'missing.gz', tmp_path, server.url, _GOOD_MD5, **_FAST
    )
  assert server.url + 'missing.gz' in str(info.value)
  assert os.listdir(tmp_path) == []
  assert server.requests == ['missing.gz']


def test_server_error_is_retried_then_raises(server, tmp_path):
  with pytest.raises(errors.DownloadError, match='503'):
    download.maybe_download(
      'error.gz', tmp_path, server.url, _GOOD_MD5, **_FAST
    )
  assert server.requests == ['error.gz'] * 3
  assert os.listdir(tmp_path) == []


def test_retry_recovers_from_transient_error(server, tmp_path):
  calls = []

  def flaky(handler):
    calls.append(1)
    if len(calls) == 1:
      handler.send_error(503)
    else:
      handler._send(_GOOD)

  server.routes['flaky.gz'] = flaky
  download.maybe_download('flaky.gz', tmp_path, server.url, _GOOD_MD5, **_FAST)
  assert len(calls) == 2
  assert os.listdir(tmp_path) == ['flaky.gz']


def test_connection_cut_short_raises_download_error(server, tmp_path):
  with pytest.raises(errors.DownloadError, match='closed early') as info:
    download.maybe_download('cut.gz', tmp_path, server.url, _GOOD_MD5, **_FAST)
  assert 'cut.gz' in str(info.value)
  assert os.listdir(tmp_path) == []
  assert len(server.requests) == 3


def test_timeout_raises_download_error(server, tmp_path):
  start = time.perf_counter()
  with pytest.raises(errors.DownloadError, match='timed out'):
    download.maybe_download(
      'slow.gz',
      tmp_path,
      server.url,
      _GOOD_MD5,
      retries=0,
      backoff=0.01,
      timeout=0.2,
    )
  assert time.perf_counter() - start < 1.0
  assert os.listdir(tmp_path) == []


def test_unreachable_host_raises_download_error(tmp_path):
  url = f'http://127.0.0.1:{_unused_port()}/'
  with pytest.raises(errors.DownloadError, match='reach') as info:
    download.maybe_download('good.gz', tmp_path, url, _GOOD_MD5, **_FAST)
  assert url + 'good.gz' in str(info.value)
  assert info.value.path == os.path.join(tmp_path, 'good.gz')
  assert os.listdir(tmp_path) == []


def test_work_directory_is_a_file(server, tmp_path):
  (tmp_path / 'f').write_bytes(b'x')
  with pytest.raises(errors.DataError, match='directory'):
    download.maybe_download('good.gz', tmp_path / 'f', server.url, _GOOD_MD5)
  assert (tmp_path / 'f').read_bytes() == b'x'


def test_read_data_sets_downloads_missing_files(server, tmp_path):
  root = importlib.resources.files('graphnet') / 'data' / 'mnist'
  for name in mnist_files.MNIST_FILES:
    server.routes[name] = (root / name).read_bytes()
  data = input_data.read_data_sets(tmp_path, source_url=server.url, **_FAST)
  assert sorted(server.requests) == sorted(mnist_files.MNIST_FILES)
  assert sorted(os.listdir(tmp_path)) == sorted(mnist_files.MNIST_FILES)
  assert data.train.num_examples == 55000
  assert data.test.num_examples == 10000


def test_read_data_sets_download_failure_leaves_nothing(server, tmp_path):
  server.routes[mnist_files.TRAIN_IMAGES] = _GOOD  # Not MNIST.
  with pytest.raises(errors.ChecksumError) as info:
    input_data.read_data_sets(tmp_path, source_url=server.url, **_FAST)
  assert mnist_files.TRAIN_IMAGES in str(info.value)
  assert os.listdir(tmp_path) == []


def _assert_within(start, seconds):
  took = time.monotonic() - start
  assert took < seconds, f'took {took:.1f} s, expected under {seconds} s'


class TestDeadline:
  def test_drip_is_cut_off_at_the_deadline(self, server, tmp_path):
    start = time.monotonic()
    with pytest.raises(errors.DownloadError, match='2 s deadline') as info:
      download.maybe_download(
        'drip.gz', tmp_path, server.url, _GOOD_MD5, timeout=5.0, deadline=2.0
      )
    # The drip alone would take len(_GOOD) / 2 seconds.
    _assert_within(start, 4.0)
    assert server.url + 'drip.gz' in str(info.value)
    assert '\n' not in str(info.value)
    assert server.requests == ['drip.gz']  # Not retried.
    assert os.listdir(tmp_path) == []

  def test_dripping_headers_are_cut_off_too(self, server, tmp_path):
    start = time.monotonic()
    with pytest.raises(errors.DownloadError, match='deadline'):
      download.maybe_download(
        'drip-headers.gz',
        tmp_path,
        server.url,
        _GOOD_MD5,
        timeout=5.0,
        deadline=2.0,
      )
    _assert_within(start, 4.0)
    assert os.listdir(tmp_path) == []

  def test_deadline_bounds_retries_and_back_off(self, server, tmp_path):
    start = time.monotonic()
    with pytest.raises(errors.DownloadError, match='1 s deadline') as info:
      download.maybe_download(
        'error.gz',
        tmp_path,
        server.url,
        _GOOD_MD5,
        retries=5,
        backoff=10.0,
        deadline=1.0,
      )
    _assert_within(start, 3.0)
    assert 'HTTP error 503' in str(info.value)
    assert server.requests == ['error.gz']
    assert os.listdir(tmp_path) == []

  def test_fast_download_within_deadline_lands(self, server, tmp_path):
    download.maybe_download(
      'good.gz', tmp_path, server.url, _GOOD_MD5, deadline=5.0
    )
    assert (tmp_path / 'good.gz').read_bytes() == _GOOD


class TestSizeCap:
  def test_endless_body_is_refused_at_the_cap(self, server, tmp_path):
    cap = 1 << 20
    with pytest.raises(
      errors.DownloadError, match=f'more than the {cap}-byte limit'
    ):
      download.maybe_download(
        'endless.gz', tmp_path, server.url, _GOOD_MD5, max_bytes=cap, **_FAST
      )
    assert server.requests == ['endless.gz']  # Not retried.
    assert os.listdir(tmp_path) == []

  def test_huge_content_length_is_refused_before_reading(
    self, server, tmp_path
  ):
    start = time.monotonic()
    with pytest.raises(errors.DownloadError) as info:
      download.maybe_download('huge.gz', tmp_path, server.url, _GOOD_MD5)
    _assert_within(start, 5.0)
    message = str(info.value)
    assert 'declares 10000000000 bytes (Content-Length)' in message
    assert f'over the {download.DEFAULT_MAX_BYTES}-byte limit' in message
    assert server.url + 'huge.gz' in message
    assert os.listdir(tmp_path) == []

  def test_file_at_the_cap_is_accepted(self, server, tmp_path):
    download.maybe_download(
      'good.gz', tmp_path, server.url, _GOOD_MD5, max_bytes=len(_GOOD)
    )
    assert os.listdir(tmp_path) == ['good.gz']

  def test_default_cap_holds_the_largest_mnist_file(self):
    bundled = importlib.resources.files('graphnet') / 'data' / 'mnist'
    largest = max(
      len((bundled / n).read_bytes()) for n in mnist_files.MNIST_FILES
    )
    assert largest < download.DEFAULT_MAX_BYTES


class TestRedirects:
  @pytest.mark.parametrize(
    'target', ['ftp://127.0.0.1/good.gz', 'file:///etc/passwd']
  )
  def test_redirect_to_other_scheme_is_refused(self, server, tmp_path, target):
    server.routes['moved.gz'] = _redirect(target)
    with pytest.raises(errors.DownloadError) as info:
      download.maybe_download(
        'moved.gz', tmp_path, server.url, _GOOD_MD5, **_FAST
      )
    message = str(info.value)
    assert f'redirects (HTTP 302) to {target}' in message
    assert 'expected an http or https URL' in message
    assert server.url + 'moved.gz' in message
    assert server.requests == ['moved.gz']
    assert os.listdir(tmp_path) == []

  @pytest.mark.parametrize('absolute', [True, False])
  def test_http_redirect_is_followed(self, server, tmp_path, absolute):
    target = server.url + 'good.gz' if absolute else '/files/good.gz'
    server.routes['moved.gz'] = _redirect(target)
    download.maybe_download(
      'moved.gz', tmp_path, server.url, _GOOD_MD5, **_FAST
    )
    assert server.requests == ['moved.gz', 'good.gz']
    assert (tmp_path / 'moved.gz').read_bytes() == _GOOD

  def test_https_to_a_plain_server_fails_cleanly(self, server, tmp_path):
    url = server.url.replace('http://', 'https://')
    with pytest.raises(errors.DownloadError, match='https://'):
      download.maybe_download('good.gz', tmp_path, url, _GOOD_MD5, **_FAST)
    assert os.listdir(tmp_path) == []


def _start_child(code, *args):
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  return subprocess.Popen(
    [sys.executable, '-c', code, *map(str, args)],
    env=env,
    stdout=subprocess.PIPE,
    stderr=subprocess.STDOUT,
  )


def _wait_for_temp_file(child, directory, seconds=30.0):
  stop = time.monotonic() + seconds
  while time.monotonic() < stop:
    if any('.graphnet-' in name for name in os.listdir(directory)):
      return
    if child.poll() is not None:
      break
    time.sleep(0.05)
  child.kill()
  output = child.communicate(timeout=10)[0].decode()
  pytest.fail(f'no temp file appeared in {directory}; child said:\n{output}')


def _terminate(child):
  child.send_signal(signal.SIGTERM)
  try:
    child.wait(timeout=20)
  except subprocess.TimeoutExpired:
    child.kill()
    child.wait(timeout=10)
    pytest.fail('the child ignored SIGTERM for 20 s')
  return child.returncode


class TestSigterm:
  def test_sigterm_during_download_leaves_no_temp_file(self, server, tmp_path):
    code = (
      'import sys\n'
      'from graphnet.data import download\n'
      f'download.maybe_download("drip.gz", sys.argv[1], {server.url!r}, '
      f'{_GOOD_MD5!r}, deadline=50.0)\n'
    )
    child = _start_child(code, tmp_path)
    _wait_for_temp_file(child, tmp_path)
    assert _terminate(child) == -signal.SIGTERM
    assert os.listdir(tmp_path) == []

  def test_sigterm_during_bundled_copy_leaves_no_temp_file(self, tmp_path):
    # The copy is made slow, so the signal lands while it is written.
    code = (
      'import shutil, sys, time\n'
      'def slow_copy(src, dst, *args):\n'
      '  dst.write(src.read(1000))\n'
      '  dst.flush()\n'
      '  time.sleep(60)\n'
      'shutil.copyfileobj = slow_copy\n'
      'from graphnet import input_data\n'
      'input_data.read_data_sets(sys.argv[1])\n'
    )
    child = _start_child(code, tmp_path)
    _wait_for_temp_file(child, tmp_path)
    assert _terminate(child) == -signal.SIGTERM
    assert os.listdir(tmp_path) == []

  def test_python_sigterm_handler_still_runs(self, server, tmp_path):
    # A handler that does not exit: the download stops with one line and
    # the handler has seen the signal.
    code = (
      'import signal, sys\n'
      'from graphnet import errors\nfrom graphnet.data import download\n'
      'seen = []\n'
      'signal.signal(signal.SIGTERM, lambda s, f: seen.append(s))\n'
      'try:\n'
      f'  download.maybe_download("drip.gz", sys.argv[1], {server.url!r}, '
      f'{_GOOD_MD5!r}, deadline=50.0)\n'
      'except errors.DataError as e:\n'
      '  print("error:", e, "seen:", seen)\n'
    )
    child = _start_child(code, tmp_path)
    _wait_for_temp_file(child, tmp_path)
    assert _terminate(child) == 0
    output = child.stdout.read().decode()
    assert 'interrupted by SIGTERM' in output
    assert f'seen: [{int(signal.SIGTERM)}]' in output
    assert os.listdir(tmp_path) == []


_MAKE_TEMP_FILE = (
  'import sys, time\n'
  'from graphnet.data import temp_files\n'
  'fd, path = temp_files.create_temp_file(sys.argv[1], sys.argv[2])\n'
  'print(path, flush=True)\n'
  'time.sleep(float(sys.argv[3]))\n'
)


def _leftover(directory, name):
  """A temp file as a graphnet process killed while writing leaves it."""
  child = _start_child(_MAKE_TEMP_FILE, directory, name, 0)
  output = child.communicate(timeout=30)[0].decode()
  assert child.returncode == 0, output
  return os.path.basename(output.strip())


@pytest.fixture
def live_temp_file(tmp_path):
  """A temp file of a process that is still writing it."""
  child = _start_child(_MAKE_TEMP_FILE, tmp_path, 'good.gz', 60)
  path = child.stdout.readline().decode().strip()
  yield os.path.basename(path)
  child.kill()
  child.wait(timeout=10)


def _other_host(name):
  # The same name as written on another machine sharing the directory.
  return re.sub(r'graphnet-[0-9a-f]{8}-', 'graphnet-0000abcd-', name)


def _make_old(path):
  two_days_ago = time.time() - 2 * 24 * 3600
  os.utime(path, (two_days_ago, two_days_ago))


class TestStaleTempFiles:
  def test_dead_process_leftovers_go_unrelated_files_stay(
    self, server, tmp_path, live_temp_file
  ):
    stale = [_leftover(tmp_path, 'good.gz'), _leftover(tmp_path, 'other.gz')]
    kept = [
      live_temp_file,
      _other_host(stale[0]),  # Its pid means nothing here.
      stale[0] + '.keep',
      stale[0][1:],
      f'.good.gz.{"0" * 12}.tmp',
      'notes.txt',
    ]
    for name in kept[1:]:
      (tmp_path / name).write_bytes(b'partial')
    # A directory with a leftover's name is not graphnet's: it stays.
    kept_dir = stale[1].replace('.other.gz.', '.third.gz.')
    (tmp_path / kept_dir).mkdir()
    assert set(stale + kept) <= set(os.listdir(tmp_path))
    download.maybe_download('good.gz', tmp_path, server.url, _GOOD_MD5)
    assert sorted(os.listdir(tmp_path)) == sorted(kept + [kept_dir, 'good.gz'])

  def test_old_leftovers_go_whatever_their_pid(
    self, server, tmp_path, live_temp_file
  ):
    # The pid may have been reused, or belong to another machine.
    other_host = _other_host(live_temp_file)
    (tmp_path / other_host).write_bytes(b'partial')
    for name in (live_temp_file, other_host):
      _make_old(tmp_path / name)
    download.maybe_download('good.gz', tmp_path, server.url, _GOOD_MD5)
    assert os.listdir(tmp_path) == ['good.gz']

  def test_bundled_copy_cleans_leftovers(self, tmp_path):
    _leftover(tmp_path, mnist_files.TRAIN_IMAGES)
    input_data.read_data_sets(tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted(mnist_files.MNIST_FILES)
