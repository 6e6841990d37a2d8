"""The package tree: names users type, module sizes, and old checkpoints.

`tests/fixtures/pre_layout_mlp` was written by `python -m
graphnet.fully_connected_feed --max_steps 100` before graphnet's modules
moved into subpackages; its `expected.npz` holds the `Predictor` output of
that version on the first 32 bundled test images.
"""

import ast
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet.data import mnist_reader

_REPO = pathlib.Path(__file__).resolve().parents[1]
_FIXTURE = _REPO / 'tests' / 'fixtures' / 'pre_layout_mlp'
_PACKAGE = _REPO / 'graphnet'
_MAX_LINES = 450
# Modules past the cap, each with the most lines it may have: none left
# (the hooks of the loop, which issue 20 allowed, are split by concern).
# An entry here may not grow; a split lowers or removes it.
_OVER_CAP = {}
# BUILD.md's rows, top first: a module imports its own folder and the rows
# above its own; the top-level drop-ins and entry points (in no row) import
# anything. `compat/` sits beside `cli/`, neither importing the other.
_ROWS = (
  ('errors', 'attributes'),
  ('contract', 'options', 'tf_loader'),
  ('data',),
  ('nn',),
  ('checkpoints',),
  ('distributed',),
  ('serving',),
  ('training',),
  ('cli', 'compat'),
)


@pytest.fixture(scope='module')
def test_images(tmp_path_factory):
  data = mnist_reader.read_data_sets(str(tmp_path_factory.mktemp('data')))
  return data.test.images[:32]


class TestOldCheckpoint:
  def test_predictor_gives_the_old_probabilities(self, test_images):
    from graphnet import predictor

    expected = np.load(_FIXTURE / 'expected.npz')
    with predictor.Predictor.from_checkpoint(str(_FIXTURE)) as model:
      probabilities = model.predict_proba(test_images)
      classes = model.predict(test_images)
    np.testing.assert_allclose(
      probabilities, expected['probabilities'], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_array_equal(classes, expected['classes'])

  def test_plain_tensorflow_restores_the_meta_graph(self, test_images):
    expected = np.load(_FIXTURE / 'expected.npz')
    prefix = str(_FIXTURE / 'model.ckpt-100')
    with tf.Graph().as_default(), tf.Session() as sess:
      saver = tf.train.import_meta_graph(prefix + '.meta')
      saver.restore(sess, prefix)
      found = sess.run('probabilities:0', {'images:0': test_images})
    np.testing.assert_allclose(
      found, expected['probabilities'], rtol=1e-5, atol=1e-6
    )

  def test_trainer_resumes_it(self, tmp_path):
    log_dir = tmp_path / 'logs'
    shutil.copytree(_FIXTURE, log_dir)
    env = dict(os.environ, TEST_TMPDIR=str(tmp_path))
    done = subprocess.run(
      [
        sys.executable,
        '-m',
        'graphnet.fully_connected_feed',
        '--max_steps',
        '120',
        '--log_dir',
        str(log_dir),
        '--eval_sets',
        'test',
      ],
      capture_output=True,
      text=True,
      env=env,
      cwd=tmp_path,
      timeout=300,
      check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # Resumed at step 100: no step below it is trained again.
    assert 'Step 0:' not in done.stdout
    assert tf.train.latest_checkpoint(str(log_dir)).endswith('model.ckpt-120')


def _modules():
  for path in sorted(_PACKAGE.rglob('*.py')):
    yield path.relative_to(_PACKAGE).as_posix(), path


def _graphnet_imports(path):
  """The top-level graphnet names (`data`, `errors`...) a module imports."""
  for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
    if isinstance(node, ast.Import):
      dotted = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      dotted = [f'{node.module}.{alias.name}' for alias in node.names]
    else:
      continue
    for name in dotted:
      parts = name.split('.')
      if parts[0] == 'graphnet' and len(parts) > 1:
        yield parts[1]


class TestTree:
  def test_no_module_is_over_the_size_cap(self):
    lines = {
      name: len(path.read_text(encoding='utf-8').splitlines())
      for name, path in _modules()
    }
    over = {
      name: count
      for name, count in lines.items()
      if count > _OVER_CAP.get(name, _MAX_LINES)
    }
    assert over == {}

  def test_each_row_imports_only_the_rows_above_it(self):
    row_of = {unit: i for i, units in enumerate(_ROWS) for unit in units}
    wrong = set()
    for name, path in _modules():
      unit = name.split('/')[0].removesuffix('.py')
      if unit not in row_of:
        continue
      for target in _graphnet_imports(path):
        if target == unit:
          continue
        if row_of.get(target, len(_ROWS)) >= row_of[unit]:
          wrong.add((name, target))
    assert wrong == set()

  def test_subpackage_inits_import_nothing(self):
    for name, path in _modules():
      if not name.endswith('__init__.py') or '/' not in name:
        continue
      if name.startswith('compat/'):
        continue  # The TF1 namespace is a module users import.
      tree = ast.parse(path.read_text(encoding='utf-8'))
      imports = [
        n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
      ]
      assert imports == [], name

  @pytest.mark.parametrize(
    'drop_in, home',
    [
      ('input_data', 'graphnet.data.mnist_reader'),
      ('mnist', 'graphnet.nn.mlp'),
      ('layers', 'graphnet.nn.layers'),
      ('hooks', 'graphnet.training.hooks'),
      ('predictor', 'graphnet.serving.predictor'),
    ],
  )
  def test_drop_ins_are_their_implementations(self, drop_in, home):
    import importlib

    thin = importlib.import_module(f'graphnet.{drop_in}')
    impl = importlib.import_module(home)
    assert thin.__all__ == impl.__all__
    for name in impl.__all__:
      assert getattr(thin, name) is getattr(impl, name), name
