#!/usr/bin/env python3
"""The backup benchmark: `pintu backup` and `pintu restore` of N accounts on each backend
(and a SQLite archive restored into PostgreSQL, the move-up case), and the login workload
with and without a backup running beside it.

    python3 benches/backup_bench.py [--accounts 1000000] [--backends sqlite,postgres]
                                    [--login-seconds 20] [--concurrency 4] [--out DIR]

Accounts are seeded through the HR import (benches/run.py's `seed`), as the directory grows in
production; the audit log then holds one event per account too. Targets: backup and restore
each under two minutes at 1,000,000 accounts; a backup running during the login workload costs
it less than 20% of its throughput. The backup command is not pinned to a CPU (an operator's
cron job is not), the server is pinned to CPU 1 and the login driver to CPU 0, as in run.py.
Writes backup.json and prints it.
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the shared helpers: build, ports, seeding, provisioning)
from ldap_bench import timed  # noqa: E402  (a command's seconds and output)


def logins(exes, base, seconds, concurrency):
    out = bench.run(["taskset", "-c", "0", exes["driver"], "login", "--base", base, "--client-id", bench.CLIENT_ID,
                     "--client-secret", bench.CLIENT_SECRET, "--redirect-uri", bench.REDIRECT, "--username", "bench",
                     "--password", bench.PASSWORD, "--scope", "openid", "--seconds", str(seconds),
                     "--concurrency", str(concurrency)])
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_db(label, work, name):
    if label == "sqlite":
        return "sqlite://" + os.path.join(work, name, "data", "pintu.db")
    db = f"pintu_backup_bench_{name.replace('-', '_')}_{os.getpid()}"
    bench.run(["psql", bench.PG_ADMIN, "-qc", f"CREATE DATABASE {db}"])
    return bench.PG_ADMIN.rsplit("/", 1)[0] + "/" + db


def restore(exes, work, name, db_url, archive, identity):
    target = os.path.join(work, name)
    os.makedirs(target, exist_ok=True)
    env = {"PATH": os.environ["PATH"], "PINTU_DATABASE_URL": db_url, "PINTU_LOG_LEVEL": "warn", "PINTU_METRICS__LISTEN": ""}
    seconds, out = timed([exes["pintu"], "restore", archive, "--identity", identity], env, target)
    report = json.loads(out)
    return {"seconds": seconds, "rows": report["rows"], "source_backend": report["source_backend"]}


def one_backend(exes, label, args, work, pg_dbs):
    home = os.path.join(work, label)
    os.makedirs(home)
    db_url = fresh_db(label, work, f"{label}-source")
    if label == "postgres":
        pg_dbs.append(db_url)
    port = bench.free_port()
    env = bench.pintu_env(port, db_url)
    bench.seed(exes["pintu"], env, home, args.accounts)
    bench.provision_pintu(exes["pintu"], home, env)
    identity = os.path.join(work, "backup-key.txt")
    if not os.path.exists(identity):
        bench.run([exes["pintu"], "backup", "keygen", "--out", identity], env=env, cwd=home)
    recipient = open(identity).read().split("public key: ", 1)[1].split()[0]
    result = {"backend": label, "accounts": args.accounts}

    archive = os.path.join(work, f"{label}.age")
    result["backup_s"], out = timed([exes["pintu"], "backup", "--to", archive, "--recipient", recipient], env, home)
    report = json.loads(out)
    result["archive_bytes"] = report["bytes"]
    result["rows"] = report["manifest"]["rows"]
    result["verify_s"], _ = timed([exes["pintu"], "backup", "verify", archive, "--identity", identity], env, home)
    bench.log(f"{label}: backup {result['backup_s']} s ({report['bytes']} bytes, {result['rows']} rows)")

    same = fresh_db(label, work, f"{label}-restored")
    if label == "postgres":
        pg_dbs.append(same)
    result["restore"] = restore(exes, work, f"{label}-restored", same, archive, identity)
    bench.log(f"{label}: restore {result['restore']}")
    if label == "sqlite" and "postgres" in args.backends.split(","):
        across = fresh_db("postgres", work, "sqlite-to-postgres")
        pg_dbs.append(across)
        result["restore_into_postgres"] = restore(exes, work, "sqlite-to-postgres", across, archive, identity)
        bench.log(f"{label}: restored into PostgreSQL {result['restore_into_postgres']}")

    # The login workload alone, then with backups running one after another beside it.
    listen = f"127.0.0.1:{port}"
    server = subprocess.Popen(["taskset", "-c", "1", exes["pintu"], "serve"], env=env, cwd=home,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://{listen}"
        bench.wait_http(base + "/healthz")
        logins(exes, base, 3, args.concurrency)  # warm-up, not kept
        result["login_alone"] = logins(exes, base, args.login_seconds, args.concurrency)
        alone = result["login_alone"]["rps"]
        # Backups one after another during the logins: as they come, at a lower CPU priority
        # (`nice -n 10`, as the installation manual suggests for a cron job), and `--gentle` (the
        # pace of the scheduled backup inside the server).
        for key, prefix, extra in (("", [], []), ("_nice", ["nice", "-n", "10"], []), ("_gentle", [], ["--gentle"])):
            stop, during = threading.Event(), []

            def keep_backing_up():
                n = 0
                while not stop.is_set():
                    n += 1
                    target = os.path.join(work, f"{label}-load-{n}.age")
                    cmd = prefix + [exes["pintu"], "backup", "--to", target, "--recipient", recipient] + extra
                    seconds, _ = timed(cmd, env, home)
                    during.append(seconds)
                    os.remove(target)

            backups = threading.Thread(target=keep_backing_up)
            backups.start()
            time.sleep(1)  # the backup is reading by the time the logins start
            result[f"login_during_backup{key}"] = logins(exes, base, args.login_seconds, args.concurrency)
            stop.set()
            backups.join()
            result[f"backups_during_logins{key}_s"] = during
            busy = result[f"login_during_backup{key}"]["rps"]
            result[f"login_cost{key}_percent"] = round(100 * (1 - busy / alone), 1) if alone else None
            bench.log(f"{label}: logins {alone:.1f}/s alone, {busy:.1f}/s during backups{key} ({result[f'login_cost{key}_percent']}%)")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--login-seconds", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    exes = bench.build()
    work = tempfile.mkdtemp(prefix="pintu-backup-bench-")
    pg_dbs, results = [], []
    try:
        for label in args.backends.split(","):
            results.append(one_backend(exes, label, args, work, pg_dbs))
    finally:
        for url in pg_dbs:
            db = url.rsplit("/", 1)[1]
            subprocess.run(["psql", bench.PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], check=False)
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps({"backup": results, "cpu": bench.cpu_model()}, indent=2)
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "backup.json"), "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
