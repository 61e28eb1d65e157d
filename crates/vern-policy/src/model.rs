//! The policy as written: one TOML document, deserialised as-is with source spans.
//!
//! Every identifier and every reference keeps its byte span so that validation can answer with
//! `file:line:col`. Nothing here checks meaning; `validate` does that and produces the
//! [`crate::Policy`] that the rest of vern uses. Field documentation here is the reference for
//! `docs/policy-format.md` and `docs/policy.schema.json`: keep the three in step.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_spanned::Spanned;

/// A string with its location in the policy file.
pub type SStr = Spanned<String>;

/// Text in each of the policy's notice languages: `{ nb = "…", en = "…" }`.
pub type Text = Spanned<BTreeMap<String, String>>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// Format version of this file; only `1` exists.
    pub format: Spanned<i64>,
    /// Human label of this policy version (e.g. a date); the content hash identifies it exactly.
    pub version: SStr,
    /// Languages the notice is published in; each text must have every one of them.
    pub languages: Spanned<Vec<SStr>>,
    pub controller: Controller,
    pub data_protection_contact: Contact,
    pub supervisory_authority: SupervisoryAuthority,
    pub notice: Notice,
    pub rights: Rights,
    pub changes: Changes,
    /// Communication channels that consent and marketing rules may name.
    #[serde(default)]
    pub channels: Vec<SStr>,
    #[serde(default, rename = "group_entity")]
    pub group_entities: Vec<GroupEntity>,
    #[serde(default, rename = "subject_type")]
    pub subject_types: Vec<SubjectType>,
    #[serde(default, rename = "source")]
    pub sources: Vec<Source>,
    #[serde(default, rename = "category")]
    pub categories: Vec<Category>,
    #[serde(default, rename = "consent_scope")]
    pub consent_scopes: Vec<ConsentScope>,
    #[serde(default, rename = "purpose")]
    pub purposes: Vec<Purpose>,
    #[serde(default, rename = "recipient")]
    pub recipients: Vec<Recipient>,
    #[serde(default, rename = "trigger")]
    pub triggers: Vec<Trigger>,
    #[serde(default, rename = "retention")]
    pub retention: Vec<RetentionRule>,
    #[serde(default, rename = "erasure_exception")]
    pub erasure_exceptions: Vec<ErasureException>,
    #[serde(default, rename = "message_class")]
    pub message_classes: Vec<MessageClass>,
    #[serde(default, rename = "role")]
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    pub name: SStr,
    /// ISO 3166-1 alpha-2 country of the main establishment.
    pub country: SStr,
    #[serde(default)]
    pub org_number: Option<SStr>,
    pub address: SStr,
    pub email: SStr,
    #[serde(default)]
    pub phone: Option<SStr>,
    pub website: SStr,
    /// Last day of the fiscal year as `MM-DD`; fiscal-year retention triggers count from it.
    pub fiscal_year_end: SStr,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: SStr,
    pub email: SStr,
    #[serde(default)]
    pub phone: Option<SStr>,
    #[serde(default)]
    pub address: Option<SStr>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisoryAuthority {
    pub name: SStr,
    pub country: SStr,
    pub website: SStr,
    #[serde(default)]
    pub email: Option<SStr>,
    #[serde(default)]
    pub phone: Option<SStr>,
    #[serde(default)]
    pub address: Option<SStr>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    pub title: Text,
    /// Opening paragraph: what the notice is for.
    pub intro: Text,
    /// Optional statement that heads the sensitive-data paragraph (Art. 9).
    #[serde(default)]
    pub special_categories_statement: Option<Text>,
    /// Who takes privacy decisions (seed S58), shown under "contact".
    #[serde(default)]
    pub governance: Option<Text>,
    /// Where the company acts as a processor for its customers (seed S24).
    #[serde(default)]
    pub processor_role: Option<Text>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rights {
    /// Where people exercise their rights online.
    pub portal_url: SStr,
    /// Where people can write instead.
    pub email: SStr,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    /// Minimum days between announcing a material change and its effective date.
    pub notice_days: Spanned<i64>,
    /// How material changes are announced (`email`, `website`).
    pub announce_by: Vec<SStr>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupEntity {
    pub id: SStr,
    pub name: SStr,
    pub country: SStr,
    #[serde(default)]
    pub org_number: Option<SStr>,
}

/// Whether a subject type has a contract with the controller: only then can the
/// contract basis (Art. 6(1)(b)) apply to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractRelation {
    /// No contract with the person (e.g. B2B contacts: the contract is with their employer).
    None,
    /// Steps at the person's request before a contract (e.g. job applicants).
    PreContract,
    /// A contract with the person.
    Contract,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectType {
    pub id: SStr,
    pub name: Text,
    pub description: Text,
    pub contract: Spanned<ContractRelation>,
    /// People of this type have bought from the controller, so the existing-customer exception
    /// of electronic-marketing law can apply to them where a gate enables it.
    #[serde(default)]
    pub existing_customer: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Direct,
    ViaCustomer,
    Tracking,
    Aggregator,
    Partner,
    Public,
    SocialNetwork,
    ThirdPartyPerson,
    Inferred,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub id: SStr,
    pub kind: Spanned<SourceKind>,
    pub name: Text,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Dotted, hierarchical id; a category's parent (`contact` for `contact.email`) must be declared.
    pub id: SStr,
    pub name: Text,
    #[serde(default)]
    pub description: Option<Text>,
    /// A special category under GDPR Art. 9.
    #[serde(default)]
    pub special: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentScope {
    pub id: SStr,
    pub name: Text,
    /// The words the person agrees to; its hash is kept as proof with every consent event.
    pub text: Text,
    /// Channels this consent covers; empty means not channel-specific.
    #[serde(default)]
    pub channels: Vec<SStr>,
    /// How long a consent stands before it must be renewed (e.g. `"24 months"`).
    #[serde(default)]
    pub valid_for: Option<SStr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// Art. 6(1)(a)
    Consent,
    /// Art. 6(1)(b)
    Contract,
    /// Art. 6(1)(c)
    LegalObligation,
    /// Art. 6(1)(d)
    VitalInterests,
    /// Art. 6(1)(e)
    PublicTask,
    /// Art. 6(1)(f)
    LegitimateInterest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Art9Ground {
    /// Art. 9(2)(a)
    ExplicitConsent,
    /// Art. 9(2)(b)
    EmploymentSocialSecurity,
    /// Art. 9(2)(c)
    VitalInterests,
    /// Art. 9(2)(d)
    NotForProfitBody,
    /// Art. 9(2)(e)
    MadePublicBySubject,
    /// Art. 9(2)(f)
    LegalClaims,
    /// Art. 9(2)(g)
    SubstantialPublicInterest,
    /// Art. 9(2)(h)
    HealthOrSocialCare,
    /// Art. 9(2)(i)
    PublicHealth,
    /// Art. 9(2)(j)
    ArchivingResearchStatistics,
}

/// Whether the right to object (Art. 21) applies to a purpose, and how strongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objection {
    /// Art. 21(2)-(3): direct marketing stops on objection, no balancing.
    Absolute,
    /// Art. 21(1): stops unless compelling legitimate grounds are recorded.
    Relative,
    /// The basis gives no right to object (consent is withdrawn instead; contract; legal obligation).
    NotApplicable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateKind {
    /// Electronic-marketing law (NO markedsføringsloven § 15, SE MFL 19 §, DK § 10): prior
    /// consent for marketing by email/SMS to natural persons.
    ElectronicMarketingConsent,
    /// Cookie/tracking consent (NO ekomloven § 3-15, ePrivacy Art. 5(3)).
    TrackingConsent,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    pub kind: Spanned<GateKind>,
    /// The consent that opens the gate.
    pub consent_scope: SStr,
    /// Channels the gate applies to; empty means all.
    #[serde(default)]
    pub channels: Vec<SStr>,
    /// The existing-customer exception of marketing law (own similar products, address got in
    /// a sale, opt-out offered): only where the policy enables it.
    #[serde(default)]
    pub existing_customer_exception: bool,
    /// Local parts (before `@`) of role addresses that name no person (`post`, `info`, …),
    /// compared case-insensitively: marketing law's consent rule protects natural persons, so
    /// an `electronic_marketing_consent` gate lets such an address through without consent
    /// (never over a withdrawal, suppression or objection). Empty: no address is a role address.
    #[serde(default)]
    pub role_addresses: Vec<SStr>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub id: SStr,
    pub name: Text,
    pub description: Text,
    pub legal_basis: Spanned<LegalBasis>,
    /// What the legal basis rests on, e.g. the law for a legal obligation.
    #[serde(default)]
    pub legal_basis_ref: Option<SStr>,
    /// Reference to the legitimate-interest assessment (required for legitimate interest).
    #[serde(default)]
    pub lia_ref: Option<SStr>,
    /// Required where the basis is consent.
    #[serde(default)]
    pub consent_scope: Option<SStr>,
    pub subject_types: Spanned<Vec<SStr>>,
    pub categories: Spanned<Vec<SStr>>,
    #[serde(default)]
    pub sources: Vec<SStr>,
    /// Required when a special (Art. 9) category is in `categories`.
    #[serde(default)]
    pub art9_ground: Option<Spanned<Art9Ground>>,
    pub objection: Spanned<Objection>,
    #[serde(default)]
    pub direct_marketing: bool,
    #[serde(default)]
    pub profiling: bool,
    /// Purposes a restricted subject's data may still serve (Art. 18(2): storage, legal claims).
    #[serde(default)]
    pub allowed_under_restriction: bool,
    #[serde(default)]
    pub gates: Vec<Gate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    GroupCompany,
    BusinessPartner,
    Authority,
    Public,
    Processor,
    SubProcessor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferMechanism {
    /// Art. 45 adequacy decision for the destination country.
    Adequacy,
    /// Art. 46(2)(c) standard contractual clauses.
    Scc,
    /// Art. 47 binding corporate rules.
    Bcr,
    /// Art. 49 derogation for specific situations.
    Derogation,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub mechanism: Spanned<TransferMechanism>,
    /// For SCCs: the Commission decision, e.g. `"2021/914"`.
    #[serde(default)]
    pub scc_version: Option<SStr>,
    /// For SCCs: the module (1-4).
    #[serde(default)]
    pub scc_module: Option<Spanned<i64>>,
    /// Transfer impact assessment reference (Schrems II).
    #[serde(default)]
    pub tia_ref: Option<SStr>,
    /// For adequacy to the US: the recipient is certified under the EU-US Data Privacy Framework.
    #[serde(default)]
    pub dpf_certified: bool,
    /// Free reference (BCR approval, derogation ground).
    #[serde(default)]
    pub reference: Option<SStr>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub id: SStr,
    pub kind: Spanned<RecipientKind>,
    pub name: SStr,
    pub description: Text,
    /// ISO 3166-1 alpha-2 country where the data is processed.
    #[serde(default)]
    pub country: Option<SStr>,
    pub purposes: Spanned<Vec<SStr>>,
    pub categories: Spanned<Vec<SStr>>,
    /// Authorities: disclosure only on a legal decision (court order or equivalent).
    #[serde(default)]
    pub legal_decision_required: bool,
    /// Processors: date the data processing agreement (Art. 28) was signed.
    #[serde(default)]
    pub dpa_date: Option<Spanned<toml::value::Datetime>>,
    /// Sub-processors: the processor that engages them.
    #[serde(default)]
    pub processor: Option<SStr>,
    #[serde(default)]
    pub transfer: Option<Spanned<Transfer>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// A dated event recorded on the data (last activity, application deadline…).
    Event,
    /// The end of the fiscal year in which the record was made (controller's fiscal year end).
    FiscalYearEnd,
    /// The withdrawal of a consent scope.
    ConsentWithdrawn,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    pub id: SStr,
    pub kind: Spanned<TriggerKind>,
    pub name: Text,
    /// Categories whose records can carry this event; empty means every category.
    #[serde(default)]
    pub categories: Vec<SStr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    Delete,
    Anonymise,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentOverride {
    pub consent_scope: SStr,
    /// The longest the consent may extend retention, counted from the grant.
    pub max: SStr,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    pub id: SStr,
    pub description: Text,
    pub categories: Spanned<Vec<SStr>>,
    /// Empty means every purpose.
    #[serde(default)]
    pub purposes: Vec<SStr>,
    /// Empty means every subject type.
    #[serde(default)]
    pub subject_types: Vec<SStr>,
    pub trigger: SStr,
    /// `"<n> days|months|years"`, calendar units.
    pub duration: SStr,
    pub action: Spanned<RetentionAction>,
    pub legal_ref: SStr,
    #[serde(default)]
    pub override_by_consent: Option<ConsentOverride>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureException {
    pub id: SStr,
    pub description: Text,
    pub categories: Spanned<Vec<SStr>>,
    pub trigger: SStr,
    pub duration: SStr,
    /// The law that requires keeping the data, and the GDPR article that allows it.
    pub legal_ref: SStr,
    /// ISO country whose law this is.
    pub jurisdiction: SStr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Order confirmations, account notices: sent despite marketing opt-outs.
    Administrative,
    Marketing,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageClass {
    pub id: SStr,
    pub kind: Spanned<MessageKind>,
    pub name: Text,
    pub purpose: SStr,
    #[serde(default)]
    pub channels: Vec<SStr>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub id: SStr,
    pub description: Text,
    /// Categories this role may read and write; `["*"]` means all.
    pub categories: Spanned<Vec<SStr>>,
    /// Administrative rights over vern itself (tokens, policy, audit): implies every permission.
    #[serde(default)]
    pub admin: bool,
    /// What the role may do beyond reading and writing its categories: `subjects.read`,
    /// `subjects.write`, `subjects.erase`, `audit.read`, `tokens.manage`.
    #[serde(default)]
    pub permissions: Vec<SStr>,
}
