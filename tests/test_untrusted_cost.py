"""Attacks on the cost of untrusted graphs, and the worker that isolates them.

The graphs are written node by node as protocol buffers (nothing of them
is built, imported or run by TF in this process before graphnet checks
them): the attacks of issue 23 (shapes from pixel values behind a lying
`_output_shapes`, rows growing with the batch, a huge pool window, an
`Assert` printing 2^31 elements, constant subgraphs TF would evaluate
while importing, `GatherV2` with `batch_dims` beyond the ranks, `Fill`
dimensions TF's C++ overflows on, XLA attributes) and variants. Each must
be refused fast and small, on `Predictor`, `graphnet.predict`,
`graphnet.export` and `graphnet.mnist_eval` (those three in subprocesses
with a hard time and memory limit, so a regression fails instead of
taking the machine down); genuine graphs keep their predictions.
"""

import importlib.resources
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
import types

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.serving import cost_model
from graphnet.serving import exporter
from graphnet.serving import predictor
from graphnet.serving import sandbox
from graphnet.training import checkpoint_eval

import _helpers

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ENV = dict(os.environ, PYTHONPATH=_REPO, TF_CPP_MIN_LOG_LEVEL='2')
# Hard limits of a command-line attempt: wall time and address space.
_CLI_SECS = 240
_CLI_BYTES = 10 * 2**30
# What a refused check may cost in this process.
_CHECK_SECS = 2.0
_CHECK_BYTES = 64 * 2**20


# --- Graphs written node by node --------------------------------------------


def _node(graph_def, name, op, inputs=(), **attrs):
  node = graph_def.node.add(name=name, op=op)
  node.input.extend(inputs)
  for key, value in attrs.items():
    if isinstance(value, tf.DType):
      node.attr[key].type = value.as_datatype_enum
    elif isinstance(value, bool):
      node.attr[key].b = value
    elif isinstance(value, int):
      node.attr[key].i = value
    elif isinstance(value, bytes):
      node.attr[key].s = value
    elif isinstance(value, list):
      node.attr[key].list.i.extend(value)
    elif isinstance(value, tf.TensorShape):
      node.attr[key].shape.CopyFrom(value.as_proto())
    else:
      node.attr[key].tensor.CopyFrom(value)
  return node


def _const(graph_def, name, value, dtype=tf.int32, shape=None):
  proto = tf.make_tensor_proto(value, dtype, shape)
  return _node(graph_def, name, 'Const', dtype=dtype, value=proto)


def _classifier(extra=None, weights='Const'):
  """images [N, 784] -> logits [N, 10] (+ `extra(graph_def)` [N, 1]).

  Args:
    extra: adds nodes and returns the name of a float32 tensor added to
      the logits (broadcast), or None.
    weights: 'Const' (a frozen graph) or 'VariableV2' (a checkpoint's).
  """
  g = tf.GraphDef()
  _node(
    g,
    'images',
    'Placeholder',
    dtype=tf.float32,
    shape=tf.TensorShape([None, 784]),
  )
  if weights == 'Const':
    _const(g, 'w', np.full([784, 10], 0.01, np.float32), tf.float32)
  else:
    _node(
      g, 'w', 'VariableV2', dtype=tf.float32, shape=tf.TensorShape([784, 10])
    )
  _node(g, 'matmul', 'MatMul', ['images', 'w'], T=tf.float32)
  total = 'matmul'
  if extra is not None:
    _node(g, 'attack/add', 'AddV2', ['matmul', extra(g)], T=tf.float32)
    total = 'attack/add'
  _node(g, 'logits', 'Identity', [total], T=tf.float32)
  _node(g, 'probabilities', 'Softmax', ['logits'], T=tf.float32)
  _const(g, 'predictions/dimension', 1)
  _node(
    g,
    'predictions',
    'ArgMax',
    ['logits', 'predictions/dimension'],
    T=tf.float32,
    Tidx=tf.int32,
    output_type=tf.int64,
  )
  return g


