"""Attacks by hand-edited `.meta` files on Predictor, predict and export.

Each attack starts from a real checkpoint of a short training run, adds
ops to its `MetaGraphDef` protocol buffer (built in a scratch graph and
grafted in, or written node by node) and hangs them by control edges on
`logits`, `probabilities`, `predictions` or the file's own restore op.
Beside the checkpoint lie a decoy checkpoint of another run and a victim
file. Every attack must be refused before anything runs, or load and run
with no side effect: the listing and hashes of the whole directory tree
are unchanged, probabilities equal those of the genuine checkpoint, and
nothing takes longer than the deadline.
"""

import dataclasses
import hashlib
import json
import os
import shutil
import textwrap
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import state as checkpoints
from graphnet.serving import predictor

import _helpers

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ENV = dict(os.environ, PYTHONPATH=_REPO, TF_CPP_MIN_LOG_LEVEL='2')
# Deadline of each session.run, and of a whole attempt (import included).
_RUN_SECS = 20
_ATTEMPT_SECS = 60
_TALLY = {'tried': 0, 'refused': 0, 'harmless': 0}


@pytest.fixture(scope='module', autouse=True)
def _stats():
  yield
  print(f'\nuntrusted .meta attacks: {json.dumps(_TALLY)}')
  _helpers.record_stats('untrusted_meta', dict(_TALLY))


def _train(log_dir, seed):
  _helpers.train_fake(log_dir, max_steps=5, log_every=10**6, seed=seed)
  return checkpoints.latest_checkpoint(str(log_dir))


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  """(genuine prefix, decoy prefix, images, genuine probabilities)."""
  root = tmp_path_factory.mktemp('runs')
  genuine = _train(root / 'genuine', seed=1)
  decoy = _train(root / 'decoy', seed=2)
  images = np.random.default_rng(0).random((50, 784), np.float32)
  with predictor.Predictor.from_checkpoint(genuine) as p:
    expected = p.predict_proba(images)
  with predictor.Predictor.from_checkpoint(decoy) as p:
    assert not np.allclose(p.predict_proba(images), expected, atol=1e-4)
  return genuine, decoy, images, expected


@dataclasses.dataclass
class Scene:
  """A crafted checkpoint and what an attack could touch."""

  root: str  # Everything below is compared before and after.
  prefix: str  # The crafted checkpoint (its .meta is edited).
  decoy: str  # Another run's checkpoint, outside the checkpoint directory.
  victim: str  # An existing file outside.
  outside: str  # A directory outside, where writes would land.


def _copy_checkpoint(prefix, directory):
  os.makedirs(directory)
  base = os.path.basename(prefix)
  for name in os.listdir(os.path.dirname(prefix)):
    if name.startswith(base + '.'):
      shutil.copy(os.path.join(os.path.dirname(prefix), name), directory)
  return os.path.join(directory, base)


@pytest.fixture
def scene(tmp_path, runs):
  genuine, decoy, _, _ = runs
  outside = tmp_path / 'outside'
  outside.mkdir()
  victim = outside / 'victim.txt'
  victim.write_text('precious')
  return Scene(
    root=str(tmp_path),
    prefix=_copy_checkpoint(genuine, str(tmp_path / 'ckpt')),
    decoy=_copy_checkpoint(decoy, str(tmp_path / 'decoy')),
    victim=str(victim),
    outside=str(outside),
  )


def _snapshot(root):
  """{relative path: sha256} of every file below `root`."""
  out = {}
  for dirpath, dirnames, files in os.walk(root):
    for name in files + dirnames:
      path = os.path.join(dirpath, name)
      digest = 'dir'
      if os.path.isfile(path):
        with open(path, 'rb') as f:
          digest = hashlib.sha256(f.read()).hexdigest()
      out[os.path.relpath(path, root)] = digest
  return out


def _stand_in(name, dtype, shape=()):
  """A placeholder named exactly like a node of the file, to build upon."""
  graph_def = tf.GraphDef()
  node = graph_def.node.add(name=name, op='Placeholder')
  node.attr['dtype'].type = dtype.as_datatype_enum
  node.attr['shape'].shape.CopyFrom(tf.TensorShape(shape).as_proto())
  return tf.import_graph_def(graph_def, name='', return_elements=[name + ':0'])[
    0
  ]


