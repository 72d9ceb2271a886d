"""wrk, the load generator every served figure comes from: installing it, running it,
reading what it prints.

wrk is Debian's package (C, one event loop per thread), so the client costs far less CPU
than the servers it measures, and its figures are the ones published comparisons use.
Every run here is `wrk -t1 -c16 --latency` unless a figure says otherwise; a Lua script
adds headers or turns the request into a POST.
"""

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

THREADS = 1
CONNECTIONS = 16
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
TIMEOUT_SECONDS = 10
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
NUMBER_UNIT = r"([\d.]+)(us|ms|s|m|h)"


@dataclass(frozen=True)
class WrkResult:
    requests: int
    requests_per_second: float
    latency_ms: dict[float, float]  # percentile (50, 75, 90, 99) -> milliseconds
    bad_status: int  # answers outside 2xx and 3xx
    socket_errors: int  # connect, read, write and timeout errors together

    @property
    def p99_ms(self) -> float:
        return self.latency_ms.get(99.0, float("nan"))


def duration_ms(text: str) -> float:
    """'812.00us', '1.23ms', '2.50s', '1.00m' in milliseconds."""
    found = re.fullmatch(NUMBER_UNIT, text.strip())
    if not found:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(found.group(1)) * UNITS_MS[found.group(2)]


def parse(output: str) -> WrkResult:
    """Read wrk's report (with --latency); raise if a figure every run prints is missing."""
    per_second = re.search(r"^Requests/sec:\s+([\d.]+)\s*$", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    if not per_second or not total:
        raise ValueError("wrk printed no request count:\n" + output)
    latency = {
        float(share): duration_ms(f"{value}{unit}")
        for share, value, unit in re.findall(
            r"^\s+([\d.]+)%\s+" + NUMBER_UNIT + r"\s*$", output, re.MULTILINE
        )
    }
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests=int(total.group(1)),
        requests_per_second=float(per_second.group(1)),
        latency_ms=latency,
        bad_status=int(bad.group(1)) if bad else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package first if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    if prefix and not shutil.which("sudo"):
        raise RuntimeError("wrk is missing and there is no root or sudo to install it")
    print("  (installing Debian's wrk)")
    quiet = {"stdout": subprocess.DEVNULL, "check": True}
    subprocess.run([*prefix, "apt-get", "update", "-qq"], **quiet)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, "apt-get", "install", "-y", "-qq", "wrk"], env=env, **quiet)
    return shutil.which("wrk") or "/usr/bin/wrk"


def run(
    url: str,
    *,
    headers: Sequence[str] = (),
    script: Path | None = None,
    connections: int = CONNECTIONS,
    seconds: float = SECONDS,
) -> WrkResult:
    command = [ensure_wrk(), f"-t{THREADS}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    # A slow answer is measured, not dropped: wrk leaves a request unanswered after 2 s
    # out of its latency figures unless told to wait longer.
    command += ["--timeout", f"{TIMEOUT_SECONDS:g}s"]
    for header in headers:
        command += ["-H", header]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse(done.stdout)


def lua_string(text: str) -> str:
    """A Lua string literal: long brackets, with a level no text here can close early."""
    level = "=" * 3
    if f"]{level}]" in text:
        raise ValueError("text closes the Lua long bracket")
    return f"[{level}[{text}]{level}]"


POST_SCRIPT = """
-- Each request a POST with the next body, from a template whose {{n}} is this request's
-- number (unique across rounds through `first`), {{key}} that number in 32 hex digits and
-- {{slot}} the next slot of the list. With `forwarded`, each request also comes from its
-- own client as nginx reports it: X-Forwarded-For 10.a.b.c, from n.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = {cookie}
local template = {template}
local slots = {{ {slots} }}
local n = {first}
local forwarded = {forwarded}
request = function()
  n = n + 1
  local slot = slots[((n - {first} - 1) % #slots) + 1] or ""
  local key = string.format("%032x", n)
  local body = template:gsub("{{n}}", tostring(n)):gsub("{{key}}", key):gsub("{{slot}}", slot)
  if forwarded then
    local host = n % 16777216
    wrk.headers["X-Forwarded-For"] = string.format(
      "10.%d.%d.%d", math.floor(host / 65536), math.floor(host / 256) % 256, host % 256)
  end
  return wrk.format(nil, nil, nil, body)
end
"""


@contextmanager
def post_script(template: str, *, cookie: str = "", slots: Sequence[str] = (), first: int = 0,
                forwarded: bool = False) -> Iterator[Path]:  # fmt: skip
    """A Lua file for wrk that POSTs `template` with {n}, {key} and {slot} filled in per
    request: n counts from `first` + 1, key is n as 32 hex digits, slot walks `slots`.
    `forwarded`: each request carries X-Forwarded-For with an address of its own, as
    nginx passes on a different visitor's (the app must trust one proxy, PROXY_COUNT=1)."""
    text = POST_SCRIPT.format(
        cookie=lua_string(cookie),
        template=lua_string(template),
        slots=", ".join(lua_string(slot) for slot in slots),
        first=int(first),
        forwarded="true" if forwarded else "false",
    )
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        path = Path(folder) / "post.lua"
        path.write_text(text)
        yield path
