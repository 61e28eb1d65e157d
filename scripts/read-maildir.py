#!/usr/bin/env python3
"""Prints the messages of a Maildir's `new/` folder as JSON (used by the tests' SMTP sink).

Each message: {"file", "to", "from", "subject", "message_id", "body"}, the body decoded from
whatever transfer encoding the sender chose (quoted-printable, base64, 8bit).
"""
import email
import email.policy
import json
import os
import re
import sys



def arrival(name):
    """Python's Maildir names files `<secs>.M<micros>P<pid>Q<count>.<host>` with the
    microseconds not zero-padded, so a plain string sort misorders mail of the same second
    (`M98765` after `M123456`): sort by the numbers instead."""
    m = re.match(r"(\d+)\.M(\d+)P(\d+)Q(\d+)", name)
    if m is None:
        return (float("inf"), 0, 0, name)
    secs, micros, _pid, count = (int(g) for g in m.groups())
    return (secs, micros, count, name)


maildir = sys.argv[1]
out = []
new = os.path.join(maildir, "new")
for name in sorted(os.listdir(new), key=arrival):
    with open(os.path.join(new, name), "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain", "html")) or msg
    out.append({
        "file": name,
        "to": str(msg.get("To", "")),
        "from": str(msg.get("From", "")),
        "subject": str(msg.get("Subject", "")),
        "message_id": str(msg.get("Message-ID", "")),
        "body": part.get_content(),
    })
json.dump(out, sys.stdout)
