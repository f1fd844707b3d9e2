//! Writing a planned sync: every account, link, grant and audit event in one transaction.

use serde_json::json;

use crate::audit::{AdminChange, AuditEvent};
use crate::domain::{RoleGrant, RoleGrantId, User, UserStatus};
use crate::storage::{NewUser, Tx};

use super::super::{Actor, DirectoryError, DirectoryService};
use super::plan::Change;
use super::{GrantChange, ReconcileOptions};

impl DirectoryService {
    pub(in crate::directory) async fn apply_sync(
        &self,
        actor: &Actor,
        options: &ReconcileOptions,
        changes: Vec<Change>,
        retirees: Vec<User>,
    ) -> Result<(), DirectoryError> {
        let now = self.now();
        let source = options.source.as_str();
        let mut tx = self.store.begin().await?;
        let mut events = Vec::with_capacity(changes.len() + retirees.len() + 1);
        let ip = actor.source_ip.as_deref();
        let (mut created, mut updated, mut granted, mut revoked) = (0, 0, 0, 0);
        for change in changes {
            match change {
                Change::Create { user, link, grants } => {
                    created += 1;
                    let new = NewUser { user: (*user).clone(), password_hash: None };
                    self.store.users().insert_in(&mut tx, &new).await?;
                    self.store.external_accounts().upsert_in(&mut tx, &link).await?;
                    let unit = user.profile.org_unit_id.as_ref();
                    let detail = json!({ "source": source, "dn": link.dn });
                    events.push(AuditEvent::admin(&actor.id, AdminChange::UserImport, user.id.as_str(), unit, detail));
                    granted += grants.len();
                    events.extend(self.grant_in(&mut tx, actor, &user, grants, now).await?);
                }
                Change::Update(u) => {
                    updated += 1;
                    let user = u.updated.as_ref().unwrap_or(&u.current);
                    if let Some(new) = &u.updated {
                        events.extend(
                            self.save_user_in(&mut tx, actor, &u.current, new, u.current.profile.version).await?,
                        );
                    }
                    if let Some(link) = &u.link {
                        self.store.external_accounts().upsert_in(&mut tx, link).await?;
                    }
                    if u.adopted {
                        // Its password is the directory's from now on; the local one must not
                        // keep working (nor be sign-in material if the link ever goes).
                        self.store.users().clear_password_hash_in(&mut tx, &user.id, now).await?;
                        let detail = json!({ "source": source, "dn": u.link.as_ref().map(|l| l.dn.as_str()) });
                        let unit = user.profile.org_unit_id.as_ref();
                        events.push(AuditEvent::admin(
                            &actor.id,
                            AdminChange::UserLink,
                            user.id.as_str(),
                            unit,
                            detail,
                        ));
                    }
                    revoked += u.revokes.len();
                    events.extend(self.revoke_in(&mut tx, actor, user, &u.revokes).await?);
                    granted += u.grants.len();
                    events.extend(self.grant_in(&mut tx, actor, user, u.grants, now).await?);
                }
            }
        }
        let retired = retirees.len();
        for current in retirees {
            let mut user = current.clone();
            user.profile.status = UserStatus::Retired;
            user.disabled = true;
            user.updated_at = now;
            events.extend(self.save_user_in(&mut tx, actor, &current, &user, current.profile.version).await?);
        }
        let detail = json!({
            "source": source, "created": created, "updated": updated, "retired": retired,
            "roles_granted": granted, "roles_revoked": revoked,
        });
        events.push(AuditEvent::admin(&actor.id, AdminChange::LdapSync, source, None, detail));
        let events = events.into_iter().map(|e| e.from_ip(ip)).collect();
        self.audit.record_in(&mut tx, events).await?;
        Ok(tx.commit().await?)
    }

    async fn grant_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        user: &User,
        grants: Vec<GrantChange>,
        now: i64,
    ) -> Result<Vec<AuditEvent>, DirectoryError> {
        let mut events = Vec::with_capacity(grants.len());
        for g in grants {
            let grant = RoleGrant {
                id: RoleGrantId::generate(),
                role_id: g.role,
                user_id: user.id.clone(),
                org_unit_id: g.unit,
                valid_from: None,
                valid_until: None,
                created_at: now,
            };
            self.store.roles().grant_in(tx, &grant, &actor.id).await?;
            let detail = json!({ "role_id": grant.role_id, "grant": grant.id, "source": "directory group" });
            let unit = user.profile.org_unit_id.as_ref();
            events.push(AuditEvent::admin(&actor.id, AdminChange::RoleGrant, user.id.as_str(), unit, detail));
        }
        Ok(events)
    }

    async fn revoke_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        user: &User,
        grants: &[RoleGrantId],
    ) -> Result<Vec<AuditEvent>, DirectoryError> {
        let mut events = Vec::with_capacity(grants.len());
        for id in grants {
            self.store.roles().revoke_in(tx, id).await?;
            let detail = json!({ "grant": id, "source": "directory group" });
            let unit = user.profile.org_unit_id.as_ref();
            events.push(AuditEvent::admin(&actor.id, AdminChange::RoleRevoke, user.id.as_str(), unit, detail));
        }
        Ok(events)
    }
}
