"""Reading one WFDB record (``.hea`` + ``.dat``/``.mat``) in physical units, with every failure as RecordError.

wfdb itself decodes headers as ASCII with errors ignored, falls back to 250 Hz on an unparsable
sampling rate, replaces an ADC gain of 0 (the format's "uncalibrated") by its default of 200 and
silently reads fewer samples when the signal file is longer than the header says. The checks
below turn each of those into a named error before wfdb is trusted.
"""

from __future__ import annotations

import datetime
import re
import warnings
from pathlib import Path

import numpy as np
import wfdb
from wfdb.io import _header as wfdb_header
from wfdb.io.header import parse_header_content

from ecgjepa_core.data.records import RecordError, RecordWarning, checked_signal, standard_lead_rows

# Bytes per sample of the WFDB storage formats whose file size can be checked exactly.
_BYTES_PER_SAMPLE = {"16": 2, "61": 2, "80": 1, "32": 4}


def header_path(base: Path) -> Path:
    """``…/A0001`` → ``…/A0001.hea`` (record names may contain dots or spaces)."""
    return base.parent / f"{base.name}.hea"


def read_header(base: Path) -> wfdb.io.record.Record:
    """Parse the header of record ``base`` (path without extension); RecordError if absent or not UTF-8 text."""
    hea = header_path(base)
    try:
        text = hea.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise RecordError(hea, "missing_file", "header file not found") from None
    except UnicodeDecodeError as err:
        raise RecordError(hea, "bad_header", f"header is not UTF-8 text (byte {err.start})") from None
    except OSError as err:  # a directory, a symlink loop, no permission, an I/O error
        raise RecordError(hea, "unreadable_file", f"cannot read the header: {err.strerror or err}") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for number, line in enumerate(lines, 1):
        if not line.isascii():  # wfdb would drop the characters and look for another file
            raise RecordError(hea, "bad_header", f"non-ASCII characters in header line {number} {line[:60]!r} "
                                                 "(WFDB header lines are ASCII; rename the record)")
    try:
        header = parse_header(text, base)
    except Exception as err:  # wfdb raises bare ValueError/IndexError/etc. on malformed lines
        raise RecordError(hea, "bad_header", f"malformed header: {err}") from None
    if not header.n_sig or not header.sig_len:
        raise RecordError(hea, "bad_header", f"header declares {header.n_sig} signals of {header.sig_len} samples")
    if uncalibrated := [name for name, gain in zip(header.sig_name, _declared_gains(lines[1:1 + header.n_sig]))
                        if gain == 0]:
        raise RecordError(hea, "uncalibrated", f"ADC gain 0 (uncalibrated) for leads {uncalibrated}: "
                                               "amplitudes in mV are unknown")
    return header


# wfdb's tables of header fields as plain dicts: its parser looks each up with pandas ``.loc`` ~350 times per
# 12-lead header (~16 ms, most of what reading a record costs); the same rules with dict lookups take ~0.3 ms.
_SIGNAL_TYPES = wfdb_header.SIGNAL_SPECS["allowed_types"].to_dict()
_SIGNAL_DEFAULTS = wfdb_header.SIGNAL_SPECS["read_default"].to_dict()
_RECORD_TYPES = wfdb_header.RECORD_SPECS["allowed_types"].to_dict()
_RECORD_DEFAULTS = wfdb_header.RECORD_SPECS["read_default"].to_dict()


def _parse_record_line(line: str) -> dict:
    """``wfdb.io._header._parse_record_line`` (wfdb 4.x) with its rules unchanged, without pandas lookups."""
    match = wfdb_header.rx_record.match(line)
    if match is None:
        raise wfdb_header.HeaderSyntaxError("invalid syntax in record line")
    fields = match.groupdict()
    for field in _RECORD_TYPES:
        text = fields[field]
        if text == "":
            fields[field] = _RECORD_DEFAULTS[field]
        elif _RECORD_TYPES[field] == wfdb_header.int_types:
            fields[field] = int(text)
        elif _RECORD_TYPES[field] == wfdb_header.float_types:
            fields[field] = float(text)
            if field == "fs" and round(fields[field], 8) == float(int(fields[field])):  # an integral rate as int
                fields[field] = int(fields[field])
        elif field == "base_time":
            fields[field] = wfdb_header.wfdb_strptime(text)
        elif field == "base_date":
            fields[field] = datetime.datetime.strptime(text, "%d/%m/%Y").date()
    if fields["base_date"] and fields["base_time"]:
        fields["base_datetime"] = datetime.datetime.combine(fields["base_date"], fields["base_time"])
    return fields


