"""A Debian mirror on 127.0.0.1 for sysroot creation tests, serving real files only.

It serves the InRelease (signed by Debian) and the Packages index that cgocheck's own apt
state already holds for a suite and architecture (apt verified both when it fetched them;
apt verifies them again here against Debian's keyring), and the .deb files of the shared
download cache, at their pool paths. Faults are injected per .deb: ``cut`` sends the
headers of the whole file and then half of it before closing the connection, ``corrupt``
sends the whole length with altered bytes. Loopback only, for the test's lifetime.
"""

from __future__ import annotations

import hashlib
import http.server
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

APT_HELPER = Path("/usr/lib/apt/apt-helper")


@dataclass
class Mirror:
    suite: str
    arch: str
    inrelease: bytes
    packages: bytes
    debs: dict[str, Path]  # file name -> .deb in the download cache
    faults: dict[str, str] = field(default_factory=dict)  # file name -> "cut" | "corrupt"
    requests: list[tuple[str, int]] = field(default_factory=list)
    port: int = 0

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/debian"

    def recipe(self, name: str, packages: list[str], libc_version: str | None = None) -> str:
        lv = f'libc_version = "{libc_version}"\n' if libc_version else ""
        return (
            f'name = "{name}"\nsuite = "{self.suite}"\narch = "{self.arch}"\nlibc = "glibc"\n{lv}'
            f"packages = {packages!r}\n".replace("'", '"')
            + f'[source]\nuris = ["{self.uri}"]\ncomponents = ["main"]\n'
            + 'signed_by = "/usr/share/keyrings/debian-archive-keyring.gpg"\n'
        )

    def fetched(self, name: str) -> list[int]:
        """HTTP statuses of the requests for a pool file NAME."""
        return [code for path, code in self.requests if path.endswith("/" + name)]


def bookworm_arm64() -> Mirror:
    """The mirror of bookworm/arm64 from the real home's apt state and downloaded .debs (what
    ``sysroot create bookworm-arm64`` left), or the test is skipped (failed under CI)."""
    from cgocheck.core import folders
    from tests.support.need import need, need_tool

    need_tool("apt-get")
    need_tool("dpkg-deb")
    real = folders.home()
    state = real / "apt" / "bookworm-arm64"
    need(any((state / "lists").glob("*_dists_bookworm_InRelease")), "apt lists of bookworm/arm64 (sysroot create)")
    m = load(state, real / "downloads" / "debs", "bookworm", "arm64")
    need(any(n.startswith("libc6_") and n.endswith("_arm64.deb") for n in m.debs), "bookworm arm64 .debs")
    return m


def load(apt_state: Path, debs_dir: Path, suite: str, arch: str) -> Mirror:
    """The real index of SUITE/ARCH from an apt state folder cgocheck made, decompressed."""
    lists = apt_state / "lists"
    inrelease = next(lists.glob(f"*_dists_{suite}_InRelease")).read_bytes()
    stored = next(lists.glob(f"*_dists_{suite}_main_binary-{arch}_Packages*"))
    if stored.suffix in (".lz4", ".gz", ".xz", ".zst"):
        packages = subprocess.run([str(APT_HELPER), "cat-file", str(stored)], capture_output=True, check=True).stdout
    else:
        packages = stored.read_bytes()
    debs = {p.name: p for p in debs_dir.glob("*.deb")}
    return Mirror(suite, arch, inrelease, packages, debs)


@contextmanager
def serve(mirror: Mirror) -> Iterator[Mirror]:
    packages_sha = hashlib.sha256(mirror.packages).hexdigest()
    index = f"/debian/dists/{mirror.suite}/main/binary-{mirror.arch}/"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, code: int, body: bytes = b"", *, length: int | None = None, cut: bool = False) -> None:
            mirror.requests.append((unquote(self.path), code))
            self.send_response(code)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.send_header("Content-Type", "application/octet-stream")
            if cut:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            if cut:
                self.wfile.flush()
                self.close_connection = True

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = unquote(self.path.split("?", 1)[0])
            if path == f"/debian/dists/{mirror.suite}/InRelease":
                return self._send(200, mirror.inrelease)
            if path in (index + "Packages", index + f"by-hash/SHA256/{packages_sha}"):
                return self._send(200, mirror.packages)
            name = path.rsplit("/", 1)[-1]
            if path.startswith("/debian/pool/") and name in mirror.debs:
                data = mirror.debs[name].read_bytes()
                fault = mirror.faults.get(name)
                if fault == "cut":  # promise the whole file, send half, hang up
                    return self._send(200, data[: len(data) // 2], length=len(data), cut=True)
                if fault == "corrupt":  # the right length, the wrong bytes
                    mid = len(data) // 2
                    return self._send(
                        200, data[:mid] + bytes(b ^ 0xFF for b in data[mid : mid + 64]) + data[mid + 64 :]
                    )
                return self._send(200, data)
            return self._send(404, b"not here\n")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    mirror.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield mirror
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def serve_tree(root: Path) -> Iterator[str]:
    """Serve the files under ROOT at http://127.0.0.1:PORT/debian/ (yields that URI)."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format: str, *args: object) -> None:
            pass

        def translate_path(self, path: str) -> str:
            return super().translate_path(path.removeprefix("/debian"))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/debian"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
