#!/usr/bin/env python3
"""Prints the messages of a Maildir's `new/` folder as JSON (used by the tests' SMTP sink).

Each message: {"file", "to", "from", "subject", "message_id", "body"}, the body decoded from
whatever transfer encoding the sender chose (quoted-printable, base64, 8bit).
"""
import email
import email.policy
import json
import os
import sys

maildir = sys.argv[1]
out = []
new = os.path.join(maildir, "new")
for name in sorted(os.listdir(new)):
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
