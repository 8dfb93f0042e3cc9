"""Files in and out: every output file is written by ``atomic_write`` (``atomic``; where it
writes can be checked first with ``check_writable``), every file from outside is read by
``read_bytes``, ``read_text``, ``read_json``, ``read_csv`` or ``iter_csv`` (``read``), bounded
in size, nesting, number of values and field length before it is parsed."""

from .atomic import atomic_write, check_writable
from .read import (
    MAX_CSV_FIELD,
    MAX_CSV_ROWS,
    MAX_INPUT_BYTES,
    MAX_JSON_DEPTH,
    MAX_JSON_VALUES,
    InputError,
    iter_csv,
    parse_float,
    parse_json,
    read_bytes,
    read_csv,
    read_json,
    read_text,
)

__all__ = ["MAX_CSV_FIELD", "MAX_CSV_ROWS", "MAX_INPUT_BYTES", "MAX_JSON_DEPTH",
           "MAX_JSON_VALUES", "InputError", "atomic_write", "check_writable", "iter_csv",
           "parse_float", "parse_json", "read_bytes", "read_csv", "read_json", "read_text"]