def _graft(meta, build):
  """Adds what `build()` makes in a scratch graph to `meta`'s graph.

  Nodes named like nodes of `meta` (stand-ins) are not copied, so the
  grafted ops read the file's own tensors.

  Returns:
    the name of the op `build()` returned.
  """
  scratch = tf.Graph()
  names = {n.name for n in meta.graph_def.node}
  # New ops get names the file does not use; stand-ins keep theirs.
  for name in names:
    scratch.unique_name(name, mark_as_used=True)
  with scratch.as_default():
    root = build()
  graph_def = scratch.as_graph_def()
  for node in graph_def.node:
    if node.name not in names:
      meta.graph_def.node.add().CopyFrom(node)
  library = {f.signature.name for f in meta.graph_def.library.function}
  for function in graph_def.library.function:
    if function.signature.name not in library:
      meta.graph_def.library.function.add().CopyFrom(function)
  return getattr(root, 'name', root).split(':')[0]


def _hang(meta, op_name, on):
  _helpers.graph_node(meta, on).input.append('^' + op_name)


def _save_v2(path, name):
  return tf.raw_ops.SaveV2(
    prefix=path,
    tensor_names=['pwned'],
    shape_and_slices=[''],
    tensors=[tf.constant([1.0, 2.0])],
    name=name,
  )


# Each attack edits `meta` and returns nothing; `s` is the Scene.
def _writer(scope, on):
  def attack(meta, s):
    target = os.path.join(s.outside, 'written')
    op = _graft(meta, lambda: _save_v2(target, f'{scope}/attack_save'))
    _hang(meta, op, on)

  return attack


def _v1_save_over_victim(on):
  def attack(meta, s):
    def build():
      return tf.raw_ops.Save(
        filename=s.victim,
        tensor_names=['pwned'],
        data=[tf.constant([1.0])],
        name='save/attack_save_v1',
      )

    _hang(meta, _graft(meta, build), on)

  return attack


def _merge_decoy_away(on):
  def attack(meta, s):
    def build():
      return tf.raw_ops.MergeV2Checkpoints(
        checkpoint_prefixes=[s.decoy],
        destination_prefix=os.path.join(s.outside, 'moved'),
        delete_old_dirs=True,
        name='save/attack_merge',
      )

    _hang(meta, _graft(meta, build), on)

  return attack


def _path_chain(s):
  """SelectV2(true, outside path, save/Const) -> Identity -> StringJoin."""
  filename = _stand_in('save/Const', tf.string)
  with tf.name_scope('save'):
    chosen = tf.raw_ops.SelectV2(
      condition=tf.constant(True),
      t=tf.constant(os.path.join(s.outside, 'chained')),
      e=filename,
      name='attack_select',
    )
    return tf.strings.join([tf.identity(chosen, name='attack_id')])


def _chained_writer(on):
  def attack(meta, s):
    def build():
      return _save_v2(_path_chain(s), 'save/attack_chained_save')

    _hang(meta, _graft(meta, build), on)

  return attack


def _restore_redirected(meta, s):
  """The file's own RestoreV2 reads the decoy through a path chain."""

  def build():
    filename = _stand_in('save/Const', tf.string)
    return tf.raw_ops.SelectV2(
      condition=tf.constant(True),
      t=tf.constant(s.decoy),
      e=filename,
      name='save/attack_decoy_path',
    )

  path = _graft(meta, build)
  for node in meta.graph_def.node:
    if node.op == 'RestoreV2':
      node.input[0] = path


def _decoy_restore_on(on):
  def attack(meta, s):
    def build():
      return tf.raw_ops.RestoreV2(
        prefix=s.decoy,
        tensor_names=['hidden1/weights'],
        shape_and_slices=[''],
        dtypes=[tf.float32],
        name='save/attack_restore',
      )[0]

    _hang(meta, _graft(meta, build), on)

  return attack


