"""Tests of graphnet.models: the one place a network is added."""

import dataclasses

import pytest
import tensorflow.compat.v1 as tf

from graphnet import contract
from graphnet import errors
from graphnet.data import mnist_reader as input_data
from graphnet.nn import models
from graphnet.training import checkpoint_eval
from graphnet.training import config
from graphnet.training import trainer


@dataclasses.dataclass(frozen=True)
class _ToyConfig:
  # Scale of the initial weights.
  init_scale: float = 0.01

  def __post_init__(self):
    if not self.init_scale > 0:
      raise errors.ConfigError(
        f'_ToyConfig: init_scale must be > 0, got {self.init_scale}.',
        field='init_scale',
      )


def _toy(params, images, is_training, regularizer=None):
  del is_training, regularizer
  with tf.variable_scope('toy'):
    weights = tf.get_variable(
      'weights',
      [contract.IMAGE_PIXELS, contract.NUM_CLASSES],
      initializer=tf.random_normal_initializer(stddev=params.init_scale),
    )
    return tf.matmul(images, weights)  # [batch, 10]


def _toy_config(shapes):
  want = [contract.IMAGE_PIXELS, contract.NUM_CLASSES]
  return _ToyConfig() if shapes.get('toy/weights') == want else None


@pytest.fixture
def toy(monkeypatch):
  """Registers the toy network for one test only."""
  monkeypatch.setattr(models, '_REGISTRY', dict(models._REGISTRY))
  return models.register(
    models.ModelSpec('toy', _ToyConfig, _toy, 5000, _toy_config)
  )


class TestRegistry:
  def test_builtin_networks_are_registered(self):
    assert models.names()[:2] == ('mlp', 'conv')
    for name in ('mlp', 'conv'):
      spec = models.get(name)
      assert dataclasses.is_dataclass(spec.config_class)
      assert spec.read_config is not None

  def test_unknown_name_names_the_field(self):
    with pytest.raises(errors.ConfigError, match='lstm') as caught:
      config.ModelConfig('lstm')
    assert caught.value.field == 'model'

  def test_same_name_twice_is_refused(self, toy):
    with pytest.raises(errors.ConfigError, match='already registered'):
      models.register(toy)

  def test_unknown_field_of_a_network_is_refused(self):
    with pytest.raises(errors.ConfigError, match='keep_prob') as caught:
      config.ModelConfig('mlp', keep_prob=0.5)
    assert caught.value.field == 'keep_prob'

  def test_reads_mlp_sizes_back_from_shapes(self):
    shapes = {
      'hidden1/weights': [784, 64],
      'hidden1/biases': [64],
      'softmax_linear/weights': [64, 10],
      'softmax_linear/biases': [10],
    }
    assert models.read_config(shapes) == ('mlp', models.MlpConfig(64, 0))
    shapes['softmax_linear/weights'] = [64, 9]
    assert models.read_config(shapes) is None


class TestToyModel:
  def test_registered_network_trains_and_evaluates(self, toy, tmp_path):
    del toy
    cfg = config.TrainConfig(
      log_dir=str(tmp_path / 'logs'),
      input_data_dir=str(tmp_path / 'data'),
      fake_data=True,
      model=config.ModelConfig('toy', init_scale=0.05),
      max_steps=6,
      eval_every=1000,
    )
    result = trainer.run_training(cfg, printer=lambda line: None)
    assert result.global_step == 6
    shapes = dict(tf.train.list_variables(result.checkpoint))
    assert shapes['toy/weights'] == [784, 10]
    assert 'hidden1/weights' not in shapes
    assert result.evaluations['test'].num_examples == 10000
    # The evaluator rebuilds it from the registry, by its variables alone.
    data = input_data.read_data_sets('', fake_data=True)
    step, accuracy = checkpoint_eval.evaluate_checkpoint(
      result.checkpoint, data.test
    )
    assert step == 6
    assert accuracy == result.evaluations['test'].precision

  def test_its_config_rules_name_its_field(self, toy):
    del toy
    with pytest.raises(errors.ConfigError, match='init_scale') as caught:
      config.ModelConfig('toy', init_scale=0.0)
    assert caught.value.field == 'init_scale'


class TestCallables:
  def test_one_registration_per_object(self, monkeypatch):
    monkeypatch.setattr(models, '_REGISTRY', dict(models._REGISTRY))

    def model(images):
      return images

    spec = models.register_callable(model)
    assert models.register_callable(model) is spec
    assert models.get(spec.name) is spec
    assert spec.name.endswith('model')

    def other(images):
      return images

    other.__qualname__ = model.__qualname__
    assert models.register_callable(other).name == f'{spec.name}#2'

  def test_load_takes_a_name_or_imports_module_function(self, monkeypatch):
    monkeypatch.setattr(models, '_REGISTRY', dict(models._REGISTRY))
    assert models.load('conv') == 'conv'
    name = models.load('graphnet.layers:Flatten')
    assert name == 'graphnet.layers:Flatten'
    assert models.load(name) == name  # Registered once.
    spec = models.get(name)
    assert spec.config_class is models.CallableConfig
    assert spec.read_config is None

  def test_logits_of_another_width_name_the_class_count(self):
    spec = models.get('mlp')
    with tf.Graph().as_default():
      images = tf.placeholder(tf.float32, [None, 12])
      logits = spec.logits(models.MlpConfig(8, 0), images, True, None, 3)
      assert logits.shape.as_list() == [None, 3]
      wrong = models.callable_spec(lambda x: x, 'identity')
      with pytest.raises(errors.ConfigError, match=r'\[batch, 3\]') as caught:
        wrong.logits(models.CallableConfig(), images, True, None, 3)
    assert caught.value.field == 'model'
