#!/usr/bin/env python3
"""Generate Pintu's application metadata card (kartu identitas aplikasi).

Reads Cargo.toml (name, version, licence, rust-version, direct dependencies), Cargo.lock (their
resolved versions), migrations/sqlite/*.sql (tables and columns, replayed in order), the routes
in src/web/ and the hand-written docs/tools/metadata.toml, and writes docs/metadata.id.md,
docs/metadata.en.md and docs/metadata.json.

Run from anywhere:  python3 docs/tools/metadata.py
        or check:   python3 docs/tools/metadata.py --check   (exit 1 if the files are stale)

Standard library only (Python 3.11+, for tomllib). Exits with status 1 and a message naming the
problem when the hand-written source no longer matches the code: a table without a
classification, a classification of a table or column that no longer exists, an unknown class,
or an HTTP route outside every route group.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "docs" / "tools" / "metadata.toml"
OUT_ID = ROOT / "docs" / "metadata.id.md"
OUT_EN = ROOT / "docs" / "metadata.en.md"
OUT_JSON = ROOT / "docs" / "metadata.json"
COMMAND = "python3 docs/tools/metadata.py"
LANGS = ("id", "en")
DASH = "—"


class CardError(Exception):
    """A problem the maintainer must fix in metadata.toml (or the code)."""


def warn(message: str) -> None:
    print(f"metadata.py: warning: {message}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Cargo.toml and Cargo.lock


@dataclass
class Crate:
    name: str
    requirement: str
    resolved: str
    features: list[str]
    dev: bool


def read_cargo() -> tuple[dict, list[Crate]]:
    manifest = tomllib.loads((ROOT / "Cargo.toml").read_text(encoding="utf-8"))
    lock = tomllib.loads((ROOT / "Cargo.lock").read_text(encoding="utf-8"))
    package = manifest["package"]
    packages = lock.get("package", [])
    by_name: dict[str, list[str]] = {}
    for p in packages:
        by_name.setdefault(p["name"], []).append(p["version"])
    # The root package's dependency list names the exact version whenever a crate is in the
    # lock file more than once ("rand 0.10.0"), so it resolves the direct dependencies.
    root = next((p for p in packages if p["name"] == package["name"] and "source" not in p), None)
    pinned: dict[str, str] = {}
    for entry in (root or {}).get("dependencies", []):
        parts = entry.split()
        if len(parts) >= 2:
            pinned[parts[0]] = parts[1]

    def resolve(name: str) -> str:
        if name in pinned:
            return pinned[name]
        versions = by_name.get(name, [])
        if len(versions) == 1:
            return versions[0]
        return DASH if not versions else " / ".join(sorted(versions))

    crates = []
    for section, dev in (("dependencies", False), ("dev-dependencies", True)):
        for name, spec in manifest.get(section, {}).items():
            if isinstance(spec, str):
                requirement, features = spec, []
            else:
                requirement, features = spec.get("version", DASH), list(spec.get("features", []))
            package_name = spec.get("package", name) if isinstance(spec, dict) else name
            crates.append(Crate(name, requirement, resolve(package_name), features, dev))
    # A crate that is both a dependency and a dev-dependency (with extra features for tests)
    # is listed once, as a runtime dependency.
    runtime = {c.name for c in crates if not c.dev}
    crates = [c for c in crates if not (c.dev and c.name in runtime)]
    return package, crates


# ---------------------------------------------------------------------------------------------
# Migrations: replay CREATE/ALTER/DROP TABLE in order


@dataclass
class Column:
    name: str
    type: str
    constraints: str
    added_in: str


@dataclass
class Table:
    name: str
    created_in: str
    columns: list[Column] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def strip_comments(sql: str) -> str:
    """Removes `--` comments outside quoted strings."""
    out, i, quote = [], 0, None
    while i < len(sql):
        ch = sql[i]
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif sql.startswith("--", i):
            while i < len(sql) and sql[i] != "\n":
                i += 1
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def split_statements(sql: str) -> list[str]:
    """Splits on `;` outside quotes, dollar quotes and trigger bodies (BEGIN … END)."""
    statements, current, i, quote = [], [], 0, None
    while i < len(sql):
        ch = sql[i]
        if quote:
            if sql.startswith(quote, i):
                current.append(quote)
                i += len(quote)
                quote = None
                continue
            current.append(ch)
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch == "$":
            m = re.match(r"\$[A-Za-z_]*\$", sql[i:])
            if m:
                quote = m.group(0)
                current.append(quote)
                i += len(quote)
                continue
            current.append(ch)
        elif ch == ";":
            text = "".join(current).strip()
            in_trigger = re.match(r"CREATE\s+TRIGGER\b", text, re.I) and not re.search(r"\bEND\s*$", text, re.I)
            if in_trigger:
                current.append(ch)
            else:
                if text:
                    statements.append(text)
                current = []
        else:
            current.append(ch)
        i += 1
    tail = "".join(current).strip()
    if tail:
        statements.append(tail)
    return statements


def split_top_level(text: str) -> list[str]:
    """Splits on commas at parenthesis depth 0."""
    parts, depth, current, quote = [], 0, [], None
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def parse_column(definition: str, migration: str) -> Column:
    words = definition.split(None, 2)
    name = words[0].strip('"')
    col_type = words[1] if len(words) > 1 else ""
    rest = " ".join(words[2].split()) if len(words) > 2 else ""
    return Column(name, col_type, rest, migration)


IDENT = r'"?([A-Za-z_][A-Za-z0-9_]*)"?'


def replay(directory: Path) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    files = sorted(directory.glob("*.sql"))
    if not files:
        raise CardError(f"no migrations found in {directory.relative_to(ROOT)}")
    for path in files:
        migration = path.stem
        for statement in split_statements(strip_comments(path.read_text(encoding="utf-8"))):
            flat = " ".join(statement.split())
            m = re.match(rf"CREATE TABLE (?:IF NOT EXISTS )?{IDENT} AS SELECT (.+?) FROM ", flat, re.I)
            if m:
                table = Table(m.group(1), migration)
                for item in split_top_level(m.group(2)):
                    name = item.split()[-1].split(".")[-1]
                    table.columns.append(Column(name, "", "", migration))
                tables[table.name] = table
                continue
            m = re.match(rf"CREATE TABLE (?:IF NOT EXISTS )?{IDENT}\s*\((.*)\)$", flat, re.I | re.S)
            if m:
                table = Table(m.group(1), migration)
                for item in split_top_level(m.group(2)):
                    head = item.split()[0].upper()
                    if head == "PRIMARY":
                        inner = re.search(r"\((.*)\)", item)
                        table.primary_key = [c.strip().strip('"') for c in inner.group(1).split(",")] if inner else []
                    elif head in ("UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT", "EXCLUDE"):
                        continue
                    else:
                        table.columns.append(parse_column(item, migration))
                tables[table.name] = table
                continue
            m = re.match(rf"ALTER TABLE (?:IF EXISTS )?(?:ONLY )?{IDENT} (.*)$", flat, re.I | re.S)
            if m:
                name, actions = m.group(1), m.group(2)
                if name not in tables:
                    raise CardError(f"{path.relative_to(ROOT)}: ALTER TABLE of unknown table {name}")
                table = tables[name]
                for action in split_top_level(actions):
                    a = re.match(rf"RENAME TO {IDENT}$", action, re.I)
                    if a:
                        del tables[name]
                        table.name = a.group(1)
                        tables[table.name] = table
                        # Both SQLite and PostgreSQL carry the foreign keys that named the table
                        # over to its new name.
                        pattern = re.compile(rf"(REFERENCES\s+){re.escape(name)}\b", re.I)
                        for other in tables.values():
                            for col in other.columns:
                                col.constraints = pattern.sub(rf"\g<1>{table.name}", col.constraints)
                        name = table.name
                        continue
                    a = re.match(r"ADD (?:COLUMN )?(?!CONSTRAINT\b)(.+)$", action, re.I | re.S)
                    if a:
                        table.columns.append(parse_column(a.group(1), migration))
                        continue
                    a = re.match(rf"DROP COLUMN (?:IF EXISTS )?{IDENT}", action, re.I)
                    if a:
                        table.columns = [c for c in table.columns if c.name != a.group(1)]
                        continue
                    a = re.match(rf"RENAME COLUMN {IDENT} TO {IDENT}$", action, re.I)
                    if a:
                        col = table.column(a.group(1))
                        if col:
                            col.name = a.group(2)
                        continue
                    # ADD CONSTRAINT, ALTER COLUMN … SET NOT NULL, RENAME CONSTRAINT: no new column.
                continue
            m = re.match(rf"CREATE UNIQUE INDEX (?:IF NOT EXISTS )?\w+ ON {IDENT}\s*\(\s*{IDENT}\s*\)$", flat, re.I)
            if m and m.group(1) in tables:
                col = tables[m.group(1)].column(m.group(2))
                if col and "UNIQUE" not in col.constraints.upper():
                    col.constraints = (col.constraints + " UNIQUE").strip()
                continue
            m = re.match(rf"DROP TABLE (?:IF EXISTS )?{IDENT}", flat, re.I)
            if m:
                tables.pop(m.group(1), None)
    return tables


# ---------------------------------------------------------------------------------------------
# Routes in src/web/


@dataclass
class Route:
    path: str
    methods: list[str]
    source: str


METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


def read_routes() -> list[Route]:
    routes: dict[str, Route] = {}
    for path in sorted((ROOT / "src" / "web").rglob("*.rs")):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"\.route\(", text):
            depth, i = 1, m.end()
            while i < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[i], 0)
                i += 1
            args = text[m.end() : i - 1]
            lit = re.match(r'\s*"([^"]*)"\s*,(.*)$', args, re.S)
            if not lit:
                continue
            methods = re.findall(r"(?<![\w:])(" + "|".join(METHODS) + r")\(", lit.group(2))
            source = path.relative_to(ROOT).as_posix()
            route = routes.setdefault(lit.group(1), Route(lit.group(1), [], source))
            for method in methods:
                if method.upper() not in route.methods:
                    route.methods.append(method.upper())
    return list(routes.values())


# ---------------------------------------------------------------------------------------------
# Checks of the hand-written source against the code


def text_pair(value, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or any(not isinstance(value.get(lang), str) for lang in LANGS):
        raise CardError(f"{where}: needs both `id` and `en` text")
    return {lang: value[lang] for lang in LANGS}


def check(meta: dict, tables: dict[str, Table], routes: list[Route]) -> dict[str, str]:
    """Validates metadata.toml against the code; returns the route group of every route."""
    problems = []
    classes = meta.get("classes", {})
    described = meta.get("tables", {})
    for name in sorted(tables):
        if name not in described:
            problems.append(
                f"table `{name}` (created in migrations/sqlite/{tables[name].created_in}.sql) has no "
                f"classification: add [tables.{name}] with `class` and `description` to "
                f"{SOURCE.relative_to(ROOT)}"
            )
    for name, entry in sorted(described.items()):
        if name not in tables:
            problems.append(f"[tables.{name}] names a table the migrations no longer have: remove or rename it")
            continue
        if entry.get("class") not in classes:
            problems.append(f"[tables.{name}] class {entry.get('class')!r} is not one of {sorted(classes)}")
        for col, spec in entry.get("columns", {}).items():
            if tables[name].column(col) is None:
                problems.append(f"[tables.{name}.columns] names column `{col}`, which the table no longer has")
            elif isinstance(spec, dict) and "class" in spec and spec["class"] not in classes:
                problems.append(f"[tables.{name}.columns.{col}] class {spec['class']!r} is not defined")
    groups = meta.get("route_groups", [])
    group_of: dict[str, str] = {}
    for route in routes:
        best, length = None, -1
        for g in groups:
            for p in g.get("paths", []):
                if route.path == p and len(p) > length:
                    best, length = g["key"], len(p)
            for p in g.get("prefixes", []):
                if route.path.startswith(p) and len(p) > length:
                    best, length = g["key"], len(p)
        if best is None:
            problems.append(f"route {route.path} ({route.source}) is in no [[route_groups]] entry")
        else:
            group_of[route.path] = best
    if problems:
        raise CardError("metadata.toml does not match the code:\n  - " + "\n  - ".join(problems))
    for path in sorted(set(meta.get("routes", {})) - {r.path for r in routes}):
        warn(f"[routes] describes {path}, which src/web/ no longer routes")
    for route in routes:
        if route.path not in meta.get("routes", {}):
            warn(f"route {route.path} ({route.source}) has no description under [routes]")
    return group_of


# ---------------------------------------------------------------------------------------------
# The card as data (also written as metadata.json)


def build(meta: dict, package: dict, crates: list[Crate], tables: dict[str, Table], routes, group_of) -> dict:
    classes = meta["classes"]
    common = meta.get("common_columns", {})
    identity = {k: text_pair(v, f"[identity] {k}") for k, v in meta["identity"].items()}
    table_list = []
    for name in sorted(tables, key=lambda n: (list(meta["tables"]).index(n))):
        t, entry = tables[name], meta["tables"][name]
        columns = []
        for c in t.columns:
            spec = entry.get("columns", {}).get(c.name) or common.get(c.name)
            if spec is None:
                warn(f"column {name}.{c.name} has no description")
            columns.append(
                {
                    "name": c.name,
                    "type": c.type,
                    "constraints": c.constraints,
                    "primary_key": c.name in t.primary_key or "PRIMARY KEY" in c.constraints.upper(),
                    "added_in": c.added_in,
                    "class": (entry.get("columns", {}).get(c.name) or {}).get("class"),
                    "description": {lang: spec[lang] for lang in LANGS} if spec else None,
                }
            )
        table_list.append(
            {
                "name": name,
                "created_in": t.created_in,
                "class": entry["class"],
                "description": text_pair(entry.get("description"), f"[tables.{name}] description"),
                "retention": text_pair(entry.get("retention"), f"[tables.{name}] retention"),
                "columns": columns,
            }
        )
    purposes = meta.get("crates", {})
    crate_list = []
    for c in crates:
        if c.name not in purposes:
            warn(f"crate {c.name} has no purpose under [crates]")
        crate_list.append(
            {
                "name": c.name,
                "requirement": c.requirement,
                "resolved": c.resolved,
                "dev": c.dev,
                "purpose": text_pair(purposes[c.name], f"[crates] {c.name}") if c.name in purposes else None,
            }
        )
    route_descriptions = meta.get("routes", {})
    # Routes in the order metadata.toml describes them (a reading order), unknown ones last.
    order = {path: i for i, path in enumerate(route_descriptions)}
    routes = sorted(routes, key=lambda r: (order.get(r.path, len(order)), r.path))
    return {
        "application": {
            "name": package["name"],
            "version": package["version"],
            "license": package.get("license", DASH),
            "rust_version": package.get("rust-version", DASH),
            "edition": package.get("edition", DASH),
            "summary": package.get("description", ""),
        },
        "identity": identity,
        "classes": {
            k: {"label": text_pair(v, f"[classes.{k}]"), "handling": text_pair(v.get("handling"), f"[classes.{k}] handling")}
            for k, v in classes.items()
        },
        "tables": table_list,
        "standards": [
            {"name": s["name"], "scope": text_pair(s, f"[[standards]] {s['name']}")} for s in meta.get("standards", [])
        ],
        "route_groups": [
            {
                "key": g["key"],
                "title": text_pair(g.get("title"), f"[[route_groups]] {g['key']}"),
                "routes": [
                    {
                        "path": r.path,
                        "methods": r.methods,
                        "source": r.source,
                        "description": (
                            text_pair(route_descriptions[r.path], f"[routes] {r.path}")
                            if r.path in route_descriptions
                            else None
                        ),
                    }
                    for r in routes
                    if group_of[r.path] == g["key"]
                ],
            }
            for g in meta.get("route_groups", [])
        ],
        "cli": [{"command": c["command"], "description": text_pair(c, f"[[cli]] {c['command']}")} for c in meta.get("cli", [])],
        "dependencies": crate_list,
        "platform": [{"name": p["name"], "description": text_pair(p, f"[[platform]] {p['name']}")} for p in meta.get("platform", [])],
        "hosting": [text_pair(h, "[[hosting]]") for h in meta.get("hosting", [])],
    }


# ---------------------------------------------------------------------------------------------
# Markdown in both languages

WORDS = {
    "id": {
        "title": "Metadata Aplikasi Pintu",
        "banner": "Berkas ini dihasilkan oleh `{cmd}` dari [metadata.toml](tools/metadata.toml), Cargo.toml, Cargo.lock, migrasi SQLite dan rute di `src/web/`. Jangan disunting manual: ubah sumbernya lalu jalankan ulang perintah itu.",
        "other": "English version: [metadata.en.md](metadata.en.md)",
        "intro": "Kartu identitas aplikasi untuk inventaris aplikasi SPBE: siapa pemilik dan penanggung jawabnya, data apa yang dikelola dan bagaimana dilindungi, antarmuka dan standar yang disediakan, ketergantungan, lisensi, dan kebutuhan hosting. Isian dalam kurung siku `[ISI: …]` dilengkapi oleh pemerintah kabupaten.",
        "s_identity": "1. Identitas aplikasi",
        "field": "Elemen",
        "value": "Isi",
        "f_name": "Nama aplikasi",
        "f_full_name": "Nama lengkap",
        "f_version": "Versi",
        "f_owner": "Pemilik",
        "f_responsible": "Penanggung jawab",
        "f_unit": "Unit pengelola",
        "f_contact": "Kontak",
        "f_category": "Kategori",
        "f_service_type": "Jenis layanan",
        "f_users": "Pengguna",
        "f_access": "Bentuk akses",
        "f_status": "Status",
        "f_languages": "Bahasa antarmuka",
        "f_source_code": "Kode sumber",
        "f_license": "Lisensi",
        "f_build": "Bahasa pemrograman",
        "build": "Rust (edisi {edition}, versi minimum {rust})",
        "s_description": "2. Deskripsi",
        "s_data": "3. Data yang dikelola",
        "data_intro": "Daftar tabel di bawah ini diturunkan dari migrasi basis data ([migrations/sqlite](../migrations/sqlite); PostgreSQL memiliki tabel dan kolom yang sama di [migrations/postgres](../migrations/postgres)). Waktu disimpan sebagai detik unix (UTC).",
        "s_classes": "3.1 Klasifikasi data",
        "class": "Klasifikasi",
        "handling": "Perlakuan",
        "tables_using": "Tabel",
        "s_tables": "3.2 Ringkasan tabel",
        "table": "Tabel",
        "content": "Isi",
        "retention": "Masa simpan",
        "s_dictionary": "3.3 Kamus data",
        "created_in": "Dibuat oleh migrasi",
        "column": "Kolom",
        "type": "Tipe",
        "constraints": "Batasan",
        "meaning": "Keterangan",
        "since": "sejak",
        "column_class": "klasifikasi kolom",
        "pk": "kunci primer",
        "s_interfaces": "4. Antarmuka dan standar",
        "s_standards": "4.1 Standar yang didukung",
        "standard": "Standar",
        "used_for": "Penerapan di Pintu",
        "s_http": "4.2 Antarmuka HTTP",
        "http_intro": "Diturunkan dari rute di `src/web/`. API admin dijelaskan lengkap oleh dokumen OpenAPI di `/api/v1/openapi.json` ([src/web/admin_api/openapi.json](../src/web/admin_api/openapi.json)); semua endpoint OpenID Connect tercantum di `/.well-known/openid-configuration`.",
        "path": "Alamat",
        "methods": "Metode",
        "purpose": "Kegunaan",
        "source": "Sumber",
        "s_cli": "4.3 Baris perintah (`pintu`, di server)",
        "command": "Perintah",
        "s_deps": "5. Ketergantungan",
        "s_platform": "5.1 Platform",
        "component": "Komponen",
        "s_crates": "5.2 Pustaka Rust langsung",
        "crates_intro": "Dari [Cargo.toml](../Cargo.toml); versi terpasang dari [Cargo.lock](../Cargo.lock), yang mencatat seluruh pustaka termasuk yang tidak langsung ({count} paket).",
        "crate": "Pustaka",
        "requirement": "Versi diminta",
        "resolved": "Versi terpasang",
        "dev_only": "hanya untuk pengujian",
        "s_license": "6. Lisensi",
        "license_text": "Pintu dilisensikan dengan **{license}** (Apache License 2.0), sebagaimana tercantum di [Cargo.toml](../Cargo.toml).",
        "s_hosting": "7. Kebutuhan hosting",
        "s_docs": "8. Dokumen terkait",
        "docs": [
            ("README.md", "../README.md", "gambaran umum, memulai, uji coba"),
            ("requirements.id.md", "requirements.id.md", "kebutuhan dan ketertelusurannya ke regulasi"),
            ("design.id.md", "design.id.md", "rancangan"),
            ("architecture.md", "architecture.md", "susunan kode (bahasa Inggris)"),
            ("installation.id.md", "installation.id.md", "manual instalasi"),
            ("user-manual.id.md", "user-manual.id.md", "manual pengguna untuk pegawai"),
            ("admin-guide.id.md", "admin-guide.id.md", "manual administrator"),
            ("troubleshooting.id.md", "troubleshooting.id.md", "pemecahan masalah"),
            ("configuration.md", "configuration.md", "konfigurasi (bahasa Inggris)"),
            ("keys.md", "keys.md", "kunci, cadangan dan pemulihan (bahasa Inggris)"),
            ("applications.md", "applications.md", "pendaftaran aplikasi (bahasa Inggris)"),
            ("benchmarks.md", "benchmarks.md", "hasil uji kinerja"),
            ("glossary.md", "glossary.md", "istilah"),
        ],
        "missing": DASH,
    },
    "en": {
        "title": "Pintu Application Metadata",
        "banner": "This file is generated by `{cmd}` from [metadata.toml](tools/metadata.toml), Cargo.toml, Cargo.lock, the SQLite migrations and the routes in `src/web/`. Do not edit it by hand: change the sources and run that command again.",
        "other": "Versi Bahasa Indonesia (utama): [metadata.id.md](metadata.id.md)",
        "intro": "The application's identity card for the SPBE application inventory: who owns it and who is responsible for it, which data it manages and how that data is protected, the interfaces and standards it offers, its dependencies, its licence and what it needs to be hosted. Fields in square brackets, `[FILL IN: …]`, are completed by the regency government.",
        "s_identity": "1. Identity",
        "field": "Field",
        "value": "Value",
        "f_name": "Application name",
        "f_full_name": "Full name",
        "f_version": "Version",
        "f_owner": "Owner",
        "f_responsible": "Responsible office",
        "f_unit": "Managing unit",
        "f_contact": "Contact",
        "f_category": "Category",
        "f_service_type": "Type of service",
        "f_users": "Users",
        "f_access": "Form of access",
        "f_status": "Status",
        "f_languages": "Interface languages",
        "f_source_code": "Source code",
        "f_license": "Licence",
        "f_build": "Programming language",
        "build": "Rust (edition {edition}, minimum version {rust})",
        "s_description": "2. Description",
        "s_data": "3. Data managed",
        "data_intro": "The tables below are derived from the database migrations ([migrations/sqlite](../migrations/sqlite); PostgreSQL has the same tables and columns in [migrations/postgres](../migrations/postgres)). Times are stored as unix seconds (UTC).",
        "s_classes": "3.1 Data classification",
        "class": "Classification",
        "handling": "Handling",
        "tables_using": "Tables",
        "s_tables": "3.2 Tables at a glance",
        "table": "Table",
        "content": "Content",
        "retention": "Retention",
        "s_dictionary": "3.3 Data dictionary",
        "created_in": "Created by migration",
        "column": "Column",
        "type": "Type",
        "constraints": "Constraints",
        "meaning": "Meaning",
        "since": "since",
        "column_class": "column classification",
        "pk": "primary key",
        "s_interfaces": "4. Interfaces and standards",
        "s_standards": "4.1 Standards supported",
        "standard": "Standard",
        "used_for": "How Pintu applies it",
        "s_http": "4.2 HTTP interfaces",
        "http_intro": "Derived from the routes in `src/web/`. The admin API is described in full by the OpenAPI document at `/api/v1/openapi.json` ([src/web/admin_api/openapi.json](../src/web/admin_api/openapi.json)); every OpenID Connect endpoint is listed at `/.well-known/openid-configuration`.",
        "path": "Path",
        "methods": "Methods",
        "purpose": "Purpose",
        "source": "Source",
        "s_cli": "4.3 Command line (`pintu`, on the server)",
        "command": "Command",
        "s_deps": "5. Dependencies",
        "s_platform": "5.1 Platform",
        "component": "Component",
        "s_crates": "5.2 Direct Rust dependencies",
        "crates_intro": "From [Cargo.toml](../Cargo.toml); resolved versions from [Cargo.lock](../Cargo.lock), which records every package, indirect ones included ({count} packages).",
        "crate": "Crate",
        "requirement": "Version required",
        "resolved": "Version resolved",
        "dev_only": "tests only",
        "s_license": "6. Licence",
        "license_text": "Pintu is licensed under **{license}** (Apache License 2.0), as declared in [Cargo.toml](../Cargo.toml).",
        "s_hosting": "7. Hosting requirements",
        "s_docs": "8. Related documents",
        "docs": [
            ("README.md", "../README.md", "overview, quick start, a first try"),
            ("requirements.en.md", "requirements.en.md", "requirements and their tracing to the regulations"),
            ("design.en.md", "design.en.md", "design"),
            ("architecture.md", "architecture.md", "code organisation"),
            ("installation.en.md", "installation.en.md", "installation manual"),
            ("user-manual.en.md", "user-manual.en.md", "user manual for employees"),
            ("admin-guide.en.md", "admin-guide.en.md", "administrator's manual"),
            ("troubleshooting.en.md", "troubleshooting.en.md", "troubleshooting"),
            ("configuration.md", "configuration.md", "configuration"),
            ("keys.md", "keys.md", "keys, backup and restore"),
            ("applications.md", "applications.md", "registering applications"),
            ("benchmarks.md", "benchmarks.md", "performance test results"),
            ("glossary.md", "glossary.md", "terms"),
        ],
        "missing": DASH,
    },
}


def cell(text: str) -> str:
    """Text for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def constraint_text(c: dict, w: dict) -> str:
    parts = []
    raw = c["constraints"]
    upper = raw.upper()
    if c["primary_key"]:
        parts.append(w["pk"])
    if "NOT NULL" in upper and not c["primary_key"]:
        parts.append("NOT NULL")
    if re.search(r"\bUNIQUE\b", upper):
        parts.append("UNIQUE")
    ref = re.search(r"REFERENCES\s+(\w+)\s*\((\w+)\)", raw, re.I)
    if ref:
        parts.append(f"→ `{ref.group(1)}.{ref.group(2)}`")
    default = re.search(r"DEFAULT\s+('[^']*'|\S+)", raw, re.I)
    if default:
        parts.append(f"DEFAULT {default.group(1)}")
    check_ = re.search(r"CHECK\s*\((.*)\)", raw, re.I)
    if check_:
        parts.append(f"CHECK ({check_.group(1)})")
    return ", ".join(parts)


