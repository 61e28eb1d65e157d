//! A throwaway server for poking at the API (curl, schemathesis): a fresh SQLite directory, the
//! bundled policy, a random master key. Prints the URL and the admin token, serves until
//! Ctrl-C. This is also the smallest example of what `vern serve` wires together.
//!
//! `VERN_DEV_MASTER_KEY=<hex> cargo run -p vern-server --example dev_server -- [DATA_DIR] [PORT]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use vern_core::crypto::MasterKey;
use vern_core::ids::SystemClock;
use vern_policy::Policy;
use vern_server::{AppState, ServerConfig, Vault, ensure_initial_admin_token};
use vern_store::{SqlStore, Store};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map_or_else(
        || std::env::temp_dir().join(format!("vern-dev-{}", uuid::Uuid::new_v4())),
        std::path::PathBuf::from,
    );
    let port: u16 = args.next().map_or(0, |p| p.parse().expect("port"));

    let store = SqlStore::open_dir(&dir).await.expect("open store");
    store.migrate().await.expect("migrate");
    let vault = Vault::open(
        store,
        Arc::new(Policy::bundled().expect("bundled policy")),
        // Reusing a data directory needs the master key it was made with.
        std::env::var("VERN_DEV_MASTER_KEY").map_or_else(
            |_| MasterKey::generate(),
            |k| MasterKey::parse(&k).expect("VERN_DEV_MASTER_KEY"),
        ),
        Vec::new(),
        Arc::new(SystemClock),
    )
    .await
    .expect("open vault");
    let token = ensure_initial_admin_token(&vault).await.expect("token");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    println!("data: {}", dir.display());
    println!("url: http://{}", listener.local_addr().expect("addr"));
    if let Some(t) = token {
        println!("admin token: {t}");
    }
    let state = AppState::new(vault, ServerConfig::default());
    vern_server::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .expect("serve");
}
