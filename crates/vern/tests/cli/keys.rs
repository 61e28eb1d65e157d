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

/// A create killed between its key-store commit and its data commit leaves a key without a
/// subject (found by `crash.rs`); `vern keys prune` deletes such keys once they are older than
/// `--min-age-secs`, and never a key whose subject exists.
#[tokio::test]
async fn keys_prune_deletes_keys_without_a_subject_and_nothing_else() {
    let dir = DataDir::new();
    std::fs::write(
        dir.path().join("in.jsonl"),
        r#"{"subject_type":"lead","identifiers":[{"kind":"email","value":"kept@example.com"}],"records":[{"category":"identity.name","value":"Kept","source":"direct","purposes":["marketing.send"]}]}
"#,
    )
    .unwrap();
    assert_eq!(code(&dir.vern(&["import", "in.jsonl", "--quiet"])), 0);
    // Two keys as a killed create leaves them: one old, one written just now.
    let store = vern_store::SqlStore::open_dir(&dir.path().join("data"))
        .await
        .unwrap();
    let now = vern_core::ids::to_micros(time::OffsetDateTime::now_utc());
    for (id, at) in [
        ("01900000000070008000000000000001", 0),
        ("01900000000070008000000000000002", now),
    ] {
        store
            .fetch_text_for_tests(
                &format!(
                    "INSERT INTO subject_keys (tenant_id, subject_id, kek_id, wrapped_key, created_at) \
                     SELECT tenant_id, x'{id}', kek_id, wrapped_key, {at} FROM subject_keys LIMIT 1 \
                     RETURNING 'x'"
                ),
                true,
            )
            .await
            .unwrap();
    }
    let keys = |store: &vern_store::SqlStore| {
        let store = store.clone();
        async move {
            store
                .fetch_text_for_tests("SELECT CAST(COUNT(*) AS TEXT) FROM subject_keys", true)
                .await
                .unwrap()[0]
                .clone()
        }
    };
    assert_eq!(keys(&store).await, "3");

    let dry = dir.vern(&["keys", "prune", "--dry-run"]);
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    assert!(
        stdout(&dry).starts_with("1 subject keys without a subject (dry run"),
        "{}",
        stdout(&dry)
    );
    assert_eq!(keys(&store).await, "3");

    // The default age spares the fresh one (a create may still be in flight)…
    let pruned = dir.vern(&["keys", "prune"]);
    assert_eq!(code(&pruned), 0, "{}", stderr(&pruned));
    assert!(
        stdout(&pruned).starts_with("1 subject keys without a subject deleted"),
        "{}",
        stdout(&pruned)
    );
    assert_eq!(keys(&store).await, "2");
    // …age 0 takes it too; the imported subject's key stays.
    let all = dir.vern(&["keys", "prune", "--min-age-secs", "0"]);
    assert!(
        stdout(&all).starts_with("1 subject keys"),
        "{}",
        stdout(&all)
    );
    assert_eq!(keys(&store).await, "1");
    let again = dir.vern(&["keys", "prune", "--min-age-secs", "0"]);
    assert!(
        stdout(&again).starts_with("0 subject keys"),
        "{}",
        stdout(&again)
    );
    // The key left is the imported subject's.
    let key = store
        .fetch_text_for_tests("SELECT lower(hex(subject_id)) FROM subject_keys", true)
        .await
        .unwrap();
    let subject = store
        .fetch_text_for_tests("SELECT lower(hex(id)) FROM subjects", false)
        .await
        .unwrap();
    assert_eq!(key, subject);
    store.close().await;
}
