//! Master-key rotation: data written under the old key stays readable under the new one alone.

use crate::support::{DataDir, Server, code, stderr, stdout};

#[test]
fn keys_rotate_rewraps_everything_under_the_new_master_key() {
    let dir = DataDir::new();
    std::fs::write(
        dir.path().join("in.jsonl"),
        r#"{"subject_type":"lead","identifiers":[{"kind":"email","value":"rot@example.com"}],"records":[{"category":"identity.name","value":"Rota","source":"direct","purposes":["marketing.send"]}]}
"#,
    )
    .unwrap();
    assert_eq!(code(&dir.vern(&["import", "in.jsonl", "--quiet"])), 0);
    let generated = std::process::Command::new(crate::support::bin())
        .args(["keys", "generate", "--out", "new.key"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&generated), 0, "{}", stderr(&generated));
    std::fs::write(
        dir.path().join("vern.toml"),
        "master_key_file = \"new.key\"\nprevious_master_key_files = [\"data/master.key\"]\n",
    )
    .unwrap();
    let rotate = dir.vern(&["keys", "rotate"]);
    assert_eq!(code(&rotate), 0, "{}", stderr(&rotate));
    assert!(
        stdout(&rotate).contains("1 subject keys re-wrapped"),
        "{}",
        stdout(&rotate)
    );

    // Only the new key from now on: the old one is gone.
    std::fs::write(
        dir.path().join("vern.toml"),
        "master_key_file = \"new.key\"\n",
    )
    .unwrap();
    std::fs::remove_file(dir.path().join("data/master.key")).unwrap();
    let server = Server::start(&dir, &[]);
    let token = server.token.clone().expect("no tokens existed yet");
    let auth = format!("Authorization: Bearer {token}");
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .arg("-s")
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let found = curl(&[
        "-X",
        "POST",
        &format!("{}/v1/lookup", server.base),
        "-H",
        &auth,
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"kind":"email","value":"ROT@example.com"}"#,
    ]);
    let id = serde_json::from_str::<serde_json::Value>(&found).unwrap()["subject_id"]
        .as_str()
        .unwrap_or_else(|| panic!("lookup after rotation: {found}"))
        .to_owned();
    let subject = curl(&[&format!("{}/v1/subjects/{id}", server.base), "-H", &auth]);
    assert!(
        subject.contains("\"Rota\""),
        "record decrypts under the new key: {subject}"
    );
}
