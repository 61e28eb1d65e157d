//! Opening what a store-touching subcommand needs: settings, policy, store, master keys.

use anyhow::{Context, bail};
use vern_policy::{BUNDLED_NAME, BUNDLED_SOURCE, Policy};
use vern_store::{SqlStore, Store};

use super::config::{Settings, StoreArgs};
use super::master_key::{self, MasterKeys};

pub struct Ctx {
    pub settings: Settings,
    pub policy: Policy,
    pub store: SqlStore,
    pub keys: MasterKeys,
}

impl Ctx {
    /// Resolves settings, loads the policy, opens and migrates the store and loads the master
    /// key (generating one only when the key store is empty and `may_generate`).
    pub async fn open(args: &StoreArgs, may_generate: bool) -> anyhow::Result<Ctx> {
        let settings = args.resolve()?;
        let policy = load_policy(&settings)?;
        let store = open_store(&settings).await?;
        store
            .migrate()
            .await
            .context("cannot migrate the database")?;
        let fresh = store
            .get_keyring_entry(vern_server_keyring_name())
            .await
            .context("cannot read the key store")?
            .is_none();
        let keys = master_key::load(&settings, may_generate && fresh)?;
        Ok(Ctx {
            settings,
            policy,
            store,
            keys,
        })
    }
}

/// The keyring entry whose presence marks an initialised key store.
fn vern_server_keyring_name() -> &'static str {
    vern_server::vault::BLIND_INDEX_KEYRING_ENTRY
}

pub async fn open_store(settings: &Settings) -> anyhow::Result<SqlStore> {
    let store = match &settings.database {
        Some(url) => SqlStore::open_url(url).await,
        None => SqlStore::open_dir(&settings.data).await,
    };
    store.with_context(|| match &settings.database {
        Some(_) => "cannot open the database (--database)".to_owned(),
        None => format!("cannot open the database in {}", settings.data.display()),
    })
}

pub fn load_policy(settings: &Settings) -> anyhow::Result<Policy> {
    let (name, source, result) = match &settings.policy {
        None => (
            BUNDLED_NAME.to_owned(),
            BUNDLED_SOURCE.to_owned(),
            Policy::parse(BUNDLED_SOURCE),
        ),
        Some(path) => {
            let loaded = Policy::load(path)?;
            (path.display().to_string(), loaded.source, loaded.result)
        }
    };
    match result {
        Ok((policy, warnings)) => {
            eprint!("{}", warnings.render(&name, &source));
            Ok(policy)
        }
        Err(d) => {
            eprint!("{}", d.render(&name, &source));
            bail!("the policy {name} is invalid")
        }
    }
}
