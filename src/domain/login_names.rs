//! One namespace for login names. A person signs in with their username, e-mail or NIP, so
//! each of those, case-folded, may name at most one account: a username may not be another
//! account's e-mail or NIP, and so on. Where older data breaks the rule, lookups still resolve
//! one account by a fixed precedence (username, then e-mail, then NIP), the same one for the
//! login page and for every command that names a person.

use std::collections::HashMap;

use super::user::normalize_login;
use super::{User, UserId};

/// Which of an account's identifiers a login name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginField {
    Username,
    Email,
    Nip,
}

impl LoginField {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginField::Username => "username",
            LoginField::Email => "email",
            LoginField::Nip => "nip",
        }
    }
}

/// The login names of `user`, case-folded, in precedence order.
pub fn login_names(user: &User) -> Vec<(LoginField, String)> {
    let mut names = vec![(LoginField::Username, normalize_login(&user.username))];
    names.extend(user.email.as_deref().map(|e| (LoginField::Email, normalize_login(e))));
    names.extend(user.profile.nip.as_ref().map(|n| (LoginField::Nip, n.as_str().to_owned())));
    names
}

/// A login name of one account that another account already holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoginClash {
    pub name: String,
    /// What the name is for the account being checked.
    pub field: LoginField,
    pub other: UserId,
    /// What the name is for the other account.
    pub other_field: LoginField,
}

impl LoginClash {
    pub fn describe(&self) -> String {
        format!(
            "{} {} is already taken: it is the {} of another account ({})",
            self.field.as_str(),
            self.name,
            self.other_field.as_str(),
            self.other
        )
    }
}

/// Login names and their owners, for checking many accounts against each other at once (an
/// import) without a query per row.
#[derive(Debug, Default)]
pub struct LoginNamespace {
    owners: HashMap<String, (UserId, LoginField)>,
}

impl LoginNamespace {
    /// The namespace of `users`; where they already clash, the first holder by precedence wins.
    pub fn of<'a>(users: impl IntoIterator<Item = &'a User>) -> Self {
        let mut all: Vec<(LoginField, String, UserId)> = users
            .into_iter()
            .flat_map(|u| login_names(u).into_iter().map(move |(f, n)| (f, n, u.id.clone())))
            .collect();
        all.sort_by_key(|entry| entry.0);
        let mut ns = Self::default();
        for (field, name, id) in all {
            ns.owners.entry(name).or_insert((id, field));
        }
        ns
    }

    /// The first of `user`'s names that another account holds.
    pub fn clash(&self, user: &User) -> Option<LoginClash> {
        self.clash_of_new(user, None)
    }

    /// Like `clash`, for the names `user` has and `before` (the same account as stored) did
    /// not: a clash already in the data does not block an unrelated change.
    pub fn clash_of_new(&self, user: &User, before: Option<&User>) -> Option<LoginClash> {
        let old: Vec<String> = before.map(login_names).unwrap_or_default().into_iter().map(|(_, n)| n).collect();
        login_names(user).into_iter().filter(|(_, n)| !old.contains(n)).find_map(|(field, name)| {
            match self.owners.get(&name) {
                Some((other, other_field)) if *other != user.id => {
                    Some(LoginClash { name, field, other: other.clone(), other_field: *other_field })
                }
                _ => None,
            }
        })
    }

    /// Records `user`'s names (after `clash` found none).
    pub fn claim(&mut self, user: &User) {
        for (field, name) in login_names(user) {
            self.owners.insert(name, (user.id.clone(), field));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::nip::{Date, Nip};

    fn user(username: &str, email: Option<&str>) -> User {
        let mut user = User::new_account(username, 0);
        user.email = email.map(str::to_owned);
        user
    }

    #[test]
    fn a_username_may_not_be_another_accounts_email_or_nip() {
        let mut budi = user("budi", Some("budi@kominfo.go.id"));
        budi.profile.nip = Some(Nip::parse("198507152010011003", Date::from_unix(1_800_000_000)).unwrap());
        let ns = LoginNamespace::of([&budi]);
        let clash = ns.clash(&user("Budi@Kominfo.go.id", None)).expect("the e-mail is taken");
        assert_eq!(
            (clash.field, clash.other_field, clash.other),
            (LoginField::Username, LoginField::Email, budi.id.clone())
        );
        let clash = ns.clash(&user("198507152010011003", None)).expect("the NIP is taken");
        assert_eq!(clash.other_field, LoginField::Nip);
        assert!(ns.clash(&user("ani", Some("budi"))).is_some(), "an e-mail may not be a username");
        assert!(ns.clash(&budi).is_none(), "an account does not clash with itself");
        assert!(ns.clash(&user("ani", Some("ani@kominfo.go.id"))).is_none());
    }

    #[test]
    fn where_old_data_clashes_the_username_takes_precedence() {
        let first = user("x@kominfo.go.id", None);
        let second = user("other", Some("x@kominfo.go.id"));
        let ns = LoginNamespace::of([&second, &first]);
        assert_eq!(ns.clash(&user("new", Some("x@kominfo.go.id"))).unwrap().other, first.id);
    }
}