def render(card: dict, lang: str, lock_count: int) -> str:
    w = WORDS[lang]
    app, ident = card["application"], card["identity"]
    out = [
        f"> {w['banner'].format(cmd=COMMAND)}",
        "",
        f"> {w['other']}",
        "",
        f"# {w['title']}",
        "",
        w["intro"],
        "",
        f"## {w['s_identity']}",
        "",
        f"| {w['field']} | {w['value']} |",
        "|---|---|",
        f"| {w['f_name']} | {app['name'].capitalize()} (`{app['name']}`) |",
        f"| {w['f_full_name']} | {cell(ident['full_name'][lang])} |",
        f"| {w['f_version']} | {app['version']} |",
    ]
    for key in ("owner", "responsible", "unit", "contact", "category", "service_type", "users", "access", "status", "languages", "source_code"):
        out.append(f"| {w['f_' + key]} | {cell(ident[key][lang])} |")
    out.append(f"| {w['f_license']} | {app['license']} |")
    out.append(f"| {w['f_build']} | {w['build'].format(edition=app['edition'], rust=app['rust_version'])} |")
    out += ["", f"## {w['s_description']}", "", ident["description"][lang].strip(), ""]

    # Data
    out += [f"## {w['s_data']}", "", w["data_intro"], "", f"### {w['s_classes']}", ""]
    out += [f"| {w['class']} | {w['handling']} | {w['tables_using']} |", "|---|---|---|"]
    for key, c in card["classes"].items():
        using = [t["name"] for t in card["tables"] if t["class"] == key]
        columns = [f"{t['name']}.{col['name']}" for t in card["tables"] for col in t["columns"] if col["class"] == key]
        names = ", ".join(f"`{n}`" for n in using + columns) or w["missing"]
        out.append(f"| **{cell(c['label'][lang])}** | {cell(c['handling'][lang])} | {names} |")
    out += ["", f"### {w['s_tables']}", ""]
    out += [f"| {w['table']} | {w['content']} | {w['class']} | {w['retention']} |", "|---|---|---|---|"]
    for t in card["tables"]:
        label = card["classes"][t["class"]]["label"][lang]
        out.append(
            f"| [`{t['name']}`](#{t['name']}) | {cell(t['description'][lang])} | {cell(label)} | {cell(t['retention'][lang])} |"
        )
    out += ["", f"### {w['s_dictionary']}", ""]
    for t in card["tables"]:
        label = card["classes"][t["class"]]["label"][lang]
        out += [
            f'<a id="{t["name"]}"></a>',
            f"#### `{t['name']}`",
            "",
            f"{t['description'][lang]}. {w['class']}: **{label}**. {w['created_in']}: "
            f"[`{t['created_in']}`](../migrations/sqlite/{t['created_in']}.sql).",
            "",
            f"| {w['column']} | {w['type']} | {w['constraints']} | {w['meaning']} |",
            "|---|---|---|---|",
        ]
        for c in t["columns"]:
            meaning = c["description"][lang] if c["description"] else w["missing"]
            if c["class"]:
                meaning += f" ({w['column_class']}: **{card['classes'][c['class']]['label'][lang]}**)"
            if c["added_in"] != t["created_in"]:
                meaning += f" ({w['since']} `{c['added_in']}`)"
            out.append(
                f"| `{c['name']}` | {c['type'] or w['missing']} | {cell(constraint_text(c, w)) or w['missing']} | {cell(meaning)} |"
            )
        out.append("")

    # Interfaces
    out += [f"## {w['s_interfaces']}", "", f"### {w['s_standards']}", ""]
    out += [f"| {w['standard']} | {w['used_for']} |", "|---|---|"]
    for s in card["standards"]:
        out.append(f"| {cell(s['name'])} | {cell(s['scope'][lang])} |")
    out += ["", f"### {w['s_http']}", "", w["http_intro"], ""]
    for g in card["route_groups"]:
        if not g["routes"]:
            continue
        out += [f"**{g['title'][lang]}**", "", f"| {w['path']} | {w['methods']} | {w['purpose']} | {w['source']} |", "|---|---|---|---|"]
        for r in g["routes"]:
            purpose = r["description"][lang] if r["description"] else w["missing"]
            out.append(
                f"| `{r['path']}` | {', '.join(r['methods'])} | {cell(purpose)} | [{Path(r['source']).name}](../{r['source']}) |"
            )
        out.append("")
    out += [f"### {w['s_cli']}", "", f"| {w['command']} | {w['purpose']} |", "|---|---|"]
    for c in card["cli"]:
        out.append(f"| `{cell(c['command'])}` | {cell(c['description'][lang])} |")
    out.append("")

    # Dependencies
    out += [f"## {w['s_deps']}", "", f"### {w['s_platform']}", "", f"| {w['component']} | {w['meaning']} |", "|---|---|"]
    for p in card["platform"]:
        out.append(f"| {cell(p['name'])} | {cell(p['description'][lang])} |")
    out += ["", f"### {w['s_crates']}", "", w["crates_intro"].format(count=lock_count), ""]
    out += [f"| {w['crate']} | {w['requirement']} | {w['resolved']} | {w['purpose']} |", "|---|---|---|---|"]
    for d in card["dependencies"]:
        purpose = d["purpose"][lang] if d["purpose"] else w["missing"]
        if d["dev"]:
            purpose += f" ({w['dev_only']})"
        out.append(f"| `{d['name']}` | {d['requirement']} | {d['resolved']} | {cell(purpose)} |")
    out += ["", f"## {w['s_license']}", "", w["license_text"].format(license=app["license"]), ""]
    out += [f"## {w['s_hosting']}", ""]
    out += [f"- {h[lang]}" for h in card["hosting"]]
    out += ["", f"## {w['s_docs']}", ""]
    out += [f"- [{title}]({target}): {what}" for title, target, what in w["docs"]]
    return "\n".join(out) + "\n"


