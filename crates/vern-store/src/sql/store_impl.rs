//! `impl Store for SqlStore`: the trait's contract, each method delegating to the module
//! that holds its SQL.

use uuid::Uuid;

use super::SqlStore;
use crate::model::{
    AuditRow, IdempotencyRow, IdentifierRow, KeyringRow, NewAuditEntry, NewSubject, RecordRow,
    SubjectKeyRow, SubjectRow, TokenRow,
};
use crate::{Store, StoreResult};

impl Store for SqlStore {
    async fn migrate(&self) -> StoreResult<()> {
        self.run_migrations().await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.check().await
    }

    async fn create_subject(&self, new: NewSubject) -> StoreResult<()> {
        self.create_subjects(vec![new]).await
    }

    async fn get_subject(&self, tenant: Uuid, id: Uuid) -> StoreResult<SubjectRow> {
        self.subject(tenant, id).await
    }

    async fn list_subjects(
        &self,
        tenant: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<SubjectRow>> {
        self.subjects_page(tenant, after, limit).await
    }

    async fn update_subject(&self, row: SubjectRow, audit: Vec<NewAuditEntry>) -> StoreResult<()> {
        self.update_subject_row(row, audit).await
    }

    async fn erase_subject(
        &self,
        tenant: Uuid,
        id: Uuid,
        at: i64,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        self.erase(tenant, id, at, audit).await
    }

    async fn add_identifier(
        &self,
        row: IdentifierRow,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        self.insert_identifier(row, audit).await
    }

    async fn list_identifiers(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> StoreResult<Vec<IdentifierRow>> {
        self.identifiers_of(tenant, subject).await
    }

    async fn delete_identifier(
        &self,
        tenant: Uuid,
        subject: Uuid,
        id: Uuid,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        self.delete_child(
            "DELETE FROM identifiers WHERE tenant_id = $1 AND subject_id = $2 AND id = $3",
            tenant,
            subject,
            id,
            audit,
        )
        .await
    }

    async fn find_by_blind_index(
        &self,
        tenant: Uuid,
        kind: &str,
        blind_index: &[u8],
    ) -> StoreResult<Option<Uuid>> {
        self.subject_by_blind_index(tenant, kind, blind_index).await
    }

    async fn add_record(&self, row: RecordRow, audit: Vec<NewAuditEntry>) -> StoreResult<()> {
        self.insert_record(row, audit).await
    }

    async fn get_record(&self, tenant: Uuid, subject: Uuid, id: Uuid) -> StoreResult<RecordRow> {
        self.record(tenant, subject, id).await
    }

    async fn list_records(&self, tenant: Uuid, subject: Uuid) -> StoreResult<Vec<RecordRow>> {
        self.records_of(tenant, subject).await
    }

    async fn update_record(&self, row: RecordRow, audit: Vec<NewAuditEntry>) -> StoreResult<()> {
        self.update_record_row(row, audit).await
    }

    async fn delete_record(
        &self,
        tenant: Uuid,
        subject: Uuid,
        id: Uuid,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        self.delete_child(
            "DELETE FROM records WHERE tenant_id = $1 AND subject_id = $2 AND id = $3",
            tenant,
            subject,
            id,
            audit,
        )
        .await
    }

    async fn import_batch(&self, batch: Vec<NewSubject>) -> StoreResult<()> {
        self.create_subjects(batch).await
    }

    async fn get_subject_key(&self, tenant: Uuid, subject: Uuid) -> StoreResult<SubjectKeyRow> {
        self.subject_key(tenant, subject).await
    }

    async fn keys_not_wrapped_by(
        &self,
        current_kek_id: &[u8],
        limit: u32,
    ) -> StoreResult<Vec<SubjectKeyRow>> {
        self.keys_wrapped_by_other(current_kek_id, limit).await
    }

    async fn rewrap_keys(&self, rows: Vec<SubjectKeyRow>, old_kek_id: &[u8]) -> StoreResult<u64> {
        self.rewrap(rows, old_kek_id).await
    }

    async fn get_keyring_entry(&self, name: &str) -> StoreResult<Option<KeyringRow>> {
        self.keyring_entry(name).await
    }

    async fn put_keyring_entry_if_absent(&self, row: KeyringRow) -> StoreResult<KeyringRow> {
        self.keyring_put_if_absent(row).await
    }

    async fn update_keyring_entry(&self, row: KeyringRow, old_kek_id: &[u8]) -> StoreResult<()> {
        self.keyring_update(row, old_kek_id).await
    }

    async fn append_audit(&self, entries: Vec<NewAuditEntry>) -> StoreResult<()> {
        self.append_audit_entries(entries).await
    }

    async fn read_audit(&self, tenant: Uuid, from: i64, limit: u32) -> StoreResult<Vec<AuditRow>> {
        self.read_audit_page(tenant, from, limit).await
    }

    async fn create_token(&self, row: TokenRow, audit: Vec<NewAuditEntry>) -> StoreResult<()> {
        self.insert_token(row, audit).await
    }

    async fn find_token_by_hash(&self, hash: &[u8]) -> StoreResult<Option<TokenRow>> {
        self.token_by_hash(hash).await
    }

    async fn list_tokens(&self, tenant: Uuid) -> StoreResult<Vec<TokenRow>> {
        self.tokens_of(tenant).await
    }

    async fn revoke_token(
        &self,
        tenant: Uuid,
        id: Uuid,
        at: i64,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        self.revoke(tenant, id, at, audit).await
    }

    async fn count_tokens(&self) -> StoreResult<u64> {
        self.token_count().await
    }

    async fn get_idempotent(
        &self,
        tenant: Uuid,
        token: Uuid,
        key: &str,
    ) -> StoreResult<Option<IdempotencyRow>> {
        self.idempotent(tenant, token, key).await
    }

    async fn put_idempotent(&self, row: IdempotencyRow) -> StoreResult<()> {
        self.put_idempotent_row(row).await
    }

    async fn erased_subjects(&self, tenant: Uuid) -> StoreResult<Vec<Uuid>> {
        self.erased(tenant).await
    }
}
