"""End-to-end tests of `python -m graphnet.predict`: polarity flags, file
names that try to fake output lines, and inputs that must fail in one
`graphnet: error:` line before anything is printed."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet.data import idx
from graphnet.data import mnist_files
from graphnet.serving import predictor
from graphnet.training import config
from graphnet.training import schedules
from graphnet.training import trainer

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def trained(tmp_path_factory, data_dir):
  """(checkpoint dir, 12 test digits the model gets right, their labels)."""
  log_dir = tmp_path_factory.mktemp('logs')
  # Trained in this process: only the predict runs need a command line.
  trainer.run_training(
    config.TrainConfig(
      log_dir=str(log_dir),
      input_data_dir=str(data_dir),
      max_steps=300,
      seed=1,
      schedule=schedules.Schedule(base_rate=0.1),
      eval_every=10000,
      log_every=10000,
    ),
    printer=lambda line: None,
  )
  images = idx.read_idx_images(str(data_dir / mnist_files.TEST_IMAGES))[..., 0]
  labels = idx.read_idx_labels(str(data_dir / mnist_files.TEST_LABELS))
  with predictor.Predictor.from_checkpoint(str(log_dir)) as model:
    right = model.predict(images[:100]) == labels[:100]
  # PNG keeps gray pixels exactly, so files of these are classified right.
  chosen = np.flatnonzero(right)[:12]
  assert len(chosen) == 12
  return str(log_dir), images[chosen], labels[chosen]


def _python(*args, cwd=None):
  env = dict(os.environ, PYTHONPATH=_REPO)
  # The user's own level would hide the TF warnings the tests look for.
  env.pop('TF_CPP_MIN_LOG_LEVEL', None)
  return subprocess.run(
    [sys.executable, *args],
    capture_output=True,
    env=env,
    timeout=600,
    cwd=cwd,
  )


def _predict(*args, cwd=None):
  """Runs predict; returns (exit code, stdout lines, stderr text)."""
  done = _python('-m', 'graphnet.predict', *args, cwd=cwd)
  out = done.stdout.decode('utf-8')
  return done.returncode, out.splitlines(), done.stderr.decode('utf-8')


def _png(image):
  with tf.Graph().as_default(), tf.Session() as session:
    return session.run(tf.io.encode_png(image[..., np.newaxis]))


def _jpeg(image):
  with tf.Graph().as_default(), tf.Session() as session:
    return session.run(tf.io.encode_jpeg(image[..., np.newaxis]))


def _error_line(stderr):
  """The one `graphnet: error:` line; it must end stderr."""
  assert 'Traceback' not in stderr
  lines = stderr.splitlines()
  errors = [line for line in lines if line.startswith('graphnet: error:')]
  assert len(errors) == 1, stderr[-2000:]
  assert lines[-1] == errors[0]
  return errors[0]


class TestPolarity:
  @pytest.fixture
  def files(self, trained, tmp_path):
    """6 light-on-dark and 6 dark-on-light PNG digits, and their labels."""
    _, digits, labels = trained
    light, dark = [], []
    for i, digit in enumerate(digits):
      on_black = tmp_path / f'light{i}.png'
      on_white = tmp_path / f'dark{i}.png'
      on_black.write_bytes(_png(digit))
      on_white.write_bytes(_png(255 - digit))
      (light if i % 2 else dark).append(str(on_black if i % 2 else on_white))
    return light, dark, labels[1::2], labels[0::2]

  def test_auto_inverts_dark_on_light_with_a_note(self, trained, files):
    light, dark, light_labels, dark_labels = files
    code, out, err = _predict('--checkpoint_dir', trained[0], *light, *dark)
    assert code == 0, err
    rows = [line.split('\t') for line in out]
    assert [r[0] for r in rows] == light + dark
    classes = [int(r[1]) for r in rows]
    assert classes == list(light_labels) + list(dark_labels)
    notes = [line for line in err.splitlines() if 'graphnet: note:' in line]
    assert len(notes) == 1
    assert f'inverted {len(dark)} of {len(light + dark)} images' in notes[0]
    assert os.path.basename(dark[0]) in notes[0]
    assert os.path.basename(light[0]) not in notes[0]
    assert '--noinvert' in notes[0]

  def test_flags_force_polarity(self, trained, files):
    light, dark, light_labels, dark_labels = files
    code, out, err = _predict(
      '--checkpoint_dir', trained[0], '--noinvert', *dark
    )
    assert code == 0, err
    kept = np.array([int(line.split('\t')[1]) for line in out])
    assert np.mean(kept == dark_labels) < 0.5  # Left dark on light.
    assert 'graphnet: note:' not in err
    code, out, err = _predict(
      '--checkpoint_dir', trained[0], '--invert', *light
    )
    assert code == 0, err
    forced = np.array([int(line.split('\t')[1]) for line in out])
    assert np.mean(forced == light_labels) < 0.5  # Now dark on light.
    assert 'graphnet: note:' not in err
    code, out, err = _predict('--checkpoint_dir', trained[0], '--invert', *dark)
    assert code == 0, err
    assert [int(line.split('\t')[1]) for line in out] == list(dark_labels)

  def test_help_documents_the_three_states(self):
    code, out, _ = _predict('--helpshort')
    text = ' '.join(out)
    assert '--[no]invert' in text and 'auto' in text


class TestFileNames:
  def test_control_characters_cannot_fake_a_line(self, trained, tmp_path):
    log_dir, digits, labels = trained
    name = 'seven.png\nfake.png\t9\t1.0000\n'
    (tmp_path / name).write_bytes(_png(digits[0]))
    raw = os.fsencode(tmp_path) + b'/not-utf8-\xff.png'
    with open(raw, 'wb') as f:
      f.write(_png(digits[1]))
    code, out, err = _predict(
      '--checkpoint_dir', log_dir, str(tmp_path / name), os.fsdecode(raw)
    )
    assert code == 0, err
    assert len(out) == 2
    first, second = (line.split('\t') for line in out)
    assert first == [
      f'{tmp_path}/seven.png\\nfake.png\\t9\\t1.0000\\n',
      str(labels[0]),
      first[2],
    ]
    assert second[:2] == [f'{tmp_path}/not-utf8-\\xff.png', str(labels[1])]

  def test_missing_file_is_one_escaped_error_line(self, trained, tmp_path):
    code, out, err = _predict(
      '--checkpoint_dir', trained[0], 'gone\n0\t0\t1.0.png', cwd=tmp_path
    )
    assert code == 1 and out == []
    assert 'gone\\n0\\t0\\t1.0.png' in _error_line(err)


class TestInputErrors:
  """Each fails in one line, exit code 1, before anything is printed."""

  def test_idx_with_zero_images(self, trained, tmp_path):
    images = str(tmp_path / 'empty-images.gz')
    labels = str(tmp_path / 'empty-labels.gz')
    idx.write_idx_images(images, np.zeros([0, 28, 28], np.uint8))
    idx.write_idx_labels(labels, np.zeros([0], np.uint8))
    before = sorted(os.listdir(tmp_path))
    for extra in ([], ['--labels', labels]):
      code, out, err = _predict(
        '--checkpoint_dir', trained[0], '--idx', images, *extra, cwd=tmp_path
      )
      assert code == 1 and out == []
      line = _error_line(err)
      assert f'{images}: holds 0 images' in line
      assert 'ZeroDivisionError' not in err
    assert sorted(os.listdir(tmp_path)) == before

  @pytest.mark.parametrize(
    'data, reason',
    [
      (b'\x89PNG\r\n\x1a\n' + b'\0' * 40, 'cannot decode the image ('),
      (b'GIF89a' + b'\xff' * 10, 'cannot decode the image ('),
      (b'hello', 'not an image'),
    ],
    ids=['png', 'gif', 'text'],
  )
  def test_image_decode_error(self, trained, tmp_path, data, reason):
    good = tmp_path / 'good.png'
    good.write_bytes(_png(trained[1][0]))
    bad = tmp_path / 'bad.png'
    bad.write_bytes(data)
    code, out, err = _predict(
      '--checkpoint_dir', trained[0], str(good), str(bad), cwd=tmp_path
    )
    # The good file's result is printed; the bad one is reported (issue 24).
    assert code == 1
    assert [line.split('\t')[0] for line in out] == [str(good)]
    line = _error_line(err)
    assert line.startswith(f'graphnet: error: {bad}: {reason}')
    for noise in ('Graph execution error', 'Detected at node', 'File "'):
      assert noise not in line

  @pytest.mark.parametrize('kind', ['png', 'jpeg'])
  @pytest.mark.parametrize('keep', [0.1, 0.5, 0.98])
  def test_damaged_image_is_all_stderr_shows(
    self, trained, tmp_path, kind, keep
  ):
    whole = _png(trained[1][0]) if kind == 'png' else _jpeg(trained[1][0])
    bad = tmp_path / f'cut.{kind}'
    bad.write_bytes(whole[: int(len(whole) * keep)])
    code, out, err = _predict(
      '--checkpoint_dir', trained[0], str(bad), cwd=tmp_path
    )
    assert code == 1 and out == []
    # Only graphnet's line: no TF warning or libjpeg message before it.
    assert err.splitlines() == [_error_line(err)]
    assert f'{bad}: cannot decode the image (damaged {kind.upper()}: ' in err

  def test_images_and_idx_together(self, trained, tmp_path):
    images = str(tmp_path / 'images.gz')
    idx.write_idx_images(images, trained[1][:2])
    code, out, err = _predict(
      '--checkpoint_dir', trained[0], '--idx', images, 'x.png'
    )
    assert code == 1 and out == []
    assert 'not both' in _error_line(err)
