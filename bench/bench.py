#!/usr/bin/env python3
"""edgefn side by side with `deno serve` and Cloudflare's workerd: same machine, same handlers
(bench/functions), same load generator (wrk), one run. Not part of the test suite.

    bench/run                        # every scenario, a table in bench/results/<timestamp>.md
    bench/run hello json             # some of them
    bench/cold-start                 # = bench/run cold density, DENSITY=$N
    bench/noisy-neighbour            # = bench/run noisy (edgefn only)

Scenarios: hello (warm throughput and latency), cold (new-tenant cold start), density (RSS per
warm tenant at 1,000 and 10,000 functions), json (a 10 KB JSON round trip), cpu (a CPU-bound
kernel), instructions (instructions per warm request in-process, counted by callgrind: exact,
unlike the timings), noisy (a healthy function next to a CPU burner).

Knobs (environment): DURATION (wrk, default 10s), CONNECTIONS (default 32), N (cold-start
tenants, default 1000), DENSITY (tenant counts, default "1000 10000"), WORKERD_MAX_TENANTS
(largest workerd config to try, default 1000), GAP_MS (idle time between new tenants, default
0: back to back), PACE_MS (the gap of edgefn's second, paced cold-start run, default 5),
BENCH_EDGEFN (another edgefn binary to measure).

Installs its peers into bench/.peers (git-ignored): deno (npm @deno/linux-x64-glibc), workerd
(npm @cloudflare/workerd-linux-64), and wrk from Debian when it is missing.
"""

import datetime
import http.client
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / ".peers"
FUNCTIONS = ROOT / "bench" / "functions"
DENO = PEERS / "node_modules/@deno/linux-x64-glibc/deno"
WORKERD = PEERS / "node_modules/@cloudflare/workerd-linux-64/bin/workerd"
DURATION = os.environ.get("DURATION", "10s")
CONNECTIONS = int(os.environ.get("CONNECTIONS", "32"))
N = int(os.environ.get("N", "1000"))
DENSITY = [int(n) for n in os.environ.get("DENSITY", "1000 10000").split()]
WORKERD_MAX_TENANTS = int(os.environ.get("WORKERD_MAX_TENANTS", "1000"))
GAP_MS = float(os.environ.get("GAP_MS", "0"))
PACE_MS = float(os.environ.get("PACE_MS", "5"))
PORT = 19000
COMPATIBILITY_DATE = "2025-01-01"
SCENARIOS = ["hello", "cold", "density", "json", "cpu", "instructions", "noisy"]
DEFAULT = ["hello", "cold", "density", "json", "cpu", "instructions"]


def log(message):
    print(message, file=sys.stderr, flush=True)


# --- set-up ------------------------------------------------------------------------------------


def install_peers():
    if shutil.which("wrk") is None:
        log("installing wrk from Debian")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if not (DENO.exists() and WORKERD.exists()):
        if shutil.which("npm") is None:
            sys.exit("bench/run needs npm (Node.js) to install deno and workerd")
        log("installing deno and workerd from the npm registry")
        PEERS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(PEERS), "--silent", "--no-audit", "--no-fund",
             "@deno/linux-x64-glibc", "@cloudflare/workerd-linux-64"],
            check=True)


def edgefn_binary():
    if os.environ.get("BENCH_EDGEFN"):
        return Path(os.environ["BENCH_EDGEFN"])
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "edgefn"], cwd=ROOT, check=True)
    return ROOT / "target/release/edgefn"


# --- servers -----------------------------------------------------------------------------------


