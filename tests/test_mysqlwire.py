"""The row-packet decoder of the live MariaDB path, on hand-built protocol bytes (no server)."""
import numpy as np

from ingest.mysqlwire_nb import W_BAD_ROW, W_END, W_ERROR, W_FULL, W_NEED_MORE, W_PROTOCOL, parse_rows
from ingest.recorder_format import NULL_INT
from ingest.sqlscan_nb import K_DATETIME, K_DEC2, K_DEC10, K_INT

KINDS = np.array([K_DATETIME, K_DEC2, K_INT, K_DEC10], np.int8)
EOF = b"\xfe\x00\x00\x22\x00"


def field(value: bytes | None) -> bytes:
    if value is None:
        return b"\xfb"
    if len(value) < 251:
        return bytes([len(value)]) + value
    return b"\xfc" + len(value).to_bytes(2, "little") + value


def packet(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


def row(*values) -> bytes:
    return b"".join(field(v) for v in values)


ROWS = [row(b"2025-11-04 09:15:00", b"1237.35", b"78400", b"0.3030675"),
        row(b"0000-00-00 00:00:00", None, b"-5", b"-1.5"),
        row(b"2025-11-04 09:15:02", b"0.00", b"0" * 300, b"12")]   # a 300-byte field: 0xFC length
EXPECTED = [[1762247700, 123735, 78400, 303068],                   # half away from zero at 1e-6
            [NULL_INT, NULL_INT, -5, -1500000],
            [1762247702, 0, 0, 12000000]]


def stream(rows: list[bytes], first_seq: int = 3) -> bytes:
    return b"".join(packet((first_seq + i) % 256, r) for i, r in enumerate(rows)) + \
        packet((first_seq + len(rows)) % 256, EOF)


def decode(data: bytes, window: int, cap: int = 10, seq: int = 3):
    """Feed `data` in windows of `window` bytes, as the socket reader does."""
    out = np.zeros((4, cap), np.int64)
    buf, pos, n, have, statuses = b"", 0, 0, 0, []
    while True:
        arr = np.frombuffer(buf, np.uint8)
        pos, n, seq, status, a, b = parse_rows(arr, pos, len(arr), KINDS, out, n, seq)
        statuses.append(status)
        if status == W_NEED_MORE:
            if have >= len(data):
                return out, n, statuses, None
            buf, pos, have = buf[pos:] + data[have:have + window], 0, have + window
            continue
        return out, n, statuses, (pos, len(buf), seq, a, b, buf)


def test_rows_decode_to_recorder_units_whatever_the_socket_reads_split():
    data = stream(ROWS)
    for window in (1, 2, 3, 7, 64, len(data)):
        out, n, statuses, end = decode(data, window)
        assert statuses[-1] == W_END and n == 3
        assert out[:, :3].T.tolist() == EXPECTED
        pos, size, seq, *_ = end
        assert pos == size and seq == 7          # 3 rows + EOF after sequence 3: next command expects 7


def test_a_full_batch_stops_before_the_next_row_and_resumes_there():
    data = np.frombuffer(stream(ROWS), np.uint8)
    out = np.zeros((4, 2), np.int64)
    pos, n, seq, status, _, _ = parse_rows(data, 0, len(data), KINDS, out, 0, 3)
    assert (n, status, seq) == (2, W_FULL, 5)
    pos, n, seq, status, _, _ = parse_rows(data, pos, len(data), KINDS, out, 0, seq)
    assert (n, status) == (1, W_END) and out[:, 0].tolist() == EXPECTED[2]


def test_a_row_that_does_not_decode_is_skipped_with_its_bytes():
    bad = row(b"2025-11-04 09:15:01", b"n/a", b"1", b"1")
    out, n, statuses, (pos, size, seq, a, b, buf) = decode(stream([ROWS[0], bad, ROWS[2]]), 1 << 20)
    assert statuses == [W_NEED_MORE, W_BAD_ROW] and n == 1 and buf[a:b] == bad
    arr = np.frombuffer(buf, np.uint8)
    pos, n, seq, status, _, _ = parse_rows(arr, pos, len(arr), KINDS, out, n, seq)
    assert (status, n) == (W_END, 2) and out[:, 1].tolist() == EXPECTED[2]


def test_wrong_arity_and_trailing_bytes_are_bad_rows():
    for payload in (row(b"2025-11-04 09:15:00", b"1.00", b"1"), ROWS[0] + b"\x01x"):
        *_, end = decode(stream([payload]), 1 << 20)
        assert end is not None and end[5][end[3]:end[4]] == payload


def test_server_error_and_out_of_sequence_packets_are_reported():
    err = b"\xff\x1e\x05#HY000Query execution was interrupted"
    *_, (pos, size, seq, a, b, buf) = decode(packet(3, ROWS[0]) + packet(4, err), 1 << 20)
    assert buf[a:b] == err
    out, n, statuses, _ = decode(packet(3, ROWS[0]) + packet(9, ROWS[1]), 1 << 20)
    assert statuses[-1] == W_PROTOCOL and n == 1
    _, _, statuses, _ = decode(packet(3, ROWS[0]) + packet(4, err), 1 << 20)
    assert statuses[-1] == W_ERROR
