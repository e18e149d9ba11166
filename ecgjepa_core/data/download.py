"""Download the datasets from their official hosts, resumably, verifying every file.

    python -m ecgjepa_core.data.download {ptbxl,cpsc2018,chapman_ningbo,code15,ludb} --dest DIR

PhysioNet projects publish ``SHA256SUMS.txt`` (sha256 and relative path of every file); Zenodo
publishes each file's md5 in the record's API metadata (``/api/records/<id>``). Both lists are
fetched at run time, so no checksum is hard-coded here. Each file is transferred to
``<file>.part`` with HTTP Range resumption, hashed with :func:`file_hash`, and renamed into place
only when the hash matches. Existing files
are re-hashed: a match is skipped, a mismatch is deleted and fetched again.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import requests

from ecgjepa_core.progress import progress_bar

log = logging.getLogger(__name__)

PHYSIONET_FILES = "https://physionet.org/files"
ZENODO = "https://zenodo.org"
MAX_ATTEMPTS = 4  # per file: transfer attempts, each resuming where the last one stopped
TIMEOUT = (15, 120)  # seconds: connect, between bytes
CHUNK = 1 << 16  # bytes per read; a dropped connection loses at most the unfinished read


@dataclass(frozen=True)
class Source:
    """Where a dataset lives: a PhysioNet project (``slug``, ``version``, optional sub-folder)
    or a Zenodo record (``zenodo_id``)."""

    slug: str = ""
    version: str = ""
    prefix: str = ""  # sub-folder of the project to fetch; stripped in the destination
    zenodo_id: str = ""


DATASETS: dict[str, Source] = {
    "ptbxl": Source("ptb-xl", "1.0.3"),
    # The paper's CPSC 2018 is g1–g7 of training/cpsc_2018; cpsc_2018_extra is not used (docs/data.md §4).
    "cpsc2018": Source("challenge-2020", "1.0.2", prefix="training/cpsc_2018/"),
    "chapman_ningbo": Source("ecg-arrhythmia", "1.0.0"),
    "code15": Source(zenodo_id="4916206"),
    "ludb": Source("ludb", "1.0.1"),
}


@dataclass(frozen=True)
class RemoteFile:
    path: str  # relative destination path (posix)
    url: str
    alg: str  # "sha256" or "md5"
    digest: str


class DownloadError(RuntimeError):
    """A file could not be fetched or did not verify; the message names the file."""


def safe_relative(path: str) -> str:
    """Reject absolute paths and ``..`` so a manifest cannot write outside ``dest``."""
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise DownloadError(f"unsafe path in checksum list: {path!r}")
    return str(p)


def get_listing(session: requests.Session, url: str) -> requests.Response:
    """GET a checksum list or record metadata; DownloadError naming ``url`` if the host cannot be reached."""
    try:
        return session.get(url, timeout=TIMEOUT)
    except requests.RequestException as err:
        raise DownloadError(f"{url}: cannot reach the host ({type(err).__name__}); check the network or "
                            "pass --base-url for a mirror") from None


def physionet_manifest(session: requests.Session, base_url: str, src: Source) -> tuple[list[RemoteFile], str]:
    """Files of a PhysioNet project from its ``SHA256SUMS.txt`` → (files, text of the list)."""
    root = f"{base_url.rstrip('/')}/{src.slug}/{src.version}"
    r = get_listing(session, f"{root}/SHA256SUMS.txt")
    if r.status_code != 200:
        raise DownloadError(f"{root}/SHA256SUMS.txt: HTTP {r.status_code}")
    files = []
    for line in r.text.splitlines():
        if not line.strip():
            continue
        digest, _, path = line.strip().partition(" ")
        path = path.strip().lstrip("*")
        if path.startswith(src.prefix) and path != "SHA256SUMS.txt":
            files.append(RemoteFile(safe_relative(path[len(src.prefix):]), f"{root}/{path}", "sha256",
                                    digest.lower()))
    if not files:
        raise DownloadError(f"{root}/SHA256SUMS.txt: no files under {src.prefix or '/'}")
    return files, r.text


def zenodo_manifest(session: requests.Session, base_url: str, record_id: str) -> list[RemoteFile]:
    """Files of a Zenodo record with their md5 from ``/api/records/<id>`` (``checksum: "md5:…"``)."""
    base = base_url.rstrip("/")
    api = f"{base}/api/records/{record_id}"
    r = get_listing(session, api)
    if r.status_code != 200:
        raise DownloadError(f"{api}: HTTP {r.status_code}")
    try:
        entries = r.json().get("files", [])
    except (ValueError, AttributeError):
        raise DownloadError(f"{api}: the record metadata is not a JSON object") from None
    files = []
    for entry in entries:
        key = entry.get("key") or entry.get("filename")
        alg, _, digest = str(entry.get("checksum", "")).partition(":")
        if not key or alg != "md5" or not digest:
            raise DownloadError(f"{api}: file entry without name or md5 checksum: {entry}")
        files.append(RemoteFile(safe_relative(key), f"{api}/files/{key}/content", "md5", digest.lower()))
    if not files:
        raise DownloadError(f"{api}: record lists no files")
    return files


def transfer(session: requests.Session, url: str, part: Path, progress: bool) -> int:
    """Append ``url`` to ``part`` from its current size (HTTP Range) → the offset it resumed from.

    A server that ignores the Range (200) restarts the file; 416 means nothing is left to fetch.
    Raises on a dropped connection or a short body.
    """
    start = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={start}-"} if start else {}
    with session.get(url, headers=headers, stream=True, timeout=TIMEOUT) as r:
        if r.status_code == 416 and start:
            return start
        if r.status_code == 206 and r.headers.get("Content-Range", "").startswith(f"bytes {start}-"):
            mode = "ab"
        elif r.status_code == 200:
            start, mode = 0, "wb"
        else:
            raise DownloadError(f"{url}: HTTP {r.status_code}")
        length = int(r.headers.get("Content-Length", -1))
        written = 0
        with open(part, mode) as f, progress_bar(total=None if length < 0 else start + length, initial=start,
                                         unit="B", unit_scale=True, leave=False, desc=part.name[:-5],
                                         disable=not progress or length < (8 << 20)) as bar:
            for block in r.iter_content(CHUNK):
                f.write(block)
                written += len(block)
                bar.update(len(block))
        if 0 <= length != written:
            raise requests.ConnectionError(f"{url}: connection closed after {written} of {length} bytes")
    return start


def file_hash(path: Path, alg: str) -> str:
    """Hex digest of a file by a ``hashlib`` algorithm ("sha256", "md5"), read in 1 MiB chunks."""
    digest = hashlib.new(alg)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_verified(session: requests.Session, remote: RemoteFile, dest: Path, progress: bool = True) -> str:
    """Make ``dest/remote.path`` a verified copy → "skipped" (already good) or "downloaded".

    A corrupt local file is deleted and fetched again. A fresh (not resumed) transfer that fails
    verification means the server's copy differs from its checksum list: ``DownloadError``.
    """
    target = dest / remote.path
    try:
        return _fetch_verified(session, remote, target, progress)
    except requests.RequestException as err:  # not a dropped transfer (those are retried): e.g. a bad URL
        raise DownloadError(f"{remote.url}: {type(err).__name__}: {err}") from None
    except OSError as err:  # destination not writable, disk full, a folder where a file should be
        raise DownloadError(f"{err.filename or target}: cannot write ({err.strerror or err})") from None


def _fetch_verified(session: requests.Session, remote: RemoteFile, target: Path, progress: bool) -> str:
    if target.exists():
        if file_hash(target, remote.alg) == remote.digest:
            return "skipped"
        log.warning("%s: %s mismatch, deleting and fetching again", target, remote.alg)
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    last_error: Exception | None = None
    for _ in range(MAX_ATTEMPTS):
        try:
            resumed_from = transfer(session, remote.url, part, progress)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as e:
            last_error = e
            log.warning("%s: transfer interrupted (%s), resuming", remote.path, e)
            continue
        got = file_hash(part, remote.alg)
        if got == remote.digest:
            part.replace(target)
            return "downloaded"
        part.unlink()
        last_error = DownloadError(f"{remote.path}: {remote.alg} mismatch: expected {remote.digest}, got {got}")
        if resumed_from == 0:
            raise DownloadError(f"{remote.path}: {remote.alg} mismatch after a full download from "
                                f"{remote.url}: expected {remote.digest}, got {got}")
        log.warning("%s: resumed file did not verify, fetching it from the start", remote.path)
    raise DownloadError(f"{remote.path}: gave up after {MAX_ATTEMPTS} attempts: {last_error}")


def extract_zips(dest: Path, files: list[RemoteFile]) -> None:
    """Unpack downloaded ``.zip`` files next to themselves (CODE-15 ships HDF5 inside zips).

    A member already present with the right size is left alone; the zip is kept so that a
    later run can verify it and skip it.
    """
    for remote in files:
        if not remote.path.endswith(".zip"):
            continue
        archive = dest / remote.path
        with zipfile.ZipFile(archive) as z:
            for member in z.infolist():
                out = archive.parent / safe_relative(member.filename)
                if not (out.exists() and out.stat().st_size == member.file_size):
                    log.info("extracting %s from %s", member.filename, archive.name)
                    z.extract(member, archive.parent)


def download(dataset: str, dest: Path | str, base_url: str | None = None, progress: bool = True) -> dict:
    """Download ``dataset`` (a key of ``DATASETS``) into ``dest`` → counts of downloaded/skipped files."""
    src = DATASETS[dataset]
    dest = Path(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DownloadError(f"{dest}: cannot create the destination folder ({err.strerror or err})") from None
    with requests.Session() as session:
        session.headers["User-Agent"] = "ecgjepa-download"
        if src.zenodo_id:
            files = zenodo_manifest(session, base_url or ZENODO, src.zenodo_id)
        else:
            files, sums = physionet_manifest(session, base_url or PHYSIONET_FILES, src)
            try:
                (dest / "SHA256SUMS.txt").write_text(sums)
            except OSError as err:
                raise DownloadError(f"{dest / 'SHA256SUMS.txt'}: cannot write ({err.strerror or err})") from None
        counts = {"downloaded": 0, "skipped": 0}
        for remote in progress_bar(files, unit="file", desc=dataset, disable=not progress):
            counts[fetch_verified(session, remote, dest, progress)] += 1
    try:
        extract_zips(dest, files)
    except (OSError, zipfile.BadZipFile) as err:
        raise DownloadError(f"{getattr(err, 'filename', None) or dest}: cannot extract: {err}") from None
    log.info("%s: %s into %s", dataset, counts, dest)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecgjepa_core.data.download", description=__doc__.split("\n")[0])
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("--dest", required=True, type=Path, help="destination folder (official layout)")
    parser.add_argument("--base-url", help=f"mirror root (default {PHYSIONET_FILES} or {ZENODO})")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        counts = download(args.dataset, args.dest, args.base_url, progress=not args.no_progress)
    except DownloadError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{args.dataset}: {counts['downloaded']} downloaded, {counts['skipped']} already verified, in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
