"""PTB-XL, CPSC 2018, Chapman–Ningbo and CODE-15 at F × their real sizes, in their official layouts.

Every signal is derived from a real record of the same dataset (``../shared/data``, else the shipped sample):
circularly shifted in time, scaled by a factor in [0.8, 1.25] and mixed with a second real record of the
dataset (weight ≤ 0.3), so that the readers see real waveforms, amplitudes and file formats at any count.
Labels and metadata are drawn from the real ones: PTB-XL label sets and folds from the 1,819 labelled records
of ``ptbxl_subset`` (all 71 statements), CPSC ``#Dx`` sets and record lengths from its real records, CODE-15
padding at the real ratio. Deterministic from the seed (one generator per dataset); the data are for measuring
cost, never for results. What differs from the real datasets is listed in :data:`DIFFERENCES`.
"""

from __future__ import annotations

import ast
import json
import shutil
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import scipy.signal

from ecgjepa_core.data import ChapmanNingboReader, Code15Reader, Cpsc2018Reader, PtbxlReader
from ecgjepa_core.data.code15 import zero_padding
from ecgjepa_core.data.labels import read_scp_statements
from ecgjepa_core.data.records import STANDARD_12_LEADS
from ecgjepa_core.paths import SAMPLE_DIR, shared_dir

# Records (exams) of the full releases the paper uses.
REAL_COUNTS = {"ptbxl": 21_799, "cpsc2018": 6_877, "chapman_ningbo": 45_152, "code15": 345_779}
PTBXL_LAST_ECG_ID = 21_837           # ecg_ids run 1 … 21,837 with gaps
CPSC_FOLDER_SIZES = (1000,) * 6 + (877,)  # g1 … g7 of the Challenge 2020 release
CODE15_PARTS = 18
CODE15_SAMPLES, CODE15_SHORT = 4096, 2934  # 10.24 s and 7.3 s exams at 400 Hz; short ones zero-padded
# Kept by the paper's rules: 43,240 of 45,152 Ningbo records, ~130,900 of 345,779 CODE-15 exams (unpadded).
CHAPMAN_DROPPED = 1 - 43_240 / 45_152
CODE15_UNPADDED = 130_900 / 345_779
CPSC_SHORT = 0.01                    # share of CPSC records under 10 s (6-10 s), dropped by the paper's rule
MINIMUM = {"ptbxl": 20, "cpsc2018": 14, "chapman_ningbo": 10, "code15": 2 * CODE15_PARTS}
DIFFERENCES = (
    "signals are real records of the same dataset shifted, scaled and mixed, so beats repeat across records",
    "PTB-XL: one patient per record; records100 is records500 decimated by 5 (scipy.signal.resample_poly)",
    f"Chapman-Ningbo: {CHAPMAN_DROPPED:.1%} of records start with zeros on every lead, so that the paper's rules "
    "drop as many as they drop of the real release (1,912)",
    f"CPSC 2018: {CPSC_SHORT:.0%} of records are 6-10 s long (dropped by the paper's rule)",
    "CODE-15: HDF5 parts stored contiguous and uncompressed, each with one filler row (exam_id 0); exams.csv "
    "diagnosis columns all False",
    "LUDB: the real 200 records copied unchanged (its size does not scale)",
)
GAIN = 1000.0  # digital units per mV of the WFDB files written here (PTB-XL, CPSC and Ningbo use 1000)


@dataclass
class Pool:
    """Real signals of one dataset, each (12, T_i) float32 mV, and the metadata rows drawn from."""

    signals: list[np.ndarray]
    meta: pd.DataFrame

    def derived(self, rng: np.random.Generator, n_samples: int) -> np.ndarray:
        """(12, n_samples) float32: one record shifted and scaled, mixed with a second one (both tiled)."""
        i, j = rng.choice(len(self.signals), size=2, replace=len(self.signals) < 2)
        w, gain = rng.uniform(0, 0.3), rng.uniform(0.8, 1.25)
        a = _shifted(self.signals[i], n_samples, rng)
        b = _shifted(self.signals[j], n_samples, rng)
        return (gain * ((1 - w) * a + w * b)).astype(np.float32)