class Server:
    """A server process, stopped (with its whole process group) when the block ends."""

    def __init__(self, name, argv, ready_url, cwd=None, timeout=120, ready_status=None):
        self.name, self.argv, self.ready_url, self.cwd, self.timeout = (
            name, argv, ready_url, cwd, timeout)
        self.ready_status = ready_status

    def __enter__(self):
        self.log = tempfile.TemporaryFile()
        env = dict(os.environ, EDGEFN_LOG="warn")
        self.started = time.perf_counter()
        # A process group of its own (to stop it whole), but not a session of its own: with
        # the kernel's autogroup scheduling (on by default) every session is a CPU group, and
        # a server in another session than wrk would be held to half of the machine while
        # wrk runs, which caps a multi-threaded server (edgefn, workerd) and not deno.
        # (`process_group=0` needs Python 3.11; the bench runs no threads, where preexec_fn
        # would be unsafe.)
        self.process = subprocess.Popen(
            self.argv, cwd=self.cwd, env=env, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=self.log, preexec_fn=os.setpgrp)
        try:
            self.ready_after = wait_for(
                self.ready_url, self.process, self.timeout, self.output, self.ready_status)
        except BaseException:
            self.__exit__()
            raise
        return self

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def rss_bytes(self):
        """The resident memory of the server's whole process group."""
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) != self.process.pid:
                    continue
                status = (entry / "status").read_text()
            except (OSError, ProcessLookupError):
                continue
            found = re.search(r"VmRSS:\s+(\d+) kB", status)
            if found:
                total += int(found.group(1)) * 1024
        return total

    def __exit__(self, *_):
        try:
            os.killpg(self.process.pid, 15)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        self.log.close()


def wait_for(url, process, timeout, output, status=None):
    """Seconds until `url` answers with `status`, or at all when it is None (a handler may
    refuse a bare GET)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            sys.exit(f"{url}: the server exited ({process.returncode}):\n{output()}")
        answer = get_status(url)
        if answer is not None and status in (None, answer):
            return time.perf_counter() - started
        time.sleep(0.002)
    sys.exit(f"nothing answers at {url} after {timeout}s:\n{output()}")


def get_status(url):
    host, port, path = split_url(url)
    try:
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None


def split_url(url):
    found = re.match(r"http://([^:/]+):(\d+)(/.*)?$", url)
    return found.group(1), int(found.group(2)), found.group(3) or "/"


def edgefn_server(binary, functions, port, config=None):
    argv = [str(binary), "start", "--functions", str(functions), "--port", str(port)]
    if config:
        argv += ["--config", str(config)]
    # Ready (200) once its warm-up is done: the Web layer compiled, the isolates prepared.
    return Server("edgefn", argv, f"http://127.0.0.1:{port}/_edgefn/ready", ready_status=200)


def deno_server(function, port):
    return Server("deno", [str(DENO), "serve", "--quiet", "--port", str(port), "index.js"],
                  f"http://127.0.0.1:{port}/", cwd=FUNCTIONS / function)


def workerd_config(directory, port, workers, router):
    """A workerd config serving `workers` ({name: module path}); with `router`, a first worker
    routes /<name>/... to the worker of that name through service bindings."""
    services, bindings = [], []
    for name, module in workers.items():
        services.append(
            f'(name = "{name}", worker = (modules = [(name = "index.js", esModule = embed '
            f'"{module}")], compatibilityDate = "{COMPATIBILITY_DATE}"))')
        bindings.append(f'(name = "{name}", service = "{name}")')
    if router:
        (directory / "router.js").write_text(
            "export default { fetch(request, env) {\n"
            "  const name = new URL(request.url).pathname.split('/')[1];\n"
            "  if (name === '') return new Response('ready');\n"
            "  return env[name].fetch(request);\n"
            "} };\n")
        services.insert(0, (
            f'(name = "router", worker = (modules = [(name = "router.js", esModule = embed '
            f'"router.js")], compatibilityDate = "{COMPATIBILITY_DATE}", '
            f'bindings = [{", ".join(bindings)}]))'))
        entry = "router"
    else:
        entry = next(iter(workers))
    config = directory / "config.capnp"
    config.write_text(
        'using Workerd = import "/workerd/workerd.capnp";\n'
        "const config :Workerd.Config = (\n"
        f"  services = [\n    {(','+chr(10)+'    ').join(services)}\n  ],\n"
        f'  sockets = [(name = "http", address = "127.0.0.1:{port}", http = (), '
        f'service = "{entry}")],\n'
        ");\n")
    return config


def workerd_server(directory, port, workers, router=False, timeout=600):
    config = workerd_config(directory, port, workers, router)
    return Server("workerd", [str(WORKERD), "serve", str(config)],
                  f"http://127.0.0.1:{port}/", cwd=directory, timeout=timeout)


# --- measurements ------------------------------------------------------------------------------


def wrk(url, connections=None, script=None, duration=None):
    """req/s, p50 and p99 (ms) of one wrk run; any non-2xx answer is an error."""
    argv = ["wrk", "-t1", f"-c{connections or CONNECTIONS}", f"-d{duration or DURATION}",
            "--latency"]
    if script:
        argv += ["-s", str(script)]
    text = subprocess.run(argv + [url], check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in text or "Socket errors" in text:
        sys.exit(f"wrk against {url} saw errors:\n{text}")

    def ms(value):
        number = float(re.match(r"[\d.]+", value).group(0))
        if value.endswith("us"):
            return number / 1000
        if value.endswith("ms"):
            return number
        return number * 1000

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "p50": ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)),
        "p99": ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)),
    }


def first_responses(port, names, gap_s=0.0):
    """Milliseconds to the first response of each path /<name>, one after another."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies = []
    for name in names:
        if gap_s:
            time.sleep(gap_s)
        started = time.perf_counter()
        conn.request("GET", f"/{name}")
        response = conn.getresponse()
        body = response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            sys.exit(f"/{name} answered {response.status}: {body[:300]!r}")
    return latencies


