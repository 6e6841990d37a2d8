"""Crafted checkpoint files against Predictor, predict, export and mnist_eval.

Every scene is a copy of a genuine checkpoint (tests/fixtures/pre_layout_mlp,
the tutorial MLP trained on MNIST) with one file made hostile by hand: a
`.index` entry TF's reader aborts on (dtype 77, DT_VARIANT, a dimension of
-5, dimensions 2^40 x 2^40, bytes that are no protocol buffer), a table cut
short or holding an endless varint; a `checkpoint` state file naming
another directory's checkpoint; a data shard that is a symbolic link to a
secret outside, or a FIFO; a `checkpoint` file that is a FIFO; an
`eval_validation` directory that is a symbolic link. Each entry point runs
in a child process per entry point (all scenes in turn), with a timeout
and an address-space limit: a scene that blocks or aborts fails the test
instead of hanging or crashing it. The table parser itself is tested
in-process on bytes written here.
"""

import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from tensorflow.core.protobuf import tensor_bundle_pb2

from graphnet import errors
from graphnet.serving import bundle_index
from graphnet.serving import index_table

_TESTS = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(_TESTS)
_FIXTURE = os.path.join(_TESTS, 'fixtures', 'pre_layout_mlp')
_PREFIX = 'model.ckpt-100'
_SECRET = b'the secret key is 8271'
# Limits of each driver process (all scenes of one entry point).
_DRIVER_SECS = 240
_ADDRESS_SPACE = 6 << 30
_ENTRIES = ('Predictor', 'predict', 'export', 'mnist_eval')


# --- A LevelDB table writer, to craft `.index` files by hand -------------


def _crc32c(data):
  crc = 0xFFFFFFFF
  for byte in data:
    crc ^= byte
    for _ in range(8):
      crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
  return crc ^ 0xFFFFFFFF


def _masked(crc):
  return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & (
    0xFFFFFFFF
  )


def _varint(n):
  out = bytearray()
  while n >= 0x80:
    out.append(n & 0x7F | 0x80)
    n >>= 7
  out.append(n)
  return bytes(out)


def _block(entries, raw=None):
  """A block of `entries` [(key, value)], each a restart point."""
  body, restarts = b'', []
  for key, value in entries:
    restarts.append(len(body))
    body += _varint(0) + _varint(len(key)) + _varint(len(value)) + key + value
  body = raw if raw is not None else body
  restarts = restarts or [0]
  tail = b''.join(struct.pack('<I', r) for r in restarts)
  return body + tail + struct.pack('<I', len(restarts))


def _table(entries, compress=None, raw_block=None):
  """The bytes of a table holding `entries` (sorted) in one data block."""
  out = b''

  def put(block, kind=0):
    nonlocal out
    handle = (len(out), len(block))
    trailer = bytes([kind])
    out += (
      block + trailer + struct.pack('<I', _masked(_crc32c(block + trailer)))
    )
    return _varint(handle[0]) + _varint(handle[1])

  data = _block(entries, raw_block)
  data_handle = put(*(compress(data), 1) if compress else (data,))
  meta_handle = put(_block([]))
  last = entries[-1][0] if entries else b''
  index_handle = put(_block([(last, data_handle)]))
  footer = (meta_handle + index_handle).ljust(40, b'\0')
  return out + footer + struct.pack('<Q', 0xDB4775248B80FB57)


def _snappy_literals(data):
  """`data` snappy-compressed as literals of up to 60 bytes."""
  chunks = (data[i : i + 60] for i in range(0, len(data), 60))
  return _varint(len(data)) + b''.join(
    bytes([(len(c) - 1) << 2]) + c for c in chunks
  )


def _png(path):
  """Writes a valid 1x1 gray PNG (predict scales it to 28x28)."""

  def chunk(kind, data):
    crc = zlib.crc32(kind + data)
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', crc)

  header = struct.pack('>IIBBBBB', 1, 1, 8, 0, 0, 0, 0)
  _write(
    path,
    b'\x89PNG\r\n\x1a\n'
    + chunk(b'IHDR', header)
    + chunk(b'IDAT', zlib.compress(b'\x00\x00'))
    + chunk(b'IEND', b''),
  )


def _genuine_entries():
  with open(os.path.join(_FIXTURE, _PREFIX + '.index'), 'rb') as f:
    return index_table.table_entries(f.read())


