"""Files in and out: every output file is written by ``atomic_write`` (``atomic``), every file
from outside is read by ``read_bytes``, ``read_text``, ``read_json`` or ``read_csv`` (``read``),
bounded in size, nesting and field length before it is parsed."""

from .atomic import atomic_write
from .read import (
    MAX_CSV_FIELD,
    MAX_CSV_ROWS,
    MAX_INPUT_BYTES,
    MAX_JSON_DEPTH,
    InputError,
    parse_float,
    parse_json,
    read_bytes,
    read_csv,
    read_json,
    read_text,
)

__all__ = ["MAX_CSV_FIELD", "MAX_CSV_ROWS", "MAX_INPUT_BYTES", "MAX_JSON_DEPTH", "InputError",
           "atomic_write", "parse_float", "parse_json", "read_bytes", "read_csv", "read_json",
           "read_text"]
