//! Consent receipts: each grant or withdrawal is answered with a Kantara Consent Receipt 1.1
//! (`KI-CR-v1.1.0`), signed as a compact JWS with the server's Ed25519 key, whose public half is
//! served at `/.well-known/jwks.json`.
//!
//! `piiPrincipalId` is the subject's pseudonymous id, not an email address: the receipt also
//! travels through the API client and its logs, and the subject id is what vern can prove.

use serde_json::{Value, json};

use super::{ConsentEventView, Vault};

/// Name of the receipt-signing key in the key store's keyring.
pub const RECEIPT_KEYRING_ENTRY: &str = "receipt_signing";

impl Vault {
    /// The public keys receipts are signed with, as a JWK set.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.receipts.public_jwk()] })
    }

    /// The receipt for events just recorded (one scope, one action, one or more channels).
    pub(super) fn receipt(&self, events: &[ConsentEventView]) -> Option<String> {
        let first = events.first()?;
        let policy = &self.policy;
        let raw = &policy.raw;
        let scope = policy.consent_scope(&first.scope)?;
        let lang = raw
            .languages
            .get_ref()
            .first()
            .map(|l| l.get_ref().as_str())
            .unwrap_or("en");
        // The purposes this consent serves: those resting on it, or gated by it.
        let purposes: Vec<Value> = raw
            .purposes
            .iter()
            .filter(|p| {
                p.consent_scope.as_ref().is_some_and(|s| s.get_ref() == &first.scope)
                    || p.gates.iter().any(|g| g.consent_scope.get_ref() == &first.scope)
            })
            .map(|p| {
                let recipients: Vec<&str> = policy
                    .recipients_for_purpose(p.id.get_ref())
                    .map(|r| r.name.get_ref().as_str())
                    .collect();
                let mut v = json!({
                    "purpose": policy.text(&p.name, lang),
                    "purposeCategory": [p.id.get_ref()],
                    "consentType": "explicit",
                    "piiCategory": p.categories.get_ref().iter().map(|c| c.get_ref()).collect::<Vec<_>>(),
                    "primaryPurpose": true,
                    "termination": scope.valid_for.as_ref().map_or(
                        "until withdrawn".to_owned(),
                        |v| format!("{} or until withdrawn", v.get_ref()),
                    ),
                    "thirdPartyDisclosure": !recipients.is_empty(),
                });
                if !recipients.is_empty() {
                    v["thirdPartyName"] = json!(recipients.join(", "));
                }
                v
            })
            .collect();
        let c = &raw.controller;
        let receipt = json!({
            "version": "KI-CR-v1.1.0",
            "jurisdiction": c.country.get_ref(),
            "consentTimestamp": first.at.unix_timestamp(),
            "collectionMethod": format!("{} at {}", first.method, first.collection_point),
            "consentReceiptID": first.id,
            "publicKey": self.receipts.public_jwk()["x"],
            "language": lang,
            "piiPrincipalId": first.subject_id,
            "piiControllers": [{
                "piiController": c.name.get_ref(),
                "contact": raw.data_protection_contact.name.get_ref(),
                "address": { "streetAddress": c.address.get_ref(), "addressCountry": c.country.get_ref() },
                "email": c.email.get_ref(),
                "phone": c.phone.as_ref().map(|p| p.get_ref().as_str()).unwrap_or(""),
                "piiControllerUrl": c.website.get_ref(),
            }],
            "policyUrl": raw.rights.portal_url.get_ref(),
            "services": [{
                "service": policy.text(&scope.name, lang),
                "purposes": purposes,
            }],
            "sensitive": false,
            "spiCat": [],
            // Beyond KCR 1.1: what happened, to which ledger entries, under which policy.
            "vern": {
                "action": first.action,
                "scope": first.scope,
                "channels": events.iter().map(|e| e.channel.as_str()).collect::<Vec<_>>(),
                "events": events.iter().map(|e| e.id).collect::<Vec<_>>(),
                "policyHash": first.policy_hash,
                "noticeHash": first.notice_hash,
            },
        });
        Some(self.receipts.sign_compact(&receipt))
    }
}
