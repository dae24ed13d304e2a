"""Content-Range rules and the upload file state machine of blob uploads."""

import asyncio
import fcntl
import hashlib
import os
from unittest import mock

import pytest
from aiohttp import StreamReader

from pulp_container.app.registry.errors import RegistryError
from pulp_container.app.registry.upload_files import (
    UploadBusy,
    UploadFile,
    UploadFileMissing,
    append_chunk,
    compute_checksums,
    expected_chunk_length,
    parse_content_range,
    range_header,
)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0-0", (0, 0)),
        ("0-1023", (0, 1023)),
        ("bytes 10-19/100", (10, 19)),
        ("bytes=10-19", (10, 19)),
        (" 5-9 ", (5, 9)),
        ("5-9/*", (5, 9)),
    ],
)
def test_parse_content_range_valid(value, expected):
    assert parse_content_range(value) == expected


@pytest.mark.parametrize("value", ["", "10", "a-b", "-5", "5-", "0-9,20-29", "bytes 1-2/x"])
def test_parse_content_range_invalid(value):
    with pytest.raises(RegistryError) as raised:
        parse_content_range(value)
    assert raised.value.code == "BLOB_UPLOAD_INVALID"
    assert raised.value.status == 400


@pytest.mark.parametrize(
    "size, header", [(0, "0-0"), (1, "0-0"), (10, "0-9"), (2**33, "0-8589934591")]
)
def test_range_header(size, header):
    assert range_header(size) == header


def test_chunk_length_streamed():
    assert expected_chunk_length(100, None, None) is None
    assert expected_chunk_length(100, None, 50) == 50


def test_chunk_length_from_range():
    assert expected_chunk_length(10, "10-19", None) == 10
    assert expected_chunk_length(10, "10-19", 10) == 10


@pytest.mark.parametrize("content_range", ["20-29", "0-9", "5-14", "10-9"])
def test_chunk_out_of_order(content_range):
    with pytest.raises(RegistryError) as raised:
        expected_chunk_length(10, content_range, None)
    assert raised.value.status == 416
    assert raised.value.code == "BLOB_UPLOAD_INVALID"
    assert raised.value.headers["Range"] == "0-9"


def test_chunk_length_mismatch():
    with pytest.raises(RegistryError) as raised:
        expected_chunk_length(0, "0-9", 5)
    assert raised.value.code == "SIZE_INVALID"
    assert raised.value.status == 400


@pytest.fixture
def upload_path(tmp_path):
    path = tmp_path / "upload"
    path.write_bytes(b"")
    return str(path)


def test_upload_file_missing(tmp_path):
    with pytest.raises(UploadFileMissing):
        UploadFile(str(tmp_path / "gone")).open()


def test_upload_file_busy(upload_path):
    holder = os.open(upload_path, os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        with pytest.raises(UploadBusy):
            UploadFile(upload_path).open()
    finally:
        os.close(holder)
    second = UploadFile(upload_path)
    second.open()
    second.close()


def test_upload_file_cuts_leftover(upload_path):
    with open(upload_path, "wb") as leftover:
        leftover.write(b"0123456789junk")
    upload_file = UploadFile(upload_path)
    upload_file.open()
    upload_file.seek_to(10)
    upload_file.write(b"AB")
    upload_file.close()
    with open(upload_path, "rb") as result:
        assert result.read() == b"0123456789AB"


def test_upload_file_lost_data(upload_path):
    upload_file = UploadFile(upload_path)
    upload_file.open()
    try:
        with pytest.raises(RegistryError) as raised:
            upload_file.seek_to(5)
    finally:
        upload_file.close()
    assert raised.value.code == "BLOB_UPLOAD_INVALID"


def _stream(chunks: list[bytes]) -> StreamReader:
    loop = asyncio.get_running_loop()
    stream = StreamReader(mock.Mock(_reading_paused=False), 2**16, loop=loop)
    for chunk in chunks:
        stream.feed_data(chunk)
    stream.feed_eof()
    return stream


async def _append(path: str, offset: int, chunks: list[bytes], expected) -> int:
    upload_file = UploadFile(path)
    upload_file.open()
    try:
        upload_file.seek_to(offset)
        return await append_chunk(_stream(chunks), upload_file, expected)
    finally:
        upload_file.close()


def test_append_chunks_in_order(upload_path):
    received = asyncio.run(_append(upload_path, 0, [b"abc", b"def"], 6))
    assert received == 6
    received = asyncio.run(_append(upload_path, 6, [b"ghij"], None))
    assert received == 4
    with open(upload_path, "rb") as result:
        assert result.read() == b"abcdefghij"


def test_append_large_streamed_chunk(upload_path):
    block = bytes(range(256)) * 4096
    chunks = [block] * 8
    received = asyncio.run(_append(upload_path, 0, chunks, None))
    assert received == len(block) * 8
    assert os.path.getsize(upload_path) == len(block) * 8


def test_append_short_chunk_discarded(upload_path):
    asyncio.run(_append(upload_path, 0, [b"keep"], 4))
    with pytest.raises(RegistryError) as raised:
        asyncio.run(_append(upload_path, 4, [b"short"], 10))
    assert raised.value.code == "SIZE_INVALID"
    assert raised.value.detail == {"expected": 10, "received": 5}
    with open(upload_path, "rb") as result:
        assert result.read() == b"keep"


def test_compute_checksums(upload_path):
    data = b"blob data" * 1000
    with open(upload_path, "wb") as upload:
        upload.write(data)
    size, checksums = compute_checksums(upload_path, "sha512")
    assert size == len(data)
    assert checksums["sha256"] == hashlib.sha256(data).hexdigest()
    assert checksums["sha512"] == hashlib.sha512(data).hexdigest()
