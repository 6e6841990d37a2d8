"""Parses and checks a checkpoint's `.index` file before TF's reader sees it.

TF's checkpoint reader trusts the `.index` file: an entry of dtype 77, a
dimension of -5, dimensions 2^40 x 2^40 or a value that is no protocol
buffer abort the process (SIGABRT), and an entry of dtype `DT_VARIANT`
makes it allocate gigabytes from a few bytes. `check_checkpoint` reads the
file itself, bounded, and refuses anything TF could choke on, so that TF's
reader only ever sees an index already known to be sane.

The `.index` file is a LevelDB-format table (sorted string table): data
blocks of prefix-compressed key/value entries with restart points, an
index block of block handles, a metaindex block and a 48-byte footer ending
in a magic number. Blocks may be snappy-compressed (TF writes them plain).
The entry with the empty key is a `BundleHeaderProto` (number of shards,
endianness, format version); every other value is a `BundleEntryProto`
(dtype, shape, shard, offset and size of the tensor's bytes in that shard,
their checksum, and the slices of a partitioned variable).

What is checked, with the caps in this module:
  * the file: a regular file (see `file_checks`) of at most
    MAX_INDEX_BYTES; the table framing, every varint (at most 5 or 10
    bytes), block bounds, restart points, keys strictly increasing and
    consistent with the index block, at most MAX_ENTRIES entries;
  * the header: little-endian, a format version this reader accepts,
    1..MAX_SHARDS shards, each `<prefix>.data-NNNNN-of-NNNNN` a regular
    file inside the checkpoint's directory;
  * each entry: a numeric dtype (or DT_STRING, see below), a known rank of
    at most MAX_RANK, every dimension >= 0, at most MAX_TENSOR_BYTES bytes,
    `size` equal to elements x dtype size, its shard among those declared,
    and its bytes inside that shard's file; partitioned variables
    (`slices`) are refused.

DT_STRING entries pass when their size is inside their shard: a string
tensor's element lengths live in the data file and TF allocates them as
read, so graphnet never reads one from an untrusted checkpoint (freezing
refuses a variable whose entry is not numeric; TF's restore op compares
dtypes before reading). The checksums are left to TF, and no message here
shows a checksum or any byte of the files.

Example:
    index = bundle_index.check_checkpoint('/tmp/logs/model.ckpt-2000')
    index.entries['hidden1/weights'].shape   # (784, 128)
"""

import dataclasses
import math
import os
import sys

from google.protobuf import message
from tensorflow.core.protobuf import tensor_bundle_pb2

from graphnet import errors
from graphnet.checkpoints import file_checks

__all__ = [
  'MAX_INDEX_BYTES',
  'MAX_ENTRIES',
  'MAX_SHARDS',
  'MAX_RANK',
  'MAX_TENSOR_BYTES',
  'DT_STRING',
  'ITEM_BYTES',
  'Entry',
  'BundleIndex',
  'parse_index',
  'check_checkpoint',
  'shard_path',
]

# A graphnet MLP's index is 344 bytes; a ResNet-50's about 30 KB.
MAX_INDEX_BYTES = 64 << 20
MAX_ENTRIES = 100_000
MAX_SHARDS = 1024
# TF's own limit on the rank of a tensor.
MAX_RANK = 254
# Twice graphnet's 512 MB cap on all the weights of a served graph.
MAX_TENSOR_BYTES = 1 << 30

DT_STRING = 7
# Bytes per element of the numeric dtypes (DataType enum value -> bytes):
# float, double, int32, uint8, int16, int8, complex64, int64, bool,
# bfloat16, uint16, complex128, half, uint32, uint64.
ITEM_BYTES = {
  1: 4,
  2: 8,
  3: 4,
  4: 1,
  5: 2,
  6: 1,
  8: 8,
  9: 8,
  10: 1,
  14: 2,
  17: 2,
  18: 16,
  19: 2,
  22: 4,
  23: 8,
}

