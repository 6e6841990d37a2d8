"""graphnet.tf_loader: TF imported without Keras; tf.keras still works."""

import os
import sys

import _helpers

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_SCRIPT = """
import sys
from graphnet import tf_loader
tf = tf_loader.import_tensorflow()
print('keras loaded by the import:', 'keras' in sys.modules)
print('blocked entry left behind:',
      any(sys.modules.get(m, 0) is None for m in tf_loader.DEFERRED_MODULES))
import numpy as np
model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss='mse')
model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
import keras
print('keras optimizers:', keras.optimizers.SGD.__module__)
"""


def test_tensorflow_without_keras_and_keras_on_first_use(tmp_path):
  env = dict(os.environ, PYTHONPATH=_REPO, TF_CPP_MIN_LOG_LEVEL='2')
  done = _helpers.run_python('-c', _SCRIPT, env=env, timeout=300, cwd=tmp_path)
  assert done.returncode == 0, done.stderr[-2000:]
  assert done.stdout.splitlines() == [
    'keras loaded by the import: False',
    'blocked entry left behind: False',
    'keras optimizers: keras.src.optimizers.sgd',
  ]


def test_tensorflow_already_imported_is_returned_as_is():
  import tensorflow

  from graphnet import tf_loader

  assert tf_loader.import_tensorflow() is tensorflow
  assert not any(
    sys.modules.get(name, 0) is None for name in tf_loader.DEFERRED_MODULES
  )
