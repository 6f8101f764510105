"""Scheduling: the nightly command in cron and systemd, and backcheck deployed to Scrapyd.

The Scrapyd test deploys the project with scrapyd-client's `scrapyd-deploy`
(`deploy/scrapyd-deploy.sh`, reading scrapy.cfg) to a real `scrapyd` on a free
127.0.0.1 port, schedules `verify` jobs through its HTTP API and reads the
database they wrote. The unit files are checked with `systemd-analyze verify`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, proxy_env, run_cli
from tests.test_e2e import link, page

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
UNITS = ROOT / "deploy" / "systemd"
#: Where the units and the README expect backcheck; the tests put this venv's there.
PLACEHOLDER = "/opt/backcheck/bin/backcheck"
PROJECT = "backcheck"  # scrapy.cfg [deploy] project
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def setup_db(init_db: Callable[..., str], tmp_path: Path, sources: list[str]) -> Path:
    db = Path(init_db(tmp_path / "nightly.db", "--site", "acme.com"))
    links = tmp_path / "links.csv"
    links.write_text(
        "source_url,target_url\n" + "".join(f"{s},https://acme.com/\n" for s in sources)
    )
    imported = run_cli(["import", str(links), "--db", str(db)])
    assert imported.returncode == 0, imported.stderr
    return db


# --- Scrapyd -----------------------------------------------------------------------------


def test_verify_spider_due_argument_picks_what_the_cli_picks(init_db, tmp_path: Path) -> None:
    """`-a due=1` (a Scrapyd job's nightly policy): the due backlinks within `limit`,
    in `runs.due_backlinks` order; nothing due starts no run."""
    from scrapy.utils.test import get_crawler

    from crawler.spiders.verify import VerifySpider
    from verifier.store import runs

    def spider_for(**args: str) -> VerifySpider:
        # As Scrapy and Scrapyd make it: the run starts once the settings are known.
        return VerifySpider.from_crawler(get_crawler(VerifySpider), db=str(db), **args)

    db = setup_db(init_db, tmp_path, [f"http://d{i}.blog.com/p" for i in range(4)])
    query(db, "update backlinks set next_check_at = '2999-01-01' where source_url like '%d1.%'")
    spider = spider_for(due="1", limit="2")
    assert spider.run_id == 1
    picked = query(
        db,
        "select b.source_url from run_items r join backlinks b on b.id = r.backlink_id"
        " where r.run_id = 1 order by r.rowid",
    )
    assert picked == [("http://d0.blog.com/p",), ("http://d2.blog.com/p",)]
    runs.finish_run(spider.db, 1, "finished")

    query(db, "update backlinks set next_check_at = '2999-01-01'")
    idle = spider_for(due="1")
    assert (idle.run_id, idle.sites) == (None, [])
    assert query(db, "select count(*) from runs") == [(1,)]
    everything = spider_for()  # without `due`: every backlink, as before
    assert runs.pending_count(everything.db, everything.run_id) == 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Scrapyd:
    """A scrapyd process in its own folder, talked to over HTTP on 127.0.0.1."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        (home / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {self.port}\n"
            f"eggs_dir = {home / 'eggs'}\n"
            f"logs_dir = {home / 'logs'}\n"
            f"dbs_dir = {home / 'dbs'}\n"
            "poll_interval = 0.2\n"  # a job starts within 0.2 s of being scheduled
        )
        self.output = (home / "scrapyd.out").open("wb")
        # Its own session: the finally block ends scrapyd and any job it started.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scrapyd", "--pidfile="],
            cwd=home,
            env=env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def get(self, endpoint: str, **params: str) -> dict:
        url = self.url + endpoint + "?" + urllib.parse.urlencode(params)
        with NO_PROXY.open(url, timeout=10) as answer:
            return json.loads(answer.read())

    def post(self, endpoint: str, fields: list[tuple[str, str]]) -> dict:
        data = urllib.parse.urlencode(fields).encode()
        with NO_PROXY.open(self.url + endpoint, data=data, timeout=10) as answer:
            return json.loads(answer.read())

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                if self.get("daemonstatus.json")["status"] == "ok":
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"scrapyd did not answer on {self.url}:\n{self.log()}")

    def run_job(self, spider_args: list[tuple[str, str]], timeout: float = 45) -> str:
        """Schedule a job, wait until listjobs.json lists it finished; return its log."""
        answer = self.post(
            "schedule.json", [("project", PROJECT), ("spider", "verify"), *spider_args]
        )
        assert answer["status"] == "ok", answer
        job = answer["jobid"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.get("listjobs.json", project=PROJECT)
            if any(j["id"] == job for j in jobs["finished"]):
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"job {job} did not finish: {jobs}\n{self.log()}")
        return (self.home / "logs" / PROJECT / "verify" / f"{job}.log").read_text()

    def log(self) -> str:
        self.output.flush()
        return (self.home / "scrapyd.out").read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.output.close()


