"""Reads the sorted string table a checkpoint's `.index` file is, bounded.

The `.index` file is a LevelDB-format table: data blocks of
prefix-compressed key/value entries with restart points, an index block
of block handles, a metaindex block and a 48-byte footer ending in a
magic number. Blocks may be snappy-compressed (TF writes them plain).

`table_entries` checks the framing as it reads: every varint (at most 5
or 10 bytes), block bounds, restart points, keys strictly increasing and
consistent with the index block, at most MAX_ENTRIES entries, at most
MAX_INDEX_BYTES decompressed per block. A violation is a `BadIndexError`
saying where, what was expected and what was found, never a byte of the
file; `bundle_index` names the file in the error users see.

Example:
    entries = index_table.table_entries(data)  # [(key bytes, value bytes)]
    entries[0]                                 # (b'', header proto bytes)
"""

__all__ = [
  'MAX_INDEX_BYTES',
  'MAX_ENTRIES',
  'BadIndexError',
  'snappy',
  'table_entries',
]

# A graphnet MLP's index is 344 bytes; a ResNet-50's about 30 KB.
MAX_INDEX_BYTES = 64 << 20
MAX_ENTRIES = 100_000

_MAGIC = 0xDB4775248B80FB57
_FOOTER_BYTES = 48
# After each block: its compression type (1 byte) and checksum (4 bytes).
_TRAILER_BYTES = 5
_PLAIN, _SNAPPY = 0, 1


class BadIndexError(Exception):
  """A violation, turned into a CheckpointError naming the file."""

  def __init__(self, where, expected, found):
    super().__init__(where)
    self.where = where
    self.expected = expected
    self.found = found


def _varint(buf, pos, max_bytes, where):
  """(value, next position) of the varint at `buf[pos]`, at most 5/10 B."""
  value = 0
  for i in range(max_bytes):
    if pos + i >= len(buf):
      raise BadIndexError(where, 'a varint', 'the end of its block')
    byte = buf[pos + i]
    value |= (byte & 0x7F) << (7 * i)
    if not byte & 0x80:
      bits = 32 if max_bytes == 5 else 64
      if value >= 1 << bits:
        raise BadIndexError(where, f'a varint below 2^{bits}', 'a larger one')
      return value, pos + i + 1
  raise BadIndexError(
    where, f'a varint of at most {max_bytes} bytes', 'a longer one'
  )


def _handle(buf, pos, where):
  """((offset, size), next position) of the block handle at `buf[pos]`."""
  offset, pos = _varint(buf, pos, 10, where)
  size, pos = _varint(buf, pos, 10, where)
  if offset >= 1 << 63 or size >= 1 << 63:
    raise BadIndexError(where, 'a block handle below 2^63', 'a larger one')
  return (offset, size), pos


def snappy(buf, where):
  """The snappy-decompressed `buf`, at most MAX_INDEX_BYTES.

  Raises:
    BadIndexError: naming `where`, for a malformed or oversized block.
  """
  want, pos = _varint(buf, 0, 5, where)
  if want > MAX_INDEX_BYTES:
    raise BadIndexError(
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
        raise BadIndexError(
          where, 'a snappy literal inside the block', 'one past it'
        )
      out += buf[pos : pos + length]
      pos += length
    else:  # A copy of earlier output, with a 1-, 2- or 4-byte offset.
      extra = (1, 2, 4)[kind - 1]
      if pos + extra > len(buf):
        raise BadIndexError(
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
        raise BadIndexError(
          where, 'a snappy copy of earlier bytes', 'another offset'
        )
      start = len(out) - distance
      for i in range(length):
        out.append(out[start + i])
    if len(out) > want:
      raise BadIndexError(where, f'{want} bytes uncompressed', 'more')
  if len(out) != want:
    raise BadIndexError(where, f'{want} bytes uncompressed', f'{len(out)}')
  return bytes(out)


def _block(data, handle, where):
  """The contents of the block `handle` names (decompressed)."""
  offset, size = handle
  table_end = len(data) - _FOOTER_BYTES
  if offset + size + _TRAILER_BYTES > table_end:
    raise BadIndexError(
      where,
      f'a block inside the table ({table_end} bytes before the footer)',
      f'one at [{offset}, {offset + size + _TRAILER_BYTES})',
    )
  contents = data[offset : offset + size]
  kind = data[offset + size]
  if kind == _PLAIN:
    return contents
  if kind == _SNAPPY:
    return snappy(contents, where)
  raise BadIndexError(
    where, 'compression type 0 (none) or 1 (snappy)', f'type {kind}'
  )


def _block_entries(block, where, budget):
  """[(key, value)] of a block; checks entries against its restart points.

  `budget` is a one-element list: entries left before MAX_ENTRIES.
  """
  if len(block) < 4:
    raise BadIndexError(
      where, 'a block of at least 4 bytes', f'{len(block)} bytes'
    )
  count = int.from_bytes(block[-4:], 'little')
  if count > (len(block) - 4) // 4:
    raise BadIndexError(
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
      raise BadIndexError(where, f'at most {MAX_ENTRIES} entries', 'more')
    start = pos
    shared, pos = _varint(block, pos, 5, where)
    unshared, pos = _varint(block, pos, 5, where)
    length, pos = _varint(block, pos, 5, where)
    if shared > len(key):
      raise BadIndexError(
        where,
        f'a key sharing at most the {len(key)} bytes of the previous key',
        f'one sharing {shared}',
      )
    value_at = pos + unshared
    if value_at + length > restarts_at:
      raise BadIndexError(
        where, 'an entry inside its block', 'one running past it'
      )
    key = key[:shared] + block[pos:value_at]
    starts[start] = shared
    entries.append((key, block[value_at : value_at + length]))
    pos = value_at + length
  if not entries:
    if any(restarts):
      raise BadIndexError(
        where, 'restart points at 0 in an empty block', 'others'
      )
    return entries
  if not restarts or restarts[0] != 0:
    raise BadIndexError(where, 'a first restart point at 0', 'none there')
  for previous, point in zip(restarts, restarts[1:], strict=False):
    if point <= previous:
      raise BadIndexError(
        where, 'increasing restart points', 'a decreasing one'
      )
  if any(starts.get(point) != 0 for point in restarts):
    raise BadIndexError(
      where,
      'restart points at entries with a full key',
      'one elsewhere',
    )
  return entries


def table_entries(data):
  """[(key, value)] of every data block, keys strictly increasing."""
  if len(data) < _FOOTER_BYTES:
    raise BadIndexError(
      'footer', f'a table of at least {_FOOTER_BYTES} bytes', f'{len(data)}'
    )
  if int.from_bytes(data[-8:], 'little') != _MAGIC:
    raise BadIndexError(
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
      raise BadIndexError(
        where, 'a block handle and nothing else', 'more bytes'
      )
    entries = _block_entries(_block(data, handle, where), where, budget)
    for key, value in entries:
      if last_key is not None and key <= last_key:
        raise BadIndexError(
          where, 'keys in strictly increasing order', 'one out of it'
        )
      if last_separator is not None and key <= last_separator:
        raise BadIndexError(
          where, "keys above the previous block's bound", 'one below'
        )
      last_key = key
      out.append((key, value))
    if last_key is not None and last_key > separator:
      raise BadIndexError(
        where, 'keys up to its bound in the index', 'one above'
      )
    last_separator = separator
  return out