_MAGIC = 0xDB4775248B80FB57
_FOOTER_BYTES = 48
# After each block: its compression type (1 byte) and checksum (4 bytes).
_TRAILER_BYTES = 5
_PLAIN, _SNAPPY = 0, 1
# The version this reader (TF's, and so ours) is: kTensorBundleVersion.
_READER_VERSION = 1
_FIX = 'The file is damaged or crafted; use another checkpoint.'


@dataclasses.dataclass(frozen=True)
class Entry:
  """One tensor of a checkpoint, as its `.index` describes it."""

  # The tensor's key, e.g. 'hidden1/weights' (undecodable bytes kept as
  # surrogate escapes).
  name: str
  # TF DataType enum value (1 = float32).
  dtype: int
  # Dimensions, each >= 0.
  shape: tuple
  # Which `.data` shard holds its bytes.
  shard_id: int
  # Where in that shard, and how many bytes.
  offset: int
  size: int


@dataclasses.dataclass(frozen=True)
class BundleIndex:
  """A parsed, checked `.index` file."""

  # How many `.data-NNNNN-of-NNNNN` files the checkpoint has.
  num_shards: int
  # {key: Entry}, every tensor but the header.
  entries: dict


class _BadIndexError(Exception):
  """A violation, turned into a CheckpointError naming the file."""

  def __init__(self, where, expected, found):
    super().__init__(where)
    self.where = where
    self.expected = expected
    self.found = found


def _error(path, bad):
  return errors.CheckpointError(
    f'checkpoint index {errors.printable(path)}: {bad.where}: expected '
    f'{bad.expected}, found {bad.found}. {_FIX}',
    path=path,
  )


def _varint(buf, pos, max_bytes, where):
  """(value, next position) of the varint at `buf[pos]`, at most 5/10 B."""
  value = 0
  for i in range(max_bytes):
    if pos + i >= len(buf):
      raise _BadIndexError(where, 'a varint', 'the end of its block')
    byte = buf[pos + i]
    value |= (byte & 0x7F) << (7 * i)
    if not byte & 0x80:
      bits = 32 if max_bytes == 5 else 64
      if value >= 1 << bits:
        raise _BadIndexError(where, f'a varint below 2^{bits}', 'a larger one')
      return value, pos + i + 1
  raise _BadIndexError(
    where, f'a varint of at most {max_bytes} bytes', 'a longer one'
  )


def _handle(buf, pos, where):
  """((offset, size), next position) of the block handle at `buf[pos]`."""
  offset, pos = _varint(buf, pos, 10, where)
  size, pos = _varint(buf, pos, 10, where)
  if offset >= 1 << 63 or size >= 1 << 63:
    raise _BadIndexError(where, 'a block handle below 2^63', 'a larger one')
  return (offset, size), pos


def _snappy(buf, where):
  """The snappy-decompressed `buf`, at most MAX_INDEX_BYTES."""
  want, pos = _varint(buf, 0, 5, where)
  if want > MAX_INDEX_BYTES:
    raise _BadIndexError(
      where, f'at most {MAX_INDEX_BYTES} bytes uncompressed', f'{want} bytes'
    )
  out = bytearray()
  while pos < len(buf):
    tag = buf[pos]
    pos += 1
    kind = tag & 3
    if kind == 0:  # A literal; long ones say their length in 1-4 bytes.
      length = tag >> 2
      if length >= 60:
        extra = length - 59
        length = int.from_bytes(buf[pos : pos + extra], 'little')
        pos += extra
      length += 1
      if pos > len(buf) or pos + length > len(buf):
        raise _BadIndexError(
          where, 'a snappy literal inside the block', 'one past it'
        )
      out += buf[pos : pos + length]
      pos += length
    else:  # A copy of earlier output, with a 1-, 2- or 4-byte offset.
      extra = (1, 2, 4)[kind - 1]
      if pos + extra > len(buf):
        raise _BadIndexError(
          where, 'a snappy copy inside the block', 'one past it'
        )
      if kind == 1:
        length = 4 + ((tag >> 2) & 7)
        distance = ((tag >> 5) << 8) | buf[pos]
      else:
        length = 1 + (tag >> 2)
        distance = int.from_bytes(buf[pos : pos + extra], 'little')
      pos += extra
      if not 0 < distance <= len(out):
        raise _BadIndexError(
          where, 'a snappy copy of earlier bytes', 'another offset'
        )
      start = len(out) - distance
      for i in range(length):
        out.append(out[start + i])
    if len(out) > want:
      raise _BadIndexError(where, f'{want} bytes uncompressed', 'more')
  if len(out) != want:
    raise _BadIndexError(where, f'{want} bytes uncompressed', f'{len(out)}')
  return bytes(out)


