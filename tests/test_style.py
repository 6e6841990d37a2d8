"""The whole tree passes the project's linter and formatter (ruff)."""

import os

import _helpers

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _ruff(*args):
  return _helpers.run_python('-m', 'ruff', *args, cwd=_REPO, timeout=120)


def test_ruff_check_is_clean():
  done = _ruff('check', '.')
  assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_clean():
  done = _ruff('format', '--check', '.')
  assert done.returncode == 0, done.stdout + done.stderr