def _endless_loop(on, v1):
  def attack(meta, s):
    def build():
      enabled = tf.control_flow_v2_enabled()
      if v1:
        tf.disable_control_flow_v2()
      try:
        with tf.name_scope('attack_loop'):
          return tf.while_loop(
            lambda i: tf.constant(True), lambda i: i + 1, [tf.constant(0)]
          )
      finally:
        if enabled:
          tf.enable_control_flow_v2()

    _hang(meta, _graft(meta, build), on)

  return attack


def _huge_const(on):
  def attack(meta, s):
    node = meta.graph_def.node.add(name='attack_huge', op='Const')
    node.attr['dtype'].type = tf.float32.as_datatype_enum
    value = node.attr['value'].tensor
    value.dtype = tf.float32.as_datatype_enum
    value.tensor_shape.dim.add(size=60000)
    value.tensor_shape.dim.add(size=60000)
    value.float_val.append(1.0)
    _hang(meta, 'attack_huge', on)

  return attack


def _fill_bomb(meta, s):
  op = _graft(
    meta,
    lambda: tf.fill(tf.constant([60000, 60000]), 1.0, name='attack_fill'),
  )
  _hang(meta, op, 'predictions')


def _outer_product(meta, s):
  """images [N, 784] -> [N*784, N*784]: memory quadratic in the batch."""

  def build():
    images = _stand_in('images', tf.float32, [None, 784])
    return tf.matmul(
      tf.reshape(images, [-1, 1]),
      tf.reshape(images, [1, -1]),
      name='attack_outer',
    )

  _hang(meta, _graft(meta, build), 'probabilities')


def _function_calling(op_maker):
  def attack(meta, s):
    target = os.path.join(s.outside, 'from_function')

    @tf.function
    def attack_fn():
      op_maker(target)
      return tf.constant(0)

    _hang(meta, _graft(meta, attack_fn), 'predictions')

  return attack


def _write_file(target):
  tf.io.write_file(target, 'pwned')


def _save_file(target):
  _save_v2(target, 'inner_save')


def _harmless(target):
  del target  # A function that touches nothing still hides its sizes.
  tf.fill(tf.constant([2, 2]), 1.0)


def _write_file_on(on):
  def attack(meta, s):
    def build():
      return tf.io.write_file(
        os.path.join(s.outside, 'w'), 'pwned', name='save/attack_write'
      )

    _hang(meta, _graft(meta, build), on)

  return attack


def _huge_variable(meta, s):
  for node in meta.graph_def.node:
    if node.name == 'hidden1/weights':
      del node.attr['shape'].shape.dim[:]
      node.attr['shape'].shape.dim.add(size=60000)
      node.attr['shape'].shape.dim.add(size=60000)


_OUTPUTS = ('logits', 'probabilities', 'predictions')
_RESTORE = 'save/restore_all'
# name -> (attack, None if it must load harmlessly, else a regex its
# UnsafeGraphError message matches).
_ATTACKS = {
  **{
    f'save_v2_{scope}_scope_on_{on}': (_writer(scope, on), 'SaveV2')
    for scope in ('save', 'evil')
    for on in _OUTPUTS
  },
  **{
    f'save_v2_{scope}_scope_on_restore': (_writer(scope, _RESTORE), None)
    for scope in ('save', 'evil')
  },
  'v1_save_on_predictions': (_v1_save_over_victim('predictions'), 'Save '),
  'v1_save_on_restore': (_v1_save_over_victim(_RESTORE), None),
  'merge_decoy_on_probabilities': (
    _merge_decoy_away('probabilities'),
    'MergeV2Checkpoints',
  ),
  'merge_decoy_on_restore': (_merge_decoy_away(_RESTORE), None),
  'chained_path_save_on_logits': (
    _chained_writer('logits'),
    'SaveV2|StringJoin',
  ),
  'chained_path_save_on_restore': (_chained_writer(_RESTORE), None),
  'restore_redirected_to_decoy': (_restore_redirected, None),
  'decoy_restore_on_predictions': (
    _decoy_restore_on('predictions'),
    'RestoreV2',
  ),
  'v1_endless_loop_on_predictions': (
    _endless_loop('predictions', v1=True),
    'loop',
  ),
  'v1_endless_loop_on_restore': (_endless_loop(_RESTORE, v1=True), None),
  'v2_endless_loop_on_logits': (_endless_loop('logits', v1=False), 'While'),
  'huge_const_on_logits': (_huge_const('logits'), 'Const.*60000'),
  'huge_const_on_restore': (_huge_const(_RESTORE), None),
  'fill_bomb_on_predictions': (_fill_bomb, 'attack_fill'),
  'outer_product_of_images': (_outer_product, 'attack_outer|mixing examples'),
  'huge_variable': (_huge_variable, 'hidden1/weights'),
  'function_calling_write_file': (
    _function_calling(_write_file),
    'WriteFile.*function',
  ),
  'function_calling_save_v2': (
    _function_calling(_save_file),
    'SaveV2.*function',
  ),
  'function_calling_fill': (
    _function_calling(_harmless),
    'calls a function',
  ),
  'write_file_on_restore': (_write_file_on(_RESTORE), 'WriteFile'),
  'write_file_on_predictions': (
    _write_file_on('predictions'),
    'WriteFile',
  ),
}


