#!/usr/bin/env python3
"""Validates a JSON document against a JSON Schema (draft-04 to 2020-12).

Usage: validate.py SCHEMA DOCUMENT
Prints every violation as "<path in document>: <message>" and exits 1 when
there is any; exits 2 when the schema itself is invalid or a file cannot be
read. Used by the report tests (src/report/*_test.cc); needs Python's
jsonschema (Debian: python3-jsonschema).
"""
import json
import sys

import jsonschema


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            schema = json.load(f)
        with open(sys.argv[2], encoding="utf-8") as f:
            document = json.load(f)
    except (OSError, ValueError) as e:
        print(f"cannot read input: {e}", file=sys.stderr)
        return 2
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"{sys.argv[1]}: invalid schema: {e.message}", file=sys.stderr)
        return 2
    errors = sorted(cls(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
    for e in errors[:25]:
        path = "/".join(str(p) for p in e.absolute_path) or "(root)"
        print(f"{path}: {e.message[:300]}")
    if len(errors) > 25:
        print(f"... and {len(errors) - 25} more")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
