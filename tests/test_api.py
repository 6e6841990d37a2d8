"""Tests of graphnet.fit: the seed's epoch loop, in graph mode."""

import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import graphnet
from graphnet import errors
from graphnet.data import mnist_reader as input_data
from graphnet.nn import layers

tf.disable_eager_execution()


def _seed_model():
  """The notes' network: Dense(512, relu) then Dense(10)."""
  return layers.Sequential([layers.Dense(512, tf.nn.relu), layers.Dense(10)])


@pytest.fixture(scope='module')
def mnist(data_dir):
  """MNIST as the notes load it: 60000 training and 10000 test images."""
  data = input_data.read_data_sets(
    str(data_dir), dtype=np.uint8, validation_size=0
  )
  return (data.train.images, data.train.labels), (
    data.test.images,
    data.test.labels,
  )


def _fit_mnist(mnist, tmp_path, epochs, lines):
  (train_images, train_labels), test = mnist
  # Keras's RMSprop: rate 0.001, no momentum.
  return graphnet.fit(
    _seed_model(),
    train_images,
    train_labels,
    epochs=epochs,
    batch_size=128,
    validation_data=test,
    log_dir=str(tmp_path),
    optimizer='rmsprop',
    learning_rate=0.001,
    momentum=0.0,
    seed=0,
    printer=lines.append,
  )


def test_five_epochs_of_the_seeds_loop_on_mnist(mnist, tmp_path):
  lines = []
  result = _fit_mnist(mnist, tmp_path, 5, lines)
  assert result.global_step == 5 * 469  # ceil(60000 / 128) per epoch
  assert result.evaluations['train'].num_examples == 60000
  assert result.evaluations['test'].num_examples == 10000
  assert result.evaluations['test'].precision >= 0.97
  # The held-out data is scored at the end of each epoch.
  assert sum(line == 'Test Data Eval:' for line in lines) == 5


def test_an_epoch_is_ceil_n_over_batch_steps_with_a_line_per_100(tmp_path):
  rng = np.random.default_rng(0)
  images = rng.random((1001, 4, 3)).astype(np.float32)
  labels = rng.integers(0, 3, 1001)
  lines = []
  model = layers.Sequential([layers.Flatten(), layers.Dense(3)])
  result = graphnet.fit(
    model,
    images,
    labels,
    epochs=3,
    batch_size=10,
    log_dir=str(tmp_path),
    printer=lines.append,
  )
  assert result.global_step == 3 * 101
  steps = [
    int(m.group(1)) for m in map(re.compile(r'^Step (\d+):').match, lines) if m
  ]
  assert steps == [0, 100, 200, 300]
  shapes = dict(tf.train.list_variables(result.checkpoint))
  assert shapes['dense/weights'] == [12, 3]


@pytest.mark.parametrize('held_out', [False, True])
def test_only_sets_with_examples_are_evaluated(tmp_path, held_out):
  rng = np.random.default_rng(1)
  images = rng.random((40, 6)).astype(np.float32)
  labels = rng.integers(0, 3, 40)
  lines = []
  result = graphnet.fit(
    layers.Sequential([layers.Dense(3)]),
    images,
    labels,
    epochs=2,
    batch_size=10,
    validation_data=(images[:7], labels[:7]) if held_out else None,
    log_dir=str(tmp_path),
    printer=lines.append,
  )
  expected = ['train', 'validation', 'test'] if held_out else ['train']
  assert sorted(result.evaluations) == sorted(expected)
  for evaluated in result.evaluations.values():
    assert 0 <= evaluated.precision <= 1
  assert lines.count('Training Data Eval:') == 2  # one per epoch
  assert lines.count('Test Data Eval:') == (2 if held_out else 0)
  assert lines.count('Validation Data Eval:') == (2 if held_out else 0)
  assert not any(line.startswith('Num examples: 0') for line in lines)


def test_max_steps_is_refused(tmp_path):
  with pytest.raises(errors.ConfigError, match='epochs') as caught:
    graphnet.fit(
      _seed_model(),
      np.zeros([4, 2], np.float32),
      np.zeros([4], int),
      epochs=1,
      max_steps=5,
      log_dir=str(tmp_path),
    )
  assert caught.value.field == 'max_steps'


@pytest.mark.parametrize('epochs', [0, 1.5, True])
def test_epochs_must_be_a_positive_int(epochs, tmp_path):
  with pytest.raises(errors.ConfigError, match='epochs'):
    graphnet.fit(
      _seed_model(),
      np.zeros([4, 2], np.float32),
      np.zeros([4], int),
      epochs=epochs,
      log_dir=str(tmp_path),
    )
