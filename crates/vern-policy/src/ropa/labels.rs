//! Names for the policy's enums as they appear in the record of processing and in diffs.
//!
//! The model only derives `Deserialize`; these give the same snake_case names the policy file
//! uses (so a reader can search the file for them) and, where the law names the thing, the
//! article it rests on.

use crate::model::{
    Art9Ground, ContractRelation, GateKind, LegalBasis, MessageKind, Objection, RecipientKind,
    RetentionAction, SourceKind, TransferMechanism, TriggerKind,
};

/// `"Art. 6(1)(f) legitimate interest"`.
pub(crate) fn legal_basis(basis: LegalBasis) -> &'static str {
    match basis {
        LegalBasis::Consent => "Art. 6(1)(a) consent",
        LegalBasis::Contract => "Art. 6(1)(b) contract",
        LegalBasis::LegalObligation => "Art. 6(1)(c) legal obligation",
        LegalBasis::VitalInterests => "Art. 6(1)(d) vital interests",
        LegalBasis::PublicTask => "Art. 6(1)(e) public task",
        LegalBasis::LegitimateInterest => "Art. 6(1)(f) legitimate interest",
    }
}

/// `"Art. 9(2)(a) explicit consent"`.
pub(crate) fn art9_ground(ground: Art9Ground) -> &'static str {
    match ground {
        Art9Ground::ExplicitConsent => "Art. 9(2)(a) explicit consent",
        Art9Ground::EmploymentSocialSecurity => "Art. 9(2)(b) employment and social security law",
        Art9Ground::VitalInterests => "Art. 9(2)(c) vital interests",
        Art9Ground::NotForProfitBody => "Art. 9(2)(d) not-for-profit body",
        Art9Ground::MadePublicBySubject => "Art. 9(2)(e) made public by the data subject",
        Art9Ground::LegalClaims => "Art. 9(2)(f) legal claims",
        Art9Ground::SubstantialPublicInterest => "Art. 9(2)(g) substantial public interest",
        Art9Ground::HealthOrSocialCare => "Art. 9(2)(h) health or social care",
        Art9Ground::PublicHealth => "Art. 9(2)(i) public health",
        Art9Ground::ArchivingResearchStatistics => "Art. 9(2)(j) archiving, research or statistics",
    }
}

pub(crate) fn objection(objection: Objection) -> &'static str {
    match objection {
        Objection::Absolute => "absolute",
        Objection::Relative => "relative",
        Objection::NotApplicable => "not_applicable",
    }
}

/// How much the right to object protects people: a drop in this number weakens Art. 21.
pub(crate) fn objection_strength(objection: Objection) -> u8 {
    match objection {
        Objection::Absolute => 2,
        Objection::Relative => 1,
        Objection::NotApplicable => 0,
    }
}

pub(crate) fn recipient_kind(kind: RecipientKind) -> &'static str {
    match kind {
        RecipientKind::GroupCompany => "group_company",
        RecipientKind::BusinessPartner => "business_partner",
        RecipientKind::Authority => "authority",
        RecipientKind::Public => "public",
        RecipientKind::Processor => "processor",
        RecipientKind::SubProcessor => "sub_processor",
    }
}

pub(crate) fn source_kind(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Direct => "direct",
        SourceKind::ViaCustomer => "via_customer",
        SourceKind::Tracking => "tracking",
        SourceKind::Aggregator => "aggregator",
        SourceKind::Partner => "partner",
        SourceKind::Public => "public",
        SourceKind::SocialNetwork => "social_network",
        SourceKind::ThirdPartyPerson => "third_party_person",
        SourceKind::Inferred => "inferred",
    }
}

/// `"SCC (Art. 46(2)(c))"`; the SCC version and module are added by the caller.
pub(crate) fn transfer_mechanism(mechanism: TransferMechanism) -> &'static str {
    match mechanism {
        TransferMechanism::Adequacy => "adequacy decision (Art. 45)",
        TransferMechanism::Scc => "SCC (Art. 46(2)(c))",
        TransferMechanism::Bcr => "BCR (Art. 47)",
        TransferMechanism::Derogation => "derogation (Art. 49)",
    }
}

pub(crate) fn retention_action(action: RetentionAction) -> &'static str {
    match action {
        RetentionAction::Delete => "delete",
        RetentionAction::Anonymise => "anonymise",
    }
}

pub(crate) fn trigger_kind(kind: TriggerKind) -> &'static str {
    match kind {
        TriggerKind::Event => "event",
        TriggerKind::FiscalYearEnd => "fiscal_year_end",
        TriggerKind::ConsentWithdrawn => "consent_withdrawn",
    }
}

pub(crate) fn gate_kind(kind: GateKind) -> &'static str {
    match kind {
        GateKind::ElectronicMarketingConsent => "electronic_marketing_consent",
        GateKind::TrackingConsent => "tracking_consent",
    }
}

pub(crate) fn message_kind(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Administrative => "administrative",
        MessageKind::Marketing => "marketing",
    }
}

pub(crate) fn contract_relation(relation: ContractRelation) -> &'static str {
    match relation {
        ContractRelation::None => "none",
        ContractRelation::PreContract => "pre_contract",
        ContractRelation::Contract => "contract",
    }
}