def _craft(scene, name):
  attack, refusal = _ATTACKS[name]
  meta = _helpers.read_meta(scene.prefix)
  attack(meta, scene)
  _helpers.write_meta(scene.prefix, meta)
  return refusal


class TestPredictor:
  @pytest.mark.parametrize('name', sorted(_ATTACKS))
  def test_attack_is_refused_or_harmless(self, scene, runs, name):
    _, _, images, expected = runs
    refusal = _craft(scene, name)
    before = _snapshot(scene.root)
    _TALLY['tried'] += 1
    start = time.monotonic()
    if refusal:
      with pytest.raises(errors.UnsafeGraphError, match=refusal) as info:
        predictor.Predictor.from_checkpoint(
          scene.prefix, timeout_secs=_RUN_SECS
        )
      assert 'allow_unsafe=True' in str(info.value)
      _TALLY['refused'] += 1
    else:
      with predictor.Predictor.from_checkpoint(
        scene.prefix, timeout_secs=_RUN_SECS
      ) as p:
        np.testing.assert_array_equal(p.predict_proba(images), expected)
        ops = {op.type for op in p.graph.get_operations()}
      assert not ops & {'SaveV2', 'Save', 'RestoreV2', 'MergeV2Checkpoints'}
      _TALLY['harmless'] += 1
    assert time.monotonic() - start < _ATTEMPT_SECS
    assert _snapshot(scene.root) == before

  def test_snapshot_sees_what_the_attacks_would_do(self, scene):
    """The file's own saver, run by plain TF, does write (control test)."""
    _craft(scene, 'save_v2_save_scope_on_restore')
    before = _snapshot(scene.root)
    with tf.Graph().as_default(), tf.Session() as sess:
      saver = tf.train.import_meta_graph(scene.prefix + '.meta')
      saver.restore(sess, scene.prefix)
    assert _snapshot(scene.root) != before
    assert os.path.exists(os.path.join(scene.outside, 'written.index'))

  def test_checkpoint_of_another_model_names_the_variable(self, scene):
    meta = _helpers.read_meta(scene.prefix)
    for node in meta.graph_def.node:
      if node.name == 'hidden2/weights':
        node.attr['shape'].shape.dim[1].size += 1
    _helpers.write_meta(scene.prefix, meta)
    with pytest.raises(errors.CheckpointMismatchError, match='hidden2/weights'):
      predictor.Predictor.from_checkpoint(scene.prefix)

  def test_blocked_run_becomes_a_timeout_error(self, scene, runs):
    """A run past its deadline (here, of a trusted file) is a clear error.

    TF ends a run at its deadline only where an op waits (a queue, a
    receive); a busy loop cannot be interrupted, which is why loops are
    refused in the inference graph.
    """
    meta = _helpers.read_meta(scene.prefix)

    def build():
      queue = tf.queue.FIFOQueue(1, tf.float32, name='attack_queue')
      return queue.dequeue(name='attack_dequeue')

    _hang(meta, _graft(meta, build), 'predictions')
    _helpers.write_meta(scene.prefix, meta)
    start = time.monotonic()
    with predictor.Predictor.from_checkpoint(
      scene.prefix, allow_unsafe=True, timeout_secs=1
    ) as p:
      with pytest.raises(errors.PredictionTimeoutError, match='1 s'):
        p.predict(runs[2][:1])
    assert time.monotonic() - start < _ATTEMPT_SECS


