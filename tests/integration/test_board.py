"""The board (进度看板) in a real browser: `collabd board` serves a state built by the
daemon (a project under way, a request, a problem) read-only; a person gets a link by
mailing 看板, and headless Chromium (Debian's chromium + chromium-driver, driven by
selenium) loads the lists, filters them, opens a record's page, and is refused without
a link. Screenshots go to tests/artifacts/ (or $COLLABD_TEST_ARTIFACTS)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from helpers import (
    Harness,
    body_text,
    default_rules,
    finance_request,
    free_port,
    make_deployment,
    message,
    no_review_meetings,
    require_binary,
    wait_until,
)
from plans import plan_xlsx, with_attachment

pytestmark = pytest.mark.integration

ARTIFACTS = Path(os.environ.get("COLLABD_TEST_ARTIFACTS",
                                Path(__file__).resolve().parents[1] / "artifacts"))
NOW = "2026-12-03T10:00"
FORM = finance_request()
PROBLEM = "问题标题：报表口径不一致\n涉及部门：研发部\n问题描述：口径不一致。\n严重程度：重要\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A deployment with a project under way, a request and a problem, the board
    serving it, and 李静's link as mailed to her."""
    port = free_port()
    config = make_deployment(tmp_path_factory.mktemp("board") / "deploy", extra_yaml=(
        f"board:\n  port: {port}\n  url: http://127.0.0.1:{port}\n"
        "  trusted_header: X-Remote-User\n"))
    no_review_meetings(config)
    h = Harness(config, "2026-12-01 10:00")
    h.at("2026-12-01 10:05", with_attachment(
        sender="刘洋 <liu.yang@example.com>", subject="项目计划：年终促销系统上线",
        body="请建立项目。", filename="计划.xlsx", data=plan_xlsx(default_rules()),
        message_id="<b-plan@example.com>"))
    h.at("2026-12-01 10:10", message(sender="刘洋 <liu.yang@example.com>",
                                     subject="需求表：<b>折扣</b>数据", body=FORM,
                                     message_id="<b-req@example.com>"))
    h.at("2026-12-01 10:15", message(sender="陈晨 <chen.chen@example.com>",
                                     subject="问题反馈单：报表口径", body=PROBLEM,
                                     message_id="<b-prob@example.com>"))
    answer = h.at("2026-12-03 09:40", message(sender="李静 <li.jing@example.com>",
                                              subject="看板", body="",
                                              message_id="<b-ask@example.com>"))
    stranger = h.at("2026-12-03 09:41", message(sender="x@evil.test", subject="看板", body="",
                                                message_id="<b-evil@example.com>"))
    h.daemon.store.checkpoint()
    env = {**os.environ, "COLLABD_CONFIG": str(config.path)}
    log_path = config.path.parent / "board.log"
    log = log_path.open("wb")  # (a pipe nobody reads could fill and stop the server)
    proc = subprocess.Popen([sys.executable, "-m", "collabd", "board", "--now", NOW],
                            env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return urllib.request.urlopen(base + "/healthz", timeout=1).status == 200
        except OSError:
            return False

    try:
        wait_until(up, timeout=20)
        yield {"h": h, "base": base, "answer": answer, "stranger": stranger,
               "config": config, "log": log_path}
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        h.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = require_binary("chromium", why="the board is tested in a real browser")
    driver_path = require_binary("chromedriver", why="selenium drives chromium with it")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1400", "--lang=zh-CN"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _link(site: dict[str, Any]) -> str:
    [mail] = [m for m in site["answer"] if "看板" in str(m["Subject"])]
    assert str(mail["Subject"]) == "您的进度看板链接" and "li.jing" in str(mail["To"])
    assert mail["In-Reply-To"] == "<b-ask@example.com>"
    found = re.search(r"http://127\.0\.0\.1:\d+/\?t=\S+", body_text(mail))
    assert found is not None
    return found.group(0)


def _shot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"board-{name}.png"
    assert driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000  # a page, not an empty image
    return path


def _text(driver: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.CSS_SELECTOR, css).text)


