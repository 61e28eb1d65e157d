//! Who may do what, from the policy's roles: permissions over vern itself and the categories
//! of personal data a role may read and write.
//!
//! Access is closed by default: an unknown role, an unlisted permission or an uncovered
//! category means no. `admin = true` grants every [`Permission`] but not every category; a
//! role sees personal data only in the categories it lists (`"*"` for all), so that being an
//! administrator of vern and reading people's data stay separate decisions in the policy.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use vern_policy::{Policy, category_covers, model};

/// What a role may be granted besides its categories. The strings are those of
/// `vern_policy::validate::ROLE_PERMISSIONS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    SubjectsRead,
    SubjectsWrite,
    SubjectsErase,
    AuditRead,
    TokensManage,
    DisclosuresRead,
    DisclosuresWrite,
    /// Recording a disclosure to an authority: the DPO's approval, given by recording it.
    DisclosuresApprove,
    /// Reading data-subject requests (the list; the case file also needs `dsr.case`).
    RequestsRead,
    /// Submitting a data-subject request (the portal, an app, staff).
    RequestsWrite,
    /// Handling requests: verifying identity, extending, recording outcomes, closing.
    RequestsManage,
    /// Refusing a request as manifestly unfounded or excessive (Art. 12(5)): the DPO.
    RequestsRefuse,
}

impl Permission {
    pub const ALL: [Permission; 12] = [
        Self::SubjectsRead,
        Self::SubjectsWrite,
        Self::SubjectsErase,
        Self::AuditRead,
        Self::TokensManage,
        Self::DisclosuresRead,
        Self::DisclosuresWrite,
        Self::DisclosuresApprove,
        Self::RequestsRead,
        Self::RequestsWrite,
        Self::RequestsManage,
        Self::RequestsRefuse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SubjectsRead => "subjects.read",
            Self::SubjectsWrite => "subjects.write",
            Self::SubjectsErase => "subjects.erase",
            Self::AuditRead => "audit.read",
            Self::TokensManage => "tokens.manage",
            Self::DisclosuresRead => "disclosures.read",
            Self::DisclosuresWrite => "disclosures.write",
            Self::DisclosuresApprove => "disclosures.approve",
            Self::RequestsRead => "requests.read",
            Self::RequestsWrite => "requests.write",
            Self::RequestsManage => "requests.manage",
            Self::RequestsRefuse => "requests.refuse",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown permission `{text}`")))
    }
}

/// A role resolved from the policy, for answering several questions about it.
#[derive(Debug, Clone, Copy)]
pub struct Access<'p> {
    role: &'p model::Role,
}

impl<'p> Access<'p> {
    /// `None` for a role the policy does not declare (e.g. a token minted under an older
    /// policy): callers must treat that as no access at all.
    pub fn for_role(policy: &'p Policy, role_id: &str) -> Option<Self> {
        policy.role(role_id).map(|role| Self { role })
    }

    pub fn role_id(&self) -> &'p str {
        self.role.id.get_ref()
    }

    pub fn is_admin(&self) -> bool {
        self.role.admin
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.role.admin
            || self
                .role
                .permissions
                .iter()
                .any(|p| p.get_ref() == permission.as_str())
    }

    /// Whether the role's category references (`contact`, `contact.email`, `*`) cover `category`.
    pub fn can_access_category(&self, category: &str) -> bool {
        self.role
            .categories
            .get_ref()
            .iter()
            .any(|reference| category_covers(reference.get_ref(), category))
    }

    /// Keeps the items whose category this role may access, in order.
    pub fn filter<T>(
        &self,
        items: impl IntoIterator<Item = T>,
        category_of: impl Fn(&T) -> &str,
    ) -> Vec<T> {
        items
            .into_iter()
            .filter(|item| self.can_access_category(category_of(item)))
            .collect()
    }
}

/// Whether `role_id` holds `permission` (`admin = true` holds all). Unknown role: no.
pub fn role_can(policy: &Policy, role_id: &str, permission: Permission) -> bool {
    Access::for_role(policy, role_id).is_some_and(|access| access.can(permission))
}

/// Whether `role_id` may read and write `category`. Unknown role: no.
pub fn role_can_access_category(policy: &Policy, role_id: &str, category: &str) -> bool {
    Access::for_role(policy, role_id).is_some_and(|access| access.can_access_category(category))
}

