"""
Content-Range rules and the partial upload files of blob upload sessions.

An upload session appends each chunk to one file on the content app's local disk. The file
is locked while a request appends to it, and a chunk that fails midway is cut off again, so
the file always ends at a chunk boundary that the database row records.
"""

import asyncio
import errno
import fcntl
import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Optional

from aiohttp import StreamReader
from django.conf import settings

from pulpcore.plugin.models import Artifact

from pulp_container.app.registry.errors import RegistryError

# `<start>-<end>` as the distribution spec sends it, with the `bytes ` prefix and `/<total>`
# suffix of RFC 9110 accepted as well.
CONTENT_RANGE_RE = re.compile(r"(?:bytes[ =])?(\d+)-(\d+)(?:/(?:\d+|\*))?")
READ_SIZE = 1024 * 1024
WRITE_BUFFER_SIZE = 4 * 1024 * 1024
UPLOAD_DIRECTORY_NAME = "container-uploads"


def upload_directory() -> str:
    """
    Return the folder of partial upload files, creating it when missing.

    It lies under WORKING_DIRECTORY because pulpcore moves (not copies) files from there
    into artifact storage.
    """
    # NOTE: a deployment with several content app hosts needs WORKING_DIRECTORY on shared
    # storage, because the chunks of one upload may reach different hosts.
    path = os.path.join(settings.WORKING_DIRECTORY, UPLOAD_DIRECTORY_NAME)
    os.makedirs(path, exist_ok=True)
    return path


def upload_file_path(upload_id: uuid.UUID) -> str:
    """Return the path of the partial upload file of a session."""
    return os.path.join(upload_directory(), str(upload_id))


def range_header(size: int) -> str:
    """Return the `Range` value for `size` received bytes: `0-<last byte>`, or `0-0`."""
    return f"0-{max(size - 1, 0)}"


def parse_content_range(value: str) -> tuple[int, int]:
    """
    Parse a chunk's `Content-Range` into the first and last byte offsets (both inclusive).

    Raises:
        RegistryError: BLOB_UPLOAD_INVALID when the value is not `<start>-<end>`.
    """
    match = CONTENT_RANGE_RE.fullmatch(value.strip())
    if not match:
        raise RegistryError(
            "BLOB_UPLOAD_INVALID",
            detail={"Content-Range": value},
            message="Content-Range must be '<first byte>-<last byte>', e.g. '0-1023'",
        )
    return int(match.group(1)), int(match.group(2))


def expected_chunk_length(
    offset: int, content_range: Optional[str], content_length: Optional[int]
) -> Optional[int]:
    """
    Check a chunk's headers against the upload offset and return the chunk length.

    Returns None when neither header gives the length (a streamed chunk).

    Raises:
        RegistryError: BLOB_UPLOAD_INVALID with status 416 and `Range` when the chunk does not
            start at `offset`, and SIZE_INVALID when Content-Length disagrees with the range.
    """
    if content_range is None:
        return content_length
    start, end = parse_content_range(content_range)
    if start != offset or end < start:
        raise RegistryError(
            "BLOB_UPLOAD_INVALID",
            detail={"Content-Range": content_range, "offset": offset},
            message=f"Chunk must start at byte {offset}, the end of the data received so far",
            status=416,
            headers={"Range": range_header(offset)},
        )
    length = end - start + 1
    if content_length is not None and content_length != length:
        raise RegistryError(
            "SIZE_INVALID",
            detail={"Content-Range": content_range, "Content-Length": content_length},
            message=f"Content-Length {content_length} differs from the {length} bytes of the range",
        )
    return length


class UploadBusy(Exception):
    """Another request holds the lock of the upload file."""


class UploadFileMissing(Exception):
    """The upload file does not exist: the session was finished, cancelled or never started."""


