//! User roles and what each may do.

use serde::{Deserialize, Serialize};

/// owner: everything; staff: reads and writes customer data, cannot manage users;
/// viewer: reads only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Staff,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Staff => "staff",
            Self::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "viewer" => Some(Self::Viewer),
            "staff" => Some(Self::Staff),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }

    pub fn can_write(self) -> bool {
        self >= Self::Staff
    }

    pub fn can_manage_users(self) -> bool {
        self == Self::Owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_follow_the_roles() {
        assert!(!Role::Viewer.can_write());
        assert!(Role::Staff.can_write() && !Role::Staff.can_manage_users());
        assert!(Role::Owner.can_write() && Role::Owner.can_manage_users());
        assert_eq!(Role::parse("staff"), Some(Role::Staff));
        assert_eq!(Role::parse("admin"), None);
    }
}