def percentile(values, p):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * p) - 1)]


def write_tenants(directory, count):
    """`count` distinct functions f0..f<count-1>, each a module of its own."""
    for i in range(count):
        folder = directory / f"f{i}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.js").write_text(
            f"export default {{ fetch: () => new Response('tenant {i}') }};\n")


def edgefn_tenant_config(directory, count):
    """Every tenant stays warm; the module cache starts empty (in the run's own folder), so
    each function is compiled, as a never-seen one is."""
    config = directory / "edgefn.toml"
    config.write_text(
        "[pool]\nidle_timeout_ms = 0\n"
        f"max_isolates = {count + 10}\nmax_warm_memory_mb = 1000000\n"
        f"[cache]\ndir = \"{directory / 'cache'}\"\n")
    return config


def edgefn_tenants(binary, count, work, gap_ms=GAP_MS):
    """Cold start and density of `count` never-seen functions in one running edgefn, a new one
    every `gap_ms` after the previous answer."""
    functions = work / f"edgefn-{count}"
    write_tenants(functions, count)
    config = edgefn_tenant_config(work, count)
    with edgefn_server(binary, functions, PORT, config) as server:
        baseline = server.rss_bytes()
        latencies = first_responses(PORT, [f"f{i}" for i in range(count)], gap_ms / 1000)
        warm = server.rss_bytes()
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        conn.request("GET", "/_edgefn/metrics")
        metrics = conn.getresponse().read().decode()
    boots = [float(v) * 1000 for v in re.findall(
        r'edgefn_boot_duration_seconds_sum\{function="f\d+"\} ([\d.e-]+)', metrics)]
    return {
        "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
        "boot_p50": percentile(boots, 0.5), "boot_p99": percentile(boots, 0.99),
        "rss": warm, "per_tenant": (warm - baseline) / count,
    }


def workerd_tenants(count, work):
    """workerd serving `count` workers behind a router: its start-up (which instantiates every
    worker), the first response of each, and RSS per worker over a router-only baseline."""
    empty = work / "workerd-empty"
    empty.mkdir(parents=True, exist_ok=True)
    with workerd_server(empty, PORT, {}, router=True) as server:
        baseline = server.rss_bytes()
    directory = work / f"workerd-{count}"
    write_tenants(directory, count)
    workers = {f"f{i}": f"f{i}/index.js" for i in range(count)}
    with workerd_server(directory, PORT, workers, router=True) as server:
        startup = server.ready_after
        latencies = first_responses(PORT, list(workers), GAP_MS / 1000)
        rss = server.rss_bytes()
    return {
        "startup_s": startup, "startup_per_worker": startup * 1000 / count,
        "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
        "rss": rss, "per_tenant": (rss - baseline) / count,
    }


