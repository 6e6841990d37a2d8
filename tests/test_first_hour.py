"""Issue 24's first-hour traps: each ends in a clear message, not silence."""

import numpy as np
import pytest
import sklearn.datasets

import graphnet
from graphnet import contract
from graphnet import errors
from graphnet.data import arrays
from graphnet.nn import layers


@pytest.fixture(scope='module')
def digits():
  found = sklearn.datasets.load_digits()
  x = (found.images / 16.0).astype(np.float32).reshape(-1, 64)
  y = found.target.astype(np.int32)
  return arrays.from_arrays(
    train=(x[:1200], y[:1200]), test=(x[1200:], y[1200:]), seed=0
  )


class TestContractNames:
  @pytest.mark.parametrize('name', contract.OUTPUTS)
  def test_a_layer_named_like_an_output_is_refused_at_build(
    self, digits, tmp_path, name
  ):
    model = layers.Sequential(
      [
        layers.Dense(16, activation=None, name='hidden'),
        layers.Dense(10, name=name),
      ]
    )
    with pytest.raises(errors.ConfigError, match=f'named {name!r}') as caught:
      graphnet.train(model, digits, str(tmp_path / 'logs'), max_steps=2)
    assert 'rename that layer' in str(caught.value)
    # Refused before anything was written.
    assert not list((tmp_path / 'logs').glob('model.ckpt-*'))


class TestQuietLibrary:
  def test_rmsprop_prints_no_deprecation_warning(self, digits, tmp_path, capfd):
    model = layers.Sequential([layers.Dense(8), layers.Dense(10)])
    lines = []
    graphnet.train(
      model,
      digits,
      str(tmp_path / 'logs'),
      max_steps=3,
      optimizer='rmsprop',
      printer=lines.append,
    )
    out, err = capfd.readouterr()
    assert 'deprecat' not in (out + err).lower()
    assert any(line.startswith('Step 0:') for line in lines)

  def test_fit_names_the_log_dir_it_made(self, digits):
    lines = []
    x, y = digits.train.images[:200], digits.train.labels[:200]
    result = graphnet.fit(
      layers.Sequential([layers.Dense(10)]), x, y, 1, printer=lines.append
    )
    (note,) = [line for line in lines if 'no log_dir given' in line]
    log_dir = note.split('go to ')[1].split(' (kept')[0]
    assert result.checkpoint.startswith(log_dir)


class TestLogDirMessages:
  def test_a_special_file_system_is_named_as_such(self):
    from graphnet.checkpoints import log_dirs

    with pytest.raises(errors.ConfigError) as caught:
      log_dirs.check_log_dir('/proc/gn_logs')
    message = str(caught.value)
    assert '/proc: the directory exists but accepts no new files' in message
