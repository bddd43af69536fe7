#!/usr/bin/env python3
"""Records the AWS-client conformance fixtures with the real AWS CLI v2.

For every case directory (tests/conformance/<protocol>/<case>/, holding
case.json and responses/N.http) this starts a local HTTP server on 127.0.0.1
that answers with the recorded responses in order and records every request
it receives, runs the AWS CLI v2 (Debian's /usr/bin/aws) against it with the
case's parameters, and writes:

  expected-output.json    the CLI's exact stdout bytes (may be empty)
  expected-error.json     {"exit_code": N, "stderr": "..."} when the CLI fails
  expected-requests.json  the requests the CLI sent, normalized (see README.md)

Usage:
  record_conformance.py [--check | --cpp-models] [--jobs N] [--raw] [--verbose]
                        [CASE_DIR_OR_FOLDER ...]

With no directory, every case under tests/conformance is processed.
--check re-runs the CLI and diffs against the files instead of writing them
(exit status 1 on any difference). --cpp-models does the same with the CLI
loading python3-botocore's models (the C++ client's) through AWS_DATA_PATH,
to see which cases change only because the model versions differ. --raw
prints the raw requests as received, --verbose the CLI's output.

The CLI never reaches AWS: --endpoint-url points at the local server, which
is also the CLI's HTTP proxy (so every connection, whatever host name the CLI
builds, ends there without a name lookup); the environment is replaced by a
fixed, credential-free one (dummy keys, no config files, no instance
metadata, TZ=UTC); the server's port in the CLI's output is replaced by the
literal "PORT" so that runs are reproducible.
"""
import argparse
import base64
import concurrent.futures
import difflib
import gzip
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFORMANCE_DIR = os.path.join(REPO, "tests", "conformance")
AWS_CLI = "/usr/bin/aws"
# The CLI's own (vendored) models, and the ones the C++ client embeds.
CLI_MODELS = "/usr/lib/python3/dist-packages/awscli/botocore/data"
CPP_MODELS = "/usr/lib/python3/dist-packages/botocore/data"

# botocore service name -> AWS CLI command, where the CLI renames it
# (awscli/customizations: s3.py, configservice/rename_cmd.py, codedeploy).
CLI_SERVICE_NAMES = {"s3": "s3api", "config": "configservice", "codedeploy": "deploy"}

# Request headers that never go into expected-requests.json: transport,
# signing and SDK-metadata headers whose values vary per run or per client.
DROPPED_HEADERS = {
    "authorization", "x-amz-date", "user-agent", "content-length", "host",
    "accept-encoding", "expect", "x-amz-content-sha256", "x-amz-security-token",
    "connection",
}
DROPPED_HEADER_PREFIXES = ("amz-sdk-",)

CLI_TIMEOUT_SECONDS = 120


# ---------------------------------------------------------------- helpers

_first_cap_regex = re.compile("(.)([A-Z][a-z]+)")
_end_cap_regex = re.compile("([a-z0-9])([A-Z])")
_special_case_transform = re.compile("[A-Z]{2,}s$")


def xform_name(name, sep="-"):
    """botocore.xform_name: the CLI's operation command name."""
    if sep in name:
        return name
    special = _special_case_transform.search(name)
    if special is not None:
        matched = special.group()
        name = name[: -len(matched)] + sep + matched.lower()
    s1 = _first_cap_regex.sub(r"\1" + sep + r"\2", name)
    return _end_cap_regex.sub(r"\1" + sep + r"\2", s1).lower()


def load_json_file(path):
    if path.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


_model_cache = {}
_model_lock = threading.Lock()


def load_model(data_dir, service, kind="service-2"):
    key = (data_dir, service, kind)
    with _model_lock:
        if key in _model_cache:
            return _model_cache[key]
    sdir = os.path.join(data_dir, service)
    versions = sorted(d for d in os.listdir(sdir) if d[:1].isdigit())
    model = None
    for ext in (".json", ".json.gz"):
        path = os.path.join(sdir, versions[-1], kind + ext)
        if os.path.exists(path):
            model = load_json_file(path)
            break
    with _model_lock:
        _model_cache[key] = model
    return model


DOC_KEYS = {"documentation", "documentationUrl", "examples", "deprecatedMessage"}


def _strip_docs(node):
    if isinstance(node, dict):
        return {k: _strip_docs(v) for k, v in node.items() if k not in DOC_KEYS}
    if isinstance(node, list):
        return [_strip_docs(v) for v in node]
    return node


