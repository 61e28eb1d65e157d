//! `vern backup` / `vern restore`: a restore never brings an erased subject back.

use crate::support::{DataDir, Server, code, stderr, stdout};

fn curl(args: &[&str]) -> String {
    let out = std::process::Command::new("curl")
        .arg("-s")
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn restore_of_a_backup_taken_before_an_erasure_does_not_bring_the_subject_back() {
    let dir = DataDir::new();
    let server = Server::start(&dir, &[]);
    let token = server.token.clone().unwrap();
    let auth = format!("Authorization: Bearer {token}");
    let body = r#"{"subject_type":"lead","identifiers":[{"kind":"email","value":"erase.me@example.com"}],"records":[{"category":"identity.name","value":"Erase Me","source":"direct","purposes":["marketing.send"]}]}"#;
    let created = curl(&[
        "-X",
        "POST",
        &format!("{}/v1/subjects", server.base),
        "-H",
        &auth,
        "-H",
        "Content-Type: application/json",
        "-d",
        body,
    ]);
    let id = serde_json::from_str::<serde_json::Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let backup = dir.vern(&["backup", "bk"]);
    assert_eq!(code(&backup), 0, "{}", stderr(&backup));

    let status = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "DELETE",
        &format!("{}/v1/subjects/{id}", server.base),
        "-H",
        &auth,
    ]);
    assert_eq!(status, "204");
    server.stop();

    let restore = dir.vern(&["restore", "bk"]);
    assert_eq!(code(&restore), 0, "{}", stderr(&restore));
    assert!(
        stdout(&restore).contains("1 erasure(s)"),
        "{}",
        stdout(&restore)
    );

    let export = dir.vern(&["export", "--subject", &id]);
    assert_eq!(
        code(&export),
        1,
        "the erased subject must not come back: {}",
        stdout(&export)
    );
    let raw = std::fs::read(dir.path().join("data/keys.sqlite3")).unwrap();
    assert!(
        !raw.windows(16)
            .any(|w| w == uuid::Uuid::parse_str(&id).unwrap().as_bytes()),
        "no key row for the erased subject"
    );
    let verify = dir.vern(&["audit", "verify"]);
    assert_eq!(code(&verify), 0, "{}", stdout(&verify));
}

fn post(server: &Server, auth: &str, path: &str, body: &str) -> String {
    curl(&[
        "-X",
        "POST",
        &format!("{}{path}", server.base),
        "-H",
        auth,
        "-H",
        "Content-Type: application/json",
        "-d",
        body,
    ])
}

/// Erasure on request that kept an invoice (bookkeeping law): a restore of an older backup
/// applies it again, so the erased records and identifiers do not come back; the invoice stays.
#[test]
fn restore_replays_a_partial_erasure() {
    let dir = DataDir::new();
    let server = Server::start(&dir, &[]);
    let token = server.token.clone().unwrap();
    let auth = format!("Authorization: Bearer {token}");
    let body = r#"{"subject_type":"customer_contact","jurisdiction":"NO",
        "identifiers":[{"kind":"email","value":"buyer@customer.example"}],
        "records":[{"category":"identity.name","value":"Kari Buyer","source":"direct",
                    "purposes":["sales.orders_agreements_payments"]},
                   {"category":"finance.invoice","value":{"number":"F-7"},"source":"direct",
                    "purposes":["sales.orders_agreements_payments"]}]}"#;
    let created = post(&server, &auth, "/v1/subjects", body);
    let id = serde_json::from_str::<serde_json::Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let backup = dir.vern(&["backup", "bk"]);
    assert_eq!(code(&backup), 0, "{}", stderr(&backup));
    let out = post(&server, &auth, &format!("/v1/subjects/{id}/erasure"), "");
    let out: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["outcome"], "partially_refused", "{out}");
    server.stop();

    let restore = dir.vern(&["restore", "bk"]);
    assert_eq!(code(&restore), 0, "{}", stderr(&restore));
    assert!(
        stdout(&restore).contains("1 partial erasure(s)"),
        "{}",
        stdout(&restore)
    );
    let export = dir.vern(&["export", "--subject", &id]);
    assert_eq!(code(&export), 0, "{}", stderr(&export));
    let text = stdout(&export);
    assert!(text.contains("F-7"), "the invoice stays: {text}");
    assert!(
        !text.contains("Kari Buyer"),
        "the name must not come back: {text}"
    );
    assert!(
        !text.contains("buyer@customer.example"),
        "the identifier must not come back: {text}"
    );
    let verify = dir.vern(&["audit", "verify"]);
    assert_eq!(code(&verify), 0, "{}", stdout(&verify));
}
