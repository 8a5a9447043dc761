"""Run notebooks in a real JupyterLab, in headless Chromium, and report what went wrong.

Used by `make e2e` (tests/e2e/test_notebooks_in_lab.py). Everything runs in a fresh temporary tree:
copies of the notebooks (with ../images next to them), Jupyter/IPython/matplotlib/Chromium state
and HOME, so a run never touches the repository or the user's home. Every process started here
(the Jupyter server and its kernels, Chromium, the Playwright driver) is stopped by its PID.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCREENSHOTS = ROOT / "build" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
# Seconds allowed for one notebook to run all its cells (< 20 s each on 2 idle cores).
RUN_TIMEOUT = float(os.environ.get("E2E_TIMEOUT", "600"))
STARTUP_TIMEOUT = 120.0
POLL = 0.25
WIDGET_NOTEBOOK = "03_cyclic_shift.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# User settings (JUPYTERLAB_SETTINGS_DIR): no autosave, every cell in the DOM, no news pop-ups.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _root_conftest():
    """The repository's conftest.py, loaded by path (tests/e2e/conftest.py has the same name)."""
    spec = importlib.util.spec_from_file_location("_swin_tutor_root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop `proc` and every process it started, each by its PID: TERM, wait, then KILL."""
    try:
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.Error:
        family = []
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)
    alive = [p for p in family if _running(p)]
    for p in alive:
        _signal(p, signal.SIGTERM)
    _, alive = psutil.wait_procs(alive, timeout=grace)
    for p in alive:
        _signal(p, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=grace)


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _signal(p: psutil.Process, sig: int) -> None:
    try:
        p.send_signal(sig)
    except psutil.Error:
        pass


# --------------------------------------------------------------------------- the temporary tree
@contextmanager
def serve_folder(folder: Path, probe: str = "") -> Iterator[str]:
    """``python -m http.server`` on ``folder`` at a free loopback port; yields the base URL once
    ``probe`` (a path under it) answers, and stops the server afterwards."""
    port = free_port()
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + probe, timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_process(proc)
                raise RuntimeError("python -m http.server did not start") from None
            time.sleep(0.2)
    try:
        yield base
    finally:
        stop_process(proc)


def make_environment(base: Path) -> dict[str, str]:
    """The environment of the server, its kernels and Chromium: the nbval test environment plus
    every Jupyter/IPython/matplotlib directory and HOME inside `base`."""
    _root_conftest().configure_environment()  # same variables as the nbval tests (os.environ)
    env = dict(os.environ)
    dirs = {
        "HOME": "home",
        "JUPYTER_CONFIG_DIR": "jupyter/config",
        "JUPYTER_DATA_DIR": "jupyter/data",
        "JUPYTER_RUNTIME_DIR": "jupyter/runtime",
        "JUPYTERLAB_SETTINGS_DIR": "jupyter/lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": "jupyter/lab-workspaces",
        "IPYTHONDIR": "ipython",
        "MPLCONFIGDIR": "matplotlib",
        "XDG_CONFIG_HOME": "home/.config",
        "XDG_CACHE_HOME": "home/.cache",
        "XDG_DATA_HOME": "home/.local/share",
    }
    for key, rel in dirs.items():
        path = base / rel
        path.mkdir(parents=True, exist_ok=True)
        env[key] = str(path)
    for key in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "PYTHONSTARTUP"):
        env.pop(key, None)
    env["JUPYTER_PREFER_ENV_PATH"] = "0"  # the temporary data dir first, so our kernelspec wins
    # Kernels: the test interpreter (the venv's python), by absolute path, ahead of any other spec.
    spec_dir = Path(env["JUPYTER_DATA_DIR"]) / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "metadata": {"debugger": True},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    for rel, settings in LAB_SETTINGS.items():
        path = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=1))
    return env


# --------------------------------------------------------------------------- the Jupyter server
@dataclass
class LabServer:
    proc: subprocess.Popen
    url: str
    token: str
    work: Path  # the server's root folder: notebooks/, images/, fixtures/
    log: Path

    def api(self, path: str, method: str = "GET", timeout: float = 10.0):
        request = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def place(self, notebook: Path, folder: str = "notebooks") -> str:
        """Copy `notebook` into the server's tree; returns its path as JupyterLab names it."""
        target = self.work / folder / notebook.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(notebook, target)
        return f"{folder}/{notebook.name}"