def deno_process_start(runs=10):
    """Milliseconds from spawning `deno serve` with the hello handler to its first response."""
    times = []
    for _ in range(runs):
        with deno_server("hello", PORT) as server:
            times.append(server.ready_after * 1000)
    return {"p50": percentile(times, 0.5), "max": max(times)}


# --- scenarios ---------------------------------------------------------------------------------


# edgefn without the thread hop: connections served on the user-worker threads, and a function
# called from several of them gets an isolate on each (see README, "How requests are scheduled").
NO_HOP_NAME = "edgefn, no hop"
NO_HOP_SETTINGS = [("workers", "serve_connections", "true"), ("pool", "max_parallelism", "0")]
NO_HOP_KEYS = ", ".join(f"{table}.{key} = {value}" for table, key, value in NO_HOP_SETTINGS)
NO_HOP_CONFIG = "".join(f"[{table}]\n{key} = {value}\n" for table, key, value in NO_HOP_SETTINGS)


def throughput(binary, function, script=None, no_hop=None):
    """edgefn, deno and workerd under the same load on the same handler; with `no_hop` (a
    config file), edgefn once more with that configuration."""
    results = {}
    runs = [("edgefn", None)] + ([(NO_HOP_NAME, no_hop)] if no_hop else [])
    for name, config in runs:
        with edgefn_server(binary, FUNCTIONS, PORT, config) as _:
            get_status(f"http://127.0.0.1:{PORT}/{function}")  # boot it before measuring
            results[name] = wrk(f"http://127.0.0.1:{PORT}/{function}", script=script)
    with deno_server(function, PORT):
        results["deno"] = wrk(f"http://127.0.0.1:{PORT}/", script=script)
    with tempfile.TemporaryDirectory() as directory:
        directory = Path(directory)
        shutil.copy(FUNCTIONS / function / "index.js", directory / "index.js")
        with workerd_server(directory, PORT, {function: "index.js"}):
            results["workerd"] = wrk(f"http://127.0.0.1:{PORT}/", script=script)
    return results


def json_body():
    """The ~10 KB JSON document of the json scenario."""
    items = []
    size, i = 0, 0
    while size < 10_000:
        items.append({"id": i, "name": f"item-{i}", "price": round(1.5 + i * 0.25, 2),
                      "quantity": i % 7 + 1, "tags": ["a", "b", "c"]})
        size = len(json.dumps({"items": items}))
        i += 1
    return json.dumps({"items": items})


def json_body_script(work):
    """A wrk script POSTing a ~10 KB JSON document."""
    body = json_body()
    script = work / "json.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["content-type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body)}\n")
    return script, len(body)


def throughput_table(title, results, note):
    lines = [f"## {title}", "", note, "",
             "| server | req/s | p50 ms | p99 ms | p99 / p50 | req/s vs deno | req/s vs workerd |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name in ["edgefn", NO_HOP_NAME, "deno", "workerd"]:
        if name not in results:
            continue
        r = results[name]
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.3f} | {r['p99']:.3f} | "
            f"{r['p99'] / r['p50']:.1f} | {r['rps'] / results['deno']['rps']:.2f}x | "
            f"{r['rps'] / results['workerd']['rps']:.2f}x |")
    return lines


# (name, handler module or None for `new Response(text)`, POST the JSON document?, the two
# request counts whose difference is measured)
INSTRUCTION_CASES = [
    ("`bench/functions/hello`", FUNCTIONS / "hello" / "index.js", False, (1000, 3000)),
    ("`new Response(text)`", None, False, (1000, 3000)),
    ("`bench/functions/json`", FUNCTIONS / "json" / "index.js", True, (40, 120)),
]


