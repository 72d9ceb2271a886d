"""deploy/: the files a server runs are complete and well formed.

The stack tests (tests/stack/) run nginx's site file and gunicorn.conf.py for real; the
systemd units cannot run here, so systemd's own checker reads them.
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
DEPLOY = PROJECT / "deploy"
ENV_EXAMPLE = DEPLOY / "intelligence-library.env.example"
SITE_TEMPLATE = DEPLOY / "nginx" / "intelligence-library.conf.template"
SERVER_ROOT = "/srv/intelligence-library"


def env_file_values(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile= reads them (comments on their own)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def start_production(settings: dict[str, str]) -> subprocess.CompletedProcess:
    """Build the app as an app server would, with only `settings` (and PATH)."""
    env = {"PATH": os.environ["PATH"], "FLASK_SKIP_DOTENV": "1", **settings}
    return subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_example_environment_file_holds_every_setting_production_needs():
    settings = env_file_values(ENV_EXAMPLE) | {"SECRET_KEY": secrets.token_urlsafe(48)}
    started = start_production(settings)
    assert started.returncode == 0, started.stderr


def test_the_example_environment_file_starts_nothing_until_a_secret_key_is_set():
    started = start_production(env_file_values(ENV_EXAMPLE))
    assert started.returncode != 0
    assert "SECRET_KEY" in started.stderr
    assert "SITE_URL" not in started.stderr and "DATABASE_URL" not in started.stderr


@pytest.mark.parametrize("unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=str)
def test_systemd_finds_nothing_wrong_with_the_units(unit, tmp_path):
    """`systemd-analyze verify`, with the server's paths pointed at this checkout."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: scripts/ensure-test-services installs it"
    env_file = tmp_path / "env"
    env_file.write_text("APP_ENV=production\n")
    text = unit.read_text()
    assert f"{SERVER_ROOT}/.venv/bin/" in text and "/etc/intelligence-library/env" in text
    venv = Path(sys.executable).parent.parent
    local = (
        text.replace(f"{SERVER_ROOT}/.venv", str(venv))
        .replace(SERVER_ROOT, str(PROJECT))
        .replace("/etc/intelligence-library/env", str(env_file))
    )
    copy = tmp_path / unit.name
    copy.write_text(local)
    checked = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr


def test_the_nginx_site_says_how_to_render_every_variable_it_uses():
    """The envsubst line in the site file and in the README name each ${VARIABLE} it has."""
    text = SITE_TEMPLATE.read_text()
    used = set(re.findall(r"\$\{([A-Z0-9_]+)\}", text.split("upstream intelligence_library")[1]))
    for source in (text, (PROJECT / "README.md").read_text()):
        envsubst = re.search(r"envsubst '([^']+)'", source, re.DOTALL)
        assert envsubst, "no envsubst line"
        named = set(re.findall(r"\$\{([A-Z0-9_]+)\}", envsubst.group(1)))
        assert named == used


def test_the_nginx_site_rendered_for_a_debian_server_passes_nginx_t(tmp_path):
    """The README's rendering, inside Debian's own nginx.conf (which already turns gzip on
    and names TLS protocols): nginx accepts it, IPv4 and IPv6 listeners included."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    debian_conf = Path("/etc/nginx/nginx.conf")
    assert Path(nginx).exists() and debian_conf.exists(), "nginx-light is missing"
    (tmp_path / "logs").mkdir()
    (tmp_path / "sites").mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=www.your-domain.co.uk",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = {
        "SERVER_NAME": "www.your-domain.co.uk",
        "HTTP_LISTEN": "[::]:80 ipv6only=off",
        "HTTPS_LISTEN": "[::]:443 ipv6only=off",
        "HTTPS_PORT_SUFFIX": "",
        "TLS_CERTIFICATE": str(tmp_path / "cert.pem"),
        "TLS_CERTIFICATE_KEY": str(tmp_path / "key.pem"),
        "APP_SERVER_1": "127.0.0.1:8001",
        "APP_SERVER_2": "127.0.0.1:8002",
        "STATIC_ROOT": str(PROJECT / "static"),
        "NGINX_LOG_DIR": str(tmp_path / "logs"),
    }
    rendered = subprocess.run(
        ["envsubst", " ".join(f"${{{name}}}" for name in site)],
        input=SITE_TEMPLATE.read_text(),
        env={**os.environ, **site},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "${" not in rendered
    (tmp_path / "sites" / "intelligence-library").write_text(rendered)
    main = debian_conf.read_text()
    main = re.sub(r"include /etc/nginx/modules-enabled/\*\.conf;", "", main)
    main = main.replace("/etc/nginx/sites-enabled/*", f"{tmp_path}/sites/*")
    main = main.replace("/run/nginx.pid", f"{tmp_path}/nginx.pid")
    main = main.replace("/var/log/nginx/", f"{tmp_path}/logs/")
    (tmp_path / "nginx.conf").write_text(main)
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-e", str(tmp_path / "logs" / "error.log")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