def start_server(base: Path, env: dict[str, str]) -> LabServer:
    work = base / "work"
    (work / "notebooks").mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "images", work / "images")  # the notebooks read ../images/chelsea.png
    port, token = free_port(), secrets.token_hex(24)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--LabApp.expose_app_in_browser=True",
        f"--ServerApp.root_dir={work}",
        "--ServerApp.terminals_enabled=False",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = base / "jupyter.log"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = LabServer(proc, f"http://127.0.0.1:{port}", token, work, log)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{_tail(log)}")
        try:
            server.api("/api/status", timeout=2)
            return server
        except OSError:
            if time.monotonic() > deadline:
                stop_server(server)
                raise RuntimeError(f"jupyter lab did not answer in time:\n{_tail(log)}") from None
            time.sleep(POLL)


def kernel_processes(server: LabServer) -> list[psutil.Process]:
    """The kernels the server has started (its child processes running ipykernel)."""
    try:
        children = psutil.Process(server.proc.pid).children(recursive=True)
    except psutil.Error:
        return []
    return [p for p in children if "ipykernel_launcher" in " ".join(p.cmdline())]


def stop_server(server: LabServer) -> None:
    """POST /api/shutdown with the token, then stop the server and its kernels by PID."""
    try:
        family = psutil.Process(server.proc.pid).children(recursive=True)  # the kernels
    except psutil.Error:
        family = []
    if server.proc.poll() is None:
        try:
            server.api("/api/shutdown", method="POST", timeout=10)
            server.proc.wait(15)
        except (OSError, subprocess.TimeoutExpired):
            pass
    stop_process(server.proc)
    for p in family:
        if _running(p):
            _signal(p, signal.SIGKILL)
    psutil.wait_procs(family, timeout=5)


# --------------------------------------------------------------------------- Chromium
@dataclass
class Browser:
    proc: subprocess.Popen
    playwright: object
    browser: object
    driver_pids: list[int]
    log: Path


