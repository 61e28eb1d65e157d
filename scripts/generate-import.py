#!/usr/bin/env python3
"""Writes a synthetic import file for benchmarks: N records for the bundled policy's `lead`
subject type, four records and one email identifier per subject. Deterministic, fake data.

    python3 scripts/generate-import.py --records 1000000 --out target/bench/import-1m.jsonl
"""
import argparse
import json
import os


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    per_subject = 4
    subjects = (args.records + per_subject - 1) // per_subject
    with open(args.out, "w", encoding="utf-8") as f:
        written = 0
        for i in range(subjects):
            email = f"lead{i:07d}@bench.example"
            recs = [
                ("identity.name", f"Bench Person {i}"),
                ("contact.email.work_named", email),
                ("employment.title", "Head of Example"),
                ("employment.employer", f"Example Company {i % 997}"),
            ][: max(0, min(per_subject, args.records - written))]
            written += len(recs)
            f.write(json.dumps({
                "subject_type": "lead",
                "identifiers": [{"kind": "email", "value": email}],
                "records": [
                    {"category": c, "value": v, "source": "direct", "purposes": ["marketing.send"],
                     "last_activity_at": "2026-10-01T12:00:00Z"}
                    for c, v in recs
                ],
            }, separators=(",", ":")) + "\n")
    print(f"{args.out}: {subjects} subjects, {written} records")


if __name__ == "__main__":
    main()
