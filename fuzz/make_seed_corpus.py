#!/usr/bin/env python3
"""Builds libFuzzer seed corpora from data already in the tree.

    fuzz/make_seed_corpus.py --source-dir . --out build/h-fuzz/fuzz/corpus
                             [--sigv4-testdata ../shared/testdata/sigv4]

Writes OUT/<harness>/<sha1> files (previous contents are replaced):

- xml_response_fuzzer, json_response_fuzzer: every recorded answer in
  tests/conformance/<protocol>/<case>/responses/*.http whose operation is in
  the harness's table (read from the harness source, so the two cannot
  disagree), framed as the harness expects: selector byte, header block, body
  (and once more as the bare body). Error answers of other operations of a
  service in the table are filed under that service's first operation.
- sigv4_verify_fuzzer: the signed requests of the AWS SigV4 test suites (they
  verify with the harness's credentials), and their unsigned requests in
  round-trip mode, when the test data directory exists.
- config_file_fuzzer: nothing derived; its hand-made seeds are in
  fuzz/seeds/config_file_fuzzer/.

Committed hand-made seeds stay in fuzz/seeds/<harness>/ and are not copied.
Only the standard library is used.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys

XML_PROTOCOLS = ("query", "ec2", "rest-xml")
JSON_PROTOCOLS = ("json", "rest-json")


def operation_table(harness_source):
    """The (service, operation) list of a response harness, in selector order."""
    with open(harness_source, encoding="utf-8") as f:
        text = f.read()
    return re.findall(r'\{"([a-z0-9-]+)", "([A-Za-z0-9]+)"\}', text)


def error_statuses(harness_header):
    with open(harness_header, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"kErrorStatuses\[\] = \{([^}]*)\}", text)
    return [int(x) for x in m.group(1).split(",")]


def split_http(raw):
    """(status, [(name, value)], body) of a recorded .http response."""
    crlf, lf = raw.find(b"\r\n\r\n"), raw.find(b"\n\n")
    if crlf != -1 and (lf == -1 or crlf < lf):
        head, body = raw[:crlf], raw[crlf + 4:]
    elif lf != -1:
        head, body = raw[:lf], raw[lf + 2:]
    else:
        head, body = raw, b""
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    status = int(lines[0].split()[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.strip().lower(), value.strip()))
    return status, headers, body


class Corpus:
    def __init__(self, out_dir, harness):
        self.dir = os.path.join(out_dir, harness)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.count = 0

    def add(self, data):
        path = os.path.join(self.dir, hashlib.sha1(data).hexdigest())
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.count += 1


def response_seeds(source_dir, out_dir, harness, protocols):
    ops = operation_table(os.path.join(source_dir, "fuzz", harness + ".cc"))
    statuses = error_statuses(os.path.join(source_dir, "fuzz", "response_harness.h"))
    corpus = Corpus(out_dir, harness)
    root = os.path.join(source_dir, "tests", "conformance")
    for protocol in protocols:
        pdir = os.path.join(root, protocol)
        for case in sorted(os.listdir(pdir)):
            cdir = os.path.join(pdir, case)
            with open(os.path.join(cdir, "case.json"), encoding="utf-8") as f:
                spec = json.load(f)
            rdir = os.path.join(cdir, "responses")
            # A case that fails validation sends nothing and has no responses
            # (git keeps no empty folder).
            names = sorted(os.listdir(rdir)) if os.path.isdir(rdir) else []
            for name in names:
                with open(os.path.join(rdir, name), "rb") as f:
                    status, headers, body = split_http(f.read())
                key = (spec["service"], spec["operation"])
                if key in ops:
                    index = ops.index(key)
                elif status >= 300 and any(s == spec["service"] for s, _ in ops):
                    index = next(i for i, (s, _) in enumerate(ops) if s == spec["service"])
                else:
                    continue
                selector = index
                if status in statuses and index + len(ops) * statuses.index(status) < 256:
                    selector = index + len(ops) * statuses.index(status)
                block = b"".join(n + b": " + v + b"\n" for n, v in headers) + b"\n"
                corpus.add(bytes([selector]) + block + body)
                corpus.add(bytes([selector]) + body)
    return corpus.count


def sigv4_seeds(testdata, out_dir):
    corpus = Corpus(out_dir, "sigv4_verify_fuzzer")
    if not testdata or not os.path.isdir(testdata):
        print("note: no SigV4 test data at %r; sigv4_verify_fuzzer gets only its committed seeds" % testdata)
        return corpus.count
    suite_token = None
    suite = os.path.join(testdata, "aws-sig-v4-test-suite")
    for dirpath, _, files in sorted(os.walk(suite)):
        for f in sorted(files):
            if f == "readme.txt" and "post-sts-token" in dirpath:
                with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                    suite_token = fh.read().strip().splitlines()[-1].strip()
    for dirpath, _, files in sorted(os.walk(suite)):
        token = 2 if "post-sts-header" in dirpath else 0
        for f in sorted(files):
            with open(os.path.join(dirpath, f), "rb") as fh:
                data = fh.read()
            if f.endswith(".sreq"):
                corpus.add(bytes([token]) + data)
            elif f.endswith(".req"):
                corpus.add(bytes([4 | token]) + data)      # round trip
                corpus.add(bytes([4 | 1 | token]) + data)  # round trip, S3 variant
    crt = os.path.join(testdata, "aws-c-auth-v4")
    if os.path.isdir(crt):
        for case in sorted(os.listdir(crt)):
            cdir = os.path.join(crt, case)
            if not os.path.isfile(os.path.join(cdir, "context.json")):
                continue
            with open(os.path.join(cdir, "context.json"), encoding="utf-8") as fh:
                ctx = json.load(fh)
            flags = 0
            if ctx.get("credentials", {}).get("token") == suite_token and suite_token:
                flags |= 2
            if not ctx.get("normalize", True):
                flags |= 1
            for name, extra in (("header-signed-request.txt", 0), ("request.txt", 4)):
                p = os.path.join(cdir, name)
                if os.path.isfile(p):
                    with open(p, "rb") as fh:
                        corpus.add(bytes([flags | extra]) + fh.read())
    return corpus.count


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source-dir", default=os.path.dirname(here))
    ap.add_argument("--out", required=True)
    ap.add_argument("--sigv4-testdata", default=None,
                    help="default: <source-dir>/../shared/testdata/sigv4 when it exists")
    args = ap.parse_args()
    testdata = args.sigv4_testdata or os.path.join(args.source_dir, os.pardir, "shared", "testdata", "sigv4")
    os.makedirs(args.out, exist_ok=True)
    counts = {
        "xml_response_fuzzer": response_seeds(args.source_dir, args.out, "xml_response_fuzzer", XML_PROTOCOLS),
        "json_response_fuzzer": response_seeds(args.source_dir, args.out, "json_response_fuzzer", JSON_PROTOCOLS),
        "sigv4_verify_fuzzer": sigv4_seeds(testdata, args.out),
    }
    Corpus(args.out, "config_file_fuzzer")  # exists (empty) so every harness has a corpus dir
    for harness, n in counts.items():
        print("%s: %d seeds" % (harness, n))
    if counts["xml_response_fuzzer"] == 0 or counts["json_response_fuzzer"] == 0:
        print("error: no response seeds derived; is --source-dir right?", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
