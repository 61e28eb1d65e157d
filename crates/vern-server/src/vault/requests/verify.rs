//! Identity by an emailed one-time link with a code: 256-bit link tokens stored as SHA-256, a
//! 6-digit code stored as a keyed digest bound to the verification, 30 minutes, 5 attempts;
//! the artefact is deleted in the transaction that uses, replaces or spends it.

use serde_json::json;
use uuid::Uuid;
use vern_core::crypto::{constant_time_eq, generate_token, hash_token};
use vern_core::dsr::{self, Action};
use vern_core::ids::{new_id, to_micros};
use vern_store::{RequestChange, RequestStore, VerificationRow};

use super::super::requests_types::{Lang, VerificationResult};
use super::super::{Principal, Vault, VaultError, VaultResult};
use super::letters::PendingMail;
use super::{CaseVerification, VERIFICATION_MAX_ATTEMPTS, VERIFICATION_TTL, transition_error};

impl Vault {
    /// A fresh verification link: the row to store and the mail that carries it.
    pub(super) fn new_verification(
        &self,
        request: Uuid,
        reference: &str,
        lang: Lang,
        to: &str,
    ) -> VaultResult<(VerificationRow, PendingMail)> {
        let token = generate_token();
        let code = six_digits();
        let id = new_id();
        let now = self.now();
        let row = VerificationRow {
            tenant_id: self.tenant,
            id,
            request_id: request,
            token_hash: hash_token(&token).to_vec(),
            code_digest: self.code_digest(id, &code),
            expires_at: to_micros(self.clock().now() + VERIFICATION_TTL),
            attempts: 0,
            created_at: now,
        };
        let link = format!("{}/v1/request-verifications/{token}", self.public_url());
        let mail = PendingMail {
            to: to.to_owned(),
            template: "dsr_verify",
            lang,
            params: json!({
                "reference": reference,
                "link": link,
                "code": code,
                "minutes": VERIFICATION_TTL.whole_minutes(),
            }),
            dedup_key: Some(format!("dsr_verify:{id}")),
        };
        Ok((row, mail))
    }

    fn code_digest(&self, verification: Uuid, code: &str) -> Vec<u8> {
        self.blind_index("vern/dsr-code", &format!("{verification}:{code}"))
    }

    /// Checks the code of a verification link (public: the link is the credential).
    pub async fn verify_request_link(
        &self,
        token: &str,
        code: &str,
    ) -> VaultResult<VerificationResult> {
        let not_found = || VaultError::NotFound("verification link (unknown, used or expired)");
        // Looked up by the SHA-256 of a 256-bit token in an indexed column: the index compare is
        // not constant-time, but it can only reveal how much of a *hash* matched (a preimage
        // search, not a guess). The re-check below is in constant time against loose matches.
        let presented = hash_token(token);
        let Some(v) = self
            .store
            .find_verification(&presented)
            .await
            .map_err(VaultError::store("verification link"))?
        else {
            return Err(not_found());
        };
        if v.tenant_id != self.tenant
            || !constant_time_eq(&v.token_hash, &presented)
            || v.expires_at < self.now()
            || v.attempts >= VERIFICATION_MAX_ATTEMPTS
        {
            return Err(not_found());
        }
        let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
        let good = well_formed && constant_time_eq(&self.code_digest(v.id, code), &v.code_digest);
        let system = Principal::new(crate::vault::Actor::System, "system");
        if !good {
            let attempts = self
                .store
                .add_verification_attempt(self.tenant, v.id)
                .await
                .map_err(VaultError::store("verification link"))?;
            let left = VERIFICATION_MAX_ATTEMPTS - attempts;
            if left <= 0 {
                // Spent: the artefact goes; the request waits for a new link or staff.
                let l = self.load(v.request_id).await?;
                let mut row = l.row.clone();
                row.version += 1;
                row.updated_at = self.now();
                let change = RequestChange {
                    download: None,
                    reissue_download: None,
                    event: self.event(
                        &system,
                        v.request_id,
                        "verification_spent",
                        Some(l.state),
                        l.state,
                    ),
                    row,
                    expected_version: Some(l.row.version),
                    clear_verifications: true,
                    verification: None,
                    jobs: Vec::new(),
                    mail: Vec::new(),
                    audit: vec![self.audit(
                        &system,
                        "dsr.verification_spent",
                        l.row.subject_id,
                        Some("compliance.dsr_handling"),
                        json!({ "request": v.request_id }),
                    )],
                };
                self.store
                    .update_request(change)
                    .await
                    .map_err(VaultError::store("request"))?;
            }
            return Err(VaultError::field(
                "code",
                "wrong_code",
                format!("the code is wrong; {} attempt(s) left", left.max(0)),
            ));
        }
        let l = self.load(v.request_id).await?;
        let to = dsr::transition(l.state, Action::Verify).map_err(transition_error)?;
        let mut case = l.case.clone();
        case.verification = Some(CaseVerification {
            method: "email_link".into(),
            reason: None,
            at: self.now(),
        });
        let mut row = l.row.clone();
        row.state = to.as_str().to_owned();
        row.case_ct = self.seal_case(row.id, &case)?;
        row.version += 1;
        row.updated_at = self.now();
        let change = RequestChange {
            download: None,
            reissue_download: None,
            event: self.event(&system, row.id, "verify", Some(l.state), to),
            row: row.clone(),
            expected_version: Some(l.row.version),
            clear_verifications: true,
            verification: None,
            jobs: Vec::new(),
            mail: Vec::new(),
            audit: vec![self.audit(
                &system,
                "dsr.verify",
                l.row.subject_id,
                Some("compliance.dsr_handling"),
                json!({ "request": row.id, "method": "email_link" }),
            )],
        };
        self.store
            .update_request(change)
            .await
            .map_err(VaultError::store("request"))?;
        Ok(VerificationResult {
            reference: row.reference,
            state: to,
        })
    }
}

/// A uniformly random 6-digit code (rejection sampling, no modulo bias).
fn six_digits() -> String {
    loop {
        let mut b = [0u8; 4];
        vern_core::crypto::random_bytes(&mut b);
        let n = u32::from_le_bytes(b);
        // 4,294,000,000 is the largest multiple of 1,000,000 below 2^32.
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}