def _block(data, handle, where):
  """The contents of the block `handle` names (decompressed)."""
  offset, size = handle
  table_end = len(data) - _FOOTER_BYTES
  if offset + size + _TRAILER_BYTES > table_end:
    raise _BadIndexError(
      where,
      f'a block inside the table ({table_end} bytes before the footer)',
      f'one at [{offset}, {offset + size + _TRAILER_BYTES})',
    )
  contents = data[offset : offset + size]
  kind = data[offset + size]
  if kind == _PLAIN:
    return contents
  if kind == _SNAPPY:
    return _snappy(contents, where)
  raise _BadIndexError(
    where, 'compression type 0 (none) or 1 (snappy)', f'type {kind}'
  )


def _block_entries(block, where, budget):
  """[(key, value)] of a block; checks entries against its restart points.

  `budget` is a one-element list: entries left before MAX_ENTRIES.
  """
  if len(block) < 4:
    raise _BadIndexError(
      where, 'a block of at least 4 bytes', f'{len(block)} bytes'
    )
  count = int.from_bytes(block[-4:], 'little')
  if count > (len(block) - 4) // 4:
    raise _BadIndexError(
      where,
      f'at most {(len(block) - 4) // 4} restart points',
      f'{count} declared',
    )
  restarts_at = len(block) - 4 - 4 * count
  restarts = [
    int.from_bytes(
      block[restarts_at + 4 * i : restarts_at + 4 * i + 4], 'little'
    )
    for i in range(count)
  ]
  entries, starts, key, pos = [], {}, b'', 0
  while pos < restarts_at:
    budget[0] -= 1
    if budget[0] < 0:
      raise _BadIndexError(where, f'at most {MAX_ENTRIES} entries', 'more')
    start = pos
    shared, pos = _varint(block, pos, 5, where)
    unshared, pos = _varint(block, pos, 5, where)
    length, pos = _varint(block, pos, 5, where)
    if shared > len(key):
      raise _BadIndexError(
        where,
        f'a key sharing at most the {len(key)} bytes of the previous key',
        f'one sharing {shared}',
      )
    value_at = pos + unshared
    if value_at + length > restarts_at:
      raise _BadIndexError(
        where, 'an entry inside its block', 'one running past it'
      )
    key = key[:shared] + block[pos:value_at]
    starts[start] = shared
    entries.append((key, block[value_at : value_at + length]))
    pos = value_at + length
  if not entries:
    if any(restarts):
      raise _BadIndexError(
        where, 'restart points at 0 in an empty block', 'others'
      )
    return entries
  if not restarts or restarts[0] != 0:
    raise _BadIndexError(where, 'a first restart point at 0', 'none there')
  for previous, point in zip(restarts, restarts[1:], strict=False):
    if point <= previous:
      raise _BadIndexError(
        where, 'increasing restart points', 'a decreasing one'
      )
  if any(starts.get(point) != 0 for point in restarts):
    raise _BadIndexError(
      where,
      'restart points at entries with a full key',
      'one elsewhere',
    )
  return entries


