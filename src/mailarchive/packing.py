"""How a message's original bytes are compressed in the store, and read back exactly.

New mail is packed as a Zstandard frame, with the archive's dictionary trained on its first
messages (the frame names the dictionary by its id). Archives made before keep zlib streams
(with or without a preset dictionary, named by its Adler-32); both are read forever.

Measured on 11,642 linux-mips messages (2000-2003, 38 MiB): zlib level 4 with a 32 KiB preset
dictionary of headers took 14.5 MiB at 9,000 messages/s; Zstandard level 3 with a 110 KiB trained
dictionary takes 12.6 MiB at 43,000 messages/s and reads back twice as fast.

Frames are read with python-zstandard, whose decompressor is made once and used again: the
standard library's (and its backport's) makes a new one for every frame, and making one cost
8 us of the 18 us that reading a 3 KB linux-mips message took (ZSTD_createDCtx asks the CPU
what it can do, which a virtual machine answers slowly); read again, it takes 8 us in all.
"""

from __future__ import annotations

import sys
import threading
import zlib
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import zstandard
    from backports import zstd as zstd_module

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # a frame (no valid zlib header starts so: 0x28b5 % 31 != 0)
ZSTD_DICT_MAGIC = b"\x37\xa4\x30\xec"  # a trained dictionary
ZSTD_LEVEL = 3
ZLIB_LEVEL = 4  # the old archives' level with their dictionary
DICTIONARY_SAMPLES = 200  # messages an archive needs to train its dictionary
DICTIONARY_SIZE = 112_640  # zstd's default size; 64 KiB costs 2% more bytes on linux-mips
TRAINED_ON = 2000  # messages the dictionary learns from


@cache
def zstd() -> Any:
    """The Zstandard module: the standard library's from Python 3.14, its backport before
    (imported on first use: adding one message from the command line starts faster)."""
    if sys.version_info >= (3, 14):
        from compression import zstd as module
    else:
        from backports import zstd as module
    return module


def is_zstd_dictionary(zdict: bytes) -> bool:
    return zdict[:4] == ZSTD_DICT_MAGIC


def dictionary_id(zdict: bytes) -> int:
    """The number a packed message names its dictionary by."""
    if is_zstd_dictionary(zdict):
        return int(_zstd_dict(zdict).dict_id)
    return zlib.adler32(zdict)


def train(samples: list[bytes]) -> bytes | None:
    """A Zstandard dictionary learnt from an archive's first messages (None if too few)."""
    if len(samples) < DICTIONARY_SAMPLES:
        return None
    try:
        trained = zstd().train_dict(samples[:TRAINED_ON], DICTIONARY_SIZE)
    except zstd().ZstdError:
        return None  # samples too alike or too small to learn from: pack without
    content: bytes = trained.dict_content
    return content


def pack(data: bytes, zdict: bytes | None = None) -> bytes:
    """Compressed bytes: a Zstandard frame, or a zlib stream for an archive whose
    dictionary is an old zlib one."""
    if zdict is not None and not is_zstd_dictionary(zdict):
        packer = _zlib_primed(zdict).copy()
        packed: bytes = packer.compress(data) + packer.flush()
        return packed
    frame: bytes = _compressor(zdict).compress(data, mode=zstd().ZstdCompressor.FLUSH_FRAME)
    return frame


class Unreadable(ValueError):
    """Packed bytes that do not unpack: damaged where they are stored."""


def dictionary_wanted(blob: bytes) -> int | None:
    """The id of the dictionary `blob` was packed with, or None if it needs none."""
    if blob[:4] == ZSTD_MAGIC:  # read as `unpack` reads: a reader never loads the writer's module
        try:
            found = int(_zstandard().get_frame_parameters(blob).dict_id)
        except _zstandard().ZstdError as error:
            raise Unreadable(f"a packed message has no readable frame header ({error})") from None
        return found or None
    if len(blob) >= 6 and blob[1] & 0x20:  # FDICT flag of the zlib header
        return int.from_bytes(blob[2:6], "big")
    return None


def unpack(blob: bytes, zdict: bytes | None = None, limit: int = 0) -> bytes:
    """The original bytes of `pack`'s output (`zdict`: the dictionary it names, if any);
    with a `limit`, at most that many of the first (a snippet needs no attachments)."""
    if blob[:4] == ZSTD_MAGIC:
        try:
            return _read_frame(blob, _reader(zdict), limit)
        except _zstandard().ZstdError as error:
            raise Unreadable(f"a packed message does not decompress ({error})") from None
    try:
        inflater = zlib.decompressobj(zdict=zdict) if zdict else zlib.decompressobj()
        data = inflater.decompress(blob, limit)
    except zlib.error as error:
        raise Unreadable(f"a packed message does not decompress ({error})") from None
    if not (limit or inflater.eof):
        raise Unreadable("a packed message ends before its stream does")
    return data


def _read_frame(blob: bytes, reader: zstandard.ZstdDecompressor, limit: int) -> bytes:
    size = _zstandard().frame_content_size(blob)  # -1: not written in the frame
    if limit and not 0 <= size <= limit:
        with reader.stream_reader(blob) as stream:
            return bytes(stream.read(limit))
    if size >= 0:
        return bytes(reader.decompress(blob))
    whole = reader.decompressobj()
    data = bytes(whole.decompress(blob))
    if not whole.eof:
        raise _zstandard().ZstdError("the frame ends early")
    return data


_READERS = threading.local()  # a decompressor is not to be used by two threads at once


def _reader(zdict: bytes | None) -> zstandard.ZstdDecompressor:
    """This thread's decompressor for frames packed with `zdict`."""
    made: dict[bytes | None, zstandard.ZstdDecompressor] = _READERS.__dict__.setdefault(
        "made", {})
    found = made.get(zdict)
    if found is None:
        module = _zstandard()
        found = made[zdict] = module.ZstdDecompressor(
            dict_data=module.ZstdCompressionDict(zdict) if zdict else None)
    return found


@cache
def _zstandard() -> Any:
    import zstandard

    return zstandard


@cache
def _zstd_dict(zdict: bytes) -> zstd_module.ZstdDict:
    # made once: the library digests a dictionary on first use and keeps it in this object
    made: zstd_module.ZstdDict = zstd().ZstdDict(zdict)
    return made


@cache
def _compressor(zdict: bytes | None) -> zstd_module.ZstdCompressor:
    # with a checksum of the content (4 bytes a message): bytes changed on disk then fail to
    # read instead of reading as other bytes
    parameter = zstd().CompressionParameter
    made: zstd_module.ZstdCompressor = zstd().ZstdCompressor(
        options={parameter.compression_level: ZSTD_LEVEL, parameter.checksum_flag: 1},
        zstd_dict=_zstd_dict(zdict) if zdict is not None else None)
    return made


@cache
def _zlib_primed(zdict: bytes) -> Any:
    # copying a compressor that has loaded the dictionary is cheaper than loading it per message
    return zlib.compressobj(ZLIB_LEVEL, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
