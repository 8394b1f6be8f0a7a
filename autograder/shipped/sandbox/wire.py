"""Messages between the grader, the driver and the probes: a JSON header and named blobs of bytes.

Three channels carry them, none of them a file:
  grader → driver   the driver's stdin: the probes' inputs, read whole before any notebook code runs
  driver → grader   a pipe the grader handed the driver (fd REPORT_FD): the driver's record of the run
                    (cell states, which probe ran and how it ended, each probe's outputs, the executed notebook)
  driver ↔ probes   a Unix SOCK_SEQPACKET pair: one end the driver's, the other inherited by the notebook's
                    kernel at its start (see probe_kernel.py)

On a pipe a message is a frame: its length (8 bytes) then the message. On the seqpacket line it is split
into packets (each kept whole by the kernel): "B" + its length, then "D" + up to PACKET bytes of it; a "B"
that comes before the last message is whole means that sender died part way, and that message is dropped.

Everything read here may come from the student side: sizes are capped, names checked, nothing is unpickled.
Standard library only: the kernel executes this file before any notebook code runs.
"""
import json
import os
import select
import socket
import struct
import time

PACKET = 32 * 1024
REPORT_FD = 3
_U32, _U64 = struct.Struct(">I"), struct.Struct(">Q")
# held from before any notebook code runs, where this file is executed in the kernel
_dumps, _loads, _pack, _unpack = json.dumps, json.loads, _U64.pack, _U64.unpack
_monotonic, _select, _os_write, _os_read = time.monotonic, select.select, os.write, os.read


class WireError(Exception):
    """A message that cannot be read: too large, cut short, or not of this format."""


def encode(header: dict, blobs: dict | None = None) -> bytes:
    blobs = blobs or {}
    head = _dumps({**header, "blobs": [[name, len(data)] for name, data in blobs.items()]}).encode()
    return _U32.pack(len(head)) + head + b"".join(bytes(data) for data in blobs.values())


def decode(data: bytes, max_header: int = 1 << 20) -> tuple[dict, dict]:
    """(header, {name: bytes}) of one encoded message; WireError when it is not one."""
    if len(data) < 4:
        raise WireError("a message shorter than its header's length")
    size = _U32.unpack_from(data)[0]
    if size > max_header or 4 + size > len(data):
        raise WireError("a header larger than the message")
    try:
        header = _loads(data[4:4 + size].decode("utf-8"))
        listed = header.pop("blobs")
        names = [str(name) for name, _ in listed]
        sizes = [int(length) for _, length in listed]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise WireError("a header that is not this format's") from None
    if not isinstance(header, dict) or any(n < 0 for n in sizes) or 4 + size + sum(sizes) != len(data):
        raise WireError("blob sizes that do not add up to the message")
    blobs, at = {}, 4 + size
    for name, length in zip(names, sizes):
        blobs[name] = data[at:at + length]
        at += length
    return header, blobs


# ---------------------------------------------------------------- a pipe: length-prefixed frames
def write_frame(fd: int, header: dict, blobs: dict | None = None) -> None:
    data = encode(header, blobs)
    view = memoryview(_pack(len(data)) + data)
    while view:
        view = view[_os_write(fd, view):]


def read_frames(stream, max_frame: int):
    """Every whole message on a binary stream, in order, until its end (a frame cut short, or larger than
    max_frame, ends the reading: nothing after it can be trusted to be in step)."""
    while True:
        head = stream.read(8)
        if len(head) < 8:
            return
        size = _unpack(head)[0]
        if size > max_frame:
            return
        data = stream.read(size)
        if len(data) < size:
            return
        try:
            yield decode(data)
        except WireError:
            return


# ---------------------------------------------------------------- the seqpacket line
def line_pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def send(sock, header: dict, blobs: dict | None = None) -> None:
    data = encode(header, blobs)
    sock.sendall(b"B" + _pack(len(data)))
    for start in range(0, len(data), PACKET):
        sock.sendall(b"D" + data[start:start + PACKET])


def send_fd(fd: int, header: dict, blobs: dict | None = None) -> None:
    """send() on a raw descriptor (the probe side holds the line as a number, not a socket object)."""
    data = encode(header, blobs)
    _os_write(fd, b"B" + _pack(len(data)))
    for start in range(0, len(data), PACKET):
        _os_write(fd, b"D" + data[start:start + PACKET])


class Closed(WireError):
    """The other end of the line is gone (every process that held it has exited)."""


class Timeout(WireError):
    """No whole message before the deadline."""


def receive(fd: int, deadline: float | None = None, max_message: int = 1 << 30) -> tuple[dict, dict]:
    """The next whole message on the line (a raw descriptor); one cut short by a sender that died is dropped.
    Raises Closed at the line's end, Timeout past `deadline` (time.monotonic())."""
    want, parts, got = None, [], 0
    while True:
        if deadline is not None:
            left = deadline - _monotonic()
            if left <= 0 or not _select([fd], [], [], left)[0]:
                raise Timeout("no message in time")
        packet = _os_read(fd, PACKET + 1)
        if not packet:
            raise Closed("the line was closed")
        tag, body = packet[:1], packet[1:]
        if tag == b"B" and len(body) == 8:
            want, parts, got = _unpack(body)[0], [], 0
            if want > max_message:
                want = None     # too large: its data packets are skipped
        elif tag == b"D" and want is not None:
            parts.append(body)
            got += len(body)
            if got > want:
                want = None
            elif got == want:
                try:
                    return decode(b"".join(parts))
                except WireError:
                    want = None