def _with_entry(name, edit):
  """The genuine entries with entry `name`'s BundleEntryProto edited."""
  out = []
  for key, value in _genuine_entries():
    if key == name.encode():
      proto = tensor_bundle_pb2.BundleEntryProto()
      proto.ParseFromString(value)
      value = edit(proto)
      value = value if isinstance(value, bytes) else proto.SerializeToString()
    out.append((key, value))
  return out


def _dims(*sizes):
  def edit(proto):
    del proto.shape.dim[:]
    for size in sizes:
      proto.shape.dim.add(size=size)

  return edit


def _field(name, value):
  return lambda proto: setattr(proto, name, value)


_BIASES = 'hidden1/biases'
_ENTRY_ATTACKS = {
  'dtype_77': _with_entry(_BIASES, _field('dtype', 77)),
  'dt_variant': _with_entry(_BIASES, _field('dtype', 21)),
  'dim_minus_5': _with_entry(_BIASES, _dims(-5)),
  'dims_2e40_x_2e40': _with_entry(_BIASES, _dims(1 << 40, 1 << 40)),
  'unparseable_entry': _with_entry(_BIASES, lambda proto: b'\x0a\xff\x01'),
}


# --- Scenes ---------------------------------------------------------------


def _copy(directory):
  shutil.copytree(_FIXTURE, directory)
  for name in ('README.md', 'expected.npz'):
    os.remove(os.path.join(directory, name))
  return os.path.join(directory, _PREFIX)


def _write(path, data):
  with open(path, 'wb') as f:
    f.write(data)