def _shifted(signal: np.ndarray, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """(12, n_samples): ``signal`` tiled to length and rolled by a random number of samples."""
    reps = -(-n_samples // signal.shape[1])
    tiled = np.tile(signal, (1, reps)) if reps > 1 else signal
    return np.roll(tiled, int(rng.integers(tiled.shape[1])), axis=1)[:, :n_samples]


def counts(fraction: float) -> dict[str, int]:
    """Records (exams) of each dataset at ``fraction`` of the real sizes, at least ``MINIMUM``."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return {name: max(MINIMUM[name], round(fraction * n)) for name, n in REAL_COUNTS.items()}


def default_source() -> Path:
    """``../shared/data`` where present, else the shipped sample."""
    shared = shared_dir() / "data"
    return shared if (shared / "ptbxl").is_dir() else SAMPLE_DIR


# --- WFDB writers --------------------------------------------------------------------------------------------

def _digital(signal: np.ndarray) -> np.ndarray:
    """(12, T) mV -> (T, 12) int16 at ``GAIN``, clipped short of -32768 (format 16's invalid-sample code)."""
    return np.clip(np.rint(signal.T * GAIN), -32767, 32767).astype("<i2")


def _signal_lines(digital: np.ndarray, file_field: str, gain_field: str) -> list[str]:
    """WFDB signal lines: file, format, gain, resolution, zero, initial value, checksum, block size, lead."""
    checksums = (digital.astype(np.int64).sum(0) + 32768) % 65536 - 32768
    return [f"{file_field} {gain_field} 16 0 {digital[0, k]} {checksums[k]} 0 {lead}"
            for k, lead in enumerate(STANDARD_12_LEADS)]


def write_wfdb_dat(base: Path, signal: np.ndarray, fs: int) -> None:
    """Record ``base`` (``.hea`` + ``.dat``, format 16) the way PTB-XL stores it."""
    digital = _digital(signal)
    base.parent.mkdir(parents=True, exist_ok=True)
    digital.tofile(base.parent / f"{base.name}.dat")
    lines = [f"{base.name} 12 {fs} {len(digital)}",
             *_signal_lines(digital, f"{base.name}.dat 16", f"{GAIN:.1f}(0)/mV")]
    (base.parent / f"{base.name}.hea").write_text("\n".join(lines) + "\n")


def write_wfdb_mat(base: Path, signal: np.ndarray, fs: int, comments: list[str], first_line_tail: str = "",
                   file_format: str = "16+24", gain_field: str = "1000/mV") -> None:
    """Record ``base`` as ``.hea`` + MATLAB v4 ``.mat`` (int16 ``val``, 24-byte header), as the PhysioNet/CinC
    Challenge 2020 release (CPSC) and the Chapman–Ningbo release store it."""
    digital = _digital(signal)
    base.parent.mkdir(parents=True, exist_ok=True)
    with open(base.parent / f"{base.name}.mat", "wb") as f:
        f.write(struct.pack("<5i", 30, 12, len(digital), 0, 4) + b"val\0")  # type 30: int16, little endian
        f.write(digital.tobytes())  # column-major (12, T) = one frame of 12 leads per sample
    lines = [f"{base.name} 12 {fs} {len(digital)}{first_line_tail}",
             *_signal_lines(digital, f"{base.name}.mat {file_format}", gain_field), *comments]
    (base.parent / f"{base.name}.hea").write_text("\n".join(lines) + "\n")


# --- the datasets --------------------------------------------------------------------------------------------

def _read_all(reader) -> list[np.ndarray]:
    return [reader.read(rid).signal for rid in reader.index()["record_id"]]


def ptbxl_pool(source: Path) -> tuple[Pool, pd.DataFrame, pd.DataFrame]:
    """(500 Hz signals with their database rows, the labelled rows (ecg_id, strat_fold, 71 statements) of
    ``ptbxl_subset`` (the database's own rows where absent), scp_statements.csv)."""
    reader = PtbxlReader(source / "ptbxl")
    database = pd.read_csv(source / "ptbxl" / "ptbxl_database.csv")
    statements = read_scp_statements(source / "ptbxl" / "scp_statements.csv")
    subset = source / "ptbxl_subset"
    if (subset / "statements.csv").is_file():
        labels = pd.read_csv(subset / "statements.csv").merge(
            pd.read_csv(subset / "records.csv")[["ecg_id", "strat_fold"]], on="ecg_id")
    else:
        multi_hot = [{code: 1 for code in ast.literal_eval(text)} for text in database["scp_codes"]]
        labels = pd.DataFrame(multi_hot).fillna(0).astype(int)
        labels[["ecg_id", "strat_fold"]] = database[["ecg_id", "strat_fold"]]
    return Pool(_read_all(reader), database), labels, statements


def _scp_codes(row: pd.Series, statements: pd.DataFrame, rng: np.random.Generator) -> str:
    """A record's scp_codes text: its statements, diagnostic ones with a likelihood as PTB-XL gives them."""
    codes = {}
    for code in row.index[(row == 1).to_numpy()]:
        diagnostic = code in statements.index and statements.loc[code, "diagnostic"] == 1
        codes[code] = float(rng.choice([100, 80, 50, 35, 15], p=[.75, .1, .08, .04, .03])) if diagnostic else 0.0
    return repr(codes)


def write_ptbxl(out: Path, n: int, source: Path, rng: np.random.Generator) -> int:
    pool, labels, statements = ptbxl_pool(source)
    (out / "ptbxl").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "ptbxl" / "scp_statements.csv", out / "ptbxl" / "scp_statements.csv")
    ids = np.sort(rng.choice(np.arange(1, max(n, round(n * PTBXL_LAST_ECG_ID / REAL_COUNTS["ptbxl"])) + 1),
                             size=n, replace=False))
    code_columns = [c for c in labels.columns if c not in ("ecg_id", "strat_fold")]
    by_fold = {fold: rows for fold, rows in labels.groupby("strat_fold")}
    folds = sorted(by_fold)
    rows = []
    for i, ecg_id in enumerate(ids):
        fold = folds[i % len(folds)]  # balanced folds, as PTB-XL's strat_fold (~2,180 records each)
        label = by_fold[fold].iloc[int(rng.integers(len(by_fold[fold])))]
        row = pool.meta.iloc[int(rng.integers(len(pool.meta)))].copy()
        folder = f"{ecg_id // 1000 * 1000:05d}"
        row["ecg_id"], row["patient_id"], row["strat_fold"] = ecg_id, float(rng.integers(1, 22_000)), fold
        row["scp_codes"] = _scp_codes(label[code_columns], statements, rng)
        row["filename_lr"] = f"records100/{folder}/{ecg_id:05d}_lr"
        row["filename_hr"] = f"records500/{folder}/{ecg_id:05d}_hr"
        signal = pool.derived(rng, 5000)
        write_wfdb_dat(out / "ptbxl" / row["filename_hr"], signal, 500)
        write_wfdb_dat(out / "ptbxl" / row["filename_lr"], scipy.signal.resample_poly(signal, 1, 5, axis=1), 100)
        rows.append(row)
    pd.DataFrame(rows, columns=pool.meta.columns).to_csv(out / "ptbxl" / "ptbxl_database.csv", index=False)
    return n


def _header_pool(reader, fields: tuple[str, ...]) -> Pool:
    """A WFDB dataset's real signals (uncropped) and their header fields (Dx, Age, Sex, length)."""
    index = reader.index()
    index = index[index["skip_reason"].isna()].reset_index(drop=True)
    signals = [reader.read(rid).signal for rid in index["record_id"]]
    return Pool(signals, index[list(fields)].fillna("Unknown"))


def write_cpsc(out: Path, n: int, source: Path, rng: np.random.Generator) -> int:
    pool = _header_pool(Cpsc2018Reader(source / "cpsc2018", min_samples=1, crop=False), ("dx", "age", "sex", "n_samples"))
    bounds = np.rint(n * np.cumsum(CPSC_FOLDER_SIZES) / sum(CPSC_FOLDER_SIZES)).astype(int)
    for i in range(n):
        meta = pool.meta.iloc[int(rng.integers(len(pool.meta)))]
        length = int(rng.integers(3000, 5000)) if rng.random() < CPSC_SHORT else int(meta["n_samples"])
        folder = f"g{int(np.searchsorted(bounds, i, side='right')) + 1}"
        comments = [f"#Age: {meta['age']}", f"#Sex: {meta['sex']}", f"#Dx: {meta['dx']}",
                    "#Rx: Unknown", "#Hx: Unknown", "#Sx: Unknown"]
        write_wfdb_mat(out / "cpsc2018" / folder / f"A{i + 1:04d}", pool.derived(rng, length), 500, comments,
                       first_line_tail=" 05-Feb-2020 11:39:16")
    return n


def chapman_path(number: int) -> str:
    """``WFDBRecords/NN/NNN/JSnnnnn`` of record number ``number`` (100 records per folder, as JS20000 in 20/200)."""
    return f"WFDBRecords/{number // 1000:02d}/{number // 100:03d}/JS{number:05d}"


def write_chapman(out: Path, n: int, source: Path, rng: np.random.Generator) -> int:
    pool = _header_pool(ChapmanNingboReader(source / "chapman_ningbo", min_samples=1, crop=False),
                        ("dx", "age", "sex"))
    numbers = np.sort(rng.choice(np.arange(1, round(n * 45_551 / REAL_COUNTS["chapman_ningbo"]) + 2), size=n,
                                 replace=False))
    for number in numbers:
        meta = pool.meta.iloc[int(rng.integers(len(pool.meta)))]
        signal = pool.derived(rng, 5000)
        if rng.random() < CHAPMAN_DROPPED:
            signal[:, : int(rng.integers(15, 500))] = 0.0
        comments = [f"# Age: {meta['age']}", f"# Sex: {meta['sex']}", f"# Dx: {meta['dx']}",
                    "# Rx: Unknown", "# Hx: Unknown", "# Sx: Unknown"]
        write_wfdb_mat(out / "chapman_ningbo" / chapman_path(int(number)), signal, 500, comments,
                       file_format="16x1+24", gain_field="1000.0(0)/mV")
    return n


def _code15_tracings(pool: Pool, n: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """(4096, 12) float32 mV tracings: unpadded at the real ratio, else 2,934 samples zero-padded symmetrically."""
    for _ in range(n):
        tracing = np.zeros((CODE15_SAMPLES, 12), np.float32)
        if rng.random() < CODE15_UNPADDED:
            tracing[:] = pool.derived(rng, CODE15_SAMPLES).T
        else:
            start = (CODE15_SAMPLES - CODE15_SHORT) // 2
            tracing[start:start + CODE15_SHORT] = pool.derived(rng, CODE15_SHORT).T
        yield tracing


def code15_pool(source: Path) -> Pool:
    """The real CODE-15 exams without their zero padding, (12, T_i) each (one read of every file)."""
    reader = Code15Reader(source / "code15", mode="strip_padding")
    index = reader.index()
    signals = []
    for name, rows in index.groupby("h5_file", sort=False)["h5_row"]:
        with h5py.File(source / "code15" / name, "r") as f:
            tracings = f["tracings"][()]
        for row in rows:
            lead, trail = zero_padding(tracings[row])
            signals.append(tracings[row, lead:CODE15_SAMPLES - trail].T.copy())
    return Pool(signals, index)


def write_code15(out: Path, n: int, source: Path, rng: np.random.Generator, block: int = 256) -> int:
    pool = code15_pool(source)
    folder = out / "code15"
    folder.mkdir(parents=True, exist_ok=True)
    exam_ids = rng.choice(np.arange(1, 3_000_000), size=n, replace=False)
    tracings = _code15_tracings(pool, n, rng)
    tables = []
    for part, ids in enumerate(np.array_split(exam_ids, CODE15_PARTS)):
        name = f"exams_part{part}.hdf5"
        with h5py.File(folder / name, "w", track_times=False) as f:  # no timestamps: the bytes follow the seed
            f.create_dataset("exam_id", data=np.append(ids, 0).astype(np.int64), track_times=False)
            data = f.create_dataset("tracings", shape=(len(ids) + 1, CODE15_SAMPLES, 12), dtype="<f4",
                                    track_times=False)
            for start in range(0, len(ids), block):
                stop = min(start + block, len(ids))
                data[start:stop] = np.stack([next(tracings) for _ in range(stop - start)])
            data[len(ids)] = 0.0  # the filler row
        tables.append(pd.DataFrame({
            "exam_id": ids, "age": rng.integers(16, 95, len(ids)), "is_male": rng.random(len(ids)) < 0.4,
            "nn_predicted_age": np.round(rng.normal(55, 15, len(ids)), 6), **{
                d: False for d in ("1dAVb", "RBBB", "LBBB", "SB", "ST", "AF")},
            "patient_id": rng.integers(1, 1_000_000, len(ids)), "death": "", "timey": "", "normal_ecg": False,
            "trace_file": name}))
    pd.concat(tables).to_csv(folder / "exams.csv", index=False)
    return n


WRITERS = {"ptbxl": write_ptbxl, "cpsc2018": write_cpsc, "chapman_ningbo": write_chapman, "code15": write_code15}


def folder_bytes(folder: Path) -> int:
    """Bytes the files under ``folder`` occupy on disk (allocated blocks)."""
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def make_scale_data(out: Path | str, fraction: float, seed: int = 0, source: Path | str | None = None,
                    datasets: tuple[str, ...] = tuple(WRITERS)) -> dict:
    """Write ``datasets`` at ``fraction`` of their real sizes under ``out`` (plus LUDB, copied) and
    ``out/SCALE_DATA.json`` (fraction, seed, counts, bytes, seconds); returns that record.

    Refuses a non-empty ``out`` that this function did not write (no ``SCALE_DATA.json``): it only ever
    replaces its own dataset folders.
    """
    out, source = Path(out), Path(source) if source else default_source()
    if out.exists() and any(out.iterdir()) and not (out / "SCALE_DATA.json").is_file():
        raise FileExistsError(f"{out}: not empty and not written by make_scale_data; choose an empty folder")
    wanted = counts(fraction)
    record = {"fraction": fraction, "seed": seed, "source": str(source), "differences": list(DIFFERENCES),
              "datasets": {}}
    for k, name in enumerate(datasets):
        shutil.rmtree(out / name, ignore_errors=True)
        started = time.perf_counter()
        rng = np.random.default_rng([seed, k])
        written = WRITERS[name](out, wanted[name], source, rng)
        record["datasets"][name] = {"records": written, "real_records": REAL_COUNTS[name],
                                    "bytes": folder_bytes(out / name),
                                    "seconds": round(time.perf_counter() - started, 2)}
    if (source / "ludb").is_dir():
        shutil.rmtree(out / "ludb", ignore_errors=True)
        shutil.copytree(source / "ludb", out / "ludb")
        record["datasets"]["ludb"] = {"records": "copied unchanged", "bytes": folder_bytes(out / "ludb")}
    (out / "SCALE_DATA.json").write_text(json.dumps(record, indent=1) + "\n")
    return record
