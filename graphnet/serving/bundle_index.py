"""Parses and checks a checkpoint's `.index` file before TF's reader sees it.

TF's checkpoint reader trusts the `.index` file: an entry of dtype 77, a
dimension of -5, dimensions 2^40 x 2^40 or a value that is no protocol
buffer abort the process (SIGABRT), and an entry of dtype `DT_VARIANT`
makes it allocate gigabytes from a few bytes. `check_checkpoint` reads the
file itself, bounded, and refuses anything TF could choke on, so that TF's
reader only ever sees an index already known to be sane.

The `.index` file is a sorted string table (`index_table` reads it).
The entry with the empty key is a `BundleHeaderProto` (number of shards,
endianness, format version); every other value is a `BundleEntryProto`
(dtype, shape, shard, offset and size of the tensor's bytes in that shard,
their checksum, and the slices of a partitioned variable).

What is checked, with the caps in this module:
  * the file: a regular file (see `file_checks`) of at most
    `index_table.MAX_INDEX_BYTES`, framed as `index_table` checks;
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
from graphnet.serving import index_table

__all__ = [
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

# Caps of the header and of each entry (the table's are in `index_table`).
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


def _error(path, bad):
  return errors.CheckpointError(
    f'checkpoint index {errors.printable(path)}: {bad.where}: expected '
    f'{bad.expected}, found {bad.found}. {_FIX}',
    path=path,
  )


def _name(key):
  return key.decode('utf-8', 'surrogateescape')


def _header(entries):
  if not entries or entries[0][0] != b'':
    raise index_table.BadIndexError(
      'header', 'a first entry with the empty key', 'none'
    )
  header = tensor_bundle_pb2.BundleHeaderProto()
  try:
    header.ParseFromString(entries[0][1])
  except message.DecodeError as e:
    raise index_table.BadIndexError(
      'header', 'a BundleHeaderProto', 'bytes that are none'
    ) from e
  little = tensor_bundle_pb2.BundleHeaderProto.LITTLE
  if header.endianness != little or sys.byteorder != 'little':
    raise index_table.BadIndexError(
      'header', 'little-endian tensors', 'another byte order'
    )
  version = header.version
  if (
    version.min_consumer > _READER_VERSION
    or _READER_VERSION in version.bad_consumers
  ):
    raise index_table.BadIndexError(
      'header',
      f'a format version readable by version {_READER_VERSION}',
      f'one needing version {version.min_consumer} or excluding it',
    )
  if not 1 <= header.num_shards <= MAX_SHARDS:
    raise index_table.BadIndexError(
      'header', f'1 to {MAX_SHARDS} data shards', f'{header.num_shards}'
    )
  return header.num_shards


def _entry(key, value, num_shards):
  where = f'entry {errors.printable(_name(key))}'
  proto = tensor_bundle_pb2.BundleEntryProto()
  try:
    proto.ParseFromString(value)
  except message.DecodeError as e:
    raise index_table.BadIndexError(
      where, 'a BundleEntryProto', 'bytes that are none'
    ) from e
  if proto.slices:
    raise index_table.BadIndexError(
      where,
      'a whole tensor',
      f'a partitioned variable of {len(proto.slices)} slices (refused in '
      'untrusted checkpoints; pass allow_unsafe=True if you trust it)',
    )
  if proto.dtype not in ITEM_BYTES and proto.dtype != DT_STRING:
    raise index_table.BadIndexError(
      where, 'a numeric or string dtype', f'dtype {proto.dtype}'
    )
  if proto.shape.unknown_rank or len(proto.shape.dim) > MAX_RANK:
    raise index_table.BadIndexError(
      where, f'a known rank of at most {MAX_RANK}', 'an unknown or larger one'
    )
  shape = tuple(d.size for d in proto.shape.dim)
  if any(d < 0 for d in shape):
    raise index_table.BadIndexError(
      where, 'dimensions >= 0', f'shape {list(shape)}'
    )
  elements = 1
  for d in shape:
    # Stops before the product of huge dimensions grows without bound.
    elements = min(elements * d, MAX_TENSOR_BYTES + 1)
  if proto.dtype == DT_STRING:
    # Each element takes at least its 1-byte length.
    if elements > proto.size or proto.size > MAX_TENSOR_BYTES:
      raise index_table.BadIndexError(
        where,
        f'a string tensor of at most {MAX_TENSOR_BYTES} bytes holding its '
        f'{elements} elements',
        f'{proto.size} bytes',
      )
  else:
    want = elements * ITEM_BYTES[proto.dtype]
    if want > MAX_TENSOR_BYTES:
      raise index_table.BadIndexError(
        where,
        f'a tensor of at most {MAX_TENSOR_BYTES} bytes',
        f'shape {list(shape)} of {math.prod(shape)} elements',
      )
    if proto.size != want:
      raise index_table.BadIndexError(
        where,
        f'{want} bytes for shape {list(shape)}',
        f'a size of {proto.size} bytes',
      )
  if proto.shard_id >= num_shards:
    raise index_table.BadIndexError(
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
    entries = index_table.table_entries(data)
    num_shards = _header(entries)
    return BundleIndex(
      num_shards,
      {
        _name(key): _entry(key, value, num_shards) for key, value in entries[1:]
      },
    )
  except index_table.BadIndexError as bad:
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
    path, directory, 'variable index', index_table.MAX_INDEX_BYTES
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