class UploadFile:
    """
    The partial upload file of one session, opened and locked while one request uses it.

    `fcntl.flock` keeps a second request (in any process of this host) from changing the
    file at the same time. All methods block, so async code runs them in an executor.
    """

    def __init__(self, path: str):
        self.path = path
        self.offset = 0
        self._fd: Optional[int] = None

    def open(self) -> None:
        """
        Open and lock the file without waiting.

        Raises:
            UploadFileMissing: The file does not exist.
            UploadBusy: Another request holds the lock.
        """
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            raise UploadFileMissing(self.path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                raise
            raise UploadBusy(self.path) from None
        self._fd = fd

    def seek_to(self, offset: int) -> None:
        """
        Position the file at `offset`, cutting off bytes that a crashed request left past it.

        Raises:
            RegistryError: BLOB_UPLOAD_INVALID when the file is shorter than `offset`, so data
                was lost and the upload must restart.
        """
        size = os.fstat(self._fd).st_size
        if size < offset:
            raise RegistryError(
                "BLOB_UPLOAD_INVALID",
                detail={"expected": offset, "found": size},
                message="The upload file lost data; cancel this upload and start a new one",
            )
        if size > offset:
            os.ftruncate(self._fd, offset)
        os.lseek(self._fd, offset, os.SEEK_SET)
        self.offset = offset

    def write(self, data: bytes | bytearray) -> None:
        """Append all of `data`."""
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def discard_chunk(self) -> None:
        """Cut the file back to the offset it had before this chunk."""
        os.ftruncate(self._fd, self.offset)
        os.lseek(self._fd, self.offset, os.SEEK_SET)

    def close(self) -> None:
        """Release the lock and close the file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@asynccontextmanager
async def locked_upload_file(path: str) -> AsyncIterator[UploadFile]:
    """Open and lock an upload file for the duration of the block (see `UploadFile.open`)."""
    loop = asyncio.get_running_loop()
    upload_file = UploadFile(path)
    await loop.run_in_executor(None, upload_file.open)
    try:
        yield upload_file
    finally:
        await loop.run_in_executor(None, upload_file.close)


async def append_chunk(
    stream: StreamReader, upload_file: UploadFile, expected_length: Optional[int]
) -> int:
    """
    Stream a request body onto a locked upload file and return the number of bytes received.

    Data is buffered up to WRITE_BUFFER_SIZE and written in the default executor, so neither
    memory nor the event loop depends on the blob size. On any error the chunk is discarded.

    Raises:
        RegistryError: SIZE_INVALID when the body length differs from `expected_length`.
    """
    loop = asyncio.get_running_loop()
    received = 0
    buffer = bytearray()
    try:
        while data := await stream.read(READ_SIZE):
            received += len(data)
            buffer += data
            if len(buffer) >= WRITE_BUFFER_SIZE:
                await loop.run_in_executor(None, upload_file.write, buffer)
                buffer = bytearray()
        if buffer:
            await loop.run_in_executor(None, upload_file.write, buffer)
        if expected_length is not None and received != expected_length:
            raise RegistryError(
                "SIZE_INVALID",
                detail={"expected": expected_length, "received": received},
                message=f"Chunk has {received} bytes, but its headers announced {expected_length}",
            )
    except BaseException:
        await loop.run_in_executor(None, upload_file.discard_chunk)
        raise
    return received


def compute_checksums(path: str, algorithm: str) -> tuple[int, dict[str, str]]:
    """
    Read a finished upload file once and return its size and hex checksums.

    The checksums cover every field of Artifact.DIGEST_FIELDS plus `algorithm`, the one the
    client named in its digest. This blocks for as long as reading the file takes.
    """
    hashers = {name: hashlib.new(name) for name in {*Artifact.DIGEST_FIELDS, algorithm}}
    size = 0
    with open(path, "rb") as upload:
        while data := upload.read(READ_SIZE):
            size += len(data)
            for hasher in hashers.values():
                hasher.update(data)
    return size, {name: hasher.hexdigest() for name, hasher in hashers.items()}


def remove_file(path: str) -> None:
    """Delete a partial upload file; a file that is already gone is fine."""
    if not path:
        return
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
