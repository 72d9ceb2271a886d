"""`make stack`: the whole production stack on this machine, in the foreground.

nginx (Debian's, in its own prefix under STACK_DIR, default instance/stack) serves HTTPS
with a self-signed certificate made on first run, from deploy/nginx's site file, in front
of two gunicorn app servers; two outbox workers send the mail. supervisord runs them all
from the Procfile's `web` and `worker` commands, in production mode, after the `release`
command has migrated the database. Ctrl-C or SIGTERM stops every process it started.

Settings: STACK_HTTP_PORT (8080), STACK_HTTPS_PORT (8443), STACK_APP_PORTS (8001,8002),
DATABASE_URL (the machine's PostgreSQL, database `stack`, created if missing), REDIS_URL
(redis://127.0.0.1:6379/0), SMTP_HOST and friends (else emails go to the log), SECRET_KEY
(else one made once and kept in STACK_DIR). SITE_URL follows the HTTPS port.

`scripts/stack exec COMMAND...` runs one command with the stack's settings instead, as an
operator runs one on a server: `scripts/stack exec flask backup create stack.backup`.
"""

import getpass
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SITE_TEMPLATE = PROJECT / "deploy" / "nginx" / "intelligence-library.conf.template"
SITE_VARIABLES = (
    "SERVER_NAME", "HTTP_LISTEN", "HTTPS_LISTEN", "HTTPS_PORT_SUFFIX", "TLS_CERTIFICATE",
    "TLS_CERTIFICATE_KEY", "APP_SERVER_1", "APP_SERVER_2", "STATIC_ROOT", "NGINX_LOG_DIR",
)  # fmt: skip
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/stack"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Accepted by production for a trial whose mail goes to the log; with a real SMTP server
# the owner's and sender's addresses must be given.
TRIAL_OWNER_EMAIL = "owner@localhost.localdomain"
TRIAL_MAIL_FROM = "Intelligence Library <calls@localhost.localdomain>"
# Settings of a developer's shell that must not reach the stack's processes.
NOT_PASSED_ON = ("APP_ENV", "TEST_DATABASE_URL", "FLASK_APP", "FLASK_DEBUG", "PORT")
BIN = Path(sys.executable).parent  # the virtualenv's


class StackError(Exception):
    """Something the stack needs is missing; the message says what to do."""