def render_json(card: dict) -> str:
    notice = f"Generated by `{COMMAND}` from docs/tools/metadata.toml and the code; do not edit by hand."
    body = json.dumps(card, indent=2, ensure_ascii=False)
    # The first line says where the file comes from, and the document stays valid JSON.
    return '{"_generated": ' + json.dumps(notice, ensure_ascii=False) + ",\n" + body[2:] + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the generated files are out of date")
    args = parser.parse_args()
    try:
        meta = tomllib.loads(SOURCE.read_text(encoding="utf-8"))
        package, crates = read_cargo()
        tables = replay(ROOT / "migrations" / "sqlite")
        other = replay(ROOT / "migrations" / "postgres")
        for name in sorted(set(tables) ^ set(other)):
            warn(f"table {name} exists in only one of migrations/sqlite and migrations/postgres")
        for name in sorted(set(tables) & set(other)):
            a = {c.name for c in tables[name].columns}
            b = {c.name for c in other[name].columns}
            if a != b:
                warn(f"table {name}: columns differ between the backends: {sorted(a ^ b)}")
        routes = read_routes()
        if not routes:
            raise CardError("no routes found in src/web/")
        group_of = check(meta, tables, routes)
        card = build(meta, package, crates, tables, routes, group_of)
    except CardError as e:
        print(f"metadata.py: {e}", file=sys.stderr)
        return 1
    except (OSError, tomllib.TOMLDecodeError, KeyError) as e:
        print(f"metadata.py: cannot read the sources: {e}", file=sys.stderr)
        return 1
    lock_count = len(tomllib.loads((ROOT / "Cargo.lock").read_text(encoding="utf-8")).get("package", []))
    outputs = {
        OUT_ID: render(card, "id", lock_count),
        OUT_EN: render(card, "en", lock_count),
        OUT_JSON: render_json(card),
    }
    if args.check:
        stale = [p for p, text in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        for p in stale:
            print(f"metadata.py: {p.relative_to(ROOT)} is out of date; run {COMMAND}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
