"""Provenance parsing and the pure provenance checks, from hand-made records (no toolchain)."""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import pytest

from cgocheck.build.pkgconfig_trace import modules
from cgocheck.build.prebuilt import origin_of, read_prebuilt
from cgocheck.build.record import (
    HOST,
    SYSROOT,
    TOOLCHAIN,
    WORK,
    BuildRecord,
    CgoPackage,
    CUnit,
    PathContext,
    PathUse,
    PkgConfigModule,
    PrebuiltFile,
    PrebuiltObject,
    call_kind,
    classify_path,
    linker_warnings,
    path_flags,
    producer_identity,
    static_nss_functions,
    toolchain_dirs_for,
)
from cgocheck.checks import check_record
from cgocheck.checks.build import shell_findings
from cgocheck.checks.compiler import compiler_matches
from cgocheck.core.hostdirs import host_triplets
from cgocheck.core.targets import parse_target

ARM64 = parse_target("linux/arm64")
S = "/root/.cache/cgocheck/sysroots/bullseye-arm64"
CTX = PathContext(
    target_triplet="aarch64-linux-gnu",
    sysroot=S,
    goroot="/opt/go",
    source_dirs=("/home/u/src/app",),
    work_dirs=("/root/.cache/cgocheck/tmp",),
    toolchain_dirs=toolchain_dirs_for("aarch64-linux-gnu"),
)
on_x86 = pytest.mark.skipif("x86_64-linux-gnu" not in host_triplets(), reason="host-triplet cases assume x86_64")


