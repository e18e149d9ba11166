"""Downloader end to end against a local HTTP server (127.0.0.1 only) serving real shared files."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ecgjepa_core.data.download import DownloadError, download, main

LUDB_FILES = ("data/1.hea", "data/1.dat", "data/1.i", "ludb.csv")


class Mirror:
    """A threaded HTTP server on 127.0.0.1 with Range support over ``routes`` (url path → file).

    ``drop[url_path] = n`` makes the next full (non-Range) response of that path send its full
    Content-Length but only ``n`` bytes, then close the connection (once). ``requests`` logs
    (path, Range header) of every request.
    """

    def __init__(self):
        self.routes: dict[str, Path] = {}
        self.drop: dict[str, int] = {}
        self.requests: list[tuple[str, str | None]] = []
        mirror = self

        class Handler(SimpleHTTPRequestHandler):
            timeout = 10

            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                rng = self.headers.get("Range")
                mirror.requests.append((path, rng))
                file = mirror.routes.get(path)
                if file is None:
                    self.send_error(404)
                    return
                data = file.read_bytes()
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                if start >= len(data) and rng:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                body = data[start:]
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                cut = None if rng else mirror.drop.pop(path, None)
                self.wfile.write(body if cut is None else body[:cut])
                if cut is not None:
                    self.wfile.flush()
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        # Safety net: the server stops itself even if a test hangs.
        self.watchdog = threading.Timer(60, self.server.shutdown)

    def __enter__(self):
        self.thread.start()
        self.watchdog.start()
        return self

    def __exit__(self, *exc):
        self.watchdog.cancel()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def mirror():
    with Mirror() as m:
        yield m


@pytest.fixture
def ludb_mirror(mirror, shared_data, tmp_path):
    """``ludb/1.0.1`` with four real LUDB files and a SHA256SUMS.txt generated from them."""
    tree = tmp_path / "server" / "ludb" / "1.0.1"
    lines = []
    for rel in LUDB_FILES:
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared_data / "ludb" / rel, tree / rel)
        lines.append(f"{hashlib.sha256((tree / rel).read_bytes()).hexdigest()} {rel}")
    (tree / "SHA256SUMS.txt").write_text("\n".join(lines) + "\n")
    for f in tree.rglob("*"):
        if f.is_file():
            mirror.routes[f"/ludb/1.0.1/{f.relative_to(tree).as_posix()}"] = f
    mirror.tree = tree
    return mirror


def data_requests(mirror, name):
    return [r for r in mirror.requests if r[0].endswith(name)]


def test_full_download_then_skip_when_verified(ludb_mirror, tmp_path):
    dest = tmp_path / "ludb"
    assert download("ludb", dest, base_url=ludb_mirror.url, progress=False) == {"downloaded": 4, "skipped": 0}
    for rel in LUDB_FILES:
        assert (dest / rel).read_bytes() == (ludb_mirror.tree / rel).read_bytes()
    assert (dest / "SHA256SUMS.txt").exists() and not list(dest.rglob("*.part"))
    ludb_mirror.requests.clear()
    assert download("ludb", dest, base_url=ludb_mirror.url, progress=False) == {"downloaded": 0, "skipped": 4}
    assert [p for p, _ in ludb_mirror.requests] == ["/ludb/1.0.1/SHA256SUMS.txt"]


def test_corrupt_local_file_is_fetched_again(ludb_mirror, tmp_path):
    dest = tmp_path / "ludb"
    download("ludb", dest, base_url=ludb_mirror.url, progress=False)
    (dest / "data/1.dat").write_bytes(b"garbage")
    assert download("ludb", dest, base_url=ludb_mirror.url, progress=False) == {"downloaded": 1, "skipped": 3}
    assert (dest / "data/1.dat").read_bytes() == (ludb_mirror.tree / "data/1.dat").read_bytes()


def test_corrupt_server_file_fails_naming_the_file(ludb_mirror, tmp_path, capsys):
    served = ludb_mirror.tree / "data/1.i"
    data = bytearray(served.read_bytes())
    data[0] ^= 0xFF
    served.write_bytes(bytes(data))
    dest = tmp_path / "ludb"
    with pytest.raises(DownloadError, match=r"data/1\.i: sha256 mismatch"):
        download("ludb", dest, base_url=ludb_mirror.url, progress=False)
    assert not (dest / "data/1.i").exists() and not (dest / "data/1.i.part").exists()
    assert main(["ludb", "--dest", str(dest), "--base-url", ludb_mirror.url, "--no-progress"]) == 1
    assert "data/1.i" in capsys.readouterr().err


def test_dropped_connection_is_resumed_with_range(ludb_mirror, tmp_path):
    ludb_mirror.drop["/ludb/1.0.1/data/1.dat"] = 100_000  # of 120,000 bytes
    dest = tmp_path / "ludb"
    download("ludb", dest, base_url=ludb_mirror.url, progress=False)
    assert (dest / "data/1.dat").read_bytes() == (ludb_mirror.tree / "data/1.dat").read_bytes()
    (first, r1), (second, r2) = data_requests(ludb_mirror, "1.dat")
    assert r1 is None and r2.startswith("bytes=")
    assert 0 < int(r2[6:-1]) <= 100_000  # resumed after the bytes already on disk, not from 0


def test_part_file_from_an_earlier_run_is_resumed_or_restarted(ludb_mirror, tmp_path):
    dest = tmp_path / "ludb"
    full = (ludb_mirror.tree / "data/1.dat").read_bytes()
    (dest / "data").mkdir(parents=True)
    (dest / "data/1.dat.part").write_bytes(full[:1000])
    download("ludb", dest, base_url=ludb_mirror.url, progress=False)
    assert (dest / "data/1.dat").read_bytes() == full
    assert data_requests(ludb_mirror, "1.dat") == [("/ludb/1.0.1/data/1.dat", "bytes=1000-")]
    # A stale .part with wrong bytes: the resumed file fails verification and is fetched afresh.
    (dest / "data/1.dat").unlink()
    (dest / "data/1.dat.part").write_bytes(b"\xff" * 1000)
    ludb_mirror.requests.clear()
    download("ludb", dest, base_url=ludb_mirror.url, progress=False)
    assert (dest / "data/1.dat").read_bytes() == full
    assert data_requests(ludb_mirror, "1.dat") == [("/ludb/1.0.1/data/1.dat", "bytes=1000-"),
                                                   ("/ludb/1.0.1/data/1.dat", None)]


def test_cpsc_takes_only_its_subfolder_into_the_shared_layout(mirror, shared_data, tmp_path):
    tree = tmp_path / "server"
    rels = ["training/cpsc_2018/g1/A0001.hea", "training/cpsc_2018/g1/A0001.mat", "training/other/B.hea"]
    sources = [shared_data / "cpsc2018/g1/A0001.hea", shared_data / "cpsc2018/g1/A0001.mat",
               shared_data / "cpsc2018/g1/A0002.hea"]
    lines = []
    for rel, src in zip(rels, sources):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, tree / rel)
        mirror.routes[f"/challenge-2020/1.0.2/{rel}"] = tree / rel
        lines.append(f"{hashlib.sha256(src.read_bytes()).hexdigest()} {rel}")
    (tree / "SHA256SUMS.txt").write_text("\n".join(lines))
    mirror.routes["/challenge-2020/1.0.2/SHA256SUMS.txt"] = tree / "SHA256SUMS.txt"
    dest = tmp_path / "cpsc2018"
    assert download("cpsc2018", dest, base_url=mirror.url, progress=False)["downloaded"] == 2
    assert (dest / "g1/A0001.mat").read_bytes() == sources[1].read_bytes()
    assert not (dest / "training").exists()


def test_zenodo_md5_from_record_metadata_and_zip_extraction(mirror, shared_data, tmp_path):
    tree = tmp_path / "server"
    tree.mkdir()
    shutil.copyfile(shared_data / "code15/exams.csv", tree / "exams.csv")
    with zipfile.ZipFile(tree / "exams_sample.zip", "w") as z:
        z.write(shared_data / "ludb/data/1.hea", "sample.hea")
    api = "/api/records/4916206"
    files = []
    for name in ("exams.csv", "exams_sample.zip"):
        mirror.routes[f"{api}/files/{name}/content"] = tree / name
        files.append({"key": name, "size": (tree / name).stat().st_size,
                      "checksum": "md5:" + hashlib.md5((tree / name).read_bytes()).hexdigest()})
    (tree / "record.json").write_text(json.dumps({"id": 4916206, "files": files}))
    mirror.routes[api] = tree / "record.json"
    dest = tmp_path / "code15"
    assert download("code15", dest, base_url=mirror.url, progress=False) == {"downloaded": 2, "skipped": 0}
    assert (dest / "exams.csv").read_bytes() == (shared_data / "code15/exams.csv").read_bytes()
    assert (dest / "sample.hea").read_bytes() == (shared_data / "ludb/data/1.hea").read_bytes()
    files[0]["checksum"] = "md5:" + "0" * 32
    (tree / "record.json").write_text(json.dumps({"files": files}))
    (dest / "exams.csv").unlink()
    with pytest.raises(DownloadError, match="exams.csv: md5 mismatch"):
        download("code15", dest, base_url=mirror.url, progress=False)