def _shape_closure(model, roots):
    seen = {}
    todo = [r for r in roots if r]
    while todo:
        name = todo.pop()
        if name in seen or name not in model["shapes"]:
            continue
        shape = _strip_docs(model["shapes"][name])
        seen[name] = shape
        for key in ("member", "key", "value"):
            if key in shape:
                todo.append(shape[key]["shape"])
        for member in shape.get("members", {}).values():
            todo.append(member["shape"])
    return seen


def model_differences(service, operation):
    """Differences between the CLI's and the C++ client's model for one
    operation (its definition and every shape it reaches)."""
    diffs = []
    a, b = load_model(CLI_MODELS, service), load_model(CPP_MODELS, service)
    if a is None or b is None:
        return ["service model missing"]
    for key in ("protocol", "jsonVersion", "targetPrefix", "apiVersion", "signingName"):
        if a["metadata"].get(key) != b["metadata"].get(key):
            diffs.append(f"metadata.{key}: {a['metadata'].get(key)!r} vs {b['metadata'].get(key)!r}")
    oa = _strip_docs(a["operations"].get(operation))
    ob = _strip_docs(b["operations"].get(operation))
    if oa != ob:
        diffs.append(f"operation {operation} definition differs")
    if oa is None or ob is None:
        return diffs

    def roots(op):
        r = [op.get("input", {}).get("shape"), op.get("output", {}).get("shape")]
        r += [e["shape"] for e in op.get("errors", [])]
        return r

    sa, sb = _shape_closure(a, roots(oa)), _shape_closure(b, roots(ob))
    for name in sorted(set(sa) | set(sb)):
        if sa.get(name) != sb.get(name):
            diffs.append(f"shape {name} differs")
    pa = (load_model(CLI_MODELS, service, "paginators-1") or {}).get("pagination", {}).get(operation)
    pb = (load_model(CPP_MODELS, service, "paginators-1") or {}).get("pagination", {}).get(operation)
    if pa != pb:
        diffs.append(f"paginator {operation} differs")
    return diffs


# ------------------------------------------------------------- responses

def parse_http_file(path):
    """A recorded response: status line, headers, blank line, body bytes
    (everything after the blank line, unchanged). LF or CRLF line ends."""
    with open(path, "rb") as f:
        data = f.read()
    m = re.search(rb"\r?\n\r?\n", data)
    if m is None:
        head, body = data, b""
    else:
        head, body = data[: m.start()], data[m.end():]
    lines = head.decode("utf-8").replace("\r\n", "\n").split("\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or not status[0].startswith("HTTP/"):
        raise ValueError(f"{path}: bad status line {lines[0]!r}")
    code = int(status[1])
    reason = status[2] if len(status) > 2 else ""
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{path}: bad header line {line!r}")
        headers.append((name.strip(), value.strip()))
    return {"status": code, "reason": reason, "headers": headers, "body": body}


def load_responses(case_dir):
    rdir = os.path.join(case_dir, "responses")
    files = []
    if os.path.isdir(rdir):
        for name in os.listdir(rdir):
            m = re.fullmatch(r"(\d+)\.http", name)
            if m:
                files.append((int(m.group(1)), os.path.join(rdir, name)))
    files.sort()
    if [n for n, _ in files] != list(range(1, len(files) + 1)):
        raise ValueError(f"{case_dir}: responses must be 1.http, 2.http, ... without gaps")
    return [parse_http_file(p) for _, p in files]


# ---------------------------------------------------------------- server

UNEXPECTED_BODY = (b'<ErrorResponse><Error><Code>ConformanceRecorderNoMoreResponses</Code>'
                   b'<Message>the case has no response for this request</Message></Error></ErrorResponse>')


class RecordingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, responses):
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.responses = responses
        self.requests = []
        self.lock = threading.Lock()


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        body = self._read_body()
        server = self.server
        with server.lock:
            index = len(server.requests)
            # The CLI reaches us as its HTTP proxy, so the request line holds
            # an absolute URI (http://host:port/path?query): the host the
            # CLI chose (host prefixes...) is seen without any name lookup.
            host, target = self.headers.get("Host", ""), self.path
            if target.startswith("http://"):
                host, slash, rest = target[len("http://"):].partition("/")
                target = slash + rest
            server.requests.append({
                "method": self.command,
                "host": host,
                "target": target,
                "headers": list(self.headers.items()),
                "body": body,
            })
            response = server.responses[index] if index < len(server.responses) else None
        if response is None:
            response = {"status": 400, "reason": "Bad Request",
                        "headers": [("Content-Type", "text/xml")], "body": UNEXPECTED_BODY}
        self.send_response_only(response["status"], response["reason"] or None)
        has_length = False
        for name, value in response["headers"]:
            if name.lower() == "content-length":
                has_length = True
            self.send_header(name, value)
        if not has_length:
            self.send_header("Content-Length", str(len(response["body"])))
        self.end_headers()
        if self.command != "HEAD" and response["body"]:
            self.wfile.write(response["body"])
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle


