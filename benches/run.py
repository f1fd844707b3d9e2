#!/usr/bin/env python3
"""Pintu benchmarks: Pintu against node-oidc-provider and the machine's ceilings, side by side.

    python3 benches/run.py [--seconds 10] [--connections 16] [--scale 10000,1000000] [--skip-peer]

Builds Pintu in release mode, starts it on loopback (SQLite, and PostgreSQL when reachable),
provisions a user and an application, and measures each workload with wrk (fixed requests) or
benches/driver.rs (browser login with cookies, refresh chains). The peer, panva's
node-oidc-provider, is installed from npm into a temporary directory and measured in the same run.
Servers are pinned to CPU 1 and load generators to CPU 0 (taskset). Every run is bounded in time
and count and targets 127.0.0.1 only. Results: docs/benchmarks.md and docs/benchmarks.json.
"""
import argparse, json, os, platform, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "kata-sandi-uji-beban-panjang"
CLIENT_ID, CLIENT_SECRET = "bench", "bench-secret-0123456789abcdefghijklmnopqrstuv"
REDIRECT = "http://127.0.0.1:9/callback"
PG_ADMIN = os.environ.get("PINTU_BENCH_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


def ensure_tools(need_peer):
    if not shutil.which("wrk"):
        log("installing wrk from the system packages")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if need_peer and not shutil.which("npm"):
        raise SystemExit("npm is needed for the peer (or pass --skip-peer)")


def build():
    log("building Pintu and the bench tools in release mode")
    out = subprocess.run(["cargo", "build", "--release", "--locked", "--bins", "--benches", "--message-format=json-render-diagnostics"],
                         cwd=ROOT, check=True, text=True, stdout=subprocess.PIPE).stdout
    exes = {}
    for line in out.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        kind = msg.get("target", {}).get("kind", [])
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and ("bin" in kind or "bench" in kind):
            name = msg["target"]["name"]
            # `--benches` also builds the binary as a test harness; keep the real one.
            if "bench" in kind or not msg.get("profile", {}).get("test"):
                exes[name] = msg["executable"]
    return exes


def proc_stats(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    mem = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                mem[k] = int(v.split()[0]) / 1024
    return cpu, mem.get("VmRSS", 0.0), mem.get("VmHWM", 0.0)


def children_pids(pid):
    try:
        out = run(["pgrep", "-P", str(pid)]).stdout.split()
    except subprocess.CalledProcessError:
        return []
    return [int(p) for p in out]


class Server:
    """A server process pinned to CPU 1; `pid` is the process doing the work."""

    def __init__(self, cmd, env, cwd, health_url, log_path):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(["taskset", "-c", "1"] + cmd, env=env, cwd=cwd, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        wait_http(health_url)
        self.pid = self.proc.pid

    def stats(self):
        return proc_stats(self.pid)

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except Exception:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url, seconds, conns, script=None):
    cmd = ["taskset", "-c", "0", "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    out = run(cmd + [url]).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {}
    for p in ("50", "99"):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        pct[p] = float(m.group(1)) * UNITS[m.group(2)] if m else None
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": pct["50"], "p99_ms": pct["99"], "non_2xx": int(errors.group(1)) if errors else 0}


def wrk_post_script(path, body, auth=None, content_type="application/x-www-form-urlencoded"):
    headers = f'wrk.headers["Content-Type"] = "{content_type}"\n'
    if auth:
        headers += f'wrk.headers["Authorization"] = "{auth}"\n'
    script = f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n{headers}'
    with open(path, "w") as f:
        f.write(script)
    return path


def driver(exe, mode, base, seconds, conns, max_count, authorize_path, token_path, scope):
    cmd = ["taskset", "-c", "0", exe, mode, "--base", base, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
           "--redirect-uri", REDIRECT, "--username", "bench", "--password", PASSWORD, "--authorize-path", authorize_path,
           "--token-path", token_path, "--concurrency", str(conns), "--seconds", str(seconds), "--max", str(max_count),
           "--scope", scope]
    return json.loads(run(cmd).stdout.strip().splitlines()[-1])


def post_json(url, data, auth=None):
    body = urllib.parse.urlencode(data).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    if auth:
        import base64
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


import urllib.parse  # noqa: E402


def measure(server, name, fn):
    cpu0, _, _ = server.stats()
    t0 = time.time()
    result = fn()
    wall = time.time() - t0
    cpu1, rss, hwm = server.stats()
    result.update({"cpu_core_fraction": round((cpu1 - cpu0) / wall, 3), "rss_mb": round(rss, 1), "peak_rss_mb": round(hwm, 1)})
    log(f"  {name}: {result.get('rps', 0):.0f}/s p50 {result.get('p50_ms')} ms p99 {result.get('p99_ms')} ms cpu {result['cpu_core_fraction']}")
    return result


def workloads(kind, base, exes, work, seconds, conns, token_for_userinfo, cc_body, paths, login_seconds=None):
    """The measured workloads against one server. `paths` differ between Pintu and the peer."""
    auth = "Basic " + __import__("base64").b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    results = {}
    results["discovery"] = lambda: wrk(base + "/.well-known/openid-configuration", seconds, conns)
    results["jwks"] = lambda: wrk(base + paths["jwks"], seconds, conns)
    cc = wrk_post_script(os.path.join(work, f"{kind}-cc.lua"), cc_body, auth)
    results["client_credentials"] = lambda: wrk(base + paths["token"], seconds, conns, cc)
    at = post_json(base + paths["token"], dict(urllib.parse.parse_qsl(cc_body)), (CLIENT_ID, CLIENT_SECRET))["access_token"]
    intro = wrk_post_script(os.path.join(work, f"{kind}-introspect.lua"), f"token={at}", auth)
    results["introspection"] = lambda: wrk(base + paths["introspect"], seconds, conns, intro)
    ui = os.path.join(work, f"{kind}-userinfo.lua")
    with open(ui, "w") as f:
        f.write(f'wrk.headers["Authorization"] = "Bearer {token_for_userinfo()}"\n')
    results["userinfo"] = lambda: wrk(base + paths["userinfo"], seconds, conns, ui)
    results["refresh"] = lambda: driver(exes["driver"], "refresh", base, seconds, conns, 200000, paths["authorize"], paths["token"], "openid offline_access")
    # ~50 logins/s: 10 s would be ~500 samples, and the rate moved by ±10 points between runs.
    results["login"] = lambda: driver(exes["driver"], "login", base, login_seconds or seconds, conns, 100000, paths["authorize"], paths["token"], "openid offline_access")
    return results


PINTU_PATHS = {"jwks": "/oauth2/jwks", "token": "/oauth2/token", "introspect": "/oauth2/introspect", "userinfo": "/oauth2/userinfo",
               "authorize": "/oauth2/authorize"}
PEER_PATHS = {"jwks": "/jwks", "token": "/token", "introspect": "/token/introspection", "userinfo": "/me", "authorize": "/auth"}


def pintu_env(port, db_url, extra=None):
    env = {"PATH": os.environ["PATH"], "PINTU_LISTEN": f"127.0.0.1:{port}", "PINTU_ISSUER": f"http://127.0.0.1:{port}",
           "PINTU_DATABASE_URL": db_url, "PINTU_LOG_LEVEL": "warn", "PINTU_METRICS__LISTEN": "127.0.0.1:0"}  # metrics on (the default), on a free port
    env.update(extra or {})
    return env


def provision_pintu(exe, workdir, env):
    pw = os.path.join(workdir, "password")
    secret = os.path.join(workdir, "secret")
    with open(pw, "w") as f:
        f.write(PASSWORD)
    with open(secret, "w") as f:
        f.write(CLIENT_SECRET)
    run([exe, "admin", "user", "create", "--username", "bench", "--password-file", pw], env=env, cwd=workdir)
    run([exe, "admin", "app", "create", "--name", "Bench", "--client-id", CLIENT_ID, "--secret-file", secret, "--redirect-uri", REDIRECT,
         "--grant-type", "authorization_code", "--grant-type", "refresh_token", "--grant-type", "client_credentials", "--pre-approved"],
        env=env, cwd=workdir)


def user_token(exes, base, paths):
    """One login through the driver's code path, returning an access token (for userinfo)."""
    import base64, hashlib, http.cookiejar
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    q = urllib.parse.urlencode({"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": "openid",
                                "state": "s", "nonce": "n", "prompt": "consent", "code_challenge": challenge, "code_challenge_method": "S256"})
    url, data = f"{base}{paths['authorize']}?{q}", None
    for _ in range(10):
        try:
            resp = opener.open(urllib.request.Request(url, data=data), timeout=10)
            page = resp.read().decode()
            action = re.search(r'<form method="post" action="([^"]+)"', page).group(1).replace("&#x2f;", "/")
            csrf = re.search(r'name="csrf_token" value="([^"]*)"', page).group(1)
            url = action if action.startswith("http") else base + action
            data = urllib.parse.urlencode({"csrf_token": csrf, "username": "bench", "password": PASSWORD}).encode()
        except urllib.error.HTTPError as e:
            loc = e.headers.get("Location")
            if not loc:
                raise
            loc = loc if loc.startswith("http") else base + loc
            if loc.startswith(REDIRECT):
                code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(loc).query))["code"]
                tokens = post_json(base + paths["token"], {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                                           "code_verifier": verifier}, (CLIENT_ID, CLIENT_SECRET))
                return tokens["access_token"]
            url, data = loc, None
    raise SystemExit("could not obtain a user access token")


def bench_pintu(label, exes, work, db_url, args, seed_users=0):
    workdir = os.path.join(work, label)
    os.makedirs(workdir, exist_ok=True)
    port = free_port()
    env = pintu_env(port, db_url)
    provision_pintu(exes["pintu"], workdir, env)
    if seed_users:
        seed(exes["pintu"], env, workdir, seed_users)
    base = f"http://127.0.0.1:{port}"
    server = Server([exes["pintu"], "serve"], env, workdir, base + "/healthz", os.path.join(workdir, "server.log"))
    try:
        time.sleep(2)
        idle = server.stats()[1]
        log(f"{label}: idle RSS {idle:.1f} MB")
        # Scale runs compare p99 between directory sizes: 10 s of logins is ~500 samples, so
        # p99 rests on its 5 slowest; they run longer.
        seconds = args.scale_seconds if seed_users else args.seconds
        loads = workloads("pintu", base, exes, work, seconds, args.connections, lambda: user_token(exes, base, PINTU_PATHS),
                          "grant_type=client_credentials", PINTU_PATHS, max(seconds, args.login_seconds))
        wanted = ["login", "refresh"] if seed_users else list(loads)
        results = {name: measure(server, name, loads[name]) for name in wanted}
        return {"idle_rss_mb": round(idle, 1), "workloads": results}
    finally:
        server.stop()


def count_sql(exes, work, db_url, ops=20):
    """SQL statements per operation, counted from sqlx's own query log (not timed)."""
    workdir = os.path.join(work, "sqlcount")
    os.makedirs(workdir, exist_ok=True)
    port = free_port()
    env = pintu_env(port, db_url, {"PINTU_LOG_LEVEL": "warn,sqlx::query=debug", "PINTU_LOG_FORMAT": "json"})
    provision_pintu(exes["pintu"], workdir, env)
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(workdir, "server.log")
    server = Server([exes["pintu"], "serve"], env, workdir, base + "/healthz", log_path)

    def statements(kinds=None):
        reads = writes = 0
        with open(log_path) as f:
            for line in f:
                if '"sqlx::query"' not in line:
                    continue
                summary = json.loads(line).get("fields", {}).get("summary", "").lstrip()
                if summary.upper().startswith(("INSERT", "UPDATE", "DELETE")):
                    writes += 1
                    if kinds is not None:
                        kinds[summary] = kinds.get(summary, 0) + 1
                else:
                    reads += 1
        return reads, writes

    counts = {}
    try:
        time.sleep(1)
        for name, fn in [
            ("login", lambda: driver(exes["driver"], "login", base, 60, 1, ops, "/oauth2/authorize", "/oauth2/token", "openid offline_access")),
            ("client_credentials", lambda: [post_json(base + "/oauth2/token", {"grant_type": "client_credentials"}, (CLIENT_ID, CLIENT_SECRET)) for _ in range(ops)]),
            # One untimed login starts the chain; its statements are subtracted below.
            ("refresh", lambda: driver(exes["driver"], "refresh", base, 60, 1, ops, "/oauth2/authorize", "/oauth2/token", "openid offline_access")),
        ]:
            before = {}
            r0, w0 = statements(before)
            fn()
            time.sleep(0.5)
            after = {}
            r1, w1 = statements(after)
            reads, writes = r1 - r0, w1 - w0
            if name == "refresh":
                reads -= counts["login"]["reads_per_op"]
                writes -= counts["login"]["writes_per_op"]
            # (The refresh run's one login can differ from the average login by a cached read.)
            counts[name] = {"reads_per_op": max(0, round(reads / ops, 2)), "writes_per_op": max(0, round(writes / ops, 2))}
            if name == "login":
                # Which writes a login makes (sqlx's statement summaries), per login.
                counts[name]["writes"] = {k: round((v - before.get(k, 0)) / ops, 2) for k, v in after.items() if v > before.get(k, 0)}
            log(f"  sql per {name}: {counts[name]}")
    finally:
        server.stop()
    return counts


def seed(exe, env, workdir, n):
    """Adds n pegawai with valid synthetic NIPs across 50 units through the HR import path
    (`pintu admin import --apply`, one transaction), as the directory grows in production."""
    from import_bench import UNITS, write_export
    log(f"seeding {n} pegawai through the HR import")
    env = dict(env, PINTU_LOG_LEVEL="warn")
    run([exe, "admin", "opd", "create", "--code", "PEMDA", "--name", "Pemda", "--kind", "pemda"], env=env, cwd=workdir)
    for u in range(UNITS):
        run([exe, "admin", "opd", "create", "--code", f"OPD-{u:02d}", "--name", f"OPD {u}", "--kind", "dinas",
             "--parent", "PEMDA"], env=env, cwd=workdir)
    export = os.path.join(workdir, "seed.csv")
    write_export(export, n)
    started = time.monotonic()
    run([exe, "admin", "import", export, "--apply"], env=env, cwd=workdir)
    log(f"  imported {n} in {time.monotonic() - started:.1f} s")
    os.remove(export)
    # Let the database settle as it would before anyone measured a production system after a
    # bulk load: statistics refreshed and the write-ahead log checkpointed, so that autovacuum
    # and checkpoints triggered by the import do not run during the measurement.
    db_url = env["PINTU_DATABASE_URL"]
    if db_url.startswith("postgres"):
        run(["psql", db_url, "-q", "-c", "VACUUM ANALYZE", "-c", "CHECKPOINT"])
    else:
        import sqlite3
        db = sqlite3.connect(os.path.join(workdir, db_url.split("://", 1)[1]))
        db.execute("ANALYZE")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()


def bench_peer(exes, work, args):
    peer_dir = os.path.join(work, "peer")
    os.makedirs(peer_dir, exist_ok=True)
    log("installing node-oidc-provider from npm into", peer_dir)
    run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", peer_dir, "oidc-provider@9", "argon2@0.45"])
    shutil.copy(os.path.join(ROOT, "benches", "peer", "provider.mjs"), peer_dir)
    version = json.load(open(os.path.join(peer_dir, "node_modules", "oidc-provider", "package.json")))["version"]
    port = free_port()
    env = {"PATH": os.environ["PATH"], "PORT": str(port), "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET, "REDIRECT_URI": REDIRECT,
           "USERNAME": "bench", "PASSWORD": PASSWORD, "NODE_ENV": "production"}
    base = f"http://127.0.0.1:{port}"
    server = Server(["node", "provider.mjs"], env, peer_dir, base + "/.well-known/openid-configuration", os.path.join(peer_dir, "server.log"))
    try:
        time.sleep(2)
        idle = server.stats()[1]
        log(f"peer oidc-provider {version}: idle RSS {idle:.1f} MB")
        cc_body = "grant_type=client_credentials&scope=api&resource=" + urllib.parse.quote(base + "/api", safe="")
        loads = workloads("peer", base, exes, work, args.seconds, args.connections, lambda: user_token(exes, base, PEER_PATHS), cc_body, PEER_PATHS,
                          max(args.seconds, args.login_seconds))
        results = {}
        for name, fn in loads.items():
            try:
                results[name] = measure(server, name, fn)
            except Exception as e:  # a workload the peer cannot run is reported, not fatal
                log(f"  peer {name} failed: {e}")
                results[name] = {"error": str(e)}
        return {"version": version, "idle_rss_mb": round(idle, 1), "workloads": results}
    finally:
        server.stop()


def ceilings(exes, work, args):
    log("measuring the machine's ceilings")
    c = {}
    c["argon2id_verify_per_s"] = json.loads(run(["taskset", "-c", "1", exes["ceilings"], "argon2", "5"]).stdout)["per_second"]
    c["es256_sign_per_s"] = json.loads(run(["taskset", "-c", "1", exes["ceilings"], "es256", "5"]).stdout)["per_second"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Server([exes["ceilings"], "serve", str(port)], {"PATH": os.environ["PATH"]}, work, base + "/static", os.path.join(work, "ceilings.log"))
    try:
        c["bare_axum_static"] = wrk(base + "/static", args.seconds, args.connections)
        sign = wrk_post_script(os.path.join(work, "sign.lua"), "")
        c["bare_axum_sign_es256"] = wrk(base + "/sign", args.seconds, args.connections, sign)
    finally:
        server.stop()
    log(f"  ceilings: {c}")
    return c


def postgres_url():
    if not shutil.which("psql"):
        return None
    try:
        run(["psql", PG_ADMIN, "-qAt", "-c", "SELECT 1"])
    except Exception:
        return None
    name = f"pintu_bench_{int(time.time())}"
    run(["psql", PG_ADMIN, "-q", "-c", f"CREATE DATABASE {name}"])
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_postgres(url):
    name = url.rsplit("/", 1)[1]
    subprocess.run(["psql", PG_ADMIN, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False, capture_output=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--scale-seconds", type=int, default=30, help="seconds per workload in the scale runs")
    ap.add_argument("--login-seconds", type=int, default=30, help="seconds of the full-login workload (Pintu and peer)")
    ap.add_argument("--scale", default="10000,1000000", help="account counts for the scale runs ('' to skip)")
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"))
    ap.add_argument("--import-rows", type=int, default=100000, help="rows in the HR import benchmark (0 to skip)")
    ap.add_argument("--only-import", action="store_true", help="run only the HR import benchmark (prints JSON)")
    ap.add_argument("--only-sql", action="store_true", help="only count SQL statements per operation (prints JSON)")
    args = ap.parse_args()
    if args.only_import:
        return only_import(args)
    ensure_tools(not args.skip_peer)
    exes = build()
    work = tempfile.mkdtemp(prefix="pintu-bench-")
    if args.only_sql:
        print(json.dumps(count_sql(exes, work, "sqlite://data/pintu.db"), indent=2))
        return
    report = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "cpu": cpu_model(), "date": time.strftime("%Y-%m-%d")},
              "settings": {"seconds": args.seconds, "scale_seconds": args.scale_seconds, "login_seconds": args.login_seconds,
                           "connections": args.connections}}
    report["ceilings"] = ceilings(exes, work, args)
    backends = {"sqlite": "sqlite://data/pintu.db"}
    pg = postgres_url()
    if pg:
        backends["postgres"] = pg
    else:
        log("PostgreSQL not reachable: PostgreSQL runs skipped")
    try:
        report["pintu"] = {}
        for label, url in backends.items():
            # Alternate Pintu and the peer in the same invocation: drift hits both.
            report["pintu"][label] = bench_pintu(f"pintu-{label}", exes, work, url, args)
            if label == "sqlite" and not args.skip_peer:
                report["peer"] = bench_peer(exes, work, args)
        report["sql"] = count_sql(exes, work, "sqlite://data/pintu.db")
        if args.import_rows:
            from import_bench import bench_import
            report["import"] = {}
            for label in backends:
                # A fresh database: the benchmark's own is sealed with another workdir's KEK.
                url = "sqlite://data/pintu.db" if label == "sqlite" else postgres_url()
                try:
                    report["import"][label] = bench_import(exes["pintu"], work, label, url, args.import_rows, log)
                except Exception as e:  # reported, not fatal: the other figures still get written
                    log(f"  import {label} failed: {e}")
                    report["import"][label] = {"error": str(e)}
                finally:
                    if label == "postgres" and url:
                        drop_postgres(url)
        report["scale"] = {}
        report["scale_note"] = ("Accounts added through the HR import (`pintu admin import --apply`: valid synthetic NIPs, "
                                "50 units) before the server starts; the load signs in the benchmark account among them.")
        for n in [int(x) for x in args.scale.split(",") if x.strip()]:
            for label, url in backends.items():
                if label == "postgres":
                    drop_postgres(url)
                    url = postgres_url()
                    backends[label] = url
                report["scale"][f"{label}-{n}"] = bench_pintu(f"scale-{label}-{n}", exes, work, url, args, seed_users=n)
    finally:
        if pg:
            drop_postgres(backends.get("postgres", pg))
    with open(os.path.join(args.out, "benchmarks.json"), "w") as f:
        json.dump(report, f, indent=2)
    with open(os.path.join(args.out, "benchmarks.md"), "w") as f:
        f.write(render(report))
    log("wrote docs/benchmarks.md and docs/benchmarks.json")


def only_import(args):
    from import_bench import bench_import
    exes = build()
    work = tempfile.mkdtemp(prefix="pintu-bench-")
    if args.only_sql:
        print(json.dumps(count_sql(exes, work, "sqlite://data/pintu.db"), indent=2))
        return
    results = {"sqlite": bench_import(exes["pintu"], work, "sqlite", "sqlite://data/pintu.db", args.import_rows, log)}
    pg = postgres_url()
    if pg:
        try:
            results["postgres"] = bench_import(exes["pintu"], work, "postgres", pg, args.import_rows, log)
        finally:
            drop_postgres(pg)
    print(json.dumps(results, indent=2))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def render(r):
    from benches_report import render_markdown  # the report layout lives in its own file
    return render_markdown(r)


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(ROOT, "benches"))
    main()