def start_browser(base: Path, env: dict[str, str]) -> Browser:
    """Start Chromium ourselves (so we own its PID) and connect Playwright to it over CDP."""
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"{CHROMIUM} not found: install Debian's chromium (make e2e does it)")
    profile = base / "chromium-profile"
    log = base / "chromium.log"
    cmd = [
        CHROMIUM,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        "about:blank",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not (port_file.exists() and port_file.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc)
            raise RuntimeError(f"chromium did not start:\n{_tail(log)}")
        time.sleep(POLL)
    port = int(port_file.read_text().split()[0])
    before = {p.pid for p in psutil.Process().children()}
    playwright = None
    try:
        saved = dict(os.environ)
        os.environ.update({k: env[k] for k in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")})
        try:
            playwright = sync_playwright().start()  # the driver copies os.environ now
        finally:
            os.environ.clear()
            os.environ.update(saved)
        driver_pids = [p.pid for p in psutil.Process().children() if p.pid not in before]
        browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
    except Exception:
        if playwright is not None:
            playwright.stop()
        stop_process(proc)
        raise
    return Browser(proc, playwright, browser, driver_pids, log)


def stop_browser(b: Browser) -> None:
    try:
        b.browser.close()
    except Exception:
        pass
    stop_process(b.proc)
    try:
        b.playwright.stop()
    except Exception:
        pass
    drivers = []
    for pid in b.driver_pids:
        try:
            drivers.append(psutil.Process(pid))
        except psutil.Error:
            pass
    for p in drivers:
        _signal(p, signal.SIGTERM)
    _, alive = psutil.wait_procs(drivers, timeout=5)
    for p in alive:
        _signal(p, signal.SIGKILL)


# --------------------------------------------------------------------------- one notebook
@dataclass
class LabRun:
    name: str
    problems: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    run_all: str = ""
    page_errors: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    kernel_argv: list[list[str]] = field(default_factory=list)  # command lines of its kernels


class _Stop(Exception):
    """A problem that ends the run of this notebook at once (a dialog, a timeout)."""


STATE_JS = """(path) => {
  const app = window.jupyterapp;
  const dialogs = [...document.querySelectorAll('.jp-Dialog')].map(d => d.innerText.slice(0, 500));
  if (!app || !app.shell) return {stage: 'app', dialogs};
  const w = app.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path || !w.content || !w.sessionContext)
    return {stage: 'widget', dialogs};
  const sc = w.sessionContext;
  const kernel = sc.session ? sc.session.kernel : null;
  const prompts = [...w.node.querySelectorAll('.jp-InputPrompt')];
  return {
    stage: 'notebook', dialogs,
    ready: w.context.isReady && sc.isReady,
    kernel: kernel ? kernel.name : null,
    status: kernel ? kernel.status : null,
    connection: kernel ? kernel.connectionStatus : null,
    busy: prompts.filter(p => p.textContent.includes('[*]')).length,
    windowing: w.content.notebookConfig ? w.content.notebookConfig.windowingMode : null,
    runAll: window.__e2eRunAll || null,
  };
}"""

RUN_ALL_JS = """() => {
  window.__e2eRunAll = 'running';
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    r => { window.__e2eRunAll = 'done:' + r; },
    e => { window.__e2eRunAll = 'failed:' + e; });
  return true;
}"""

RENDERED_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const outputs = [...w.node.querySelectorAll('.jp-OutputArea-output')];
  const imgs = [...w.node.querySelectorAll('.jp-OutputArea-output img')];
  return {
    model: w.content.model.toJSON(),
    images: imgs.map(i => ({complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})),
    viewsRendered: outputs.filter(o => o.querySelector('.jupyter-widgets')).length,
    widgets: w.node.querySelectorAll('.jupyter-widgets').length,
    sliders: w.node.querySelectorAll('.widget-slider').length,
    widgetErrors: outputs.map(o => o.innerText).filter(t => t.includes('Error displaying widget')),
    dialogs: [...document.querySelectorAll('.jp-Dialog')].map(d => d.innerText.slice(0, 500)),
  };
}"""

SCROLL_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const target = w.node.querySelector('.widget-slider')
    || w.node.querySelector('.jp-OutputArea-output img');
  if (target) target.scrollIntoView({block: 'center'});
}"""


def _poll(page, js: str, arg, done, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = page.evaluate(js, arg) if arg is not None else page.evaluate(js)
        if state.get("dialogs"):
            raise _Stop(f"dialog while {what}: {state['dialogs']}")
        if state.get("status") in ("dead", "autorestarting", "restarting"):
            raise _Stop(f"kernel {state['status']} while {what}")
        if done(state):
            return state
        if time.monotonic() > deadline:
            raise _Stop(f"timed out after {timeout:.0f} s {what}; last state {state}")
        time.sleep(POLL)


def _is_image(output: dict) -> bool:
    data = output.get("data", {})
    return "image/png" in data or "image/jpeg" in data


def _widget_views(nb: dict) -> int:
    return sum(WIDGET_VIEW in out.get("data", {}) for cell in nb["cells"] for out in cell.get("outputs", []))


def find_problems(name: str, nb: dict, rendered: dict) -> list[str]:
    """Everything wrong with a notebook after 'run all': error outputs (except in cells tagged
    `raises-exception`), cells that never ran, images that did not render, widgets that did not."""
    problems = []
    image_outputs = 0
    views = 0
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if not source.strip():
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("execution_count") is None:
            problems.append(f"cell {i} never ran: {source.strip().splitlines()[0][:80]!r}")
        for out in cell.get("outputs", []):
            if out["output_type"] == "error" and "raises-exception" not in tags:
                problems.append(f"cell {i} raised {out.get('ename')}: {out.get('evalue')}")
            image_outputs += _is_image(out)
            views += WIDGET_VIEW in out.get("data", {})
    images = rendered["images"]
    if len(images) < image_outputs:
        problems.append(f"{image_outputs} image outputs but only {len(images)} <img> in the page")
    broken = [k for k, img in enumerate(images) if not (img["complete"] and img["width"] > 0)]
    if broken:
        problems.append(f"{len(broken)} of {len(images)} images did not render (naturalWidth 0)")
    if rendered["viewsRendered"] < views:
        problems.append(f"{views} widget outputs but {rendered['viewsRendered']} rendered widgets")
    if rendered.get("dialogs"):
        problems.append(f"dialog after the run: {rendered['dialogs']}")
    if rendered["widgetErrors"]:
        problems.append(f"widget errors: {rendered['widgetErrors']}")
    if name == WIDGET_NOTEBOOK and (rendered["widgets"] == 0 or rendered["sliders"] == 0):
        problems.append(
            f"{name}: expected rendered widgets with a slider, found {rendered['widgets']} "
            f"widgets and {rendered['sliders']} sliders"
        )
    return problems


def run_notebook(server: LabServer, browser: Browser, lab_path: str) -> LabRun:
    """Open `lab_path` (relative to the server root) in a new page, run all cells, check it."""
    name = Path(lab_path).name
    result = LabRun(name)
    start = time.monotonic()
    context = browser.browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.on("pageerror", lambda e: result.page_errors.append(str(e)[:300]))
    try:
        url = f"{server.url}/lab/tree/{lab_path}?reset&token={server.token}"
        page.goto(url, wait_until="domcontentloaded", timeout=STARTUP_TIMEOUT * 1000)

        def kernel_idle(s):
            return s["stage"] == "notebook" and s["ready"] and s["status"] == "idle"

        state = _poll(page, STATE_JS, lab_path, kernel_idle, STARTUP_TIMEOUT, "opening")
        if state["kernel"] != "python3" or state["windowing"] != "none":
            raise _Stop(f"unexpected kernel/windowing: {state}")
        result.timings["open"] = time.monotonic() - start
        page.evaluate(RUN_ALL_JS)
        t_run = time.monotonic()

        def finished(s):
            return (
                s["stage"] == "notebook"
                and s["runAll"] not in (None, "running")
                and s["busy"] == 0
                and s["status"] == "idle"
            )

        state = _poll(page, STATE_JS, lab_path, finished, RUN_TIMEOUT, "running all cells")
        result.run_all = state["runAll"]
        result.timings["run"] = time.monotonic() - t_run

        def settled(r):
            images_done = all(i["complete"] for i in r["images"])
            return images_done and r["viewsRendered"] >= _widget_views(r["model"])

        deadline = time.monotonic() + 15
        rendered = page.evaluate(RENDERED_JS)
        while not settled(rendered) and time.monotonic() < deadline:
            time.sleep(POLL)
            rendered = page.evaluate(RENDERED_JS)
        result.problems += find_problems(name, rendered["model"], rendered)
        result.counts = {
            "code cells": sum(c["cell_type"] == "code" for c in rendered["model"]["cells"]),
            "images": len(rendered["images"]),
            "widgets": rendered["widgets"],
            "sliders": rendered["sliders"],
        }
        page.evaluate(SCROLL_JS)
        time.sleep(0.3)
    except _Stop as stop:
        result.problems.append(str(stop))
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"{Path(name).stem}.png"
        try:
            page.screenshot(path=str(shot))
            result.screenshot = shot
        except Exception as exc:  # the page is gone: report it, keep the real failure
            result.problems.append(f"no screenshot: {exc}")
        context.close()
        try:
            result.kernel_argv = shutdown_kernels(server, lab_path)
        except (OSError, psutil.Error) as exc:
            result.problems.append(f"could not shut its kernel down: {exc}")
        result.timings["total"] = time.monotonic() - start
    return result


def shutdown_kernels(server: LabServer, lab_path: str) -> list[list[str]]:
    """End the sessions of `lab_path` (DELETE /api/sessions/<id>: the kernel stops) so kernels do
    not pile up; returns the command lines their kernel processes ran with."""
    argv = []
    for session in server.api("/api/sessions"):
        if session.get("path") != lab_path:
            continue
        kernel_id = (session.get("kernel") or {}).get("id", "")
        argv += [p.cmdline() for p in kernel_processes(server) if f"kernel-{kernel_id}" in " ".join(p.cmdline())]
        server.api(f"/api/sessions/{session['id']}", method="DELETE", timeout=30)
    return argv


def _selfcheck() -> None:
    """Start a server with a kernel and a browser, stop them, print every PID they had (JSON).
    Run in a separate process by the tests: Playwright allows one sync instance per thread."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="swin-tutor-e2e-selfcheck-") as tmp:
        base = Path(tmp)
        env = make_environment(base)
        server = start_server(base, env)
        browser = None
        pids = {}
        try:
            server.api("/api/kernels", method="POST", timeout=60)
            browser = start_browser(base, env)
            pids["server"] = [server.proc.pid]
            pids["kernels"] = [p.pid for p in kernel_processes(server)]
            pids["chromium"] = [browser.proc.pid] + [
                p.pid for p in psutil.Process(browser.proc.pid).children(recursive=True)
            ]
            pids["playwright driver"] = browser.driver_pids
        finally:
            if browser is not None:
                stop_browser(browser)
            stop_server(server)
        print(json.dumps(pids))


if __name__ == "__main__" and sys.argv[1:] == ["--selfcheck"]:
    _selfcheck()
