//! The lifecycle of a token-signing key: next -> active -> retired (STYLE.md §7). A `next`
//! key is published ahead of use so caches of the JWK Set know it before any token is signed
//! with it; an `active` key signs; a `retired` key only verifies tokens still in circulation.
//! `keys::rotation` moves keys along; the first keys are generated active.

/// Where a signing key is in its lifecycle; stored as its name in `signing_keys.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyState {
    Next,
    Active,
    Retired,
}

impl KeyState {
    pub const ALL: [KeyState; 3] = [KeyState::Next, KeyState::Active, KeyState::Retired];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
        }
    }

    /// The state a stored name stands for; `None` for a name no build writes.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether tokens are signed with keys in this state.
    pub fn signs(self) -> bool {
        self == KeyState::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips_through_its_stored_name() {
        for state in KeyState::ALL {
            assert_eq!(KeyState::parse(state.as_str()), Some(state));
        }
        assert_eq!(KeyState::Active.as_str(), "active");
        assert_eq!(KeyState::Retired.as_str(), "retired");
        assert_eq!(KeyState::parse("Active"), None);
        assert_eq!(KeyState::parse("deleted"), None);
    }
}