def main(arguments: list[str]) -> None:
    env = os.environ
    root = Path(env.get("STACK_DIR") or PROJECT / "instance" / "stack").resolve()
    http_port = port_setting(env, "STACK_HTTP_PORT", 8080)
    https_port = port_setting(env, "STACK_HTTPS_PORT", 8443)
    if arguments[:1] == ["exec"] and len(arguments) > 1:
        root.mkdir(parents=True, exist_ok=True)
        command = arguments[1:]
        os.execvpe(command[0], command, app_settings(env, root, https_port))
    app_ports = [int(p) for p in env.get("STACK_APP_PORTS", "8001,8002").split(",")]
    if len(app_ports) != 2:
        raise StackError("STACK_APP_PORTS: two ports, e.g. 8001,8002")
    for number in (http_port, https_port, *app_ports):
        refuse_if_taken(number)
    for folder in ("tls", "run", "nginx/logs", "nginx/temp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    settings = app_settings(env, root, https_port)
    certificate, key = ensure_certificate(root / "tls")
    ensure_database(settings["DATABASE_URL"])
    commands = procfile(PROJECT / "Procfile")
    release(commands["release"], settings)
    nginx_conf = write_nginx(root / "nginx", http_port, https_port, app_ports, certificate, key)
    supervisor_conf = write_supervisor(root, commands, app_ports, nginx_conf)
    print(banner(root, https_port, http_port, settings), flush=True)
    supervisord = str(BIN / "supervisord")
    os.execve(supervisord, [supervisord, "--nodaemon", "-c", str(supervisor_conf)], settings)


def port_setting(env, name: str, default: int) -> int:
    value = env.get(name) or str(default)
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise StackError(f"{name}: a port number, not {value!r}")
    return int(value)


def refuse_if_taken(number: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", number))
        except OSError:
            raise StackError(
                f"port {number} is in use (another `make stack`?): stop it, or choose "
                "other ports with STACK_HTTP_PORT, STACK_HTTPS_PORT, STACK_APP_PORTS"
            ) from None


def app_settings(env, root: Path, https_port: int) -> dict[str, str]:
    """The environment of every process: production, configured for this machine."""
    settings = {key: value for key, value in env.items() if key not in NOT_PASSED_ON}
    settings.update(
        APP_ENV="production",
        FLASK_SKIP_DOTENV="1",  # the stack's settings are these, not a developer's .env
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        PYTHONUNBUFFERED="1",
        STACK_DIR=str(root),
        SECRET_KEY=env.get("SECRET_KEY") or kept_secret_key(root / "secret_key"),
        SITE_URL="https://127.0.0.1" + port_suffix(https_port),
        DATABASE_URL=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        REDIS_URL=env.get("REDIS_URL") or DEFAULT_REDIS_URL,
        PROXY_COUNT="1",  # nginx: the client's address is the last X-Forwarded-For
        FORWARDED_ALLOW_IPS="127.0.0.1",
    )
    if env.get("SMTP_HOST"):
        missing = [name for name in ("OWNER_EMAIL", "MAIL_FROM") if not env.get(name)]
        if missing:
            raise StackError(f"with SMTP_HOST set, set {' and '.join(missing)} too")
    else:
        settings["MAIL_BACKEND"] = "log"
        settings.setdefault("OWNER_EMAIL", TRIAL_OWNER_EMAIL)
        settings.setdefault("MAIL_FROM", TRIAL_MAIL_FROM)
    return settings


def port_suffix(number: int) -> str:
    return "" if number == 443 else f":{number}"


def kept_secret_key(path: Path) -> str:
    """Made once, then reused: sessions (an owner's login) survive a restart of the stack."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def ensure_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made again near its expiry."""
    certificate, key = folder / "cert.pem", folder / "key.pem"
    still_valid = certificate.exists() and key.exists() and run_quietly(
        ["openssl", "x509", "-checkend", "86400", "-noout", "-in", str(certificate)]
    )  # fmt: skip
    if not still_valid:
        print(f"stack: making a self-signed certificate in {folder}", flush=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "365",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(key), "-out", str(certificate)],
            check=True, capture_output=True,
        )  # fmt: skip
        key.chmod(0o600)
    return certificate, key


def run_quietly(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database DATABASE_URL names when it does not exist."""
    from sqlalchemy import make_url

    target = make_url(url)
    if target.get_backend_name() not in ("postgresql", "postgres"):
        return
    import psycopg
    from psycopg import sql

    def conninfo(database: str) -> str:
        plain = target.set(drivername="postgresql", database=database)
        return plain.render_as_string(hide_password=False)

    try:
        psycopg.connect(conninfo(target.database), connect_timeout=5).close()
        return
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise StackError(f"PostgreSQL at {target.host or 'its socket'}: {error}") from None
    with psycopg.connect(conninfo("postgres"), autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database)))
    print(f"stack: created the database {target.database}", flush=True)


def procfile(path: Path) -> dict[str, str]:
    commands = {}
    for line in path.read_text().splitlines():
        name, colon, command = line.partition(":")
        if colon and name.strip() and not name.lstrip().startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


def release(command: str, settings: dict[str, str]) -> None:
    """The Procfile's release step (migrations); production's settings checks run here."""
    print(f"stack: release: {command}", flush=True)
    done = subprocess.run(["/bin/sh", "-c", command], cwd=PROJECT, env=settings)
    if done.returncode:
        raise StackError(f"the release step failed ({command}): see above")


def write_nginx(prefix, http_port, https_port, app_ports, certificate, key) -> Path:
    """deploy/nginx's site, rendered as on a server, inside a main file of the stack's own."""
    site = {
        "SERVER_NAME": "127.0.0.1 localhost",
        "HTTP_LISTEN": f"127.0.0.1:{http_port}",
        "HTTPS_LISTEN": f"127.0.0.1:{https_port}",
        "HTTPS_PORT_SUFFIX": port_suffix(https_port),
        "TLS_CERTIFICATE": str(certificate),
        "TLS_CERTIFICATE_KEY": str(key),
        "APP_SERVER_1": f"127.0.0.1:{app_ports[0]}",
        "APP_SERVER_2": f"127.0.0.1:{app_ports[1]}",
        "STATIC_ROOT": str(PROJECT / "static"),
        "NGINX_LOG_DIR": str(prefix / "logs"),
    }
    shell_format = " ".join(f"${{{name}}}" for name in SITE_VARIABLES)
    rendered = subprocess.run(
        ["envsubst", shell_format],
        input=SITE_TEMPLATE.read_text(),
        env={**os.environ, **site},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (prefix / "intelligence-library.conf").write_text(rendered)
    # As root, nginx's workers become the checkout's owner: they read its static files.
    user = f"user {checkout_owner()};\n" if os.geteuid() == 0 else ""
    temp = prefix / "temp"
    main_conf = prefix / "nginx.conf"
    main_conf.write_text(
        f"# Written by scripts/stack.py; the site is deploy/nginx/{SITE_TEMPLATE.name}.\n"
        f"{user}worker_processes auto;\npid {prefix}/nginx.pid;\nerror_log stderr;\n"
        "daemon off;\nevents { worker_connections 1024; }\nhttp {\n"
        "    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        "    sendfile on;\n    tcp_nopush on;\n    types_hash_max_size 2048;\n"
        "    access_log off;\n"
        + "".join(
            f"    {kind}_temp_path {temp}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"    include {prefix}/intelligence-library.conf;\n}}\n"
    )
    check = subprocess.run(
        [nginx(), "-t", "-q", "-p", str(prefix), "-c", str(main_conf), "-e", "stderr"],
        capture_output=True,
        text=True,
    )
    if check.returncode:
        raise StackError(f"nginx refuses its configuration:\n{check.stderr}")
    return main_conf


def checkout_owner() -> str:
    """The user and group that own the checkout, for nginx's `user` directive."""
    import grp
    import pwd

    found = PROJECT.stat()
    return f"{pwd.getpwuid(found.st_uid).pw_name} {grp.getgrgid(found.st_gid).gr_name}"


def nginx() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise StackError("nginx is not installed: apt-get install nginx-light")
    return found


def write_supervisor(root: Path, commands: dict[str, str], app_ports, nginx_conf) -> Path:
    conf = root / "supervisord.conf"
    sock = root / "run" / "supervisor.sock"
    user = f"user={getpass.getuser()}\n" if os.geteuid() == 0 else ""
    # The socket is the user's alone (0700); a password of the run's own as well.
    password = secrets.token_urlsafe(24)
    sections = [
        f"; Written by scripts/stack.py: the Procfile's processes, and nginx.\n"
        f"[supervisord]\nnodaemon=true\n{user}logfile=/dev/null\nlogfile_maxbytes=0\n"
        f"pidfile={root}/run/supervisord.pid\nchildlogdir={root}/run\n\n"
        f"[unix_http_server]\nfile={sock}\nchmod=0700\nusername=stack\npassword={password}\n\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        f"[supervisorctl]\nserverurl=unix://{sock}\nusername=stack\npassword={password}\n"
    ]
    for number, app_port in enumerate(app_ports, start=1):
        sections.append(
            program(
                f"web{number}",
                commands["web"],
                priority=100,
                stopwaitsecs=30,  # gunicorn's graceful timeout is 20 s
                environment={
                    "GUNICORN_BIND": f"127.0.0.1:{app_port}",
                    "GUNICORN_CONTROL_SOCKET": f"{root}/run/web{number}.ctl",
                },
            )
        )
    for number in (1, 2):
        sections.append(program(f"worker{number}", commands["worker"], priority=100))
    sections.append(
        program(
            "nginx",
            f"exec {shlex.quote(nginx())} -p {shlex.quote(str(nginx_conf.parent))} "
            f"-c {shlex.quote(str(nginx_conf))} -e stderr",
            priority=200,
        )
    )
    conf.touch(mode=0o600)
    conf.chmod(0o600)  # it holds the socket's password
    conf.write_text("\n".join(sections).replace("%", "%%"))  # supervisor reads %(name)s
    return conf


def program(name, command, *, priority, stopwaitsecs=20, environment=None) -> str:
    """One process, restarted if it dies (as systemd's Restart=always would), its output on
    supervisord's, and everything it started killed should it not stop in time. Stopping
    goes from the highest priority down: nginx first, then the rest together."""
    shell = command if command.startswith("exec ") else f"exec {command}"
    env_line = ",".join(f'{key}="{value}"' for key, value in (environment or {}).items())
    return (
        f"[program:{name}]\ncommand=/bin/sh -c {shlex.quote(shell)}\ndirectory={PROJECT}\n"
        + (f"environment={env_line}\n" if env_line else "")
        + f"priority={priority}\nautorestart=true\nstartsecs=2\nstartretries=3\n"
        f"stopsignal=TERM\nstopwaitsecs={stopwaitsecs}\nkillasgroup=true\n"
        "redirect_stderr=true\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n"
    )


def banner(root: Path, https_port: int, http_port: int, settings: dict[str, str]) -> str:
    from sqlalchemy import make_url

    mail = settings.get("SMTP_HOST") or "the log (MAIL_BACKEND=log)"
    database = make_url(settings["DATABASE_URL"]).render_as_string(hide_password=True)
    return (
        f"\nstack: {settings['SITE_URL']}/  (http://127.0.0.1:{http_port}/ redirects there)\n"
        f"  certificate {root}/tls/cert.pem (self-signed: trust it, or accept the warning)\n"
        f"  database {database}, Redis {settings['REDIS_URL']}, mail to {mail}\n"
        f"  logs: nginx in {root}/nginx/logs/, the rest below\n"
        f"  restart an app server: {BIN}/supervisorctl -c {root}/supervisord.conf restart web1\n"
        "  Ctrl-C stops everything.\n"
    )


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except StackError as error:
        sys.exit(f"stack: {error}")