def instructions(work):
    """Instructions per warm request in-process (engine, Web layer and isolate; no HTTP), as
    callgrind counts them: exact and repeatable, whatever else the machine is doing. The
    request_cost example of this checkout runs under valgrind at two request counts; the
    difference in instructions over the difference in requests leaves start-up out."""
    if shutil.which("valgrind") is None:
        log("installing valgrind from Debian")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "valgrind"], check=True)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "edgefn-isolate", "--example",
                    "request_cost"], cwd=ROOT, check=True)
    example = ROOT / "target" / "release" / "examples" / "request_cost"
    body = work / "json-body.json"
    body.write_text(json_body())
    rows = []
    for name, handler, post, counts in INSTRUCTION_CASES:
        env = dict(os.environ)
        env.pop("HANDLER", None)
        env.pop("BODY", None)
        if handler is not None:
            env["HANDLER"] = str(handler)
        if post:
            env["BODY"] = str(body)
        refs = []
        for count in counts:
            env["N"] = str(count)
            run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                                  str(example)], env=env, capture_output=True, text=True,
                                 check=True)
            counted = re.search(r"refs:\s+([\d,]+)", run.stderr).group(1)
            refs.append(int(counted.replace(",", "")))
            heap = int(re.search(r"heap (\d+) bytes", run.stdout).group(1))
        per_request = (refs[1] - refs[0]) / (counts[1] - counts[0])
        rows.append(f"| {name} | {per_request / 1000:,.1f}k | {heap / 1024:.0f} |")
    return ["## 6. Instructions per request", "",
            "In-process, no HTTP: one isolate of this checkout's `edgefn-isolate` serves one "
            "request after another (`cargo run --release -p edgefn-isolate --example "
            "request_cost`), under `valgrind --tool=callgrind`; the instructions of "
            f"{INSTRUCTION_CASES[0][3][1]} requests less those of {INSTRUCTION_CASES[0][3][0]} "
            "(json: 120 less 40), per request. Unlike the timings above, this figure does not "
            "depend on what else the machine is doing. The heap is the isolate's after the "
            "last request.", "",
            "| handler | instructions per request | heap KiB |", "|---|---:|---:|"] + rows


def noisy(binary, no_hop):
    rows = []
    for name, config in [("edgefn", None), (NO_HOP_NAME, no_hop)]:
        with edgefn_server(binary, FUNCTIONS, PORT, config):
            url = f"http://127.0.0.1:{PORT}"
            get_status(f"{url}/burner")
            alone = wrk(f"{url}/healthy", connections=16)
            burner = subprocess.Popen(
                ["wrk", "-t1", "-c4", f"-d{DURATION}", f"{url}/burner"],
                stdout=subprocess.PIPE, text=True)
            beside = wrk(f"{url}/healthy", connections=16)
            burner_rps = float(re.search(r"Requests/sec:\s+([\d.]+)",
                                         burner.communicate()[0]).group(1))
        rows += [
            f"| {name} | alone | {alone['rps']:.0f} | {alone['p50']:.3f} | "
            f"{alone['p99']:.3f} | |",
            f"| {name} | next to the CPU burner | {beside['rps']:.0f} | {beside['p50']:.3f} | "
            f"{beside['p99']:.3f} | {burner_rps:.1f} |",
        ]
    return [
        "## Noisy neighbour (edgefn)", "",
        f"The healthy function (`bench/functions/healthy`) under wrk -t1 -c16 -d{DURATION}, "
        "alone and then next to `bench/functions/burner` (wrk -t1 -c4, ~20 ms of CPU per "
        "request) in the same process; with the default configuration and without the "
        f"thread hop (`{NO_HOP_KEYS}`).", "",
        "| edgefn | healthy function | req/s | p50 ms | p99 ms | burner req/s |",
        "|---|---|---:|---:|---:|---:|",
    ] + rows


def verdict(ok):
    return "met" if ok else "not met"


