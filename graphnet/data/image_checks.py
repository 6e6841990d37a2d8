"""Checks an image file's structure before TensorFlow decodes it.

Whenever a decode op fails, TensorFlow logs a `W0000 ... Local rendezvous
is aborting with status: INVALID_ARGUMENT: ...` line to stderr (and
libjpeg may print its own) before the error reaches Python. Checking the
structure first lets `images` refuse a damaged file in graphnet's one
line. The checks follow each format's container, not its pixels:

* PNG: the chunks up to IEND, each critical chunk's CRC, a sane IHDR,
  and image data that inflates to the size the header needs;
* JPEG: the markers and segment lengths, a frame header of a nonzero
  size, and the end-of-image marker (TF refuses truncated files);
* GIF: the blocks up to the end of the first image (the frame TF
  decodes), which must have a nonzero size;
* BMP: the sizes TF's own decoder checks.

What they cannot see (damaged JPEG or GIF entropy-coded data) is still
reported by TF's decoder.

Example:
    damage = image_checks.find_damage('PNG', raw)
    # None, or e.g. 'the file ends inside chunk IDAT (byte 60 of 868)'
"""

import struct
import zlib

__all__ = ['find_damage']

# Where in a BMP file: the pixels' offset, width and height, bits per pixel.
_BMP_PIXELS_AT = 10
_BMP_SIZE_AT = 18
_BMP_BITS_AT = 28

# PNG: channels of each colour type, and the Adam7 passes' (x0, y0, dx, dy).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_DEPTHS = (1, 2, 4, 8, 16)
_ADAM7 = (
  (0, 0, 8, 8),
  (4, 0, 8, 8),
  (0, 4, 4, 8),
  (2, 0, 4, 4),
  (0, 2, 2, 4),
  (1, 0, 2, 2),
  (0, 1, 1, 2),
)
# Decompressed PNG image data is counted in pieces of this many bytes.
_INFLATE_PIECE = 1 << 20
# JPEG markers: start of frame (all but DHT, JPG, DAC), start of scan,
# end of image, and those without a length (RSTn, TEM).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_SOS = 0xDA
_JPEG_EOI = 0xD9
_JPEG_BARE = frozenset(range(0xD0, 0xD8)) | {0x01}
# BMP: TF's decoder takes 8, 24 and 32 bits per pixel, and refuses a
# width times height of 2**31 / 8 or more.
_BMP_CHANNELS = (1, 3, 4)
_BMP_MAX_PIXELS = 2**31 // 8


