"""A real IMAP server for the tests: Debian's Dovecot, on a loopback port, with IMAPS.

`make test` installs dovecot-imapd where it is missing; the tests that need it skip with a
clear reason on a machine where it cannot be installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.smtp_sink import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
NOBODY_UID = NOBODY_GID = 65534


@dataclass
class ImapServer:
    root: Path
    port: int
    username: str
    password: str
    cafile: str
    process: subprocess.Popen

    @property
    def maildir(self) -> Path:
        return self.root / "home" / self.username / "Maildir"

    def deliver(self, raw: bytes) -> None:
        """Drop a message in the inbox, as a local delivery agent would."""
        new = self.maildir / "new"
        path = new / f"{time.time_ns()}.{os.getpid()}.test"
        path.write_bytes(raw)
        os.chown(path, NOBODY_UID, NOBODY_GID)

    def folder_messages(self, folder: str) -> list[bytes]:
        base = self.maildir if folder == "INBOX" else self.maildir / f".{folder}"
        return [p.read_bytes() for sub in ("new", "cur") for p in sorted((base / sub).glob("*"))]

    def empty(self) -> None:
        """Remove every message from every folder (between tests sharing one server)."""
        for path in self.maildir.rglob("*"):
            if path.is_file() and path.parent.name in {"new", "cur"}:
                path.unlink()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def available() -> bool:
    return os.path.exists(DOVECOT) and os.geteuid() == 0


def start(username: str = "support", password: str = "imap-test-password") -> ImapServer:
    root = Path(tempfile.mkdtemp(prefix="supportit-imap-"))
    root.chmod(0o755)  # Dovecot serves the mail as `nobody`, who must reach the maildir
    port = free_port()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    (root / "passwd").write_text(f"{username}:{{PLAIN}}{password}\n")
    maildir = root / "home" / username / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for path in [root / "home", root / "home" / username, maildir, *maildir.iterdir()]:
        os.chown(path, NOBODY_UID, NOBODY_GID)
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
auth_mechanisms = plain
first_valid_uid = {NOBODY_UID}
mail_location = maildir:~/Maildir
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={NOBODY_UID} gid={NOBODY_GID} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
""")
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.terminate()
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        raise RuntimeError(f"dovecot did not start: {log}")
    return ImapServer(root, port, username, password, str(root / "cert.pem"), process)