def main():
    chosen = sys.argv[1:] or DEFAULT
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown:
        sys.exit(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    install_peers()
    binary = edgefn_binary()
    work = PEERS / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    cpu = re.search(r"model name\s+: (.*)", Path("/proc/cpuinfo").read_text())
    mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    deno_version = subprocess.run([str(DENO), "--version"], capture_output=True,
                                  text=True).stdout.splitlines()[0]
    workerd_version = subprocess.run([str(WORKERD), "--version"], capture_output=True,
                                     text=True).stdout.strip()
    out = [f"# edgefn benchmarks, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC", "",
           f"- Machine: {os.cpu_count()} cores ({cpu.group(1) if cpu else 'unknown CPU'}), "
           f"{mem / 1048576:.0f} GiB, {os.uname().sysname} {os.uname().release}.",
           f"- edgefn: commit {commit} ({binary}), default configuration; the cold-start and "
           "density runs keep every tenant (`idle_timeout_ms = 0`, `max_isolates` and "
           "`max_warm_memory_mb` above the tenant count).",
           f"- Peers: {deno_version} (`deno serve`); {workerd_version} "
           f"(compatibility date {COMPATIBILITY_DATE}).",
           f"- Load: wrk -t1 -c{CONNECTIONS} -d{DURATION}; handlers in `bench/functions`.", ""]
    targets = []
    no_hop = work / "no-hop.toml"
    no_hop.write_text(NO_HOP_CONFIG)

    if "hello" in chosen:
        log("scenario hello")
        r = throughput(binary, "hello", no_hop=no_hop)
        out += throughput_table(
            "1. Warm hello-world", r,
            f"`bench/functions/hello`. `{NO_HOP_NAME}`: `{NO_HOP_KEYS}` (not the "
            "default: see the noisy-neighbour scenario).") + [""]
        e = r["edgefn"]
        targets += [
            ("hello-world throughput ≥ 1.0× deno", f"{e['rps'] / r['deno']['rps']:.2f}×",
             verdict(e["rps"] >= r["deno"]["rps"])),
            ("hello-world throughput ≥ 3× workerd", f"{e['rps'] / r['workerd']['rps']:.2f}×",
             verdict(e["rps"] >= 3 * r["workerd"]["rps"])),
            ("p99 under load ≤ 3× p50", f"{e['p99'] / e['p50']:.1f}×",
             verdict(e["p99"] <= 3 * e["p50"])),
        ]

    if "cold" in chosen:
        log(f"scenario cold: {N} tenants")
        e = edgefn_tenants(binary, N, work)
        shutil.rmtree(work / f"edgefn-{N}", ignore_errors=True)
        paced = edgefn_tenants(binary, N, work, PACE_MS)
        w = workerd_tenants(N, work) if N <= WORKERD_MAX_TENANTS else None
        d = deno_process_start()
        out += [
            "## 2. New-tenant cold start", "",
            f"{N} never-seen functions (`export default {{ fetch }}`, one module each), requested "
            "one after another on one keep-alive connection, once the server is ready (edgefn: "
            "`/_edgefn/ready` answers 200 after its warm-up). edgefn boots each on its first "
            "request; workerd instantiates every worker when it starts (behind a router worker "
            "with a service binding per worker), so its first responses are warm and its cold "
            "cost is its start-up divided by the workers. deno's process start (spawn to first "
            "response of `bench/functions/hello`, 10 runs) is the reference. edgefn runs twice: "
            f"with the next request sent {GAP_MS:g} ms after each answer, and paced, "
            f"{PACE_MS:g} ms after. Each of its worker threads keeps `pool.prepared_isolates` "
            "(default 2) isolates with the Web layer loaded and makes a new one after each cold start; "
            "back to back, new tenants arrive faster than the threads can prepare isolates.", "",
            "| server | first response p50 ms | p99 ms | cold cost per tenant ms |",
            "|---|---:|---:|---:|",
            f"| edgefn, gap {GAP_MS:g} ms | {e['p50']:.3f} | {e['p99']:.3f} | boot p50 "
            f"{e['boot_p50']:.3f}, p99 {e['boot_p99']:.3f} (server-measured) |",
            f"| edgefn, gap {PACE_MS:g} ms | {paced['p50']:.3f} | {paced['p99']:.3f} | boot p50 "
            f"{paced['boot_p50']:.3f}, p99 {paced['boot_p99']:.3f} (server-measured) |",
        ]
        if w:
            out.append(f"| workerd | {w['p50']:.3f} | {w['p99']:.3f} | "
                       f"{w['startup_per_worker']:.3f} (start-up {w['startup_s']:.1f} s for "
                       f"{N} workers) |")
        else:
            out.append(f"| workerd | not run (N > WORKERD_MAX_TENANTS={WORKERD_MAX_TENANTS}) "
                       "| | |")
        out += [f"| deno (process start) | {d['p50']:.1f} | max {d['max']:.1f} | |", ""]
        for run, label in [(e, f"gap {GAP_MS:g} ms"), (paced, f"gap {PACE_MS:g} ms")]:
            targets += [
                (f"cold start p50 ≤ 1 ms ({label})", f"{run['p50']:.2f} ms",
                 verdict(run["p50"] <= 1)),
                (f"cold start p99 ≤ 3 ms ({label})", f"{run['p99']:.2f} ms",
                 verdict(run["p99"] <= 3)),
            ]
        cold = {N: (e, w)}
    else:
        cold = {}

    if "density" in chosen:
        rows = []
        for count in DENSITY:
            log(f"scenario density: {count} tenants")
            e, w = cold.get(count, (None, None))
            if e is None:
                e = edgefn_tenants(binary, count, work)
            if w is None and count <= WORKERD_MAX_TENANTS:
                w = workerd_tenants(count, work)
            rows.append(
                f"| {count} | {e['rss'] / 2**20:.0f} | {e['per_tenant'] / 1024:.0f} | "
                + (f"{w['rss'] / 2**20:.0f} | {w['per_tenant'] / 1024:.0f} |" if w else
                   f"not run (> WORKERD_MAX_TENANTS={WORKERD_MAX_TENANTS}) | |"))
            targets.append((f"≤ 400 KiB per warm idle tenant at {count}",
                            f"{e['per_tenant'] / 1024:.0f} KiB",
                            verdict(e["per_tenant"] <= 400 * 1024)))
            shutil.rmtree(work / f"edgefn-{count}", ignore_errors=True)
            shutil.rmtree(work / f"workerd-{count}", ignore_errors=True)
        out += ["## 3. Density", "",
                "RSS of the whole process with every function warm and idle; per tenant is the "
                "growth over the empty server (workerd: over a router-only workerd).", "",
                "| tenants | edgefn RSS MiB | edgefn KiB per tenant | workerd RSS MiB | "
                "workerd KiB per tenant |", "|---:|---:|---:|---:|---:|"] + rows + [""]

    if "json" in chosen:
        log("scenario json")
        script, size = json_body_script(work)
        r = throughput(binary, "json", script)
        out += throughput_table("4. JSON round trip", r,
                                f"`bench/functions/json`: POST of a {size / 1000:.1f} KB JSON "
                                "document, parsed, transformed and serialised.") + [""]

    if "cpu" in chosen:
        log("scenario cpu")
        r = throughput(binary, "cpu")
        out += throughput_table(
            "5. CPU-bound kernel", r,
            "`bench/functions/cpu`: a sieve counting the primes below 100,000 on every request. "
            "QuickJS interprets; V8 (deno, workerd) compiles to machine code, so edgefn is "
            "expected to lose this one by a wide margin.") + [""]

    if "instructions" in chosen:
        log("scenario instructions")
        out += instructions(work) + [""]

    if "noisy" in chosen:
        log("scenario noisy")
        out += noisy(binary, no_hop) + [""]

    if targets:
        out += ["## Targets", "", "| target | measured | |", "|---|---:|---|"]
        out += [f"| {name} | {value} | {result} |" for name, value, result in targets]
        out.append("")

    text = "\n".join(out)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    path = results / f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H%M%SZ}.md"
    path.write_text(text)
    log(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
