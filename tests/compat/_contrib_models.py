"""scripts/tf1_goldens/contrib_models.py with its imports swapped to graphnet.

Shared by test_contrib.py and test_slim.py: `load()` returns the module's
namespace as graphnet runs it (only the lines in its IMPORT_SWAPS changed);
`golden(name)` the TF 1.15 goldens of make_contrib_goldens.py.
"""

import ast
import json
import os

import numpy as np

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
_SOURCE = os.path.join(_REPO, 'scripts', 'tf1_goldens', 'contrib_models.py')
GOLDENS = os.path.join(_REPO, 'tests', 'goldens', 'tf1_contrib')


def load():
  """contrib_models.py's namespace, its TF 1.15 import lines swapped."""
  with open(_SOURCE, encoding='utf-8') as f:
    source = f.read()
  swaps = next(
    node.value
    for node in ast.parse(source).body
    if isinstance(node, ast.Assign) and node.targets[0].id == 'IMPORT_SWAPS'
  )
  for tf1_line, graphnet_line in ast.literal_eval(swaps).items():
    assert source.count(tf1_line + '\n') == 1, tf1_line
    source = source.replace(tf1_line + '\n', graphnet_line + '\n')
  namespace = {'__name__': 'contrib_models'}
  exec(compile(source, _SOURCE, 'exec'), namespace)
  return namespace


def golden(name):
  """(variables.json as a dict, outputs.npz as a dict, checkpoint prefix)."""
  directory = os.path.join(GOLDENS, name)
  with open(os.path.join(directory, 'variables.json'), encoding='utf-8') as f:
    variables = json.load(f)
  with np.load(os.path.join(directory, 'outputs.npz')) as npz:
    outputs = dict(npz)
  return variables, outputs, os.path.join(directory, 'model.ckpt')


def collections(graph, tf):
  """What make_contrib_goldens.py records of a graph (variables.json)."""
  keys = tf.GraphKeys
  return {
    'global': [
      [v.op.name, v.shape.as_list()]
      for v in graph.get_collection(keys.GLOBAL_VARIABLES)
    ],
    'model': [v.op.name for v in graph.get_collection(keys.MODEL_VARIABLES)],
    'trainable': [
      v.op.name for v in graph.get_collection(keys.TRAINABLE_VARIABLES)
    ],
    'regularization_losses': len(
      graph.get_collection(keys.REGULARIZATION_LOSSES)
    ),
    'update_ops': len(graph.get_collection(keys.UPDATE_OPS)),
  }


def check_golden(tf, model, expected, outputs, checkpoint, skip_after=()):
  """Restores `checkpoint` into `model`'s graph; checks TF 1.15's outputs.

  The graph's variables and collections must equal `expected`; the logits
  (evaluation and training mode), the loss and every variable after one
  training step must equal TF 1.15's. Variables whose names contain a
  string of `skip_after` are left out of the last check.
  """
  graph = tf.get_default_graph()
  assert collections(graph, tf) == expected
  x, y = model['x'], model['y']
  step_feed = {x: outputs['images'], y: outputs['labels']}
  step_feed.update(model['step_feed'])
  with tf.Session() as sess:
    tf.train.Saver().restore(sess, checkpoint)
    np.testing.assert_allclose(
      sess.run(model['logits'], {x: outputs['images']}),
      outputs['logits'],
      rtol=1e-4,
      atol=1e-4,
    )
    np.testing.assert_allclose(
      sess.run(model['logits'], step_feed),
      outputs['train_logits'],
      rtol=1e-4,
      atol=1e-4,
    )
    np.testing.assert_allclose(
      sess.run(model['loss'], step_feed), outputs['step_loss'], rtol=1e-4
    )
    sess.run(model['train_op'], step_feed)
    checked = 0
    for var in tf.global_variables():
      if any(part in var.op.name for part in skip_after):
        continue
      np.testing.assert_allclose(
        sess.run(var),
        outputs[f'after/{var.op.name}'],
        rtol=1e-4,
        atol=1e-5,
        err_msg=var.op.name,
      )
      checked += 1
  return checked
