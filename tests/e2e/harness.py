"""Helpers for the browser tests: a real `rlhf serve` on a fresh database, the `rlhf` admin
commands, Debian's headless chromium through Playwright, and small page helpers.

The pytest fixtures that put these together (one server, browser and page per test, and the
screenshot + server log on failure) are in conftest.py; screenshots.py uses these helpers too.
"""

import http.client
import json
import os
import queue
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
ARTIFACTS = HERE / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def rlhf_bin():
    binary = os.environ.get("RLHF_BIN")
    if not binary:
        raise RuntimeError("set RLHF_BIN to the rlhf binary (tests/e2e/run.sh does)")
    return binary


def rlhf(*args):
    """Runs `rlhf ARGS...` and returns its stdout; a non-zero exit raises with its stderr."""
    proc = subprocess.run([rlhf_bin(), *map(str, args)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"rlhf {' '.join(map(str, args))} exited {proc.returncode}:\n"
                           f"{proc.stdout}{proc.stderr}")
    return proc.stdout


def has_command(name):
    """Whether the rlhf binary offers the subcommand NAME (listed by `rlhf --help`)."""
    help_text = subprocess.run([rlhf_bin(), "--help"], capture_output=True, text=True)
    return re.search(rf"^\s+{re.escape(name)}\b", help_text.stdout + help_text.stderr,
                     re.MULTILINE) is not None


def add_labeler(db, name, admin=False):
    """`rlhf labelers add` prints the token once; it is the only 64-hex-digit word there."""
    out = rlhf("labelers", "add", "--db", db, "--name", name, *(["--admin"] if admin else []))
    match = re.search(r"\b[0-9a-f]{64}\b", out)
    if not match:
        raise RuntimeError(f"no token in the output of rlhf labelers add: {out}")
    return match.group(0)


def revoke_labeler(db, name):
    rlhf("labelers", "revoke", "--db", db, "--name", name)


def import_tasks(db, tasks):
    """Imports tasks given as dicts (one JSONL line each)."""
    file = Path(db).parent / f"import-{uuid.uuid4().hex}.jsonl"
    file.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks),
                    encoding="utf-8")
    rlhf("labeling", "import", "--db", db, "--file", file)


def export_rows(db, fmt="rankings"):
    """The rows of `rlhf labeling export --format FMT`, parsed."""
    file = Path(db).parent / f"export-{fmt}-{uuid.uuid4().hex}.jsonl"
    rlhf("labeling", "export", "--db", db, "--format", fmt, "--out", file)
    lines = file.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def sql_value(db, sql):
    """Runs one SQL query with the sqlite3 shell (read-only) and returns its single value."""
    proc = subprocess.run(["sqlite3", "-readonly", str(db), sql], capture_output=True, text=True,
                          check=True)
    return proc.stdout.strip()


def task(task_id, letters, **extra):
    """A task whose responses have the given letters as ids and recognisable texts."""
    return {
        "id": task_id,
        "kind": "helpful",
        "prompt": f"Prompt {task_id}: explain something useful.",
        "responses": [{"id": l, "text": f"Answer {l} to {task_id}.", "model": "test-model"}
                      for l in letters],
        "target_labels": 3,
        **extra,
    }


def norm_tiers(tiers):
    """Tiers with every tier sorted, so ties compare regardless of the order inside a tier."""
    return [sorted(t) for t in tiers]