# ------------------------------------------------------------ normalizing

def split_pairs(text, plus_is_space):
    unquote = urllib.parse.unquote_plus if plus_is_space else urllib.parse.unquote
    pairs = []
    if not text:
        return pairs
    for part in text.split("&"):
        name, _, value = part.partition("=")
        pairs.append([unquote(name), unquote(value)])
    return pairs


def normalize_request(raw, protocol, port):
    path, _, query = raw["target"].partition("?")
    headers = {}
    for name, value in raw["headers"]:
        lname = name.lower()
        if lname in DROPPED_HEADERS or lname.startswith(DROPPED_HEADER_PREFIXES):
            continue
        headers[lname] = value
    body = raw["body"]
    if not body:
        norm_body = ""
    elif protocol in ("query", "ec2"):
        norm_body = split_pairs(body.decode("utf-8"), plus_is_space=True)
    elif protocol in ("json", "rest-json") and "json" in headers.get("content-type", "json"):
        norm_body = json.loads(body.decode("utf-8"))
    else:
        try:
            norm_body = body.decode("utf-8")
        except UnicodeDecodeError:
            norm_body = {"base64": base64.b64encode(body).decode("ascii")}
    return {
        "method": raw["method"],
        "host": raw["host"].replace(f":{port}", ":PORT"),
        "path": path,
        "query": split_pairs(query, plus_is_space=False),
        "headers": dict(sorted(headers.items())),
        "body": norm_body,
    }


def _is_pair_list(value):
    return isinstance(value, list) and value and all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in value)