def _png(path):
  with tf.Graph().as_default(), tf.Session() as sess:
    data = sess.run(tf.io.encode_png(tf.zeros([28, 28, 1], tf.uint8)))
  with open(path, 'wb') as f:
    f.write(data)


def _run(module, *args):
  return _helpers.run_python('-m', module, *args, env=_ENV, timeout=180)


def _export(prefix, frozen, model_dir):
  return _run(
    'graphnet.export',
    '--checkpoint',
    prefix,
    '--frozen_graph',
    frozen,
    '--saved_model_dir',
    model_dir,
  )


class TestCommandLine:
  @pytest.mark.parametrize(
    'name, refused',
    [('chained_path_save_on_logits', True), ('merge_decoy_on_restore', False)],
  )
  def test_predict(self, scene, name, refused, tmp_path_factory):
    image = str(tmp_path_factory.mktemp('img') / 'blank.png')
    _png(image)
    _craft(scene, name)
    before = _snapshot(scene.root)
    _TALLY['tried'] += 1
    result = _run('graphnet.predict', '--checkpoint', scene.prefix, image)
    if refused:
      assert result.returncode == 1
      assert 'graphnet: error: op StringJoin' in result.stderr
      assert 'Traceback' not in result.stderr
      _TALLY['refused'] += 1
    else:
      assert result.returncode == 0, result.stderr
      assert result.stdout.startswith(image + '\t')
      _TALLY['harmless'] += 1
    assert _snapshot(scene.root) == before

  def test_export_refuses_without_writing(self, scene):
    _craft(scene, 'write_file_on_predictions')
    frozen = os.path.join(scene.outside, 'frozen.pb')
    model_dir = os.path.join(scene.outside, 'model')
    before = _snapshot(scene.root)
    _TALLY['tried'] += 1
    result = _export(scene.prefix, frozen, model_dir)
    assert result.returncode == 1
    assert 'WriteFile' in result.stderr
    _TALLY['refused'] += 1
    assert _snapshot(scene.root) == before

  def test_export_keeps_only_inference_ops(self, scene, runs, tmp_path_factory):
    """The crafted writer is left out; serving the export writes nothing."""
    _, _, images, expected = runs
    _craft(scene, 'save_v2_evil_scope_on_restore')
    tmp_path = tmp_path_factory.mktemp('export')
    out = tmp_path / 'out'
    out.mkdir()
    frozen = str(out / 'frozen.pb')
    model_dir = str(out / 'model')
    _TALLY['tried'] += 1
    result = _export(scene.prefix, frozen, model_dir)
    assert result.returncode == 0, result.stderr
    graph_def = tf.GraphDef()
    with open(frozen, 'rb') as f:
      graph_def.ParseFromString(f.read())
    assert {n.op for n in graph_def.node} <= {
      'Const',
      'Placeholder',
      'MatMul',
      'BiasAdd',
      'Relu',
      'Identity',
      'Softmax',
      'ArgMax',
    }
    np.save(str(tmp_path / 'images.npy'), images)
    before = _snapshot(scene.root)
    script = textwrap.dedent(f"""
      import numpy as np
      import tensorflow as tf
      serve = tf.saved_model.load({model_dir!r}).signatures['serving_default']
      out = serve(images=tf.constant(np.load({str(tmp_path / 'images.npy')!r})))
      np.save({str(tmp_path / 'probs.npy')!r}, out['probabilities'].numpy())
    """)
    served = _helpers.run_python('-c', script, env=_ENV, timeout=180)
    assert served.returncode == 0, served.stderr
    assert _snapshot(scene.root) == before
    assert sorted(os.listdir(scene.outside)) == ['victim.txt']
    np.testing.assert_allclose(
      np.load(str(tmp_path / 'probs.npy')), expected, atol=1e-6
    )
    _TALLY['harmless'] += 1