def _parse_signal_lines(lines: list[str]) -> dict[str, list]:
    """``wfdb.io._header._parse_signal_lines`` (wfdb 4.x) with its rules unchanged, without pandas lookups."""
    fields: dict[str, list] = {field: [None] * len(lines) for field in _SIGNAL_TYPES}
    for ch, line in enumerate(lines):
        match = wfdb_header.rx_signal.match(line)
        if match is None:
            raise wfdb_header.HeaderSyntaxError("invalid syntax in signal line")
        values = match.groupdict()
        for field in _SIGNAL_TYPES:
            text = values[field]
            if text == "":
                fields[field][ch] = _SIGNAL_DEFAULTS[field]
                if field == "baseline" and values["adc_zero"] != "":  # a missing baseline defaults to ADC zero
                    fields[field][ch] = int(values["adc_zero"])
            elif _SIGNAL_TYPES[field] is wfdb_header.int_types:
                fields[field][ch] = int(text)
            elif _SIGNAL_TYPES[field] is wfdb_header.float_types:
                fields[field][ch] = float(text)
                if field == "adc_gain" and fields[field][ch] == 0:  # wfdb reads a gain of 0 as 200
                    fields[field][ch] = 200.0
            else:
                fields[field][ch] = text
    return fields


def parse_header(text: str, base: Path) -> wfdb.io.record.Record:
    """The ``wfdb.Record`` that ``wfdb.rdheader(base)`` returns for the header ``text`` (field for field:
    tested on every header of the datasets), parsed without reading the file again; a multi-segment
    header goes to ``wfdb.rdheader`` itself."""
    lines, comments = parse_header_content(text.encode("ascii", "ignore").decode())  # wfdb drops non-ASCII
    record_fields = _parse_record_line(lines[0])
    if record_fields["n_seg"] is not None:
        return wfdb.rdheader(str(base))
    record = wfdb.Record()
    if len(lines) > 1:
        for field, values in _parse_signal_lines(lines[1:]).items():
            setattr(record, field, values)
    for field, value in record_fields.items():
        if field != "n_seg":
            setattr(record, field, value)
    record.comments = [line.strip(" \t#") for line in comments]
    return record


_GAIN = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _declared_gains(signal_lines: list[str]) -> list[float | None]:
    """The ADC gain each signal line states (third field, e.g. ``1000(0)/mV``); None where absent."""
    gains = []
    for line in signal_lines:
        fields = line.split()
        match = _GAIN.match(fields[2]) if len(fields) > 2 else None
        gains.append(float(match.group(0)) if match else None)
    return gains


def header_fields(comments: list[str]) -> dict[str, str]:
    """``['Age: 74', ' Dx: 59118001']`` → ``{'Age': '74', 'Dx': '59118001'}`` (``#Key: value`` header comments)."""
    fields = {}
    for line in comments:
        key, sep, value = line.strip().partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def _check_signal_file_size(base: Path, header: wfdb.io.record.Record) -> None:
    """RecordError if a signal file is missing, shorter (truncated) or longer than the header implies."""
    for file_name in dict.fromkeys(header.file_name):
        path = base.parent / file_name
        if not path.is_file():
            raise RecordError(path, "missing_file", "signal file named in the header not found")
        channels = [i for i, f in enumerate(header.file_name) if f == file_name]
        fmts = {header.fmt[i] for i in channels}
        if len(fmts) != 1 or (fmt := fmts.pop()) not in _BYTES_PER_SAMPLE:
            continue
        offset = int(header.byte_offset[channels[0]] or 0)
        expected = offset + _BYTES_PER_SAMPLE[fmt] * len(channels) * header.sig_len
        actual = path.stat().st_size
        if actual < expected:
            raise RecordError(path, "truncated_signal",
                              f"file has {actual} bytes, header implies {expected} ({header.sig_len} samples)")
        if actual > expected:
            frame = _BYTES_PER_SAMPLE[fmt] * len(channels)
            held, extra = divmod(actual - offset, frame)
            holds = f"{held} samples" + (f" and {extra} stray bytes" if extra else "")
            raise RecordError(path, "length_mismatch", f"file has {actual} bytes, header implies {expected} "
                                                       f"({header.sig_len} samples); the file holds {holds}")