def dump_json(value, indent=0):
    """json.dumps(indent=2), except that [name, value] pairs (query strings,
    form bodies) take one line each."""
    pad = "  " * indent
    if isinstance(value, dict) and value:
        items = [f'{pad}  {json.dumps(k, ensure_ascii=False)}: {dump_json(v, indent + 1).lstrip()}'
                 for k, v in value.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if _is_pair_list(value):
        items = [pad + "  " + json.dumps(p, ensure_ascii=False) for p in value]
        return pad + "[\n" + ",\n".join(items) + "\n" + pad + "]"
    if isinstance(value, list) and value:
        items = [dump_json(v, indent + 1) for v in value]
        return pad + "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return pad + json.dumps(value, ensure_ascii=False)


# ----------------------------------------------------------------- a case

CLEAN_ENV = {
    "PATH": "/usr/bin:/bin",
    "LC_ALL": "C.UTF-8",
    "LANG": "C.UTF-8",
    "TZ": "UTC",
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "dummy",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_PAGER": "",
}


def load_case(case_dir):
    case = load_json_file(os.path.join(case_dir, "case.json"))
    for key in ("service", "operation", "params", "description"):
        if key not in case:
            raise ValueError(f"{case_dir}/case.json: missing {key!r}")
    return case


def run_case(case_dir, data_path=None):
    """Runs the CLI for one case; returns (files, notes, raw requests, exit
    code) where files maps file name -> bytes (None: must not exist).
    data_path: a botocore data directory the CLI loads its models from
    instead of its own (AWS_DATA_PATH)."""
    case = load_case(case_dir)
    service, operation = case["service"], case["operation"]
    responses = load_responses(case_dir)
    model = load_model(CLI_MODELS, service)
    if operation not in model["operations"]:
        raise ValueError(f"{case_dir}: {service} has no operation {operation}")
    protocol = model["metadata"]["protocol"]

    server = RecordingServer(responses)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with tempfile.TemporaryDirectory(prefix="conformance-") as tmp:
            params_path = os.path.join(tmp, "params.json")
            with open(params_path, "w", encoding="utf-8") as f:
                json.dump(case["params"], f, ensure_ascii=False)
            cmd = [AWS_CLI, CLI_SERVICE_NAMES.get(service, service), xform_name(operation),
                   "--endpoint-url", f"http://127.0.0.1:{port}", "--output", "json",
                   "--cli-input-json", "file://" + params_path]
            if not case.get("paginate", False):
                cmd.append("--no-paginate")
            # The server is also the CLI's HTTP proxy: every connection goes to
            # it, whatever host name the CLI builds, and no name is resolved.
            env = dict(CLEAN_ENV, HOME=tmp, HTTP_PROXY=f"http://127.0.0.1:{port}",
                       http_proxy=f"http://127.0.0.1:{port}")
            if data_path:
                env["AWS_DATA_PATH"] = data_path
            proc = subprocess.run(cmd, env=env, cwd=tmp, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=CLI_TIMEOUT_SECONDS)
    finally:
        server.shutdown()
        server.server_close()

    def scrub(data):
        return data.replace(f"127.0.0.1:{port}".encode(), b"127.0.0.1:PORT")

    stdout, stderr = scrub(proc.stdout), scrub(proc.stderr)
    notes = []
    files = {"expected-output.json": stdout}
    if proc.returncode != 0:
        err = {"exit_code": proc.returncode, "stderr": stderr.decode("utf-8", "replace")}
        files["expected-error.json"] = (json.dumps(err, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    else:
        files["expected-error.json"] = None
        if stderr:
            notes.append("stderr on success: " + stderr.decode("utf-8", "replace").strip())
    requests = [normalize_request(r, protocol, port) for r in server.requests]
    files["expected-requests.json"] = (dump_json(requests) + "\n").encode("utf-8")
    if len(server.requests) != len(responses):
        notes.append(f"{len(server.requests)} request(s) for {len(responses)} response(s)")
    diffs = model_differences(service, operation)
    if diffs:
        notes.append("model versions differ: " + "; ".join(diffs))
    return files, notes, server.requests, proc.returncode


# ------------------------------------------------------------------- main

def find_cases(paths):
    roots = paths or [CONFORMANCE_DIR]
    cases = []
    for root in roots:
        root = os.path.abspath(root)
        if os.path.exists(os.path.join(root, "case.json")):
            cases.append(root)
            continue
        if not os.path.isdir(root):
            raise SystemExit(f"record_conformance: no case at {root}")
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            if "case.json" in filenames:
                cases.append(dirpath)
                dirnames[:] = []
    return sorted(set(cases))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="diff against the recorded files instead of writing")
    parser.add_argument("--cpp-models", action="store_true",
                        help="run the CLI on python3-botocore's models (those the C++ client embeds) via "
                             "AWS_DATA_PATH and diff against the recorded files (implies --check): shows "
                             "which cases come out differently only because the model versions differ")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("--raw", action="store_true", help="print the raw requests")
    parser.add_argument("--verbose", action="store_true", help="print each case's output")
    parser.add_argument("cases", nargs="*", help="case directories or folders of cases")
    args = parser.parse_args()
    if args.cpp_models:
        args.check = True
    if not os.access(AWS_CLI, os.X_OK):
        raise SystemExit(f"record_conformance: {AWS_CLI} not found (apt-get install awscli)")

    cases = find_cases(args.cases)
    failures = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        data_path = CPP_MODELS if args.cpp_models else None
        futures = {case: pool.submit(run_case, case, data_path) for case in cases}
        for case in cases:
            rel = os.path.relpath(case, CONFORMANCE_DIR)
            try:
                files, notes, raw, code = futures[case].result()
            except Exception as e:  # a broken case must not hide the others
                print(f"ERROR {rel}: {e}")
                failures += 1
                continue
            status = "ok" if code == 0 else f"exit {code}"
            mismatched = []
            for name, data in files.items():
                path = os.path.join(case, name)
                if args.check:
                    old = open(path, "rb").read() if os.path.exists(path) else None
                    if old != data:
                        mismatched.append(name)
                        a = (old or b"").decode("utf-8", "replace").splitlines(keepends=True)
                        b = (data or b"").decode("utf-8", "replace").splitlines(keepends=True)
                        sys.stdout.writelines(difflib.unified_diff(a, b, f"{rel}/{name} (recorded)", f"{rel}/{name} (now)"))
                elif data is None:
                    if os.path.exists(path):
                        os.remove(path)
                else:
                    with open(path, "wb") as f:
                        f.write(data)
            if mismatched:
                failures += 1
                status += " MISMATCH " + ",".join(mismatched)
            print(f"{status:8} {rel}")
            for note in notes:
                print(f"         note: {note}")
            if args.raw:
                for r in raw:
                    print(f"  > {r['method']} {r['target']}")
                    for k, v in r["headers"]:
                        print(f"  > {k}: {v}")
                    if r["body"]:
                        print("  > " + r["body"].decode("utf-8", "replace")[:2000])
            if args.verbose:
                sys.stdout.write(files["expected-output.json"].decode("utf-8", "replace"))
                if files.get("expected-error.json"):
                    sys.stdout.write(files["expected-error.json"].decode("utf-8", "replace"))
    print(f"{len(cases)} case(s), {failures} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
