#!/usr/bin/env python3
"""Check vern policy files against docs/policy.schema.json (JSON Schema draft 2020-12).

Usage: scripts/check-policy-schema.py [--schema SCHEMA] FILE.toml [FILE.toml ...]

TOML dates and times become ISO 8601 strings before validation (the schema declares
`dpa_date` as a string with format "date"). This checks the shape of the file only;
`vern policy check` checks references and legal consistency.

Needs Python >= 3.11 (tomllib) and `jsonschema` (python3 -m pip install jsonschema).
Exit status: 0 all files conform, 1 some file does not, 2 usage or setup error.
"""

import argparse
import datetime
import json
import pathlib
import sys
import tomllib

DEFAULT_SCHEMA = pathlib.Path(__file__).resolve().parent.parent / "docs" / "policy.schema.json"


def jsonable(value):
    """TOML values as JSON values: dates and times become ISO 8601 strings."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return value


def location(error):
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schema", type=pathlib.Path, default=DEFAULT_SCHEMA)
    parser.add_argument("files", nargs="+", type=pathlib.Path)
    args = parser.parse_args(argv)

    try:
        import jsonschema
    except ImportError:
        print("error: the jsonschema package is missing: python3 -m pip install jsonschema", file=sys.stderr)
        return 2
    try:
        schema = json.loads(args.schema.read_text(encoding="utf-8"))
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
    except (OSError, ValueError, jsonschema.SchemaError) as e:
        print(f"error: cannot use schema {args.schema}: {e}", file=sys.stderr)
        return 2
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)

    failed = False
    for path in args.files:
        try:
            with path.open("rb") as f:
                document = jsonable(tomllib.load(f))
        except OSError as e:
            print(f"{path}: error: cannot read: {e}", file=sys.stderr)
            return 2
        except tomllib.TOMLDecodeError as e:
            print(f"{path}: error: not valid TOML: {e}")
            failed = True
            continue
        errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
        for error in errors:
            print(f"{path}: {location(error)}: {error.message}")
        if errors:
            failed = True
        else:
            print(f"{path}: ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