def _table_entries(data):
  """[(key, value)] of every data block, keys strictly increasing."""
  if len(data) < _FOOTER_BYTES:
    raise _BadIndexError(
      'footer', f'a table of at least {_FOOTER_BYTES} bytes', f'{len(data)}'
    )
  if int.from_bytes(data[-8:], 'little') != _MAGIC:
    raise _BadIndexError(
      'footer',
      "the table's magic number at its end",
      'another value (not an index file, or cut short)',
    )
  footer = data[-_FOOTER_BYTES:-8]
  meta_handle, pos = _handle(footer, 0, 'footer')
  index_handle, _ = _handle(footer, pos, 'footer')
  budget = [MAX_ENTRIES]
  _block_entries(
    _block(data, meta_handle, 'metaindex block'), 'metaindex block', budget
  )
  blocks = _block_entries(
    _block(data, index_handle, 'index block'), 'index block', budget
  )
  out, last_key, last_separator = [], None, None
  for number, (separator, value) in enumerate(blocks):
    where = f'data block {number}'
    handle, used = _handle(value, 0, where)
    if used != len(value):
      raise _BadIndexError(
        where, 'a block handle and nothing else', 'more bytes'
      )
    entries = _block_entries(_block(data, handle, where), where, budget)
    for key, value in entries:
      if last_key is not None and key <= last_key:
        raise _BadIndexError(
          where, 'keys in strictly increasing order', 'one out of it'
        )
      if last_separator is not None and key <= last_separator:
        raise _BadIndexError(
          where, "keys above the previous block's bound", 'one below'
        )
      last_key = key
      out.append((key, value))
    if last_key is not None and last_key > separator:
      raise _BadIndexError(
        where, 'keys up to its bound in the index', 'one above'
      )
    last_separator = separator
  return out


def _name(key):
  return key.decode('utf-8', 'surrogateescape')


def _header(entries):
  if not entries or entries[0][0] != b'':
    raise _BadIndexError('header', 'a first entry with the empty key', 'none')
  header = tensor_bundle_pb2.BundleHeaderProto()
  try:
    header.ParseFromString(entries[0][1])
  except message.DecodeError as e:
    raise _BadIndexError(
      'header', 'a BundleHeaderProto', 'bytes that are none'
    ) from e
  little = tensor_bundle_pb2.BundleHeaderProto.LITTLE
  if header.endianness != little or sys.byteorder != 'little':
    raise _BadIndexError(
      'header', 'little-endian tensors', 'another byte order'
    )
  version = header.version
  if (
    version.min_consumer > _READER_VERSION
    or _READER_VERSION in version.bad_consumers
  ):
    raise _BadIndexError(
      'header',
      f'a format version readable by version {_READER_VERSION}',
      f'one needing version {version.min_consumer} or excluding it',
    )
  if not 1 <= header.num_shards <= MAX_SHARDS:
    raise _BadIndexError(
      'header', f'1 to {MAX_SHARDS} data shards', f'{header.num_shards}'
    )
  return header.num_shards


