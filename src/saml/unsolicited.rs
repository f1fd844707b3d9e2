//! IdP-initiated Web Browser SSO (SAML Profiles §4.1.5, "unsolicited" responses): a person
//! opens an SP from Pintu (the portal, a bookmark of `/saml/init?sp=ENTITY_ID`), and Pintu
//! posts an assertion with no `InResponseTo` to the SP's default ACS. Only for SPs whose
//! registration enables it: an unsolicited response cannot be tied to anything the SP asked,
//! so an SP must choose to accept them.

use super::answer::Kept;
use super::request::relay_state;
use super::sso::{Outcome, Pending, Refused, invalid};
use super::{SamlError, SamlIdp};

impl SamlIdp {
    /// Starts an unsolicited sign-in to the SP `entity_id`, with `relay_state` (at most 80
    /// bytes, usually where the SP should land) passed through.
    pub async fn initiate(
        &self,
        entity_id: &str,
        relay: Option<String>,
        session_cookie: Option<&str>,
    ) -> Result<Outcome, Refused> {
        let relay = relay_state(relay.filter(|r| !r.is_empty()))?;
        let app = self.sp.service_provider(entity_id).await.map_err(SamlError::from)?;
        let app = app.ok_or_else(|| Refused::UnknownSp(entity_id.to_owned()))?;
        let sp = app.saml().ok_or_else(|| Refused::UnknownSp(entity_id.to_owned()))?;
        if !sp.idp_initiated {
            return Err(invalid("this service provider accepts only the sign-ins it asks for (IdP-initiated is off)"));
        }
        let acs = sp.acs_for(None, None).ok_or_else(|| invalid("the SP has no assertion consumer service"))?;
        let id = format!("_init{}", uuid::Uuid::new_v4().simple());
        let pending = Pending::unsolicited(id.clone(), acs.location.clone(), relay, &app);
        let pending_id = uuid::Uuid::new_v4().simple().to_string();
        self.answer(&pending_id, &app, pending, session_cookie, Kept::NotYet).await
    }
}