def _scalar_to_column(g, source, dtype=tf.float32):
  """Nodes reducing `source` to a float [N, 1] column (as an attack does)."""
  _const(g, 'attack/axes', [1])
  _node(
    g,
    'attack/sum',
    'Sum',
    [source, 'attack/axes'],
    T=dtype,
    Tidx=tf.int32,
    keep_dims=True,
  )
  return 'attack/sum'


def _fill_rows(g, rows):
  """A Fill of [rows, 784] (rows: a node name), summed to a [N, 1] column."""
  _const(g, 'attack/width', 784)
  _node(g, 'attack/dims', 'Pack', [rows, 'attack/width'], T=tf.int32, N=2)
  _const(g, 'attack/one', 1.0, tf.float32)
  _node(g, 'attack/fill', 'Fill', ['attack/dims', 'attack/one'], T=tf.float32)
  return _scalar_to_column(g, 'attack/fill')


def _pixel_rows(g):
  """Issue 23.1: a Fill's rows from pixel values, `_output_shapes` lying."""
  _const(g, 'attack/all', [0, 1])
  _node(
    g,
    'attack/pixels',
    'Sum',
    ['images', 'attack/all'],
    T=tf.float32,
    Tidx=tf.int32,
  )
  _node(
    g, 'attack/rows', 'Cast', ['attack/pixels'], SrcT=tf.float32, DstT=tf.int32
  )
  column = _fill_rows(g, 'attack/rows')
  for node in g.node:
    if node.name == 'attack/fill':
      lie = node.attr['_output_shapes'].list.shape.add()
      lie.CopyFrom(tf.TensorShape([1, 784]).as_proto())
  return column


def _batch_rows(g):
  """Issue 23.1: rows = n + 10^6 * (n // 3), passing trial batches 1, 2."""
  _node(g, 'attack/shape', 'Shape', ['images'], T=tf.float32, out_type=tf.int32)
  for name, value in (('b', [0]), ('e', [1]), ('s', [1])):
    _const(g, f'attack/{name}', value)
  _node(
    g,
    'attack/n',
    'StridedSlice',
    ['attack/shape', 'attack/b', 'attack/e', 'attack/s'],
    T=tf.int32,
    Index=tf.int32,
    shrink_axis_mask=1,
  )
  _const(g, 'attack/three', 3)
  _const(g, 'attack/million', 10**6)
  _node(g, 'attack/q', 'FloorDiv', ['attack/n', 'attack/three'], T=tf.int32)
  _node(g, 'attack/m', 'Mul', ['attack/q', 'attack/million'], T=tf.int32)
  _node(g, 'attack/rows', 'AddV2', ['attack/n', 'attack/m'], T=tf.int32)
  return _fill_rows(g, 'attack/rows')