def _entry(key, value, num_shards):
  where = f'entry {errors.printable(_name(key))}'
  proto = tensor_bundle_pb2.BundleEntryProto()
  try:
    proto.ParseFromString(value)
  except message.DecodeError as e:
    raise _BadIndexError(
      where, 'a BundleEntryProto', 'bytes that are none'
    ) from e
  if proto.slices:
    raise _BadIndexError(
      where,
      'a whole tensor',
      f'a partitioned variable of {len(proto.slices)} slices (refused in '
      'untrusted checkpoints; pass allow_unsafe=True if you trust it)',
    )
  if proto.dtype not in ITEM_BYTES and proto.dtype != DT_STRING:
    raise _BadIndexError(
      where, 'a numeric or string dtype', f'dtype {proto.dtype}'
    )
  if proto.shape.unknown_rank or len(proto.shape.dim) > MAX_RANK:
    raise _BadIndexError(
      where, f'a known rank of at most {MAX_RANK}', 'an unknown or larger one'
    )
  shape = tuple(d.size for d in proto.shape.dim)
  if any(d < 0 for d in shape):
    raise _BadIndexError(where, 'dimensions >= 0', f'shape {list(shape)}')
  elements = 1
  for d in shape:
    # Stops before the product of huge dimensions grows without bound.
    elements = min(elements * d, MAX_TENSOR_BYTES + 1)
  if proto.dtype == DT_STRING:
    # Each element takes at least its 1-byte length.
    if elements > proto.size or proto.size > MAX_TENSOR_BYTES:
      raise _BadIndexError(
        where,
        f'a string tensor of at most {MAX_TENSOR_BYTES} bytes holding its '
        f'{elements} elements',
        f'{proto.size} bytes',
      )
  else:
    want = elements * ITEM_BYTES[proto.dtype]
    if want > MAX_TENSOR_BYTES:
      raise _BadIndexError(
        where,
        f'a tensor of at most {MAX_TENSOR_BYTES} bytes',
        f'shape {list(shape)} of {math.prod(shape)} elements',
      )
    if proto.size != want:
      raise _BadIndexError(
        where,
        f'{want} bytes for shape {list(shape)}',
        f'a size of {proto.size} bytes',
      )
  if proto.shard_id >= num_shards:
    raise _BadIndexError(
      where, f'a shard below {num_shards}', f'shard {proto.shard_id}'
    )
  return Entry(
    _name(key),
    proto.dtype,
    shape,
    proto.shard_id,
    proto.offset,
    proto.size,
  )


def parse_index(data, path):
  """Parses and checks the bytes of a `.index` file.

  Args:
    data: the file's content (bytes).
    path: the file's name, for messages.

  Returns:
    a `BundleIndex`; extents are not yet checked against the shards
    (`check_checkpoint` does).

  Raises:
    CheckpointError: the table or an entry breaks a rule above.
  """
  try:
    entries = _table_entries(data)
    num_shards = _header(entries)
    return BundleIndex(
      num_shards,
      {
        _name(key): _entry(key, value, num_shards) for key, value in entries[1:]
      },
    )
  except _BadIndexError as bad:
    raise _error(path, bad) from None


def shard_path(prefix, shard_id, num_shards):
  """`<prefix>.data-NNNNN-of-NNNNN`, as TF names data shards."""
  return f'{prefix}.data-{shard_id:05d}-of-{num_shards:05d}'


def check_checkpoint(prefix):
  """Checks checkpoint `prefix`'s `.index` and data shards for TF's reader.

  Args:
    prefix: a checkpoint prefix, e.g. `logs/model.ckpt-2000`; its files
      must lie in its directory (links inside it are followed).

  Returns:
    the `BundleIndex`.

  Raises:
    CheckpointError: a file is missing, not a regular file, or outside
      the directory; or the index breaks a rule of the module docstring.
  """
  directory = os.path.dirname(prefix) or '.'
  path = prefix + '.index'
  data = file_checks.read_regular(
    path, directory, 'variable index', MAX_INDEX_BYTES
  )
  index = parse_index(data, path)
  sizes = [
    file_checks.check_regular(
      shard_path(prefix, i, index.num_shards), directory, 'data shard'
    )
    for i in range(index.num_shards)
  ]
  for entry in index.entries.values():
    end = entry.offset + entry.size
    if end > sizes[entry.shard_id]:
      shard = shard_path(prefix, entry.shard_id, index.num_shards)
      # The usual cause is a save cut short, not an attack: say so.
      raise errors.CheckpointError(
        f'Checkpoint {errors.printable(prefix)} is damaged and cannot be '
        f'restored: its data file '
        f'{errors.printable(os.path.basename(shard))} is '
        f'{sizes[entry.shard_id]} bytes, and its index places tensor '
        f'{errors.printable(entry.name)} at bytes [{entry.offset}, {end}). '
        'The file was probably cut short by a crash or a full disk; use '
        'another checkpoint.',
        path=prefix,
      )
  return index
