"""Every Python block and shell block of README.md runs as written.

The blocks are read from README.md in order. Each Python block runs in a
fresh interpreter; each shell block runs as one bash script (`set -e`).
`/tmp/` in a block becomes the test's directory (and `TEST_TMPDIR` moves
the commands' default paths there), so a block runs as written on a fresh
machine whose `/tmp` is that directory. Before them, the quick start's
trainer runs (shortened), as README's reader has done by then.

A block is either run or listed in `_NOT_RUN_HERE` with the test that
covers it instead, so a new block cannot go unchecked. A few commands are
shortened by `_SHORTER` (each replacement is a flag value only).
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[1]
_BLOCK = re.compile(r'^```(python|sh)\n(.*?)^```', re.DOTALL | re.MULTILINE)
_TRAIN = 'python -m graphnet.fully_connected_feed'

# Heading of a block's section -> why it is not run here.
_NOT_RUN_HERE = {
  '## Quick start': 'CI runs it (.ci/run); the quick start is the pre-step',
  '## Overriding settings': 'tests/test_readme_commands.py (shortened)',
  '## Faster training, bigger models': 'tests/test_readme_commands.py',
  '## Several machines': (
    'needs the hosts ps0, w0, w1; tests/test_cluster.py runs the local launcher'
  ),
}

# Text in a block -> what the test runs instead (waits shortened).
_SHORTER = {
  '--timeout_secs 60': '--timeout_secs 1',
  'max_steps=1500': 'max_steps=150',
  'epochs=5': 'epochs=1',
}


def _blocks():
  """(heading, language, code) of every fenced block, in README order."""
  text = (_REPO / 'README.md').read_text(encoding='utf-8')
  found = []
  for match in _BLOCK.finditer(text):
    before = text[: match.start()]
    headings = re.findall(r'^(##+ .+)$', before, re.MULTILINE)
    top = [h for h in headings if h.startswith('## ')]
    found.append((top[-1] if top else '', match.group(1), match.group(2)))
  return found


_BLOCKS = _blocks()
_RUN = [b for b in _BLOCKS if b[0] not in _NOT_RUN_HERE]


def _as_here(code, root):
  for text, shorter in _SHORTER.items():
    code = code.replace(text, shorter)
  return code.replace('/tmp/', f'{root}/')


def _env(root):
  bin_dir = os.path.dirname(sys.executable)
  return dict(
    os.environ,
    TEST_TMPDIR=str(root),
    PYTHONPATH=str(_REPO),
    PATH=f'{bin_dir}{os.pathsep}{os.environ.get("PATH", "")}',
  )


@pytest.fixture(scope='module')
def root(tmp_path_factory):
  """The test's /tmp, after README's quick start (shortened) has run."""
  path = tmp_path_factory.mktemp('readme_root')
  done = subprocess.run(
    [sys.executable, '-m', 'graphnet.fully_connected_feed'],
    cwd=_REPO,
    env=_env(path),
    capture_output=True,
    text=True,
    timeout=600,
    check=False,
  )
  assert done.returncode == 0, done.stderr[-3000:]
  return path


def test_every_block_is_run_or_covered_elsewhere():
  headings = {b[0] for b in _BLOCKS}
  assert set(_NOT_RUN_HERE) <= headings, set(_NOT_RUN_HERE) - headings
  assert len(_RUN) >= 5
  assert {lang for _, lang, _ in _RUN} == {'python', 'sh'}


def test_blocks_not_run_here_hold_only_what_their_cover_runs():
  # A command added to a skipped block must not escape every test.
  for heading, lang, code in _BLOCKS:
    if heading not in _NOT_RUN_HERE or lang != 'sh':
      continue
    for line in code.splitlines():
      line = line.split('#', 1)[0].strip()
      if not line:
        continue
      allowed = (
        _TRAIN,
        'printf ',
        'pip install',
        'python -m pytest',
        'python scripts/launch_local_cluster.py',
        'CLUSTER=',
        'TF_CONFIG=',
      )
      assert any(part.strip().startswith(allowed) for part in line.split('&&'))


@pytest.mark.parametrize(
  'index', range(len(_RUN)), ids=lambda i: f'{_RUN[i][0][3:20]}-{i}'
)
def test_block_runs_as_written(root, index):
  heading, lang, code = _RUN[index]
  code = _as_here(code, root)
  if lang == 'python':
    argv = [sys.executable, '-c', code]
  else:
    argv = ['bash', '-e', '-o', 'pipefail', '-c', code]
  done = subprocess.run(
    argv,
    cwd=_REPO,
    env=_env(root),
    capture_output=True,
    text=True,
    timeout=600,
    check=False,
  )
  assert done.returncode == 0, (heading, code, done.stderr[-3000:])
  assert 'Traceback' not in done.stderr, done.stderr[-3000:]