class Server:
    """One `rlhf serve` process on a database; restartable on the same port."""

    def __init__(self, db):
        self.db = str(db)
        self.proc = None
        self.url = None
        self.port = 0
        self._log = []  # stdout lines and stderr, in arrival order
        self._log_lock = threading.Lock()

    def log(self):
        with self._log_lock:
            return "".join(self._log)

    def _append_log(self, text):
        with self._log_lock:
            self._log.append(text)

    def start(self, timeout_s=15):
        """Starts `rlhf serve` (port 0 the first time, the same port on a restart so the page's
        origin stays the same) and waits for its "listening on http://HOST:PORT" line."""
        proc = subprocess.Popen(
            [rlhf_bin(), "serve", "--db", self.db, "--host", "127.0.0.1", "--port", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.proc = proc
        stdout_lines = queue.Queue()

        def read_stdout():
            for line in proc.stdout:
                self._append_log(line)
                stdout_lines.put(line)
            stdout_lines.put(None)  # end of output: the process exited

        def read_stderr():
            for chunk in proc.stderr:
                self._append_log(chunk)

        threading.Thread(target=read_stdout, daemon=True).start()
        threading.Thread(target=read_stderr, daemon=True).start()

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = stdout_lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"rlhf serve did not report its address:\n{self.log()}")
            if line is None:
                code = proc.wait()
                raise RuntimeError(f"rlhf serve exited early ({code}):\n{self.log()}")
            match = re.search(r"listening on (http://[^\s/]+)", line)
            if match:
                self.url = match.group(1)
                self.port = int(self.url.rsplit(":", 1)[1])
                return self.url

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL: no chance to flush or clean up, like a power cut of the process."""
        if self.running():
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s."""
        if self.running():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ApiResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


def http_call(base_url, method, path, token=None, body=None, headers=None):
    """One HTTP request outside the browser, like Node's fetch in the old tests: no Origin header
    unless given, a JSON body when `body` is not None, the bearer token when given."""
    host_port = base_url.removeprefix("http://")
    all_headers = {}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        all_headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    all_headers.update(headers or {})
    conn = http.client.HTTPConnection(host_port, timeout=30)
    try:
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        return ApiResponse(response.status, response.headers, response.read().decode("utf-8"))
    finally:
        conn.close()


def launch_browser(playwright, user_data_dir, viewport=None):
    """Debian's headless chromium with a fresh profile (never a browser Playwright downloads)."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=CHROMIUM,
        headless=True,
        viewport=viewport or {"width": 1280, "height": 900},
        args=CHROMIUM_ARGS,
    )


def watch_page_errors(page, errors):
    """Collects uncaught exceptions and CSP violations ("Refused to ...") of the page."""
    page.on("pageerror", lambda error: errors.append(error.message))

    def on_console(message):
        if re.search(r"Refused to|Content Security Policy", message.text, re.IGNORECASE):
            errors.append(message.text)

    page.on("console", on_console)


def login(page, url, token):
    """Signs in through the page's login form."""
    page.goto(url + "/")
    page.locator("#login-view").wait_for()
    page.fill("#token", token)
    page.click("#login-form button[type=submit]")
    page.locator("#task-view:not([hidden]), #message-view:not([hidden])").wait_for()


def card(page, text):
    """The card showing the response whose text contains `text`."""
    return page.locator(".card").filter(has=page.locator(".card-text", has_text=text))


def drag(page, source, target):
    """A real mouse drag: press on the card's header, move in steps, release over the target."""
    start = source.locator(".letter").bounding_box()
    target.scroll_into_view_if_needed()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    end = target.bounding_box()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def shown_ids(page):
    """The database ids of the current assignment's responses, in shown order."""
    return page.eval_on_selector_all(".card", "cards => cards.map((c) => Number(c.dataset.id))")


def wait_for_answer_saved(page, previous_prompt_text):
    """Waits until the page has moved past the current assignment (next task or "no tasks
    left")."""
    page.wait_for_function(
        """(prev) => {
          const msg = document.getElementById('message-view');
          if (msg && !msg.hidden) return true;
          const conv = document.getElementById('conversation');
          const task = document.getElementById('task-view');
          return task && !task.hidden && conv && !conv.textContent.includes(prev);
        }""",
        arg=previous_prompt_text,
        timeout=30000,
    )


def prompt_id_shown(page, pattern):
    """The task id in the shown prompt ("Prompt <id>: ..."), where `pattern` matches the id."""
    match = re.search(rf"Prompt ({pattern})", page.text_content("#conversation"))
    assert match, f"no prompt matching {pattern} on the page"
    return match.group(1)