def _pool_window(side, pad):
  """Issue 23.1: a side x side MaxPool over an image padded by `pad`."""

  def extra(g):
    _const(g, 'attack/shape', [-1, 28, 28, 1])
    _node(
      g,
      'attack/image',
      'Reshape',
      ['images', 'attack/shape'],
      T=tf.float32,
      Tshape=tf.int32,
    )
    _const(g, 'attack/pads', [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    _node(
      g,
      'attack/padded',
      'Pad',
      ['attack/image', 'attack/pads'],
      T=tf.float32,
      Tpaddings=tf.int32,
    )
    _node(
      g,
      'attack/pool',
      'MaxPool',
      ['attack/padded'],
      T=tf.float32,
      ksize=[1, side, side, 1],
      strides=[1, 1, 1, 1],
      padding=b'VALID',
      data_format=b'NHWC',
    )
    _const(g, 'attack/axes', [1, 2, 3])
    _node(
      g,
      'attack/sum',
      'Sum',
      ['attack/pool', 'attack/axes'],
      T=tf.float32,
      Tidx=tf.int32,
    )
    _const(g, 'attack/flat', [-1, 1])
    _node(
      g,
      'attack/col',
      'Reshape',
      ['attack/sum', 'attack/flat'],
      T=tf.float32,
      Tshape=tf.int32,
    )
    return 'attack/col'

  return extra


def _assert_summarize(g):
  """Issue 23.1: an Assert printing 2^31 - 1 elements, on `logits`."""
  _const(g, 'attack/false', False, tf.bool)
  assert_node = _node(
    g,
    'attack/assert',
    'Assert',
    ['attack/false', 'images'],
    summarize=2**31 - 1,
  )
  assert_node.attr['T'].list.type.append(tf.float32.as_datatype_enum)
  _node(
    g, 'attack/gate', 'Identity', ['images', '^attack/assert'], T=tf.float32
  )
  return _scalar_to_column(g, 'attack/gate')


def _constant_pool_dim(g):
  """Issue 23.2: a constant-only 4096^2 MaxPool feeding a Fill dimension."""
  _const(g, 'attack/plane', 1.0, tf.float32, [1, 4096, 4096, 1])
  _node(
    g,
    'attack/cpool',
    'MaxPool',
    ['attack/plane'],
    T=tf.float32,
    ksize=[1, 4096, 4096, 1],
    strides=[1, 1, 1, 1],
    padding=b'SAME',
    data_format=b'NHWC',
  )
  _const(g, 'attack/flat', [-1])
  _node(
    g,
    'attack/v',
    'Reshape',
    ['attack/cpool', 'attack/flat'],
    T=tf.float32,
    Tshape=tf.int32,
  )
  _const(g, 'attack/zero', [0])
  _const(g, 'attack/one_', [1])
  _node(
    g,
    'attack/v0',
    'StridedSlice',
    ['attack/v', 'attack/zero', 'attack/one_', 'attack/one_'],
    T=tf.float32,
    Index=tf.int32,
    shrink_axis_mask=1,
  )
  _node(g, 'attack/rows', 'Cast', ['attack/v0'], SrcT=tf.float32, DstT=tf.int32)
  return _fill_rows(g, 'attack/rows')


def _constant_fill(g):
  """Issue 23.2: a constant 3 GB Fill (dims are constants)."""
  _const(g, 'attack/dims', [786432, 1000])
  _const(g, 'attack/one', 1.0, tf.float32)
  _node(g, 'attack/fill', 'Fill', ['attack/dims', 'attack/one'], T=tf.float32)
  _const(g, 'attack/axes', [0, 1])
  _node(
    g,
    'attack/sum',
    'Sum',
    ['attack/fill', 'attack/axes'],
    T=tf.float32,
    Tidx=tf.int32,
  )
  return 'attack/sum'


def _gather_batch_dims(g):
  """Issue 23.3: GatherV2 with batch_dims=5 (TF aborts on it)."""
  _const(g, 'attack/idx', [[0]])
  _const(g, 'attack/axis', 1)
  _node(
    g,
    'attack/gather',
    'GatherV2',
    ['images', 'attack/idx', 'attack/axis'],
    Tparams=tf.float32,
    Tindices=tf.int32,
    Taxis=tf.int32,
    batch_dims=5,
  )
  return _scalar_to_column(g, 'attack/gather')


def _overflowing_fill(g):
  """Issue 23.3: Fill [2^62, 2^62, 0]: no element, TF's C++ overflows."""
  _const(g, 'attack/dims', [2**62, 2**62, 0], tf.int64)
  _const(g, 'attack/one', 1.0, tf.float32)
  _node(
    g,
    'attack/fill',
    'Fill',
    ['attack/dims', 'attack/one'],
    T=tf.float32,
    index_type=tf.int64,
  )
  _const(g, 'attack/axes', [0, 1, 2])
  _node(
    g,
    'attack/sum',
    'Sum',
    ['attack/fill', 'attack/axes'],
    T=tf.float32,
    Tidx=tf.int32,
  )
  return 'attack/sum'


def _size_rows(g):
  """Variant: rows from Size(images), which grows as n * 784."""
  _node(g, 'attack/size', 'Size', ['images'], T=tf.float32, out_type=tf.int32)
  return _fill_rows(g, 'attack/size')


def _flatten_batch(g):
  """Variant: a Reshape to [-1] mixing the examples of the batch."""
  _const(g, 'attack/flat', [-1])
  _node(
    g,
    'attack/v',
    'Reshape',
    ['images', 'attack/flat'],
    T=tf.float32,
    Tshape=tf.int32,
  )
  _const(g, 'attack/col', [-1, 1])
  _node(
    g,
    'attack/c',
    'Reshape',
    ['attack/v', 'attack/col'],
    T=tf.float32,
    Tshape=tf.int32,
  )
  return 'attack/c'


def _outer_product(g):
  """Variant: images^T images, [784, 784] from the whole batch."""
  _node(
    g,
    'attack/outer',
    'MatMul',
    ['images', 'images'],
    T=tf.float32,
    transpose_a=True,
  )
  return _scalar_to_column(g, 'attack/outer')


def _tiled_batch(g):
  """Variant: Tile repeating the batch a million times."""
  _const(g, 'attack/mult', [10**6, 1])
  _node(
    g,
    'attack/tile',
    'Tile',
    ['images', 'attack/mult'],
    T=tf.float32,
    Tmultiples=tf.int32,
  )
  return _scalar_to_column(g, 'attack/tile')


def _huge_range(g):
  """Variant: a Range of 2^40 elements."""
  for name, value in (('start', 0), ('limit', 2**40), ('delta', 1)):
    _const(g, f'attack/{name}', value, tf.int64)
  _node(
    g,
    'attack/range',
    'Range',
    ['attack/start', 'attack/limit', 'attack/delta'],
    Tidx=tf.int64,
  )
  _node(g, 'attack/f', 'Cast', ['attack/range'], SrcT=tf.int64, DstT=tf.float32)
  _const(g, 'attack/axes', [0])
  _node(
    g,
    'attack/sum',
    'Sum',
    ['attack/f', 'attack/axes'],
    T=tf.float32,
    Tidx=tf.int32,
  )
  return 'attack/sum'


def _wide_tensors(count, width):
  """Issue 23.1: `count` tensors of `width` floats per example."""

  def extra(g):
    _const(g, 'attack/mult', [1, width // 784])
    last = None
    for i in range(count):
      _node(
        g,
        f'attack/t{i}',
        'Tile',
        ['images', 'attack/mult'],
        T=tf.float32,
        Tmultiples=tf.int32,
      )
      if last:
        _node(g, f'attack/s{i}', 'AddV2', [last, f'attack/t{i}'], T=tf.float32)
        last = f'attack/s{i}'
      else:
        last = f'attack/t{i}'
    return _scalar_to_column(g, last)

  return extra


# (attack, what the refusal names)
_REFUSED = {
  'pixel_rows_lying_output_shapes': (_pixel_rows, 'attack/'),
  'rows_growing_with_batch': (_batch_rows, 'attack/dims|attack/fill'),
  'pool_window_2000': (_pool_window(2001, 2000), 'example_flops'),
  'assert_summarize': (_assert_summarize, 'summarize|2147483647'),
  'constant_pool_fill_dim': (_constant_pool_dim, 'attack/'),
  'constant_3gb_fill': (_constant_fill, 'attack/fill|fixed_bytes'),
  'gather_batch_dims_5': (_gather_batch_dims, 'batch_dims 5'),
  'fill_2_62': (_overflowing_fill, 'attack/fill'),
  'size_rows': (_size_rows, 'attack/'),
  'flatten_batch': (_flatten_batch, 'attack/v'),
  'outer_product': (_outer_product, 'attack/outer'),
  'tiled_batch': (_tiled_batch, 'attack/tile'),
  'huge_range': (_huge_range, 'attack/range|fixed_bytes'),
}


def _measured(function):
  """(result or exception, seconds, peak bytes Python allocated)."""
  tracemalloc.start()
  start = time.monotonic()
  try:
    result = function()
  except errors.GraphnetError as e:
    result = e
  secs = time.monotonic() - start
  peak = tracemalloc.get_traced_memory()[1]
  tracemalloc.stop()
  return result, secs, peak


class TestCostModel:
  @pytest.mark.parametrize('name', sorted(_REFUSED))
  def test_attack_refused_fast_and_small(self, name):
    attack, names = _REFUSED[name]
    graph_def = cost_model.strip_private_attrs(_classifier(attack))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result, secs, peak = _measured(lambda: cost_model.check_cost(graph_def))
    assert isinstance(result, errors.UnsafeGraphError), result
    assert re.search(names, str(result)), str(result)
    assert secs < _CHECK_SECS
    assert peak < _CHECK_BYTES
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss
    assert grown < _CHECK_BYTES

  def test_names_from_the_file_are_escaped(self):
    def extra(g):
      _node(g, 'evil\x1b[2J\nline', 'Fill', ['images', 'images'], T=tf.float32)
      return 'evil\x1b[2J\nline'

    with pytest.raises(errors.UnsafeGraphError) as info:
      cost_model.check_cost(_classifier(extra))
    assert '\x1b' not in str(info.value) and '\n' not in str(info.value)
    assert 'evil\\x1b[2J\\nline' in str(info.value)

  def test_genuine_classifier_priced(self):
    cost = cost_model.check_cost(_classifier())
    # images, matmul, logits, probabilities (10 floats), predictions.
    assert cost.example_bytes == 4 * 784 + 3 * 4 * 10 + 8
    assert cost.fixed_bytes == 4 * 784 * 10 + 4
    assert cost.example_flops >= 2 * 784 * 10

  def test_pool_window_counts_every_window_element(self):
    side, pad = 9, 4
    cost = cost_model.graph_cost(_classifier(_pool_window(side, pad)))
    base = cost_model.graph_cost(_classifier())
    out = 28 + 2 * pad - side + 1
    padded = (28 + 2 * pad) ** 2
    # Pad, pool (out^2 windows of side^2), and the adds on the way.
    pool_flops = out * out * side * side
    assert cost.example_flops - base.example_flops >= pool_flops + padded
    assert cost.example_flops - base.example_flops < pool_flops + 4 * padded

  def test_wide_tensors_pass_but_split_the_batch(self):
    # Seven 64 MB tensors per image: within the caps, so a run must hold
    # only as many images as run_bytes allows.
    width = 784 * 21400
    graph_def = _classifier(_wide_tensors(7, width))
    cost = cost_model.check_cost(graph_def)
    assert cost.example_bytes > 7 * width * 4
    run_bytes = cost_model.DEFAULT_CAPS.run_bytes
    assert cost.batch_limit() == (run_bytes - cost.fixed_bytes) // (
      cost.example_bytes
    )
    assert 1 <= cost.batch_limit() <= 4
    assert cost.run_bytes(cost.batch_limit()) <= run_bytes
    small = cost_model.Caps(run_bytes=cost.run_bytes(2))
    assert cost.batch_limit(small) == 2

  def test_caps_are_raisable(self):
    graph_def = _classifier(_pool_window(601, 600))
    with pytest.raises(errors.UnsafeGraphError, match='Caps.example_flops'):
      cost_model.check_cost(graph_def)
    caps = cost_model.Caps(example_flops=10**13)
    assert cost_model.check_cost(graph_def, caps).example_flops > 2 * 10**10

  def test_bad_caps(self):
    with pytest.raises(errors.ConfigError, match='run_bytes'):
      cost_model.Caps(run_bytes=0)

  def test_private_attributes_stripped(self):
    graph_def = _classifier(_pixel_rows)
    for node in graph_def.node:
      node.attr['_XlaCompile'].b = True
      node.attr['_XlaScope'].s = b'jit_scope_0'
    stripped = cost_model.strip_private_attrs(graph_def)
    assert not [k for n in stripped.node for k in n.attr if k.startswith('_')]
    assert any('_XlaCompile' in n.attr for n in graph_def.node)

  def test_session_config_folds_nothing(self):
    config = cost_model.session_config(tf.ConfigProto(log_device_placement=1))
    assert config.log_device_placement
    rewrite = config.graph_options.rewrite_options
    assert rewrite.constant_folding == rewrite.OFF
    options = config.graph_options.optimizer_options
    assert options.opt_level == tf.OptimizerOptions.L0
    assert not options.do_constant_folding


# --- Checkpoints and the four entry points -----------------------------------


def _save_contract(directory):
  """A checkpoint of a graph no registered network recognises (w [784,10])."""
  graph = tf.Graph()
  with graph.as_default():
    images = tf.placeholder(tf.float32, [None, 784], 'images')
    weights = tf.get_variable(
      'w', [784, 10], initializer=tf.random_normal_initializer(seed=1)
    )
    logits = tf.identity(tf.matmul(images, weights), name='logits')
    tf.nn.softmax(logits, name='probabilities')
    tf.argmax(logits, 1, name='predictions')
    tf.train.get_or_create_global_step()
    saver = tf.train.Saver()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      return saver.save(
        sess, os.path.join(directory, 'model.ckpt'), global_step=7
      )


def _graft(prefix, attack):
  """Adds `attack`'s nodes to the .meta at `prefix`, on its logits."""
  meta = _helpers.read_meta(prefix)
  scratch = tf.GraphDef()
  column = attack(scratch)
  (logits,) = [n for n in meta.graph_def.node if n.name == 'logits']
  for node in scratch.node:
    meta.graph_def.node.add().CopyFrom(node)
  meta.graph_def.node.add().CopyFrom(
    tf.NodeDef(name='attack/add', op='AddV2', input=[logits.input[0], column])
  )
  meta.graph_def.node[-1].attr['T'].type = tf.float32.as_datatype_enum
  logits.input[0] = 'attack/add'
  _helpers.write_meta(prefix, meta)


@pytest.fixture(scope='module')
def genuine(tmp_path_factory):
  """(prefix, images, probabilities) of a genuine contract checkpoint."""
  prefix = _save_contract(str(tmp_path_factory.mktemp('genuine')))
  images = np.random.default_rng(0).random((64, 784), np.float32)
  with predictor.Predictor.from_checkpoint(prefix, allow_unsafe=True) as p:
    expected = p.predict_proba(images)
  return prefix, images, expected


def _copy(prefix, directory):
  os.makedirs(directory, exist_ok=True)
  base = os.path.basename(prefix)
  for name in os.listdir(os.path.dirname(prefix)):
    if name.startswith(base + '.') or name == 'checkpoint':
      shutil.copy(os.path.join(os.path.dirname(prefix), name), directory)
  return os.path.join(directory, base)


@pytest.fixture
def crafted(genuine, tmp_path):
  """A function(attack) -> prefix of a copy of the genuine checkpoint."""

  def craft(attack):
    prefix = _copy(genuine[0], str(tmp_path / 'ckpt'))
    _graft(prefix, attack)
    return prefix

  return craft


class TestPredictor:
  def test_genuine_predicts_as_before(self, genuine):
    prefix, images, expected = genuine
    with predictor.Predictor.from_checkpoint(prefix) as p:
      np.testing.assert_array_equal(p.predict_proba(images), expected)
      ops = p.graph.as_graph_def().node
      assert not [k for n in ops for k in n.attr if k.startswith('_Xla')]

  def test_worker_runs_give_the_same_result(self, genuine, monkeypatch):
    prefix, images, expected = genuine
    monkeypatch.setattr(sandbox, 'IN_PROCESS_FLOPS', 0)
    with predictor.Predictor.from_checkpoint(prefix, batch_size=10) as p:
      # Other batch sizes sum in another order: the last bit may differ.
      np.testing.assert_allclose(
        p.predict_proba(images), expected, rtol=1e-5, atol=1e-6
      )
      np.testing.assert_array_equal(p.predict(images), expected.argmax(axis=1))

  def test_batch_split_by_run_bytes(self, genuine):
    prefix, images, expected = genuine
    # The weights (31364 bytes) and two images' tensors (3264 bytes each).
    run_bytes = 31364 + 2 * 3264 + 100
    default = cost_model.DEFAULT_CAPS
    # The same memory limit as the default caps: the idle worker is reused.
    caps = cost_model.Caps(
      run_bytes=run_bytes,
      fixed_bytes=default.fixed_bytes + default.run_bytes - run_bytes,
    )
    with predictor.Predictor.from_checkpoint(prefix, caps=caps) as p:
      assert p._batch_size == 2  # noqa: SLF001 - the split is the point
      np.testing.assert_allclose(
        p.predict_proba(images), expected, rtol=1e-5, atol=1e-6
      )

  @pytest.mark.parametrize(
    'name',
    [
      'pixel_rows_lying_output_shapes',
      'pool_window_2000',
      'gather_batch_dims_5',
      'constant_pool_fill_dim',
    ],
  )
  def test_attack_refused(self, crafted, name):
    attack, names = _REFUSED[name]
    prefix = crafted(attack)
    start = time.monotonic()
    with pytest.raises(errors.UnsafeGraphError, match=names) as info:
      predictor.Predictor.from_checkpoint(prefix)
    assert 'allow_unsafe=True' in str(info.value)
    assert time.monotonic() - start < 120

  def test_xla_attributes_never_reach_tf(self, genuine, tmp_path):
    prefix = _copy(genuine[0], str(tmp_path / 'xla'))
    meta = _helpers.read_meta(prefix)
    for node in meta.graph_def.node:
      node.attr['_XlaCompile'].b = True
      node.attr['_XlaScope'].s = b'jit_scope_0'
    _helpers.write_meta(prefix, meta)
    with predictor.Predictor.from_checkpoint(prefix) as p:
      nodes = p.graph.as_graph_def().node
      assert not [k for n in nodes for k in n.attr if k.startswith('_Xla')]
      np.testing.assert_array_equal(p.predict_proba(genuine[1]), genuine[2])


class TestWorker:
  def test_tf_abort_is_a_checkpoint_error(self):
    """A graph TF aborts on (checks bypassed) ends the worker, not us."""
    graph_def = _classifier(_gather_batch_dims)
    with sandbox.Worker() as worker:
      with pytest.raises(errors.CheckpointError, match='SIGABRT') as info:
        worker.load('/crafted/model.ckpt-1', graph_def)
        worker.run(['probabilities:0'], np.zeros([2, 784], np.float32))
    assert '/crafted/model.ckpt-1' in str(info.value)

  def test_deadline_kills_a_busy_run(self, genuine, tmp_path, monkeypatch):
    # A graph within the caps whose run of 4000 images takes minutes.
    def heavy(g):
      _const(g, 'attack/w1', np.full([784, 2048], 1e-4, np.float32), tf.float32)
      _node(g, 'attack/h0', 'MatMul', ['images', 'attack/w1'], T=tf.float32)
      _const(
        g, 'attack/w2', np.full([2048, 2048], 1e-4, np.float32), tf.float32
      )
      for i in range(20):
        _node(
          g,
          f'attack/h{i + 1}',
          'MatMul',
          [f'attack/h{i}', 'attack/w2'],
          T=tf.float32,
        )
      return _scalar_to_column(g, 'attack/h20')

    prefix = _copy(genuine[0], str(tmp_path / 'heavy'))
    _graft(prefix, heavy)
    batch = np.zeros([4000, 784], np.float32)
    # 3 s, not 1: the next call's first run in a new worker (graph
    # optimisation included) must fit too when the cores are shared.
    with predictor.Predictor.from_checkpoint(prefix, timeout_secs=3) as p:
      start = time.monotonic()
      with pytest.raises(errors.PredictionTimeoutError, match='3 s'):
        p.predict(batch)
      assert time.monotonic() - start < 12
      # The next call gets a new worker holding the same graph.
      assert p.predict(batch[:1]).shape == (1,)


# --- Command lines, in subprocesses with hard limits --------------------------


def _limits():
  resource.setrlimit(resource.RLIMIT_AS, (_CLI_BYTES, _CLI_BYTES))
  resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _cli(*args):
  """(returncode, stderr, seconds, peak RSS bytes of the command's tree)."""
  start = time.monotonic()
  proc = subprocess.Popen(
    [sys.executable, '-m', *args],
    env=_ENV,
    cwd=_REPO,
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
    preexec_fn=_limits,  # noqa: PLW1509 - the child is a fresh Python
    start_new_session=True,
  )
  try:
    out, err = proc.communicate(timeout=_CLI_SECS)
  except subprocess.TimeoutExpired:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    pytest.fail(f'{args[0]} ran past {_CLI_SECS} s')
  peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
  return proc.returncode, out + err, time.monotonic() - start, peak


@pytest.fixture(scope='module')
def mnist_dir(tmp_path_factory):
  directory = tmp_path_factory.mktemp('mnist')
  # The MNIST files bundled in the package (no machine path).
  source = str(importlib.resources.files('graphnet').joinpath('data', 'mnist'))
  for name in os.listdir(source):
    if name.endswith('.gz'):
      shutil.copy(os.path.join(source, name), directory)
  return str(directory)


class TestCommandLine:
  def test_predict_refuses_pixel_rows(self, crafted, tmp_path):
    prefix = crafted(_pixel_rows)
    png = tmp_path / 'digit.png'
    _helpers_png(png)
    code, text, secs, peak = _cli(
      'graphnet.predict', '--checkpoint', prefix, str(png)
    )
    assert code == 1 and 'allow_unsafe' in text, text
    assert peak < 3 * 2**30

  @pytest.mark.slow
  def test_export_refuses_pool_window(self, crafted, tmp_path):
    prefix = crafted(_pool_window(2001, 2000))
    out = tmp_path / 'model.pb'
    code, text, secs, peak = _cli(
      'graphnet.export', '--checkpoint', prefix, '--frozen_graph', str(out)
    )
    assert code == 1 and 'example_flops' in text, text
    assert not out.exists() and not os.path.exists(str(out) + '.tmp')
    assert peak < 3 * 2**30

  @pytest.mark.slow
  def test_mnist_eval_refuses_batch_rows(self, crafted, mnist_dir):
    prefix = crafted(_batch_rows)
    code, text, secs, peak = _cli(
      'graphnet.mnist_eval',
      '--checkpoint_dir',
      os.path.dirname(prefix),
      '--input_data_dir',
      mnist_dir,
      '--run_once',
      '--eval_dir',
      os.path.join(os.path.dirname(prefix), 'eval'),
    )
    assert code == 1 and 'cannot be scored' in text, text
    assert peak < 3 * 2**30


def _helpers_png(path):
  with tf.Graph().as_default(), tf.Session() as sess:
    data = sess.run(tf.io.encode_png(tf.zeros([28, 28, 1], tf.uint8)))
  with open(path, 'wb') as f:
    f.write(data)


class TestExporter:
  def test_genuine_export_matches(self, genuine, tmp_path):
    prefix, images, expected = genuine
    graph_def = exporter.export_frozen_graph(prefix, tmp_path / 'm.pb')
    graph = tf.Graph()
    with graph.as_default():
      tf.import_graph_def(graph_def, name='')
      with tf.Session(graph=graph) as sess:
        got = sess.run('probabilities:0', {'images:0': images})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

  def test_refuses_gather_batch_dims(self, crafted, tmp_path):
    prefix = crafted(_gather_batch_dims)
    with pytest.raises(errors.UnsafeGraphError, match='batch_dims 5'):
      exporter.export_frozen_graph(prefix, tmp_path / 'm.pb')
    assert not (tmp_path / 'm.pb').exists()


class TestEvaluator:
  """mnist_eval's library path: saved graphs are scored by a Predictor."""

  def test_genuine_scored_as_before(self, genuine):
    prefix, images, expected = genuine
    labels = np.arange(len(images)) % 10
    data = types.SimpleNamespace(images=images, labels=labels)
    step, accuracy = checkpoint_eval.evaluate_checkpoint(prefix, data)
    assert step == 0  # The global_step variable, never incremented.
    assert accuracy == np.mean(expected.argmax(axis=1) == labels)

  def test_attack_refused(self, crafted, genuine):
    prefix = crafted(_batch_rows)
    data = types.SimpleNamespace(images=genuine[1], labels=np.zeros([64]))
    with pytest.raises(
      errors.CheckpointMismatchError, match='cannot be scored'
    ):
      checkpoint_eval.evaluate_checkpoint(prefix, data)
