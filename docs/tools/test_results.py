#!/usr/bin/env python3
"""Writes docs/test-results.id.md and docs/test-results.en.md from the JUnit report of a full
test run (cargo-nextest, `PINTU_TEST_REPORT=1 bash tests/run`; `bash docs/generate` does both)
and the latest benchmark (docs/benchmarks.json). Standard library only.

Every test is listed, grouped by feature, with its result and duration on each backend; tests
that exist but did not run are listed as skipped with the reason. Exits non-zero when the
report is missing or older than the newest source file, so a stale report is never written.
"""

import datetime
import json
import os
import platform
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Feature names of the end-to-end test files (tests/api/*.rs) and the other suites.
FEATURES = {
    "audit_checkpoints": ("Titik periksa audit yang ditandatangani", "Signed audit checkpoints"),
    "backup": ("Pencadangan dan pemulihan", "Backup and restore"),
    "certificates": ("Sertifikat elektronik dan tingkat keamanan 4", "Electronic certificates and security level 4"),
    "console": ("Konsol administrator lewat HTTP", "The administrators' console over HTTP"),
    "console_browser": ("Konsol, aktivasi dan atur ulang kata sandi di peramban", "Console, activation and password reset in a browser"),
    "activation": ("Aktivasi akun dengan kode", "Account activation with a code"),
    "portal": ("Portal pegawai", "The employees' portal"),
    "mail": ("E-mail: atur ulang kata sandi, aktivasi, pemberitahuan", "E-mail: password reset, activation, notices"),
    "signing": ("Penandatanganan transaksi (RFC 9396, PAR, CMS, tanda terima)", "Transaction signing (RFC 9396, PAR, CMS, receipts)"),
    "ciba": ("Persetujuan di perangkat lain (OpenID CIBA, poll dan ping)", "Approval on another device (OpenID CIBA, poll and ping)"),
    "mtls": ("Aplikasi dengan sertifikat TLS dan token terikat (RFC 8705)", "Applications with TLS certificates and bound tokens (RFC 8705)"),
    "kek_rotation": ("Rotasi kunci enkripsi kunci (KEK)", "Key-encryption key rotation"),
    "key_rotation": ("Rotasi kunci penanda tangan", "Signing key rotation"),
    "ldap_login": ("Login lewat direktori LDAP", "Sign-in through an LDAP directory"),
    "ldap_safety": ("Pengaman sinkronisasi LDAP", "LDAP sync safeguards"),
    "ldap_sync": ("Sinkronisasi LDAP", "LDAP sync"),
    "metrics": ("Metrik Prometheus", "Prometheus metrics"),
    "nodes": ("Beberapa node di PostgreSQL", "Several nodes on PostgreSQL"),
    "periodic_reports": ("Laporan bulanan", "Monthly reports"),
    "pintu::bin/pintu": ("Uji unit biner `pintu`", "Unit tests: the `pintu` binary"),
    "account": ("Halaman akun: sesi, kata sandi", "Account page: sessions, password"),
    "accounts": ("Akun pegawai lewat API admin", "Accounts through the admin API"),
    "admin_openapi": ("Dokumen OpenAPI API admin", "Admin API OpenAPI document"),
    "applications": ("Registrasi aplikasi", "Application registry"),
    "audit": ("Log audit berantai hash", "Hash-chained audit log"),
    "authorize": ("Endpoint otorisasi OIDC", "OIDC authorization endpoint"),
    "client_auth": ("Autentikasi klien", "Client authentication"),
    "code_exchange": ("Penukaran kode otorisasi", "Authorization code exchange"),
    "control_chars": ("Karakter kendali ditolak", "Control characters refused"),
    "delegation": ("Administrasi per OPD", "Delegated administration per OPD"),
    "directory": ("Direktori: OPD, pegawai, peran", "Directory: units, people, roles"),
    "directory_claims": ("Klaim direktori untuk aplikasi", "Directory claims for applications"),
    "discovery": ("Dokumen discovery dan JWKS", "Discovery document and JWKS"),
    "front_door": ("Membuka Pintu langsung", "Opening Pintu directly"),
    "import": ("Impor data kepegawaian (CSV)", "HR import (CSV)"),
    "interaction_once": ("Interaksi sekali pakai", "Single-use interactions"),
    "jwks_uri": ("Kunci klien dari jwks_uri", "Client keys from jwks_uri"),
    "levels": ("Tingkat keamanan dan TOTP", "Security levels and TOTP"),
    "lockout": ("Penguncian setelah gagal masuk", "Lockout after failed sign-ins"),
    "logout": ("Keluar (RP-initiated logout)", "Sign-out (RP-initiated logout)"),
    "no_store": ("Header cache", "Cache headers"),
    "passkey_browser": ("Passkey di peramban sungguhan", "Passkeys in a real browser"),
    "passkeys": ("Passkey (WebAuthn)", "Passkeys (WebAuthn)"),
    "refresh": ("Rotasi refresh token", "Refresh token rotation"),
    "registration": ("Registrasi klien dinamis (RFC 7591/7592)", "Dynamic client registration (RFC 7591/7592)"),
    "registration_rules": ("Aturan metadata klien", "Client metadata rules"),
    "rp": ("Relying party sungguhan (openidconnect)", "A real relying party (openidconnect)"),
    "screenshots": ("Halaman pegawai di peramban (tangkapan layar)", "Employees' pages in a browser (screenshots)"),
    "sso": ("Inti SSO lintas protokol", "Protocol-neutral SSO core"),
    "token": ("Endpoint token", "Token endpoint"),
    "userinfo": ("Endpoint userinfo", "Userinfo endpoint"),
    "pintu::architecture": ("Aturan arsitektur dan dokumen", "Architecture and document rules"),
    "pintu::cli": ("Baris perintah", "Command line"),
    "pintu::storage": ("Kesesuaian penyimpanan SQLite/PostgreSQL", "Storage conformance SQLite/PostgreSQL"),
}

TEXT = {
    "id": {
        "title": "Hasil uji",
        "other": "[English](test-results.en.md)",
        "generated": "Dihasilkan oleh `bash docs/generate` (menjalankan seluruh rangkaian uji, lalu "
        "`python3 docs/tools/test_results.py`); jangan disunting dengan tangan. Memperbarui berkas ini "
        "adalah bagian dari setiap rilis.",
        "run": "Pengujian ini",
        "date": "Tanggal",
        "version": "Versi",
        "commit": "Commit",
        "dirty": "dengan perubahan yang belum di-commit",
        "backends": "Basis data",
        "toolchain": "Rust",
        "machine": "Mesin",
        "summary": "Ringkasan",
        "total": "Jumlah uji",
        "passed": "lulus",
        "failed": "gagal",
        "skipped": "dilewati",
        "duration": "Lama seluruh pengujian",
        "by_feature": "Hasil per fitur",
        "unit": "Uji unit",
        "test": "Uji",
        "result": "Hasil",
        "one_run": "(sekali, bukan per basis data)",
        "seconds": "detik",
        "ok": "lulus",
        "fail": "GAGAL",
        "skip": "dilewati",
        "skipped_title": "Uji yang dilewati",
        "none_skipped": "Tidak ada: setiap uji dijalankan.",
        "reason": "Alasan",
        "reason_pg": "PostgreSQL tidak dapat dihubungi; varian PostgreSQL hanya berjalan bila ada basis data uji",
        "reason_other": "ditandai diabaikan (`#[ignore]`)",
        "bench": "Tolok ukur terakhir",
        "bench_intro": "Dari [benchmarks.md](benchmarks.md) (diukur {date} pada {cpus} inti); permintaan per "
        "detik, lebih besar lebih baik.",
        "workload": "Beban kerja",
        "peer": "node-oidc-provider",
        "ratio": "Pintu/pembanding",
        "failures": "Uji yang gagal",
    },
    "en": {
        "title": "Test results",
        "other": "[Bahasa Indonesia](test-results.id.md)",
        "generated": "Generated by `bash docs/generate` (runs the whole test suite, then "
        "`python3 docs/tools/test_results.py`); do not edit by hand. Committing a fresh one is part "
        "of every release.",
        "run": "This run",
        "date": "Date",
        "version": "Version",
        "commit": "Commit",
        "dirty": "with uncommitted changes",
        "backends": "Databases",
        "toolchain": "Rust",
        "machine": "Machine",
        "summary": "Summary",
        "total": "Tests",
        "passed": "passed",
        "failed": "failed",
        "skipped": "skipped",
        "duration": "Duration of the whole run",
        "by_feature": "Results by feature",
        "unit": "Unit tests",
        "test": "Test",
        "result": "Result",
        "one_run": "(one run, not per backend)",
        "seconds": "seconds",
        "ok": "passed",
        "fail": "FAILED",
        "skip": "skipped",
        "skipped_title": "Skipped tests",
        "none_skipped": "None: every test ran.",
        "reason": "Reason",
        "reason_pg": "PostgreSQL was not reachable; the PostgreSQL variants run only with a test database",
        "reason_other": "marked ignored (`#[ignore]`)",
        "bench": "Latest benchmark",
        "bench_intro": "From [benchmarks.md](benchmarks.md) (measured {date} on {cpus} cores); requests per "
        "second, higher is better.",
        "workload": "Workload",
        "peer": "node-oidc-provider",
        "ratio": "Pintu/peer",
        "failures": "Failed tests",
    },
}

BACKENDS = ("sqlite", "postgres")


def fail(message):
    print(f"docs/tools/test_results.py: {message}", file=sys.stderr)
    sys.exit(1)


def junit_path():
    """The newest JUnit report of the `report` profile (nextest keeps it under target/)."""
    candidates = [ROOT / "target/nextest/report/junit.xml"]
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(Path(os.environ["CARGO_TARGET_DIR"]) / "nextest/report/junit.xml")
    found = [p for p in candidates if p.exists()]
    if not found:
        fail("no JUnit report; run `bash docs/generate` (or PINTU_TEST_REPORT=1 bash tests/run) first")
    return max(found, key=lambda p: p.stat().st_mtime)


def newest_source():
    newest = 0.0
    for top in ("src", "tests", "migrations", "themes"):
        for path in (ROOT / top).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def split_name(suite, name):
    """(feature key, test name without backend, backend or None)."""
    backend = None
    for b in BACKENDS:
        if name.endswith("::" + b):
            name, backend = name[: -len(b) - 2], b
        elif name.endswith("_on_" + b):
            name, backend = name[: -len(b) - 4], b
    if suite == "pintu":
        return ("unit:" + name.split("::")[0], name, backend)
    if suite == "pintu::api":
        head, _, rest = name.partition("::")
        return (head, rest or head, backend)
    return (suite, name, backend)


def read_report(path):
    root = ET.parse(path).getroot()
    tests = []
    for suite in root.iter("testsuite"):
        for case in suite.iter("testcase"):
            if case.find("skipped") is not None:
                outcome = "skip"
            elif case.find("failure") is not None or case.find("error") is not None:
                outcome = "fail"
            else:
                outcome = "ok"
            feature, name, backend = split_name(suite.get("name"), case.get("name"))
            tests.append(
                {"feature": feature, "name": name, "backend": backend, "outcome": outcome,
                 "time": float(case.get("time") or 0), "full": f"{suite.get('name')} {case.get('name')}"}
            )
    started = root.get("timestamp") or ""
    return tests, float(root.get("time") or 0), started


def listed_tests():
    """Every test the suite has (including ignored ones), to find those that did not run."""
    cmd = ["cargo", "nextest", "list", "--locked", "--lib", "--bins", "--tests", "--run-ignored", "all",
           "--message-format", "json"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        fail("cannot list the tests: " + out.stderr.strip()[-500:])
    data = json.loads(out.stdout)
    names = []
    for suite in data["rust-suites"].values():
        for name in suite["testcases"]:
            names.append(f"{suite['binary-id']} {name}")
    return names


def command(*args):
    try:
        return subprocess.run(args, cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def cargo_version():
    for line in (ROOT / "Cargo.toml").read_text().splitlines():
        if line.startswith("version"):
            return line.split("=", 1)[1].strip().strip('"')
    return "?"


def postgres_version():
    admin = os.environ.get("PINTU_TEST_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")
    return command("psql", admin, "-qAt", "-c", "SHOW server_version")


def render(lang, tests, duration, started, skipped, bench):
    t = TEXT[lang]
    idx = 0 if lang == "id" else 1
    commit = command("git", "rev-parse", "--short", "HEAD")
    dirty = command("git", "status", "--porcelain", "--untracked-files=no")
    backends = ["SQLite (embedded)"]
    pg = postgres_version()
    if any(x["backend"] == "postgres" and x["outcome"] != "skip" for x in tests):
        backends.append(f"PostgreSQL {pg}".strip())
    counts = {k: sum(1 for x in tests if x["outcome"] == k) for k in ("ok", "fail", "skip")}
    lines = [
        f"# {t['title']}",
        "",
        t["other"],
        "",
        f"_{t['generated']}_",
        "",
        f"## {t['run']}",
        "",
        f"- {t['date']}: {started[:19].replace('T', ' ')} UTC",
        f"- {t['version']}: {cargo_version()}; {t['commit']} `{commit}`" + (f" ({t['dirty']})" if dirty else ""),
        f"- {t['backends']}: {', '.join(backends)}",
        f"- {t['toolchain']}: {command('rustc', '-V')}",
        f"- {t['machine']}: {platform.platform()}, {os.cpu_count()} CPU",
        "",
        f"## {t['summary']}",
        "",
        f"- {t['total']}: {len(tests) + len(skipped)}: {counts['ok']} {t['passed']}, {counts['fail']} "
        f"{t['failed']}, {counts['skip'] + len(skipped)} {t['skipped']}",
        f"- {t['duration']}: {duration:.1f} {t['seconds']}",
        "",
    ]
    failures = [x for x in tests if x["outcome"] == "fail"]
    if failures:
        lines += [f"### {t['failures']}", ""] + [f"- `{x['full']}`" for x in failures] + [""]
    lines += [f"## {t['by_feature']}", ""]
    features = {}
    for x in tests:
        features.setdefault(x["feature"], {}).setdefault(x["name"], {})[x["backend"]] = x
    def title(key):
        if key.startswith("unit:"):
            return f"{t['unit']}: `{key[5:]}`"
        return FEATURES.get(key, (key, key))[idx]
    for key in sorted(features, key=lambda k: (k.startswith("unit:"), title(k).lower())):
        lines += [f"### {title(key)}", ""]
        has_pg = any(b == "postgres" for case in features[key].values() for b in case)
        if has_pg:
            lines += [f"| {t['test']} | SQLite | PostgreSQL |", "|---|---|---|"]
        else:
            lines += [f"| {t['test']} | {t['result']} |", "|---|---|"]
        for name in sorted(features[key]):
            case = features[key][name]
            def cell(x):
                if x is None:
                    return "–"
                return f"{t[x['outcome']]} ({x['time']:.2f} s)"
            if has_pg and None in case:
                # A test that is not run once per backend (it needs one, or sets up its own).
                lines.append(f"| `{name}` | {cell(case[None])} {t['one_run']} | |")
            elif has_pg:
                lines.append(f"| `{name}` | {cell(case.get('sqlite'))} | {cell(case.get('postgres'))} |")
            else:
                lines.append(f"| `{name}` | {cell(case.get(None) or case.get('sqlite'))} |")
        lines.append("")
    lines += [f"## {t['skipped_title']}", ""]
    if skipped:
        lines += [f"| {t['test']} | {t['reason']} |", "|---|---|"]
        for full in sorted(skipped):
            reason = t["reason_pg"] if "postgres" in full else t["reason_other"]
            lines.append(f"| `{full}` | {reason} |")
    else:
        lines.append(t["none_skipped"])
    lines.append("")
    if bench:
        machine = bench.get("machine", {})
        lines += [f"## {t['bench']}", "", t["bench_intro"].format(date=machine.get("date", "?"),
                                                                    cpus=machine.get("cpus", "?")), ""]
        lines += [f"| {t['workload']} | Pintu SQLite | Pintu PostgreSQL | {t['peer']} | {t['ratio']} |",
                  "|---|---:|---:|---:|---:|"]
        pintu = bench.get("pintu", {})
        peer = bench.get("peer", {}).get("workloads", {})
        for name, w in pintu.get("sqlite", {}).get("workloads", {}).items():
            pg_w = pintu.get("postgres", {}).get("workloads", {}).get(name, {})
            p = peer.get(name, {})
            ratio = f"{w['rps'] / p['rps']:.2f}" if p.get("rps") else "–"
            pg_rps = f"{pg_w['rps']:,.0f}" if pg_w.get("rps") else "–"
            peer_rps = f"{p['rps']:,.0f}" if p.get("rps") else "–"
            lines.append(f"| {name} | {w['rps']:,.0f} | {pg_rps} | {peer_rps} | {ratio} |")
        lines.append("")
    return "\n".join(lines)


def main():
    path = junit_path()
    if path.stat().st_mtime < newest_source():
        fail(f"{path} is older than the sources; run `bash docs/generate`")
    tests, duration, started = read_report(path)
    ran = {x["full"] for x in tests}
    skipped = [name for name in listed_tests() if name not in ran]
    bench_path = ROOT / "docs/benchmarks.json"
    bench = json.loads(bench_path.read_text()) if bench_path.exists() else None
    for lang in ("id", "en"):
        out = ROOT / f"docs/test-results.{lang}.md"
        out.write_text(render(lang, tests, duration, started, skipped, bench))
        print(f"wrote {out.relative_to(ROOT)}")
    if any(x["outcome"] == "fail" for x in tests):
        fail("the run had failures; the report lists them")


if __name__ == "__main__":
    main()