/// The items of `items` whose category `role_id` may access, in order; none for an unknown
/// role. Use it to cut a subject's records down to what the caller may see.
pub fn filter_categories<T>(
    policy: &Policy,
    role_id: &str,
    items: impl IntoIterator<Item = T>,
    category_of: impl Fn(&T) -> &str,
) -> Vec<T> {
    match Access::for_role(policy, role_id) {
        Some(access) => access.filter(items, category_of),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = include_str!("../../vern-policy/tests/fixtures/minimal.toml");

    const ROLES: &str = r#"
[[role]]
id = "support"
description = { nb = "Kundestøtte", en = "Support" }
categories = ["contact"]
permissions = ["subjects.read", "subjects.write"]

[[role]]
id = "recruiter"
description = { nb = "Rekrutterer", en = "Recruiter" }
categories = ["recruitment.cv", "contact.email"]
permissions = ["subjects.read"]

[[role]]
id = "auditor"
description = { nb = "Revisor", en = "Auditor" }
categories = []
permissions = ["audit.read"]
"#;

    fn policy() -> Policy {
        match Policy::parse(&format!("{MINIMAL}\n{ROLES}")) {
            Ok((policy, _)) => policy,
            Err(d) => panic!("test policy invalid: {d:?}"),
        }
    }

    #[test]
    fn permission_strings_match_the_policy_validator() {
        let ours: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(ours, vern_policy::validate::ROLE_PERMISSIONS);
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Permission>(&json).unwrap(), p);
        }
        assert_eq!(Permission::parse("subjects.delete"), None);
        assert!(serde_json::from_str::<Permission>("\"root\"").is_err());
    }

    #[test]
    fn admin_holds_every_permission() {
        let policy = policy();
        for p in Permission::ALL {
            assert!(role_can(&policy, "admin", p), "{p}");
        }
    }

    #[test]
    fn other_roles_hold_only_what_they_list() {
        let policy = policy();
        assert!(role_can(&policy, "support", Permission::SubjectsWrite));
        assert!(!role_can(&policy, "support", Permission::SubjectsErase));
        assert!(!role_can(&policy, "support", Permission::TokensManage));
        assert!(role_can(&policy, "auditor", Permission::AuditRead));
        assert!(!role_can(&policy, "auditor", Permission::SubjectsRead));
    }

    #[test]
    fn categories_follow_references_and_the_wildcard() {
        let policy = policy();
        assert!(role_can_access_category(&policy, "admin", "recruitment.cv"));
        assert!(role_can_access_category(
            &policy,
            "support",
            "contact.email"
        ));
        assert!(!role_can_access_category(
            &policy,
            "support",
            "recruitment.cv"
        ));
        assert!(role_can_access_category(
            &policy,
            "recruiter",
            "recruitment.cv"
        ));
        assert!(!role_can_access_category(
            &policy,
            "recruiter",
            "recruitment"
        ));
        assert!(!role_can_access_category(
            &policy,
            "auditor",
            "contact.email"
        ));
    }

    #[test]
    fn unknown_roles_get_nothing() {
        let policy = policy();
        assert!(Access::for_role(&policy, "root").is_none());
        assert!(!role_can(&policy, "root", Permission::SubjectsRead));
        assert!(!role_can_access_category(&policy, "root", "contact.email"));
        let items = vec![("contact.email", 1)];
        assert!(filter_categories(&policy, "root", items, |i| i.0).is_empty());
    }

    #[test]
    fn filter_keeps_accessible_items_in_order() {
        let policy = policy();
        let records = vec![
            ("contact.email", "a"),
            ("recruitment.cv", "b"),
            ("contact.email", "c"),
        ];
        let seen = filter_categories(&policy, "support", records.clone(), |r| r.0);
        assert_eq!(seen, vec![("contact.email", "a"), ("contact.email", "c")]);
        let access = Access::for_role(&policy, "recruiter").unwrap();
        assert_eq!(access.role_id(), "recruiter");
        assert!(!access.is_admin());
        assert_eq!(access.filter(records.iter(), |r| r.0).len(), 3);
    }
}
