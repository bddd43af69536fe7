#!/usr/bin/env python3
"""Opens a cloudaudit HTML report in headless Chromium and checks what a person sees.

Drives Debian's chromium through chromium-driver over the W3C WebDriver HTTP
protocol with the standard library only (no Selenium, no npm).

  html_report_e2e.py check   --cloudaudit BIN --db STORE --html REPORT --artifacts DIR
      Compares the page with the store (SQL through `cloudaudit query`):
      header counts, a severity click, the search box, a finding's detail
      (reason, filled-in CLI), hostile names shown as text, no console
      errors, no network request. Keeps screenshots in DIR.
  html_report_e2e.py probe
      Exits 77 when chromium cannot start, 0 when it can.
  html_report_e2e.py measure --html REPORT [--runs N]
      Prints how long the page takes to open (for docs/performance.md).

Exit codes: 0 pass, 1 a check failed, 77 chromium cannot start (skip).
"""
import argparse
import base64
import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77


class Skip(Exception):
    pass


class WebDriver:
    """The few W3C WebDriver commands the test needs, plus Chrome's CDP bridge."""

    def __init__(self, driver_path, chromium_path, width=1440, height=1000):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="cloudaudit-chromium-")
        self.log = open(os.path.join(self.profile, "chromedriver.log"), "w+")
        self.proc = subprocess.Popen([driver_path, f"--port={self.port}"], stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 20
        while True:
            try:
                if self._req("GET", "/status", timeout=2).get("value", {}).get("ready"):
                    break
            except (OSError, urllib.error.URLError):
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise Skip(f"chromedriver did not start: {self._driver_log()}")
            time.sleep(0.1)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--force-color-profile=srgb",
                f"--user-data-dir={self.profile}/profile", f"--window-size={width},{height}",
                # Any request that escaped the page's CSP would go here and fail.
                "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium_path, "args": args},
            "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
        }}}
        try:
            resp = self._req("POST", "/session", caps, timeout=60)
        except urllib.error.HTTPError as e:
            raise Skip(f"chromium did not start: {e.read().decode(errors='replace')[:600]}")
        self.session = resp["value"]["sessionId"]

    def _driver_log(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-800:]

    def _req(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"{}")

    def cmd(self, method, path, body=None, timeout=60):
        try:
            return self._req(method, f"/session/{self.session}{path}", body, timeout)["value"]
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"WebDriver {method} {path}: {e.read().decode(errors='replace')[:800]}") from None

    def cdp(self, command, params=None):
        return self.cmd("POST", "/goog/cdp/execute", {"cmd": command, "params": params or {}})

    def get(self, url):
        self.cmd("POST", "/url", {"url": url}, timeout=300)

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)}, timeout=300)

    def find(self, css, many=False):
        key = "element-6066-11e4-a52e-4f735466cecf"
        if many:
            return [e[key] for e in self.cmd("POST", "/elements", {"using": "css selector", "value": css})]
        return self.cmd("POST", "/element", {"using": "css selector", "value": css})[key]

    def click(self, css):
        self.cmd("POST", f"/element/{self.find(css)}/click", {})

    def click_at(self, x, y):
        """A real mouse click at viewport coordinates (for shapes whose box centre is not on them)."""
        self.cmd("POST", "/actions", {"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [
            {"type": "pointerMove", "duration": 0, "origin": "viewport", "x": int(x), "y": int(y)},
            {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]}]})

    def type(self, css, text):
        self.cmd("POST", f"/element/{self.find(css)}/value", {"text": text})

    def keys(self, css, text):
        self.type(css, text)

    def text(self, css):
        return self.cmd("GET", f"/element/{self.find(css)}/text")

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.cmd("GET", "/screenshot")))
        return path

    def logs(self, kind):
        return self.cmd("POST", "/se/log", {"type": kind})

    def wait(self, script, what, timeout=120, *args):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.js(script, *args):
                return
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for {what}")

    def close(self):
        try:
            if getattr(self, "session", None):
                self._req("DELETE", f"/session/{self.session}", timeout=30)
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def find_browser():
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/lib/chromium/chromium"
    if not (os.path.exists(driver) and os.path.exists(chromium)):
        raise Skip("chromium and chromium-driver are not installed (scripts/install-deps.sh installs them)")
    return driver, chromium


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def eq(self, name, got, want):
        if got == want:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {name}: page shows {got!r}, expected {want!r}")

    def true(self, name, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {name}" + (f": {detail}" if detail else ""))


def sql(args, query):
    out = subprocess.run([args.cloudaudit, "query", "--db", args.db, "--format", "csv", query],
                         check=True, capture_output=True, text=True).stdout
    return list(csv.reader(io.StringIO(out)))[1:]


def sql_int(args, query):
    return int(sql(args, query)[0][0])


def num(text):
    return int(text.replace(",", "").strip())


def check(args):
    driver, chromium = find_browser()
    os.makedirs(args.artifacts, exist_ok=True)
    wd = WebDriver(driver, chromium)
    c = Checks()
    try:
        scan = sql_int(args, "SELECT max(id) FROM scans")
        where = f"scan_id = {scan}"
        alarms = sql_int(args, f"SELECT count(*) FROM findings WHERE {where} AND status='alarm' AND suppression IS NULL")
        by_sev = dict((s, int(n)) for s, n in sql(args, f"SELECT severity, count(*) FROM findings WHERE {where} AND status='alarm' AND suppression IS NULL GROUP BY 1"))
        suppressed = sql_int(args, f"SELECT count(*) FROM findings WHERE {where} AND suppression IS NOT NULL")
        ok = sql_int(args, f"SELECT count(*) FROM findings WHERE {where} AND status='ok' AND suppression IS NULL")
        rules = sql_int(args, f"SELECT count(*) FROM scan_rules WHERE {where}")
        resources = sql_int(args, f"SELECT count(DISTINCT account_id || '/' || region || '|' || resource) FROM findings WHERE {where}")
        c.true("the demo has alarms of several severities", alarms > 0 and len(by_sev) >= 2, f"{by_sev}")

        # No network: Chrome's network stack is offline, and every request
        # it saw is checked below (performance log).
        wd.cdp("Network.enable")
        wd.cdp("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
        # Instant scrolling, so that clicks land where the elements are.
        wd.cdp("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
        url = "file://" + os.path.abspath(args.html)
        wd.get(url)
        wd.wait("return document.body && document.body.getAttribute('data-ready') === 'true'", "the report to render")

        # Header numbers equal the store's.
        c.eq("header: open alarms", num(wd.text("[data-kpi=alarms] .kpi-value")), alarms)
        for sev, n in by_sev.items():
            c.eq(f"header: {sev} alarms", num(wd.text(f"[data-kpi={sev}] .kpi-n")), n)
        c.eq("header: suppressed", num(wd.text("[data-kpi=suppressed] .kpi-value")), suppressed)
        c.eq("header: resources", num(wd.text("[data-kpi=resources] .kpi-value")), resources)
        c.eq("header: rules", num(wd.text("[data-kpi=rules] .kpi-value")), rules)
        c.eq("header: pass rate", wd.text("[data-kpi=pass-rate] .kpi-value"), f"{100 * ok / (ok + alarms):.1f}%")
        c.eq("default view: unsuppressed alarms", int(wd.js("return document.getElementById('findings-count').dataset.count")), alarms)
        c.eq("default view: worst first", wd.js(
            "return Array.from(document.querySelectorAll('#findings-table tbody tr td:first-child .sev')).slice(0,1).map(e=>e.textContent)[0]"),
            max(by_sev, key=lambda s: ["informational", "low", "medium", "high", "critical"].index(s)))
        wd.screenshot(os.path.join(args.artifacts, "summary.png"))

        # Clicking a severity segment of the chart filters the table.
        sev = "high" if "high" in by_sev else sorted(by_sev)[0]
        # Click the middle of the donut segment's arc, where a person would.
        x, y = wd.js("const p = document.querySelector(arguments[0]); p.scrollIntoView({block: 'center'});"
                     "const m = p.getScreenCTM(); const pt = p.getPointAtLength(p.getTotalLength() / 2);"
                     "return [pt.x * m.a + pt.y * m.c + m.e, pt.x * m.b + pt.y * m.d + m.f];",
                     f"#chart-severity .seg[data-filter-key=severity][data-filter-value={sev}]")
        wd.click_at(x, y)
        count = int(wd.js("return document.getElementById('findings-count').dataset.count"))
        c.eq(f"click on the {sev} segment: rows", count, by_sev[sev])
        shown = wd.js("return Array.from(document.querySelectorAll('#findings-table tbody tr .sev')).map(e=>e.textContent)")
        c.true(f"click on the {sev} segment: every row listed is {sev}", shown and all(s == sev for s in shown), f"{shown[:5]}")
        c.true("an active-filter chip names the severity", "Severity" in wd.text("#chips") and sev.capitalize() in wd.text("#chips"))
        wd.click("#clear-filters")
        everything = int(wd.js("return document.getElementById('findings-count').dataset.count"))
        c.eq("clear all: every embedded result", everything,
             sql_int(args, f"SELECT count(*) FROM findings WHERE {where} AND (status <> 'ok' OR suppression IS NOT NULL)"))
        wd.click("#default-view")

        # The search box narrows the rows.
        term = sql(args, f"SELECT resource_name FROM findings WHERE {where} AND status='alarm' AND suppression IS NULL AND resource_name <> '' "
                         f"GROUP BY resource_name ORDER BY count(*) ASC, resource_name LIMIT 1")[0][0]
        want = sql_int(args, f"SELECT count(*) FROM findings f LEFT JOIN scan_rules r ON r.scan_id = f.scan_id AND r.rule_id = f.rule_id "
                             f"WHERE f.{where} AND f.status='alarm' AND f.suppression IS NULL AND instr(lower(f.rule_id || ' ' || "
                             f"COALESCE(json_extract(r.document, '$.title'), '') || ' ' || f.resource || ' ' || f.resource_name || ' ' || "
                             f"f.reason || ' ' || f.region || ' ' || f.account_id || ' ' || f.service), lower('{term}')) > 0")
        wd.type("#search", term + "\n")
        wd.wait("return +document.getElementById('findings-count').dataset.count !== arguments[0]", "the search to apply", 10, alarms)
        got = int(wd.js("return document.getElementById('findings-count').dataset.count"))
        c.eq(f"search {term!r}", got, want)
        c.true("search narrows", 0 < got < alarms, f"{got} of {alarms}")

        # A finding's detail: reason and the filled-in CLI commands, opened
        # with the keyboard (rows are focusable, Enter opens).
        rule = "aws.ec2.ebs_encryption_by_default_disabled"
        reason, cli = sql(args, f"SELECT reason, remediation_cli FROM findings WHERE {where} AND rule_id='{rule}' AND status='alarm'")[0]
        wd.click("#default-view")
        wd.type("#search", rule + "\n")
        wd.wait("return document.getElementById('findings-count').dataset.count === '1'", "one row for " + rule, 10)
        row = wd.find("#findings-table tbody tr[data-finding]")
        wd.cmd("POST", f"/element/{row}/value", {"text": "\ue007"})  # Enter
        wd.wait("return !document.getElementById('drawer').hidden", "the detail to open", 10)
        c.eq("detail: reason", wd.text("#drawer .detail-reason"), reason.strip())
        c.eq("detail: filled-in CLI", wd.js("return document.querySelector('#drawer [data-panel=cli] pre').textContent").strip(), cli.strip())
        c.true("detail: the CLI names the region", "--region us-east-1" in cli)
        c.true("detail: has console steps and references",
               wd.js("return !!document.querySelector('#drawer [data-tab=console]') && document.querySelectorAll('#drawer .refs a').length > 0"))
        c.true("detail: NEW marker (the previous scan had default encryption on)",
               wd.js("return !!document.querySelector('#drawer .badge.new')"))
        wd.screenshot(os.path.join(args.artifacts, "detail.png"))
        wd.cmd("POST", f"/element/{wd.find('#drawer')}/value", {"text": "\ue00c"})  # Escape
        wd.wait("return document.getElementById('drawer').hidden", "Escape to close the detail", 10)
        c.true("closing the detail gives focus back to the row", wd.js("return document.activeElement && document.activeElement.hasAttribute('data-finding')"))

        # Names that try to break out of the page show as text.
        hostile = sql(args, f"SELECT reason FROM findings WHERE {where} AND status <> 'ok' AND reason LIKE '%</script>%'")
        c.true("the store holds a hostile reason (test setup)", bool(hostile))
        if hostile:
            wd.click("#clear-filters")
            wd.type("#search", "</script>\n")
            wd.wait("return document.querySelectorAll('#findings-table tbody tr[data-finding]').length > 0", "the hostile row", 10)
            shown = wd.js("return Array.from(document.querySelectorAll('#findings-table tbody tr[data-finding] .reason')).map(e => e.textContent)")
            c.eq("reasons with </script> and <!-- show as text", sorted(shown), sorted(r[0] for r in hostile))
            c.eq("no script of the data ran", wd.js("return window.__cloudaudit_pwned === undefined"), True)

        # Compliance drill-down: a failing control lists its findings.
        wd.js("document.querySelector('[data-fw-card]').scrollIntoView()")
        wd.click("[data-fw-card]")
        wd.click("[data-ctl-status=fail]")
        failing = wd.find("#controls-table tbody tr[data-pos]", many=True)
        c.true("compliance: failing controls are listed", len(failing) > 0)
        if failing:
            wd.cmd("POST", f"/element/{failing[0]}/click", {})
            n = int(wd.js("return document.getElementById('findings-count').dataset.count"))
            c.true("compliance: a failing control drills down to its alarms", n > 0 and "Control" in wd.text("#chips"), f"{n}")

        # Dark mode renders too (a screenshot to look at).
        wd.cdp("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"},
                                                           {"name": "prefers-reduced-motion", "value": "reduce"}]})
        wd.click("#default-view")
        wd.js("window.scrollTo(0, 0)")
        wd.screenshot(os.path.join(args.artifacts, "summary-dark.png"))

        # No console errors, no network.
        errors = [e for e in wd.logs("browser") if e.get("level") in ("SEVERE", "ERROR")]
        c.true("no console errors", not errors, json.dumps(errors)[:1200])
        requests = set()
        for entry in wd.logs("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                # Everything the report's document asked for (the browser's
                # own start page, loaded before it, does not count).
                if msg["params"].get("documentURL") == url:
                    requests.add(msg["params"]["request"]["url"])
        c.true("no network requests (only the file itself)", requests <= {url}, f"{sorted(requests)[:10]}")
        entries = wd.js("return performance.getEntriesByType('resource').map(e => e.name)")
        c.true("no resource loads", not entries, f"{entries[:10]}")
    finally:
        wd.close()
    for name in ("summary.png", "detail.png", "summary-dark.png"):
        print("screenshot:", os.path.join(os.path.abspath(args.artifacts), name))
    print(f"{c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


def probe(_args):
    """Starts and stops the browser: exit 77 early, before the slow setup."""
    driver, chromium = find_browser()
    WebDriver(driver, chromium).close()
    return 0


def measure(args):
    driver, chromium = find_browser()
    size = os.path.getsize(args.html)
    results = []
    for _ in range(args.runs):
        wd = WebDriver(driver, chromium)
        try:
            start = time.time()
            wd.get("file://" + os.path.abspath(args.html))
            wd.wait("return document.body && document.body.getAttribute('data-ready') === 'true'", "the report", 600)
            wall = time.time() - start
            t = wd.js("const n = performance.getEntriesByType('navigation')[0];"
                      "return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, parse: window.cloudauditReport.parseMs,"
                      " render: window.cloudauditReport.renderMs, findings: window.cloudauditReport.findings,"
                      " heap: performance.memory ? performance.memory.usedJSHeapSize : 0}")
            # Interactions on the full set, timed inside the page: a search
            # over every finding (the first builds the search index), then
            # a sort of every result by resource.
            wd.click("#clear-filters")
            wd.js("const s = document.getElementById('search'); s.value = 'resource-0421';"
                  "s.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));")
            t["first_search_ms"] = wd.js("return window.cloudauditReport.filterMs")
            wd.js("const s = document.getElementById('search'); s.value = 'resource-04';"
                  "s.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));")
            t["search_ms"] = wd.js("return window.cloudauditReport.filterMs")
            wd.click("#clear-filters")
            t["all_rows"] = int(wd.js("return document.getElementById('findings-count').dataset.count"))
            t["sort_ms"] = wd.js("const t = performance.now(); document.querySelector('#findings-table button[data-sort=resource]').click();"
                                 "return performance.now() - t")
            t["wall_s"] = wall
            results.append(t)
        finally:
            wd.close()
    best = min(results, key=lambda r: r["load"])
    print(json.dumps({"file": args.html, "bytes": size, "runs": results, "best": best}, indent=2))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    pc = sub.add_parser("check")
    pc.add_argument("--cloudaudit", required=True)
    pc.add_argument("--db", required=True)
    pc.add_argument("--html", required=True)
    pc.add_argument("--artifacts", required=True)
    sub.add_parser("probe")
    pm = sub.add_parser("measure")
    pm.add_argument("--html", required=True)
    pm.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    try:
        return {"check": check, "probe": probe, "measure": measure}[args.mode](args)
    except Skip as e:
        print(f"SKIP: {e}")
        return SKIP


if __name__ == "__main__":
    sys.exit(main())
