"""Tests for graphnet.download against a real HTTP server on 127.0.0.1."""

import gzip
import hashlib
import http.server
import importlib.resources
import os
import socket
import threading
import time

import pytest

from graphnet import download
from graphnet import errors
from graphnet import input_data

_GOOD = gzip.compress(b'\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02\x03', mtime=0)
_GOOD_MD5 = hashlib.md5(gzip.decompress(_GOOD)).hexdigest()
_WRONG = gzip.compress(b'\x00\x00\x08\x01\x00\x00\x00\x03\x09\x09\x09', mtime=0)
_FAST = dict(retries=2, backoff=0.01, timeout=2.0)


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


@pytest.fixture
def server():
  httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
  httpd.daemon_threads = True
  httpd.requests = []
  httpd.routes = {
    'good.gz': _GOOD,
    'truncated.gz': _GOOD[:-10],
    'wrong.gz': _WRONG,
    'notgzip.gz': b'<html>mirror moved</html>',
    'cut.gz': _cut_connection,
    'error.gz': _server_error,
    'slow.gz': _slow,
  }
  thread = threading.Thread(
    target=httpd.serve_forever, args=(0.05,), daemon=True
  )
  thread.start()
  httpd.url = f'http://127.0.0.1:{httpd.server_address[1]}/files/'
  yield httpd
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
  for name in input_data.MNIST_FILES:
    server.routes[name] = (root / name).read_bytes()
  data = input_data.read_data_sets(tmp_path, source_url=server.url, **_FAST)
  assert sorted(server.requests) == sorted(input_data.MNIST_FILES)
  assert sorted(os.listdir(tmp_path)) == sorted(input_data.MNIST_FILES)
  assert data.train.num_examples == 55000
  assert data.test.num_examples == 10000


def test_read_data_sets_download_failure_leaves_nothing(server, tmp_path):
  server.routes[input_data.TRAIN_IMAGES] = _GOOD  # Not MNIST.
  with pytest.raises(errors.ChecksumError) as info:
    input_data.read_data_sets(tmp_path, source_url=server.url, **_FAST)
  assert input_data.TRAIN_IMAGES in str(info.value)
  assert os.listdir(tmp_path) == []