def read_wfdb_physical(
    base: Path, expected_fs: float, first_samples: int | None = None, header: wfdb.io.record.Record | None = None
) -> tuple[np.ndarray, wfdb.io.record.Record, tuple[str, ...]]:
    """Read record ``base`` as (signal (12, T) float32 mV in I … V6 order, header, all-zero lead names).

    ``first_samples`` keeps only the first samples (T = min(first_samples, length)); the NaN and
    zero-lead checks see only what is returned. ``header``: ``read_header(base)`` where the caller has it.

    Raises RecordError for: missing/unreadable/non-UTF-8/malformed header (``missing_file``,
    ``unreadable_file``, ``bad_header``), an ADC gain of 0 (``uncalibrated``),
    sampling rate ≠ ``expected_fs`` (``wrong_fs``), missing/truncated/over-long signal file,
    units other than mV (``wrong_units``), unknown or missing leads, NaN samples. Warns (RecordWarning,
    counted by the cache) for a negative ADC gain, which WFDB's formula turns into an inverted lead.
    """
    header = read_header(base) if header is None else header
    hea = header_path(base)
    if not np.isclose(float(header.fs), expected_fs):
        raise RecordError(hea, "wrong_fs", f"sampling rate {header.fs:g} Hz, expected {expected_fs:g} Hz")
    rows = standard_lead_rows(header.sig_name, hea)
    if inverted := [name for name, gain in zip(header.sig_name, header.adc_gain) if gain < 0]:
        warnings.warn(RecordWarning(f"{hea}: negative ADC gain for leads {inverted}: read as the header states, "
                                    "which inverts them (physical = (digital − baseline) / gain)"), stacklevel=2)
    units = {str(u).strip().lower() for u in header.units}
    if units != {"mv"}:
        raise RecordError(hea, "wrong_units", f"signal units {sorted(units)}, expected mV")
    _check_signal_file_size(base, header)
    sampto = min(first_samples or header.sig_len, header.sig_len)
    try:
        physical = _read_plain_format16(base, header, sampto)
        if physical is None:
            physical = wfdb.rdrecord(str(base), physical=True, sampto=sampto).p_signal
    except Exception as err:  # any decoding failure inside wfdb/numpy
        raise RecordError(hea, "unreadable_signal", f"wfdb could not read the signal: {err}") from None
    signal, zero_leads = checked_signal(physical.T[rows], hea)
    return signal, header, zero_leads


def _read_plain_format16(base: Path, header: wfdb.io.record.Record, sampto: int) -> np.ndarray | None:
    """(sampto, n_sig) float64 mV of a record stored the common way (one file, format 16, one sample per
    frame, no skew), exactly as ``wfdb.rdrecord(physical=True)`` computes it; None for anything else.

    ``rdrecord`` would parse the header a second time, and wfdb's header parser is most of the cost of a
    read (PTB-XL records: 148 → ~300 records/s on one core), so the header parsed above is reused.
    """
    n = header.n_sig
    plain = (len(set(header.file_name)) == 1 and set(header.fmt) == {"16"}
             and all((s or 1) == 1 for s in (header.samps_per_frame or [1] * n))
             and all(not k for k in (header.skew or [0] * n)) and len(set(header.byte_offset or [0])) == 1)
    if not plain:
        return None
    digital = np.fromfile(base.parent / header.file_name[0], dtype="<i2", count=sampto * n,
                          offset=int((header.byte_offset or [0])[0] or 0)).reshape(sampto, n)
    physical = (digital - np.asarray(header.baseline, dtype=np.float64)) / np.asarray(header.adc_gain, dtype=np.float64)
    physical[digital == -32768] = np.nan  # WFDB's invalid-sample code in format 16
    return physical