def _scenes(root):
  """{name: checkpoint directory}, and the outside dir holding the secret."""
  outside = os.path.join(root, 'outside')
  os.makedirs(outside)
  _write(os.path.join(outside, 'secret.txt'), _SECRET)
  _copy(os.path.join(root, 'other'))
  scenes = {}

  def scene(name):
    prefix = _copy(os.path.join(root, name))
    scenes[name] = os.path.dirname(prefix)
    return prefix

  scene('genuine')
  # Written by the table writer here: TF must read it as the original.
  prefix = scene('rewritten_index')
  _write(prefix + '.index', _table(_genuine_entries()))
  for name, entries in _ENTRY_ATTACKS.items():
    _write(scene(name) + '.index', _table(entries))
  prefix = scene('truncated_table')
  with open(prefix + '.index', 'rb') as f:
    data = f.read()
  _write(prefix + '.index', data[: len(data) // 2])
  endless = b'\xff' * 11 + b'\x00' * 8
  _write(scene('huge_varint') + '.index', _table([(b'', b'')], None, endless))
  for name, named in (
    ('state_parent', f'../other/{_PREFIX}'),
    ('state_absolute', os.path.join(root, 'other', _PREFIX)),
  ):
    prefix = scene(name)
    for suffix in ('.index', '.meta', '.data-00000-of-00001'):
      os.remove(prefix + suffix)
    _write(
      os.path.join(scenes[name], 'checkpoint'),
      f'model_checkpoint_path: "{named}"\n'.encode(),
    )
  shard = scene('shard_symlink_secret') + '.data-00000-of-00001'
  os.remove(shard)
  os.symlink(os.path.join(outside, 'secret.txt'), shard)
  shard = scene('shard_fifo') + '.data-00000-of-00001'
  os.remove(shard)
  os.mkfifo(shard)
  state = os.path.join(os.path.dirname(scene('state_fifo')), 'checkpoint')
  os.remove(state)
  os.mkfifo(state)
  for name, suffix in (('index_fifo', '.index'), ('meta_fifo', '.meta')):
    path = scene(name) + suffix
    os.remove(path)
    os.mkfifo(path)
  scene('eval_dir_symlink')
  os.symlink(
    outside, os.path.join(scenes['eval_dir_symlink'], 'eval_validation')
  )
  return scenes, outside


def _limits():
  resource.setrlimit(resource.RLIMIT_AS, (_ADDRESS_SPACE, _ADDRESS_SPACE))
  resource.setrlimit(resource.RLIMIT_CPU, (_DRIVER_SECS, _DRIVER_SECS))


@pytest.fixture(scope='module')
def runs(tmp_path_factory, data_dir):
  """{(scene, entry): result}, the outside directory, the scenes."""
  root = str(tmp_path_factory.mktemp('attacks'))
  scenes, outside = _scenes(root)
  image = os.path.join(root, 'blank.png')
  _png(image)
  env = dict(os.environ, PYTHONPATH=_REPO, TF_CPP_MIN_LOG_LEVEL='2')
  procs = []
  for entry in ('predict', 'export', 'mnist_eval'):
    cases = [
      dict(
        name=name,
        checkpoint=directory,
        image=image,
        out=os.path.join(root, f'{name}.pb'),
        data_dir=str(data_dir),
      )
      for name, directory in scenes.items()
      if entry == 'mnist_eval' or name != 'eval_dir_symlink'
    ]
    cases_path = os.path.join(root, f'{entry}_cases.json')
    with open(cases_path, 'w') as f:
      json.dump(cases, f)
    results = os.path.join(root, f'{entry}_results.jsonl')
    procs.append(
      (
        entry,
        results,
        subprocess.Popen(
          [
            sys.executable,
            os.path.join(_TESTS, '_attack_driver.py'),
            entry,
            cases_path,
            results,
          ],
          env=env,
          stdout=subprocess.PIPE,
          stderr=subprocess.PIPE,
          text=True,
          preexec_fn=_limits,
        ),
      )
    )
  found = {}
  for entry, results, proc in procs:
    try:
      _, stderr = proc.communicate(timeout=_DRIVER_SECS)
    except subprocess.TimeoutExpired:
      proc.kill()
      _, stderr = proc.communicate()
    records = []
    if os.path.exists(results):
      with open(results) as f:
        records = [json.loads(line) for line in f]
    for record in records:
      found[record['case'], record['entry']] = record
    found[entry, 'driver'] = dict(code=proc.returncode, stderr=stderr[-3000:])
  # Largest resident size of a driver or one of its workers.
  found['peak', 'kib'] = max(
    (r['kib'] for k, r in found.items() if k[0] == 'peak' and 'kib' in r),
    default=None,
  )
  return found, outside, scenes


def _result(runs, scene, entry):
  found, _, _ = runs
  driver = 'predict' if entry == 'Predictor' else entry
  assert (scene, entry) in found, (
    f'{entry} never finished scene {scene} (blocked or crashed): '
    f'{found[driver, "driver"]}'
  )
  return found[scene, entry]


_REFUSED = {
  'dtype_77': 'dtype 77',
  'dt_variant': 'dtype 21',
  'dim_minus_5': 'dimensions >= 0',
  'dims_2e40_x_2e40': 'at most',
  'unparseable_entry': 'a BundleEntryProto',
  'truncated_table': 'magic number',
  'huge_varint': 'a varint of at most 5 bytes',
  'state_parent': 'outside that directory',
  'state_absolute': 'outside that directory',
  'shard_symlink_secret': 'symbolic link to a file outside',
  'shard_fifo': 'a FIFO',
  'state_fifo': 'a FIFO',
}


class TestEntryPoints:
  @pytest.mark.parametrize('entry', _ENTRIES)
  @pytest.mark.parametrize('scene', ['index_fifo', 'meta_fifo'])
  def test_fifo_never_blocks(self, runs, scene, entry):
    result = _result(runs, scene, entry)
    if scene == 'meta_fifo' and entry == 'mnist_eval':
      # The evaluator rebuilds the MLP from its variables: no graph read.
      assert result['code'] == 0, result['stderr']
    else:
      assert result['code'] == 1, result
      # isfile() is False for a FIFO: the checkpoint is incomplete.
      said = ('missing', 'none has its .meta', 'a FIFO')
      assert any(s in result['stderr'] for s in said), result['stderr']

  @pytest.mark.parametrize('entry', _ENTRIES)
  @pytest.mark.parametrize('scene', sorted(_REFUSED))
  def test_refused_in_one_line(self, runs, scene, entry):
    result = _result(runs, scene, entry)
    assert result['code'] == 1, result
    assert _REFUSED[scene] in result['stderr'], result['stderr']
    if entry != 'Predictor':
      lines = result['stderr'].strip().splitlines()
      assert lines[-1].startswith('graphnet: error: '), result['stderr']
      assert 'Traceback' not in result['stderr']
    secret = _SECRET.decode()
    for leak in (secret, str(_crc32c(_SECRET)), str(_masked(_crc32c(_SECRET)))):
      assert leak not in result['stderr'] + result['stdout']

  @pytest.mark.parametrize('entry', _ENTRIES)
  @pytest.mark.parametrize('scene', ['genuine', 'rewritten_index'])
  def test_genuine_still_works(self, runs, scene, entry):
    result = _result(runs, scene, entry)
    assert result['code'] == 0, result['stderr']
    if entry == 'mnist_eval':
      assert 'validation accuracy = 0.' in result['stdout']
    if entry == 'export':
      root = os.path.dirname(runs[2]['genuine'])
      assert os.path.getsize(os.path.join(root, f'{scene}.pb')) > 400000

  def test_peak_memory_stays_small(self, runs):
    # TF allocated 3.6 GB for a DT_VARIANT entry of 5 bytes.
    assert runs[0]['peak', 'kib'] is not None
    assert runs[0]['peak', 'kib'] < 2 << 20

  def test_nothing_written_outside(self, runs):
    _, outside, _ = runs
    assert sorted(os.listdir(outside)) == ['secret.txt']

  def test_refused_exports_write_nothing(self, runs):
    _, _, scenes = runs
    root = os.path.dirname(scenes['genuine'])
    written = {n for n in os.listdir(root) if n.endswith('.pb')}
    assert written == {'genuine.pb', 'rewritten_index.pb'}

  def test_symlinked_eval_dir_is_refused(self, runs):
    result = _result(runs, 'eval_dir_symlink', 'mnist_eval')
    assert result['code'] == 1
    assert 'is a symbolic link' in result['stderr']
    assert '--eval_dir' in result['stderr']


# --- The table parser, in-process -----------------------------------------


def _parse(data):
  return bundle_index.parse_index(data, 'crafted.index')


class TestParser:
  def test_genuine_index_as_tf_wrote_it(self):
    index = bundle_index.check_checkpoint(os.path.join(_FIXTURE, _PREFIX))
    assert index.num_shards == 1
    weights = index.entries['hidden1/weights']
    assert (weights.dtype, weights.shape, weights.size) == (
      1,
      (784, 128),
      401408,
    )

  def test_snappy_block_reads_as_plain(self):
    entries = _genuine_entries()
    index = _parse(_table(entries, compress=_snappy_literals))
    assert set(index.entries) == {k.decode() for k, _ in entries[1:]}

  def test_snappy_copies_and_bounds(self):
    # 'abcd', then 4 bytes copied from 4 back.
    assert index_table.snappy(b'\x08\x0cabcd\x01\x04', 'b') == b'abcdabcd'
    for crafted in (b'\x08\x0cabcd\x01\x05', b'\x09\x0cabcd\x01\x04'):
      with pytest.raises(index_table.BadIndexError):
        index_table.snappy(crafted, 'b')
    with pytest.raises(index_table.BadIndexError) as e:
      index_table.snappy(_varint(1 << 30) + b'\x00a', 'b')
    assert 'uncompressed' in e.value.expected

  @pytest.mark.parametrize(
    'edit, expected',
    [
      (_field('shard_id', 3), 'a shard below 1'),
      (_field('size', 7), 'a size of 7 bytes'),
      (lambda p: p.slices.add(), 'partitioned variable'),
      (lambda p: setattr(p.shape, 'unknown_rank', True), 'known rank'),
      (_dims(*[1] * 300), 'known rank of at most 254'),
    ],
  )
  def test_entry_refused(self, edit, expected):
    with pytest.raises(errors.CheckpointError, match=expected) as e:
      _parse(_table(_with_entry(_BIASES, edit)))
    assert 'entry hidden1/biases' in str(e.value)
    assert 'crafted.index' in str(e.value)

  def test_entry_name_is_escaped(self):
    entries = _genuine_entries() + [(b'z\x1b[2J\n', b'\x0a\xff')]
    with pytest.raises(errors.CheckpointError) as e:
      _parse(_table(entries))
    assert 'z\\x1b[2J\\n' in str(e.value)
    assert '\x1b' not in str(e.value) and '\n' not in str(e.value)

  def test_header_refused(self):
    entries = _genuine_entries()
    header = tensor_bundle_pb2.BundleHeaderProto()
    header.ParseFromString(entries[0][1])
    for field, value, expected in (
      ('num_shards', 0, '1 to 1024 data shards'),
      ('endianness', 1, 'little-endian'),
    ):
      bad = tensor_bundle_pb2.BundleHeaderProto()
      bad.CopyFrom(header)
      setattr(bad, field, value)
      crafted = [(b'', bad.SerializeToString())] + entries[1:]
      with pytest.raises(errors.CheckpointError, match=expected):
        _parse(_table(crafted))

  def test_unsorted_keys_refused(self):
    entries = _genuine_entries()
    crafted = [entries[0], entries[2], entries[1], *entries[3:]]
    with pytest.raises(errors.CheckpointError, match='increasing order'):
      _parse(_table(crafted))

  def test_entry_count_is_capped(self, monkeypatch):
    data = _table(_genuine_entries())
    monkeypatch.setattr(index_table, 'MAX_ENTRIES', 5)
    with pytest.raises(errors.CheckpointError, match='at most 5 entries'):
      _parse(data)

  def test_oversized_index_is_not_read(self, tmp_path, monkeypatch):
    prefix = _copy(str(tmp_path / 'big'))
    monkeypatch.setattr(index_table, 'MAX_INDEX_BYTES', 100)
    with pytest.raises(errors.CheckpointError, match='more than the 100'):
      bundle_index.check_checkpoint(prefix)

  def test_extent_past_the_shard_refused(self, tmp_path):
    prefix = _copy(str(tmp_path / 'short'))
    shard = prefix + '.data-00000-of-00001'
    os.truncate(shard, os.path.getsize(shard) - 100)
    with pytest.raises(errors.CheckpointError, match='softmax_linear/weights'):
      bundle_index.check_checkpoint(prefix)

  def test_symlinked_shard_inside_the_directory_is_read(self, tmp_path):
    prefix = _copy(str(tmp_path / 'linked'))
    shard = prefix + '.data-00000-of-00001'
    os.rename(shard, shard + '.real')
    os.symlink(os.path.basename(shard) + '.real', shard)
    assert bundle_index.check_checkpoint(prefix).num_shards == 1

  def test_random_bytes_never_escape_as_another_error(self):
    rng = np.random.default_rng(0)
    good = _table(_genuine_entries())
    for _ in range(300):
      data = bytearray(good)
      for at in rng.integers(0, len(data), 3):
        data[at] = rng.integers(0, 256)
      try:
        _parse(bytes(data))
      except errors.CheckpointError:
        pass


# --- Text from the file, printed escaped ------------------------------------

_HOSTILE_TEXT = '\x1b]0;owned\x07\x1b[2J\nfake line'


def _save_check_numerics_graph(directory):
  """A contract graph whose CheckNumerics fires, with a hostile message."""
  import tensorflow.compat.v1 as tf  # noqa: PLC0415

  with tf.Graph().as_default():
    images = tf.placeholder(tf.float32, [None, 784], 'images')
    weights = tf.get_variable('w', [784, 10])
    # NaN for images whose first pixel is above 0.5.
    nan = tf.log(0.5 - images[:, :1])
    checked = tf.debugging.check_numerics(nan, _HOSTILE_TEXT)
    logits = tf.identity(tf.matmul(images, weights) + checked, name='logits')
    tf.nn.softmax(logits, name='probabilities')
    tf.argmax(logits, 1, name='predictions')
    saver = tf.train.Saver()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      return saver.save(sess, os.path.join(directory, 'model.ckpt'))


class TestEscaping:
  def test_check_numerics_message_is_escaped(self, tmp_path, capsys):
    from graphnet.cli import common  # noqa: PLC0415
    from graphnet.serving import predictor  # noqa: PLC0415

    prefix = _save_check_numerics_graph(str(tmp_path))

    def work():
      with predictor.Predictor.from_checkpoint(prefix) as p:
        p.predict(np.ones([1, 784], np.float32))

    with pytest.raises(errors.CheckpointError) as e:
      work()
    message = str(e.value)
    assert 'owned\\x07\\x1b[2J\\nfake line' in message, message
    assert not any(c in message for c in '\x1b\x07\n')
    assert e.value.__cause__ is None and e.value.__suppress_context__
    assert common.exit_code(work) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and '\x1b' not in err

  def test_exit_code_escapes_a_raw_message(self, capsys):
    from graphnet.cli import common  # noqa: PLC0415

    def work():
      raise errors.CheckpointError('name \x1b[2J\nnext C:\\dir')

    assert common.exit_code(work) == 1
    err = capsys.readouterr().err
    assert err == 'graphnet: error: name \\x1b[2J\\nnext C:\\dir\n'