def test_without_a_link_no_page_is_readable(site: dict[str, Any], browser: Any) -> None:
    browser.delete_all_cookies()
    for path in ("/", "/r/XQ-2026-0001", "/?dept=财务部"):
        browser.get(site["base"] + path)
        assert "需要访问链接" in _text(browser, "#denied")
        assert "XQ-2026-0001" not in browser.page_source
    _shot(browser, "refused")
    # A forged or altered token is refused too
    link = _link(site)
    browser.get(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
    assert "访问链接已失效" in _text(browser, "#denied")
    # And a stranger who asked got no link at all
    assert [str(m["Subject"]) for m in site["stranger"]] == ["未能识别您的邮件：看板"]
    assert "?t=" not in body_text(site["stranger"][0])


def test_the_board_lists_the_work(site: dict[str, Any], browser: Any) -> None:
    browser.delete_all_cookies()
    browser.get(_link(site))
    assert "?t=" not in browser.current_url  # the token left the address bar
    assert "李静" in _text(browser, "header")
    requests = _text(browser, "#requests")
    assert "XQ-2026-0001" in requests and "<b>折扣</b>数据" in requests  # text, not markup
    assert "待响应" in requests and "郑浩（财务部）" in requests
    projects = _text(browser, "#projects")
    assert "PJ-2026-0001" in projects and "年终促销系统上线" in projects
    assert "任务完成 0/6" in projects
    from selenium.webdriver.common.by import By

    gantt = browser.find_elements(By.CSS_SELECTOR, "#projects svg[aria-label='任务甘特图'] rect")
    assert len(gantt) >= 6  # a planned bar per task at least
    assert "WT-2026-0001" in _text(browser, "#problems")
    assert "项目启动会" in _text(browser, "#meetings")
    assert "财务部" in _text(browser, "#figures")
    _shot(browser, "overview")


def test_filters_work_without_javascript(site: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.delete_all_cookies()
    browser.get(_link(site))
    Select(browser.find_element(By.NAME, "dept")).select_by_visible_text("财务部")
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    wait_until(lambda: "dept=" in browser.current_url, timeout=10)
    assert "XQ-2026-0001" in _text(browser, "#requests")
    assert "WT-2026-0001" not in _text(browser, "#problems")  # a problem of 研发部
    browser.get(site["base"] + "/?kind=problem")
    assert "WT-2026-0001" in _text(browser, "#problems")
    assert not browser.find_elements(By.CSS_SELECTOR, "#requests")
    browser.get(site["base"] + "/?person=周杰")
    tasks = _text(browser, "#tasks")
    assert "RW-2026-0002" in tasks and "RW-2026-0001" not in tasks
    _shot(browser, "filtered")


def test_a_record_page_with_its_timeline_and_pictures(site: dict[str, Any],
                                                      browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(_link(site))
    browser.find_element(By.LINK_TEXT, "PJ-2026-0001").click()
    wait_until(lambda: browser.current_url.endswith("/r/PJ-2026-0001"), timeout=10)
    assert "年终促销系统上线" in _text(browser, "#record")
    assert browser.find_elements(By.CSS_SELECTOR, "#plan svg[aria-label='任务甘特图']")
    assert browser.find_elements(By.CSS_SELECTOR, "#burndown svg polyline")
    assert "收到项目计划" in _text(browser, "#timeline") or len(
        browser.find_elements(By.CSS_SELECTOR, "#timeline tr")) >= 2
    _shot(browser, "project")
    browser.get(site["base"] + "/r/XQ-2026-0001")
    assert "XQ-2026-0001" in _text(browser, "#record")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#timeline tr")) >= 2
    browser.get(site["base"] + "/r/XQ-2026-9999")
    assert "没有这个事项" in browser.page_source


def test_a_trusted_header_only_from_the_proxy(site: dict[str, Any]) -> None:
    def get(headers: dict[str, str]) -> int:
        request = urllib.request.Request(site["base"] + "/", headers=headers)
        try:
            return int(urllib.request.urlopen(request, timeout=10).status)
        except urllib.error.HTTPError as exc:
            return exc.code

    # from 127.0.0.1, the configured proxy address: a directory member passes
    assert get({"X-Remote-User": "wu.min@example.com"}) == 200
    assert get({"X-Remote-User": "someone@evil.test"}) == 403  # not in the directory
    assert get({}) == 403


def test_the_daemon_serves_the_board_when_enabled(tmp_path: Path) -> None:
    from helpers import DaemonProcess, collabd, smtp_send

    port = free_port()
    config = make_deployment(tmp_path / "deploy", extra_yaml=(
        f"board:\n  enabled: true\n  port: {port}\n"))
    daemon = DaemonProcess(config).start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _status(base + "/healthz") == 200, timeout=20)
        assert _status(base + "/") == 403
        smtp_send(config, message(sender="刘洋 <liu.yang@example.com>",
                                  subject="需求表：折扣数据", body=FORM,
                                  message_id="<bd-req@example.com>"),
                  sender="liu.yang@example.com")
        link = collabd("board", "--link", "LIU.YANG@example.com",
                       config=config).stdout.decode().strip()
        assert link.startswith(base + "/?t=")
        # the board reads what the daemon commits (a fresh read every few seconds)
        wait_until(lambda: "XQ-2026-0001" in _page(link), timeout=30, interval=0.5)
        bad = collabd("board", "--link", "nobody@evil.test", config=config, check=False)
        assert bad.returncode != 0 and "org directory" in bad.stderr.decode()
    finally:
        assert daemon.stop() == 0


def _status(url: str) -> int:
    try:
        return int(urllib.request.urlopen(url, timeout=5).status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _page(link: str) -> str:
    """Follow a link as a browser without JavaScript would: the cookie it sets, then
    the page."""
    import http.cookiejar

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        return str(opener.open(link, timeout=5).read().decode("utf-8"))
    except OSError:
        return ""


def test_record_pages_speak_chinese_and_filters_take_what_people_type(
        site: dict[str, Any]) -> None:
    link = _link(site)
    meeting = _page(link.replace("/?t=", "/r/HY-2026-0001?t="))
    for english in ("coordination", "日历 UID", "target_head", "来源"):
        assert english not in meeting
    problem = _page(link.replace("/?t=", "/r/WT-2026-0001?t="))
    assert 'href="/r/HY-' in problem  # the problem's meeting, a link
    kickoff = _page(link.replace("/?t=", "/r/" + _kickoff(site) + "?t="))
    assert "参会人" in kickoff and "未答复" in kickoff and "项目启动会" in kickoff
    by_alias = _page(link + "&dept=" + quote("财务"))  # an alias of 财务部 in org.yaml
    assert 'value="财务部" selected' in by_alias and "XQ-2026-0001" in by_alias
    assert "WT-2026-0001" not in by_alias
    unknown = _page(link + "&dept=" + quote("不存在部") + "&kind=" + quote("问题"))
    assert "组织目录中没有「不存在部」" in unknown
    assert "XQ-2026-0001" not in unknown and "WT-2026-0001" in unknown  # 问题 = problem


def test_someone_removed_from_the_directory_loses_the_board_at_once(
        site: dict[str, Any]) -> None:
    import http.cookiejar

    from helpers import collabd

    config = site["config"]
    link = collabd("board", "--link", "周杰", config=config).stdout.decode().strip()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    assert opener.open(link, timeout=5).status == 200
    org = config.rules_dir / "org.yaml"
    before = org.read_text(encoding="utf-8")
    entry = "    members:\n      - name: 周杰\n        address: zhou.jie@example.com\n"
    assert entry in before
    try:
        org.write_text(before.replace(entry, ""), encoding="utf-8")

        def refused() -> bool:
            try:
                opener.open(site["base"] + "/", timeout=5)
            except urllib.error.HTTPError as exc:
                return exc.code == 403
            return False

        wait_until(refused, timeout=15, interval=0.3,
                   message=site["log"].read_text(errors="replace")[-3000:])
    finally:
        org.write_text(before, encoding="utf-8")


def _kickoff(site: dict[str, Any]) -> str:
    return str(site["h"].record("PJ-2026-0001")["kickoff"])