def _ceil_div(a, b):
  return -(-a // b)


def _png_data_size(header):
  """Bytes of decompressed image data the IHDR `header` calls for."""
  width, height, depth, colour, _, _, interlace = struct.unpack(
    '>IIBBBBB', header
  )
  bits = _PNG_CHANNELS[colour] * depth
  passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
  size = 0
  for x0, y0, dx, dy in passes:
    columns = _ceil_div(max(width - x0, 0), dx)
    rows = _ceil_div(max(height - y0, 0), dy)
    if columns and rows:
      # Each row starts with its filter byte.
      size += rows * (1 + _ceil_div(columns * bits, 8))
  return size


def _png_inflates(data, expected):
  """What is wrong with zlib `data` of `expected` bytes, or None."""
  inflater = zlib.decompressobj()
  found = 0
  try:
    while data and found < expected:
      found += len(inflater.decompress(data, _INFLATE_PIECE))
      data = inflater.unconsumed_tail
  except zlib.error as e:
    return f'its image data is not valid zlib data ({e})'
  if found < expected:
    return f'its image data holds {found} bytes; its header needs {expected}'
  return None


def _png_problem(raw):
  """What is wrong with a PNG's chunks, or None.

  libpng reads up to the IEND chunk, skipping an ancillary chunk (first
  letter lower case) that fails its CRC; a critical one must pass it.
  """
  pos, header, image_data = 8, None, []
  while True:
    if pos + 8 > len(raw):
      return f'the file ends at byte {len(raw)}, before its IEND chunk'
    length, kind = struct.unpack_from('>I4s', raw, pos)
    name = kind.decode('ascii', 'backslashreplace')
    if header is None and kind != b'IHDR':
      return f'its first chunk is {name}, expected IHDR'
    end = pos + 12 + length
    if end > len(raw):
      return f'the file ends inside chunk {name} (byte {len(raw)} of {end})'
    body = raw[pos + 4 : end - 4]
    if kind[0] < ord('a') and zlib.crc32(body) != int.from_bytes(
      raw[end - 4 : end], 'big'
    ):
      return f'chunk {name} at byte {pos} fails its CRC check'
    if kind == b'IHDR':
      if length != 13 or not all(struct.unpack_from('>II', body, 4)):
        return 'its IHDR chunk does not give a width and height above 0'
      depth, colour = body[12], body[13]
      if colour not in _PNG_CHANNELS or depth not in _PNG_DEPTHS:
        return f'colour type {colour} at {depth} bits is not PNG'
      header = body[4:]
    elif kind == b'IDAT':
      image_data.append(body[4:])
    elif kind == b'IEND':
      break
    pos = end
  if not image_data:
    return 'it holds no image data (IDAT chunk)'
  return _png_inflates(b''.join(image_data), _png_data_size(header))


def _jpeg_entropy_end(raw, pos):
  """Where the entropy-coded data from `pos` ends: at its next marker."""
  while True:
    pos = raw.find(b'\xff', pos)
    if pos < 0 or pos + 1 >= len(raw):
      return len(raw)
    following = raw[pos + 1]
    # FF 00 is a stuffed FF byte, RSTn markers sit inside the data, and
    # FF FF is fill before a marker.
    if following == 0 or following in _JPEG_BARE or following == 0xFF:
      pos += 1
      continue
    return pos


def _jpeg_problem(raw):
  """What is wrong with a JPEG's markers, or None."""
  pos, frame = 2, False
  while pos + 2 <= len(raw):
    if raw[pos] != 0xFF:
      # libjpeg skips stray bytes to the next marker (with a warning).
      pos = raw.find(b'\xff', pos)
      if pos < 0:
        break
      continue
    marker = raw[pos + 1]
    if marker == 0xFF:  # Fill byte.
      pos += 1
      continue
    if marker == _JPEG_EOI:
      return None if frame else 'it ends before any frame header'
    if marker in _JPEG_BARE:
      pos += 2
      continue
    if pos + 4 > len(raw):
      break
    end = pos + 2 + int.from_bytes(raw[pos + 2 : pos + 4], 'big')
    if end > len(raw):
      break
    if marker in _JPEG_SOF:
      if end - pos < 9:
        return f'its frame header at byte {pos} is too short'
      height, width = struct.unpack_from('>HH', raw, pos + 5)
      if not (height and width):
        return f'its frame header gives a size of {width}x{height}'
      frame = True
    if marker == _JPEG_SOS:
      if not frame:
        return f'its scan at byte {pos} comes before any frame header'
      end = _jpeg_entropy_end(raw, end)
    pos = end
  return 'the file ends before its end-of-image marker (truncated)'


def _gif_sub_blocks_end(raw, pos):
  """Where the data sub-blocks from `pos` end, or None past the file."""
  while pos < len(raw):
    size = raw[pos]
    pos += 1 + size
    if not size:
      return pos
  return None


def _gif_colour_table_size(flags):
  return 3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0


def _gif_problem(raw):
  """What is wrong with a GIF's blocks up to its first image, or None.

  TF decodes the first frame; giflib forgives some damage after it (a
  missing trailer), so what follows the first image is left to TF.
  """
  if len(raw) < 13:
    return 'the file ends inside its screen descriptor'
  pos = 13 + _gif_colour_table_size(raw[10])
  while pos is not None and pos < len(raw):
    block = raw[pos]
    if block == 0x3B:  # Trailer.
      return 'it holds no image'
    if block == 0x21:  # Extension: label, then sub-blocks.
      pos = _gif_sub_blocks_end(raw, pos + 2)
    elif block == 0x2C:  # Image: descriptor, colours, LZW size, data.
      if pos + 11 > len(raw):
        break
      width, height = struct.unpack_from('<HH', raw, pos + 5)
      if not (width and height):
        return f'its first image is {width}x{height} pixels'
      start = pos + 10 + _gif_colour_table_size(raw[pos + 9]) + 1
      if _gif_sub_blocks_end(raw, start) is None:
        break
      return None
    else:
      return f'unknown block 0x{block:02x} at byte {pos}'
  return 'the file ends before its first image does (truncated)'


def _bmp_problem(raw):
  """What TF's BMP decoder would refuse in the file, or None."""
  if len(raw) < 32:
    return f'its header needs 32 bytes, the file holds {len(raw)}'
  (pixels_at,) = struct.unpack_from('<i', raw, _BMP_PIXELS_AT)
  width, height = struct.unpack_from('<ii', raw, _BMP_SIZE_AT)
  (bits,) = struct.unpack_from('<h', raw, _BMP_BITS_AT)
  channels = bits // 8
  if bits % 8 or channels not in _BMP_CHANNELS:
    return f'{bits} bits per pixel; expected 8, 24 or 32'
  if width <= 0 or height == 0:
    return f'its header gives a size of {width}x{height}'
  if pixels_at < 0:
    return f'its header puts the pixels at byte {pixels_at}'
  if width * abs(height) >= _BMP_MAX_PIXELS:
    return f'{width}x{abs(height)} pixels is too many'
  row = (channels * width + 3) // 4 * 4
  needed = pixels_at + (abs(height) - 1) * row + width * channels
  if needed > len(raw):
    return f'its pixels need {needed} bytes, the file holds {len(raw)}'
  return None


_CHECKS = {
  'PNG': _png_problem,
  'JPEG': _jpeg_problem,
  'GIF': _gif_problem,
  'BMP': _bmp_problem,
}


def find_damage(kind, raw):
  """What would make TF's decoder fail on an image file, or None.

  Args:
    kind: the file's format, 'PNG', 'JPEG', 'GIF' or 'BMP' (its magic
      bytes, already checked).
    raw: the whole file, bytes.

  Returns:
    None, or a short phrase saying what is wrong and where (e.g. `chunk
    IDAT at byte 33 fails its CRC check`).
  """
  return _CHECKS[kind](raw)
