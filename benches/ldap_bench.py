#!/usr/bin/env python3
"""The LDAP federation benchmark: a private OpenLDAP slapd on loopback seeded with N people
(valid NIPs, 40 OPD subtrees, one group of a thousand), synced by `pintu ldap sync --apply`
(first run: everyone created; rerun: nothing changes), then bind-through logins (the full
browser login of benches/driver.rs for a directory account) beside local-password logins.

    python3 benches/ldap_bench.py [--entries 100000] [--backends sqlite,postgres]
                                  [--login-seconds 10] [--concurrency 4] [--out DIR]

Needs slapd and ldap-utils (tests/install-ldap installs them). Targets: first sync under two
minutes, rerun under 30 s, bind-through login p99 under 50 ms plus the bind's own time.
Passwords are stored in the directory in clear for the benchmark, so the bind's own time is the
server's lookup alone; a real directory adds its hash check. Writes ldap.json and prints it.
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the shared helpers: build, ports, waiting, provisioning)
from import_bench import nip  # noqa: E402

UNITS = 40
SUFFIX = "dc=bench,dc=test"
ROOT_PW = "root-secret"
SERVICE_PW = "service-secret"
PERSON_PW = "kata-sandi-direktori-bench"


def write_ldif(path, n):
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Bench\ndc: bench\n\n")
        f.write(f"dn: cn=pintu,{SUFFIX}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
                f"cn: pintu\nuserPassword: {SERVICE_PW}\n\n")
        for top in ("people", "groups"):
            f.write(f"dn: ou={top},{SUFFIX}\nobjectClass: organizationalUnit\nou: {top}\n\n")
        for u in range(UNITS):
            f.write(f"dn: ou=OPD {u:02d},ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: OPD {u:02d}\n\n")
        for i in range(n):
            f.write(f"dn: uid=p{i},ou=OPD {i % UNITS:02d},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\n"
                    f"uid: p{i}\ncn: Pegawai {i}\nsn: {i}\nmail: p{i}@bench.go.id\nemployeeNumber: {nip(i)}\n"
                    f"title: Analis\nuserPassword: {PERSON_PW}\n\n")
        members = "".join(f"member: uid=p{i},ou=OPD {i % UNITS:02d},ou=people,{SUFFIX}\n" for i in range(min(n, 1000)))
        f.write(f"dn: cn=operators,ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: operators\n{members}\n")


def start_slapd(work, n):
    conf = os.path.join(work, "slapd.conf")
    os.makedirs(os.path.join(work, "db"), exist_ok=True)
    with open(conf, "w") as f:
        f.write("include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\n"
                "include /etc/ldap/schema/inetorgperson.schema\nmodulepath /usr/lib/ldap\nmoduleload back_mdb.la\n"
                f"pidfile {work}/slapd.pid\nsizelimit unlimited\ndatabase mdb\nsuffix \"{SUFFIX}\"\n"
                f"rootdn \"cn=admin,{SUFFIX}\"\nrootpw {ROOT_PW}\ndirectory {work}/db\nmaxsize 4294967296\n"
                "index objectClass eq\nindex uid eq\nindex entryUUID eq\n"
                "access to attrs=userPassword by self write by anonymous auth by * none\naccess to * by * read\n")
    ldif = os.path.join(work, "seed.ldif")
    write_ldif(ldif, n)
    t0 = time.monotonic()
    bench.run(["/usr/sbin/slapadd", "-q", "-f", conf, "-l", ldif])
    bench.log(f"slapadd of {n} people: {time.monotonic() - t0:.1f} s")
    port = bench.free_port()
    proc = subprocess.Popen(["/usr/sbin/slapd", "-f", conf, "-h", f"ldap://127.0.0.1:{port}/", "-d", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            import socket
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("slapd did not start")


def config(work, port, db_url):
    path = os.path.join(work, "pintu.toml")
    units = "".join(f'"ou=OPD {u:02d},ou=people,{SUFFIX}" = "OPD-{u:02d}"\n' for u in range(UNITS))
    with open(path, "w") as f:
        f.write(f'database_url = "{db_url}"\nlog_level = "warn"\n[password]\nmemory_kib = 19456\n\n'
                f'[ldap.bench]\npreset = "openldap"\nurl = "ldap://127.0.0.1:{port}"\n'
                f'bind_dn = "cn=pintu,{SUFFIX}"\nbind_password = "{SERVICE_PW}"\nbase_dn = "ou=people,{SUFFIX}"\n'
                f'group_base_dn = "ou=groups,{SUFFIX}"\npage_size = 1000\ntimeout_secs = 30\n'
                f'[ldap.bench.units]\n{units}[ldap.bench.groups]\n"cn=operators,ou=groups,{SUFFIX}" = "operator"\n')
    return path


def timed(cmd, env, cwd):
    t0 = time.monotonic()
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr.strip()[-800:]}")
    return round(time.monotonic() - t0, 2), out.stdout


def logins(exes, base, username, password, seconds, concurrency):
    out = bench.run([exes["driver"], "login", "--base", base, "--client-id", bench.CLIENT_ID, "--client-secret",
                     bench.CLIENT_SECRET, "--redirect-uri", bench.REDIRECT, "--username", username, "--password", password,
                     "--scope", "openid", "--seconds", str(seconds), "--concurrency", str(concurrency)])
    return json.loads(out.stdout.strip().splitlines()[-1])


def one_backend(exes, label, db_url, args):
    work = tempfile.mkdtemp(prefix=f"pintu-ldap-bench-{label}-")
    os.makedirs(os.path.join(work, "slapd"))
    slapd, port = start_slapd(os.path.join(work, "slapd"), args.entries)
    server = None
    try:
        env = {"PATH": os.environ["PATH"], "PINTU_CONFIG": config(work, port, db_url), "PINTU_METRICS__LISTEN": "127.0.0.1:0"}
        bench.run([exes["pintu"], "admin", "opd", "create", "--code", "PEMDA", "--name", "Pemda", "--kind", "pemda"], env=env, cwd=work)
        for u in range(UNITS):
            bench.run([exes["pintu"], "admin", "opd", "create", "--code", f"OPD-{u:02d}", "--name", f"OPD {u}", "--kind", "dinas",
                       "--parent", "PEMDA"], env=env, cwd=work)
        bench.run([exes["pintu"], "admin", "role", "create", "--name", "operator"], env=env, cwd=work)
        result = {"backend": label, "entries": args.entries}
        result["first_sync_s"], out = timed([exes["pintu"], "ldap", "sync", "--apply"], env, work)
        report = json.loads(out)["report"]
        assert report["created"] == args.entries and report["roles_granted"] == min(args.entries, 1000), report
        result["rerun_s"], out = timed([exes["pintu"], "ldap", "sync", "--apply"], env, work)
        report = json.loads(out)["report"]
        assert report["unchanged"] == args.entries and report["updated"] == 0, report
        bench.log(f"{label}: first sync {result['first_sync_s']} s, rerun {result['rerun_s']} s")
        bench.provision_pintu(exes["pintu"], work, env)
        listen = f"127.0.0.1:{bench.free_port()}"
        senv = dict(env, PINTU_LISTEN=listen, PINTU_ISSUER=f"http://{listen}")
        server = subprocess.Popen([exes["pintu"], "serve"], env=senv, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://{listen}"
        bench.wait_http(base + "/healthz")
        # A first round warms caches (and lets the database settle after the bulk insert); kept apart.
        result["warm_up_login"] = logins(exes, base, f"p{args.entries // 3}", PERSON_PW, 3, args.concurrency)
        result["bind_through_login"] = logins(exes, base, f"p{args.entries // 2}", PERSON_PW, args.login_seconds, args.concurrency)
        result["local_login"] = logins(exes, base, "bench", bench.PASSWORD, args.login_seconds, args.concurrency)
        bench.log(f"{label}: bind-through {result['bind_through_login']}, local {result['local_login']}")
        return result
    finally:
        for p in (server, slapd):
            if p:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--login-seconds", type=int, default=10)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if not os.path.exists("/usr/sbin/slapd"):
        raise SystemExit("slapd is not installed (bash tests/install-ldap)")
    exes = bench.build()
    results = []
    for label in args.backends.split(","):
        if label == "sqlite":
            db_url = "sqlite://" + os.path.join(tempfile.mkdtemp(prefix="pintu-ldap-db-"), "pintu.db")
            results.append(one_backend(exes, label, db_url, args))
        elif label == "postgres":
            db = f"pintu_ldap_bench_{os.getpid()}"
            bench.run(["psql", bench.PG_ADMIN, "-qc", f"CREATE DATABASE {db}"])
            try:
                results.append(one_backend(exes, label, bench.PG_ADMIN.rsplit("/", 1)[0] + "/" + db, args))
            finally:
                bench.run(["psql", bench.PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"])
    text = json.dumps({"ldap": results}, indent=2)
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "ldap.json"), "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