def record(**kw: object) -> BuildRecord:
    base = BuildRecord(
        package=".",
        source_dir="/home/u/src/app",
        output="/tmp/o",
        go_version="1.27.3",
        goroot="/opt/go",
        compiler="gcc",
        cc="aarch64-linux-gnu-gcc",
        cc_machine="aarch64-linux-gnu",
        expect_producer="GNU",
        sysroot=S,
        glibc_floor=None,
        target="linux/arm64",
        env=(),
        extra_env=(),
        unset=(),
        argv=(),
        go_flags=(),
        returncode=0,
        seconds=1.0,
        log_tail="",
        link_mode="external",
        calls=(),
        cgo_packages=(),
        pkgconfig=(),
        paths=(),
        c_units=(),
        linker_warnings=(),
        prebuilt=(),
        work_dir=None,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def rules(rec: BuildRecord) -> set[str]:
    return {f.rule for f in check_record(rec, None, ARM64)}


def test_path_flags() -> None:
    argv = [
        "-I",
        "/a",
        "-I/b",
        "-isystem",
        "/c",
        "--sysroot=/s",
        "-L/l",
        "-Wl,-rpath,/r1",
        "-Wl,-rpath=/r2",
        "-Wl,-rpath-link,/r3",
        "/x/libfoo.a",
        "-lz",
        "-o",
        "/o",
        "-Xlinker",
        "-rpath",
        "-Xlinker",
        "/r4",
    ]
    got = path_flags(argv)
    assert ("-I", "/a") in got and ("-I", "/b") in got and ("-isystem", "/c") in got
    assert ("--sysroot", "/s") in got and ("-L", "/l") in got
    assert ("-rpath", "/r1") in got and ("-rpath", "/r2") in got and ("-rpath-link", "/r3") in got
    assert ("library", "/x/libfoo.a") in got
    assert all(p != "/o" for _, p in got)


@on_x86
@pytest.mark.parametrize(
    ("path", "klass"),
    [
        (f"{S}/usr/include/zlib.h", SYSROOT),
        ("/usr/aarch64-linux-gnu/include/stdio.h", TOOLCHAIN),
        ("/usr/lib/gcc-cross/aarch64-linux-gnu/12/include/stddef.h", TOOLCHAIN),
        ("/usr/lib/llvm-14/lib/clang/14.0.6/include/stddef.h", TOOLCHAIN),
        ("/tmp/go-build/main.cgo2.c", WORK),
        ("/root/.cache/cgocheck/tmp/go-build123/b001/_x001.o", WORK),
        ("/usr/include/x86_64-linux-gnu/bits/types.h", HOST),
        ("/usr/include/zlib.h", HOST),
        ("/usr/lib/x86_64-linux-gnu", HOST),
        ("/usr/local/include/foo.h", HOST),
        ("/home/someone/include/x.h", HOST),
        ("/home/u/src/app/c/helper.h", "source"),
        ("/_/GOROOT/src/runtime/cgo/libcgo.h", "go"),
    ],
)
def test_classify_path(path: str, klass: str) -> None:
    got, reason = classify_path(path, CTX)
    assert got == klass
    assert (reason is not None) == (klass == HOST)


@on_x86
def test_native_build_without_sysroot_may_use_usr_include() -> None:
    ctx = PathContext(target_triplet="x86_64-linux-gnu")
    assert classify_path("/usr/include/stdio.h", ctx)[0] == "system"
    assert classify_path("/usr/include/stdio.h", dataclasses.replace(ctx, sysroot="/sr"))[0] == HOST


def test_producer_identity() -> None:
    assert producer_identity("GNU C17 12.2.0 -mlittle-endian -g -O2")[:2] == ("GNU", "12.2.0")
    assert producer_identity("Debian clang version 14.0.6")[:2] == ("clang", "14.0.6")
    who, ver, _ = producer_identity("clang version 18.1.6 (https://github.com/ziglang/zig-bootstrap 98bc6bf)")
    assert (who, ver) == ("zig", "18.1.6")
    assert producer_identity(None)[0] == "unknown"


def test_call_kind() -> None:
    assert call_kind(("-c", "x.c", "-o", "x.o")) == "compile"
    assert call_kind(("-o", "a.out", "go.o", "-lz")) == "link"
    assert call_kind(("-E", "-dM", "-")) == "probe"
    assert call_kind(("--version",)) == "probe"


def test_compiler_matches() -> None:
    assert compiler_matches("aarch64-linux-gnu", ARM64)
    assert compiler_matches("aarch64-unknown-linux-gnu.2.17", ARM64)
    assert not compiler_matches("x86_64-linux-gnu", ARM64)
    armel = parse_target("linux/arm/v5")
    assert compiler_matches("arm-linux-gnueabi", armel)
    assert not compiler_matches("arm-linux-gnueabihf", armel)
    assert compiler_matches("arm-linux-gnueabihf", armel, check_abi=False)
    assert not compiler_matches("aarch64-linux-gnu", parse_target("linux/arm64/musl"))


@pytest.mark.fires("C001", "C002")
def test_compiler_rules() -> None:
    assert "C001" in rules(record(cc_machine="x86_64-linux-gnu"))
    clang_unit = CUnit("main.cgo2.c", "C", "clang version 14.0.6", "clang", "14.0.6", (), "/tmp/go-build", "user")
    assert "C002" in rules(record(c_units=(clang_unit,)))
    assert "C002" not in rules(record(c_units=(dataclasses.replace(clang_unit, origin="prebuilt"),)))
    assert "C002" not in rules(record(expect_producer="clang", c_units=(clang_unit,)))
    assert rules(record()) == set()


@pytest.mark.fires("H001", "H002", "H003")
def test_host_path_rules() -> None:
    uses = (
        PathUse("-I", "/usr/include", HOST, "x", ("#cgo CFLAGS in m",)),
        PathUse("-L", "/usr/lib/x86_64-linux-gnu", HOST, "x", ("CGO_LDFLAGS",)),
        PathUse("header", "/usr/include/zlib.h", HOST, "x", ("DWARF main.cgo2.c",)),
        PathUse("-I", f"{S}/usr/include", SYSROOT, None, ("pkg-config zlib",)),
    )
    assert rules(record(paths=uses)) == {"H001", "H002", "H003"}


def pcmod(**kw: object) -> PkgConfigModule:
    base = PkgConfigModule(
        module="zlib",
        version="1.2.11",
        pc_path=f"{S}/usr/lib/aarch64-linux-gnu/pkgconfig/zlib.pc",
        in_sysroot=True,
        klass=SYSROOT,
        cflags="",
        libs="-lz",
        replayed=False,
        sysroot_pc=f"{S}/x/zlib.pc",
        sysroot_version="1.2.11",
        host_pc="/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc",
        host_version="1.2.11",
        env=(("PKG_CONFIG_LIBDIR", f"{S}/usr/lib/aarch64-linux-gnu/pkgconfig"), ("PKG_CONFIG_SYSROOT_DIR", S)),
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.fires("P001", "P002", "P003", "P004")
def test_pkgconfig_rules() -> None:
    assert rules(record(pkgconfig=(pcmod(),))) == set()
    drift = pcmod(host_version="1.2.13")
    assert drift.drift == "sysroot 1.2.11 vs host 1.2.13"
    assert rules(record(pkgconfig=(drift,))) == {"P003"}
    leaked = pcmod(
        version="1.2.13", pc_path="/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc", in_sysroot=False, klass=HOST, env=()
    )
    assert rules(record(pkgconfig=(leaked,))) == {"P001", "P002", "P004"}
    path_leak = pcmod(env=(*pcmod().env, ("PKG_CONFIG_PATH", "/home/u/pc")))
    assert rules(record(pkgconfig=(path_leak,))) == {"P004"}


@pytest.mark.fires("B001", "B002", "B003")
def test_build_rules() -> None:
    assert "B001" in rules(record(returncode=1, log_tail="ld: error: boom\n"))
    assert "B003" in rules(record(extra_env=(("CPATH", "/x"),)))
    warn = (
        "/usr/bin/ld: x.o: in function `f': warning: Using 'getaddrinfo' in statically linked applications "
        "requires at runtime the shared libraries from the glibc version used for linking",
    )
    assert static_nss_functions(warn) == ("getaddrinfo",)
    assert "B002" in rules(record(linker_warnings=warn, go_flags=("-ldflags=-extldflags=-static",)))
    assert linker_warnings("a\n" + warn[0] + "\nb") == warn


def _elf_header(machine: int, flags: int) -> bytes:
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    rest = struct.pack("<HHIIIIIHHHHHH", 1, machine, 1, 0, 0, 0, flags, 52, 0, 0, 40, 0, 0)
    return ident + rest


@pytest.mark.fires("C004")
def test_read_prebuilt_archive(tmp_path: Path) -> None:
    member = _elf_header(62, 0) + bytes(16)
    ar = b"!<arch>\n" + f"{'x.o/':<16}{0:<12}{0:<6}{0:<6}{'644':<8}{len(member):<10}`\n".encode() + member
    f = tmp_path / "libx.a"
    f.write_bytes(ar)
    pf, (obj,) = read_prebuilt(str(f), "link")
    assert (obj.member, obj.machine_code, obj.elf_class, obj.endian, obj.machine) == ("x.o", 62, 32, "little", "x86-64")
    assert (pf.kind, pf.members) == ("archive", 1)
    assert "C004" in rules(record(prebuilt=(obj,), prebuilt_files=(pf,)))
    (tmp_path / "not-elf.o").write_bytes(b"hello")
    pf, objs = read_prebuilt(str(tmp_path / "not-elf.o"), "link")
    assert objs == [] and pf.kind == "other"


def test_pkgconfig_trace_module_parsing() -> None:
    assert modules(["--cflags", "--", "zlib"]) == ["zlib"]
    assert modules(["--libs", "--", "zlib", "sqlite3 >= 3.0"]) == ["zlib", "sqlite3"]
    assert modules(["--atleast-version", "1.2", "zlib"]) == ["zlib"]
    assert modules(["--modversion", "openssl", ">=", "3", "libcrypto"]) == ["openssl", "libcrypto"]


def test_doctor_shell_findings() -> None:
    got = {
        (f.rule, f.message.split()[0])
        for f in shell_findings(
            {
                "CC": "gcc",
                "CGO_FLAGS": "-O2",
                "CGO_LDFLAG": "-lz",
                "PKG_CONFIG_DIR": "/x",
                "HOME": "/root",
                "CGO_WHATEVER": "1",
                "PATH": "/bin",
            }
        )
    }
    assert got == {
        ("B004", "CC"),
        ("B005", "CGO_FLAGS"),
        ("B005", "CGO_LDFLAG"),
        ("B005", "PKG_CONFIG_DIR"),
        ("B005", "CGO_WHATEVER"),
    }


def test_compiler_identity_from_comment_without_dwarf(tmp_path: Path) -> None:
    """Stripped builds: .comment decides, and gcc's crt files ("GCC:") do not count against clang."""
    from cgocheck.checks.compiler import check_compiler

    class Facts:
        comment: tuple[str, ...] = ("GCC: (Debian 12.2.0-14) 12.2.0", "Debian clang version 14.0.6")

    assert {f.rule for f in check_compiler(record(), ARM64, Facts())} == {"C002"}  # type: ignore[arg-type]
    assert check_compiler(record(expect_producer="clang", compiler="clang"), ARM64, Facts()) == []  # type: ignore[arg-type]
    Facts.comment = ("GCC: (Debian 12.2.0-14) 12.2.0",)
    assert check_compiler(record(), ARM64, Facts()) == []  # type: ignore[arg-type]


def test_newer_zig_units_are_known_by_zig_clangs_own_version() -> None:
    # zig 0.15+ writes its bundled clang's plain version line as the producer of the C it
    # compiles itself (crt, libc start files): "clang version 22.1.8", no "zig" in it
    plain = "clang version 22.1.8"
    assert producer_identity(plain)[0] == "clang"
    assert producer_identity(plain, zig_clang="clang version 22.1.8")[0] == "zig"
    assert producer_identity(plain + " -O2 -g", zig_clang="clang version 22.1.8 (https://example)")[0] == "zig"
    # another clang of the same version is not zig's
    assert producer_identity("Debian clang version 22.1.8", zig_clang="clang version 22.1.8")[0] == "clang"


@on_x86
def test_prebuilt_origin() -> None:
    """Where a prebuilt file came from: the module, vendor/, a dependency, the sysroot, the host."""
    dep_dir = "/root/go/pkg/mod/example.com/zstd@v1.5.0"
    ctx = dataclasses.replace(CTX, source_dirs=(*CTX.source_dirs, dep_dir))
    pkgs = [
        CgoPackage("example.com/app", "/home/u/src/app", (), (), (), False),
        CgoPackage("github.com/x/y", "/home/u/src/app/vendor/github.com/x/y", (), (), (), False,
                   "github.com/x/y@v1.0.0"),
        CgoPackage("example.com/zstd", dep_dir, (), (), (), False, "example.com/zstd@v1.5.0"),
    ]
    main = "/home/u/src/app"
    assert origin_of("/home/u/src/app/lib/libfoo.a", ctx, main, pkgs) == ("module", "the module (example.com/app)")
    assert origin_of("/home/u/src/app/vendor/github.com/x/y/lib/liby.a", ctx, main, pkgs) == (
        "vendor", "vendor/ (github.com/x/y@v1.0.0)")
    assert origin_of(f"{dep_dir}/lib/linux_arm64/libzstd.a", ctx, main, pkgs) == (
        "dependency", "module example.com/zstd@v1.5.0")
    assert origin_of(f"{S}/usr/lib/aarch64-linux-gnu/libz.a", ctx, main, pkgs) == ("sysroot", "sysroot")
    klass, why = origin_of("/usr/lib/x86_64-linux-gnu/libz.a", ctx, main, pkgs)
    assert klass == "host" and "x86_64-linux-gnu" in why


def test_prebuilt_producer_is_judged_per_file() -> None:
    """C005: another family or major version than the build's C units; the sysroot's and the
    toolchain's own archives are not judged; one finding per file, members counted."""
    def member(name: str, comment: str) -> PrebuiltObject:
        return PrebuiltObject("/src/libz.a", name, 183, 64, "little", 0, "link", machine="AArch64",
                              producer=(comment,))

    gnu12 = CUnit("x.c", "C", "GNU C17 12.2.0", "GNU", "12.2.0", (), "/tmp/go-build1", "user")
    old = (member("a.o", "GCC: (Ubuntu 7.5.0-3ubuntu1~18.04) 7.5.0"), member("b.o", "GCC: (GNU) 7.5.0"),
           member("c.o", "GCC: (Debian 12.2.0-14) 12.2.0"))
    for origin, fires in (("vendor", True), ("sysroot", False), ("toolchain", False)):
        pf = PrebuiltFile("/src/libz.a", "link", "archive", origin, origin, 3, 0)
        found = [f for f in check_record(record(c_units=(gnu12,), prebuilt=old, prebuilt_files=(pf,)), None, ARM64)
                 if f.rule == "C005"]
        assert len(found) == (1 if fires else 0), (origin, found)
        if fires:
            assert found[0].message == ("libz.a: 2 of 3 members were compiled by GNU 7.5.0, "
                                        "the build's C compiler is GNU 12.2.0")
    same = (member("d.o", "GCC: (Debian 12.3.0-1) 12.3.0"),)
    assert "C005" not in rules(record(c_units=(gnu12,), prebuilt=same))
