"""The HR import benchmark: a synthetic export of N pegawai with valid NIPs across 50 org units,
imported through `pintu admin import` (the same directory code as POST /api/v1/imports):
dry run, apply (all rows created in one transaction), and an idempotent re-import."""

import os
import subprocess
import time

UNITS = 50
HEADER = "nip,nama,gelar_depan,gelar_belakang,jabatan,golongan,kode_unit,email,telepon,jenis_pegawai,status"


def nip(i):
    """A valid, unique NIP for row i: birth date, appointment month after the 18th birthday,
    gender, sequence 001-999."""
    seq = i % 999 + 1
    gender = (i // 999) % 2 + 1
    day = (i // 1998) % 28 + 1
    month = (i // (1998 * 28)) % 12 + 1
    year = 1960 + (i // (1998 * 28 * 12)) % 40
    appointed = (year + 22, (month % 12) + 1)
    return f"{year:04d}{month:02d}{day:02d}{appointed[0]:04d}{appointed[1]:02d}{gender}{seq:03d}"


def write_export(path, n):
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        for i in range(n):
            unit = f"OPD-{i % UNITS:02d}"
            f.write(f"{nip(i)},Pegawai {i},,S.Kom.,Analis,III/a,{unit},p{i}@kab.go.id,0812{i:08d},PNS,aktif\n")


def timed(cmd, env, cwd):
    started = time.monotonic()
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr.strip()[-500:]}")
    return round(elapsed, 2)


def bench_import(exe, work, label, db_url, rows, log):
    workdir = os.path.join(work, f"import-{label}")
    os.makedirs(workdir, exist_ok=True)
    env = {"PATH": os.environ["PATH"], "PINTU_DATABASE_URL": db_url, "PINTU_LOG_LEVEL": "warn"}
    timed([exe, "admin", "opd", "create", "--code", "PEMDA", "--name", "Pemda", "--kind", "pemda"], env, workdir)
    for u in range(UNITS):
        timed([exe, "admin", "opd", "create", "--code", f"OPD-{u:02d}", "--name", f"OPD {u}", "--kind", "dinas",
               "--parent", "PEMDA"], env, workdir)
    export = os.path.join(workdir, "export.csv")
    write_export(export, rows)
    log(f"import {label}: {rows} rows, {os.path.getsize(export) / 1e6:.1f} MB")
    result = {"rows": rows, "bytes": os.path.getsize(export)}
    result["dry_run_s"] = timed([exe, "admin", "import", export], env, workdir)
    result["apply_s"] = timed([exe, "admin", "import", export, "--apply"], env, workdir)
    result["reimport_s"] = timed([exe, "admin", "import", export, "--apply"], env, workdir)
    log(f"  {result}")
    return result