@pytest.fixture
def scrapyd_home(tmp_path: Path) -> Path:
    if shutil.which("scrapyd-deploy", path=str(BIN)) is None:
        pytest.skip("scrapyd-client is not installed (pip install -e '.[test]')")
    home = tmp_path / "scrapyd"
    home.mkdir()
    return home


def test_scrapyd_deploys_and_runs_the_nightly_verify(
    web, init_db, tmp_path: Path, scrapyd_home
) -> None:
    routes = {f"s{i}.blog.com/p": {"body": page(link("https://acme.com/"))} for i in range(3)}
    routes["s3.blog.com/p"] = {"status": 404}
    server = web(routes=routes)
    db = setup_db(init_db, tmp_path, [f"http://s{i}.blog.com/p" for i in range(4)])

    # Jobs inherit scrapyd's environment: their requests go to the virtual web.
    env = {**proxy_env(server), "HOME": str(scrapyd_home)}
    had_setup_py = (ROOT / "setup.py").exists()
    scrapyd = Scrapyd(scrapyd_home, env)
    try:
        scrapyd.wait_ready()
        # scrapy.cfg names the project and its settings; ~/.scrapy.cfg adds a target.
        (scrapyd_home / ".scrapy.cfg").write_text(f"[deploy:test]\nurl = {scrapyd.url}\n")
        deploy_env = {k: v for k, v in env.items() if "proxy" not in k.lower()}
        deploy_env["PATH"] = f"{BIN}{os.pathsep}{os.environ['PATH']}"
        deployed = subprocess.run(
            ["bash", str(ROOT / "deploy" / "scrapyd-deploy.sh"), "test"],
            cwd=scrapyd_home,
            env=deploy_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert deployed.returncode == 0, deployed.stderr
        assert json.loads(deployed.stdout)["status"] == "ok", deployed.stdout
        assert 'Deploying to project "backcheck"' in deployed.stderr
        assert list((scrapyd_home / "eggs" / PROJECT).glob("*.egg")), "no egg stored"
        spiders = scrapyd.get("listspiders.json", project=PROJECT)
        assert {"verify", "crawl", "mentions"} <= set(spiders["spiders"]), spiders

        settings = ["AUTOTHROTTLE_ENABLED=0", "RETRY_ENABLED=0", "DOWNLOAD_TIMEOUT=3"]
        nightly = [("db", str(db)), ("due", "1")] + [("setting", s) for s in settings]
        log = scrapyd.run_job(nightly)
        assert "Traceback" not in log, log
        assert query(db, "select id, state from runs") == [(1, "finished")], log
        checks = query(
            db,
            "select b.source_url, c.status, c.reason from checks c"
            " join backlinks b on b.id = c.backlink_id where c.run_id = 1 order by 1",
        )
        assert checks == [
            ("http://s0.blog.com/p", "live", None),
            ("http://s1.blog.com/p", "live", None),
            ("http://s2.blog.com/p", "live", None),
            ("http://s3.blog.com/p", "lost", "page_not_found"),
        ], log
        assert server.hits("s0.blog.com", "/p") == 1

        # The next night nothing is due: the job ends without a run, as `verify --due` does.
        log = scrapyd.run_job(nightly)
        assert "nothing due" in log and "Traceback" not in log, log
        assert query(db, "select count(*) from runs") == [(1,)]
        assert server.hits("s0.blog.com", "/p") == 1
    finally:
        scrapyd.stop()
    # The deploy packed a copy: the work tree gained no generated setup.py or egg-info.
    assert (ROOT / "setup.py").exists() == had_setup_py
    assert not (ROOT / "project.egg-info").exists()


# --- cron and systemd ------------------------------------------------------------------


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_the_readme_crontab_line_runs(init_db, tmp_path: Path) -> None:
    """The documented crontab line, run by sh as cron would, with nothing due."""
    section = readme_section("Run it every night")
    block = re.search(r"```cron\n(.*?)```", section, re.S)
    assert block, "no ```cron block in the README section"
    [line] = [ln for ln in block.group(1).splitlines() if ln and not ln.startswith("#")]
    minute, hour, day, month, weekday, command = line.split(None, 5)
    assert all(re.fullmatch(r"[\d*,/-]+", f) for f in (minute, hour, day, month, weekday))
    assert PLACEHOLDER in command

    home = tmp_path / "home"
    (home / "backcheck").mkdir(parents=True)
    (home / ".config" / "backcheck").mkdir(parents=True)
    # The example environment file, with one setting the run can only get from it.
    db = home / "seo data" / "backcheck.db"
    db.parent.mkdir()
    example = (ROOT / "deploy" / "backcheck.env.example").read_text()
    env_file = home / ".config" / "backcheck" / "backcheck.env"
    env_file.write_text(f"{example}BACKCHECK_DB='{db}'\n")
    init_db(db, "--site", "acme.com")
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh"}
    done = subprocess.run(
        ["/bin/sh", "-c", command.replace(PLACEHOLDER, str(BIN / "backcheck"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert (home / "backcheck" / "verify.log").read_text().strip() == "nothing due"
    assert not (home / "backcheck" / "backcheck.db").exists()  # BACKCHECK_DB was exported


def unit_copies(folder: Path) -> list[Path]:
    """The unit files with ExecStart pointing at this venv's backcheck."""
    folder.mkdir()
    copies = []
    for unit in sorted(UNITS.glob("backcheck-*")):
        text = unit.read_text().replace(PLACEHOLDER, str(BIN / "backcheck"))
        copies.append(folder / unit.name)
        copies[-1].write_text(text)
    return copies


def analyze(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    runtime = tmp_path / "runtime"
    runtime.mkdir(exist_ok=True, mode=0o700)
    # A user manager needs a runtime directory; none exists in a container or CI.
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path)}
    return subprocess.run(
        ["systemd-analyze", *args], capture_output=True, text=True, timeout=60, env=env
    )


needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (.ci/run installs it: apt-get install systemd)",
)


@needs_systemd
@pytest.mark.parametrize("manager", ["--system", "--user"])
def test_systemd_units_verify_clean(manager: str, tmp_path: Path) -> None:
    units = unit_copies(tmp_path / "units")
    assert [u.name for u in units] == [
        "backcheck-verify.service",
        "backcheck-verify.timer",
        "backcheck-worker.service",
    ]
    done = analyze([manager, "verify", *map(str, units)], tmp_path)
    # Unknown keys and bad values are only warned about: clean means no output at all.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@needs_systemd
def test_systemd_unit_placeholder_is_the_only_edit(tmp_path: Path) -> None:
    """Unedited, the units fail verification only for the documented binary path."""
    units = sorted(str(u) for u in UNITS.glob("backcheck-*"))
    done = analyze(["verify", *units], tmp_path)
    assert done.returncode != 0
    problems = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
    assert problems == [
        f"backcheck-{unit}.service: Command {PLACEHOLDER} is not executable: "
        "No such file or directory"
        for unit in ("verify", "worker")
    ]


def test_service_command_runs_with_nothing_due(init_db, tmp_path: Path) -> None:
    """The service's ExecStart, with its Environment=, as systemd would run it."""
    service = (UNITS / "backcheck-verify.service").read_text()
    [command] = re.findall(r"^ExecStart=(.+)$", service, re.M)
    [db_line] = re.findall(r"^Environment=BACKCHECK_DB=(.+)$", service, re.M)
    state = tmp_path / "state"
    db = Path(db_line.replace("%S", str(state)))
    db.parent.mkdir(parents=True)
    init_db(db, "--site", "acme.com")
    args = command.split()
    assert args[0] == PLACEHOLDER
    env = {**os.environ, "BACKCHECK_DB": str(db)}
    done = subprocess.run(
        [str(BIN / "backcheck"), *args[1:]],
        cwd=db.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "nothing due"), done.stderr
