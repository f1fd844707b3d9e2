"""A SAML service provider built on pysaml2, for Pintu's tests: what an application that
speaks only SAML sends and accepts. For development and tests only.

    sp.py request METADATA KEY CERT ENTITY_ID ACS_URL RELAY_STATE [OPTION ...]

prints the AuthnRequest's ID, then the HTTP-Redirect URL to Pintu, signed with KEY
(RSA-SHA256). Options: `force` (ForceAuthn), `passive` (IsPassive), `COMPARISON=CLASS`
(a RequestedAuthnContext: exact, minimum, better or maximum, one class), `post` (the
HTTP-POST binding instead: the request signed with an XML signature, printed as the base64
`SAMLRequest` value on the second line).

    sp.py response METADATA KEY CERT ENTITY_ID ACS_URL REQUEST_ID < SAMLResponse (base64)

(REQUEST_ID `-`: an unsolicited response, accepted only then) checks the response as the SP would (signature with xmlsec1 against the metadata's
certificate, issuer, audience, recipient, InResponseTo, times) and prints, a line each:
`name_id FORMAT VALUE`, `class CLASS_REF`, `session INDEX`, `attribute-name FRIENDLY NAME FORMAT` for each attribute
and `attribute FRIENDLY VALUE` for each value; or `refused EXCEPTION: MESSAGE` and exits 3.

    sp.py metadata METADATA KEY CERT ENTITY_ID ACS_URL [SOAP_SLO_URL]

prints the SP's own metadata (its ACS, its SLO beside it, its signing certificate; and a SOAP
single logout service when SOAP_SLO_URL is given).

    sp.py logout METADATA KEY CERT ENTITY_ID ACS_URL NAME_ID_FORMAT NAME_ID SESSION_INDEX

prints a signed HTTP-Redirect LogoutRequest's ID, then its URL to Pintu (RelayState `keluar`);
with a last argument `post`, the request signed with an XML signature for HTTP-POST, as base64.

    sp.py logout-soap METADATA KEY CERT ENTITY_ID ACS_URL SOAP_URL < SOAP envelope

reads a LogoutRequest Pintu POSTed to this SP's SOAP single logout endpoint SOAP_URL (SAML
Bindings §3.2; the XML signature checked against the IdP metadata's certificate, a missing one
refused) and prints `name_id FORMAT VALUE`, `session INDEX`, then a line `envelope` and the
SOAP envelope of this SP's signed LogoutResponse (Success) and a line `end-envelope`;
`refused …` and exit 3 otherwise.

    sp.py logout-response METADATA KEY CERT ENTITY_ID ACS_URL < URL
    sp.py logout-request METADATA KEY CERT ENTITY_ID ACS_URL < URL

read what Pintu sent this SP over HTTP-Redirect (the query signature checked against the
IdP metadata's certificate): the LogoutResponse's `status VALUE` and `relay_state VALUE`, or
the LogoutRequest's `name_id FORMAT VALUE` and `session INDEX`; `refused …` and exit 3
otherwise.
"""
import base64
import shutil
import sys

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, BINDING_SOAP
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.pack import make_soap_enveloped_saml_thingy
from saml2.saml import NameID
from saml2.sigver import verify_redirect_signature
from urllib.parse import parse_qs, urlparse
from saml2.xmldsig import SIG_RSA_SHA256, DIGEST_SHA256


def config_of(metadata_path, key, cert, entity_id, acs, unsolicited=False, soap_slo=None):
    with open(metadata_path, encoding="utf-8") as f:
        metadata = f.read()
    config = SPConfig()
    config.load({
        "entityid": entity_id,
        "metadata": {"inline": [metadata]},
        "service": {"sp": {
            "endpoints": {
                "assertion_consumer_service": [(acs, BINDING_HTTP_POST)],
                "single_logout_service": [(acs.rsplit("/", 1)[0] + "/slo", BINDING_HTTP_REDIRECT)]
                + ([(soap_slo, BINDING_SOAP)] if soap_slo else []),
            },
            "name_id_format": ["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"],
            "authn_requests_signed": True,
            "want_assertions_signed": True,
            # Pintu signs the Response as well only for SPs registered with sign_response.
            "want_response_signed": False,
            "allow_unsolicited": unsolicited,
        }},
        "key_file": key,
        "cert_file": cert,
        "xmlsec_binary": shutil.which("xmlsec1"),
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
    })
    return config


def client(metadata_path, key, cert, entity_id, acs, unsolicited=False):
    return Saml2Client(config=config_of(metadata_path, key, cert, entity_id, acs, unsolicited))


def metadata(metadata_path, key, cert, entity_id, acs, soap_slo=None):
    print(str(entity_descriptor(config_of(metadata_path, key, cert, entity_id, acs, soap_slo=soap_slo))))


def request(metadata_path, key, cert, entity_id, acs, relay_state, *options):
    sp = client(metadata_path, key, cert, entity_id, acs)
    idp = next(iter(sp.metadata.identity_providers()))
    extra = {}
    if "post" in options:
        destination = sp.metadata.single_sign_on_service(idp, BINDING_HTTP_POST)[0]["location"]
        request_id, signed = sp.create_authn_request(
            destination, binding=BINDING_HTTP_POST, sign=True, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
        )
        print(request_id)
        print(base64.b64encode(str(signed).encode()).decode())
        return
    for option in options:
        if option == "force":
            extra["force_authn"] = "true"
        elif option == "passive":
            extra["is_passive"] = "true"
        else:
            comparison, class_ref = option.split("=", 1)
            extra["requested_authn_context"] = {"authn_context_class_ref": [class_ref], "comparison": comparison}
    request_id, info = sp.prepare_for_authenticate(
        entityid=idp, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT, sigalg=SIG_RSA_SHA256, **extra
    )
    print(request_id)
    print(dict(info["headers"])["Location"])


def response(metadata_path, key, cert, entity_id, acs, request_id):
    unsolicited = request_id == "-"
    sp = client(metadata_path, key, cert, entity_id, acs, unsolicited)
    outstanding = None if unsolicited else {request_id: "/"}
    try:
        parsed = sp.parse_authn_request_response(sys.stdin.read(), BINDING_HTTP_POST, outstanding=outstanding)
        if parsed is None:
            raise ValueError("no response")
    except Exception as e:  # the exception's class is what the test checks
        print(f"refused {type(e).__name__}: {e}")
        sys.exit(3)
    print("issued", parsed.assertion.authn_statement[0].authn_instant)
    name_id = parsed.name_id
    print("name_id", name_id.format, name_id.text)
    statement = parsed.assertion.authn_statement[0]
    print("class", statement.authn_context.authn_context_class_ref.text)
    print("session", statement.session_index)
    # As sent (pysaml2's `ava` keeps only the names its converters know).
    for statement in parsed.assertion.attribute_statement:
        for attribute in statement.attribute:
            print("attribute-name", attribute.friendly_name, attribute.name, attribute.name_format)
            for value in attribute.attribute_value:
                print("attribute", attribute.friendly_name, value.text)


def logout(metadata_path, key, cert, entity_id, acs, name_id_format, name_id, session_index, binding="redirect"):
    sp = client(metadata_path, key, cert, entity_id, acs)
    idp = next(iter(sp.metadata.identity_providers()))
    destination = sp.metadata.single_logout_service(idp, BINDING_HTTP_REDIRECT, "idpsso")[0]["location"]
    subject = NameID(format=name_id_format, text=name_id, sp_name_qualifier=entity_id)
    if binding == "post":
        destination = sp.metadata.single_logout_service(idp, BINDING_HTTP_POST, "idpsso")[0]["location"]
        request_id, request = sp.create_logout_request(
            destination, idp, name_id=subject, session_indexes=[session_index], sign=True,
            sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256,
        )
        print(request_id)
        print(base64.b64encode(str(request).encode()).decode())
        return
    request_id, request = sp.create_logout_request(
        destination, idp, name_id=subject, session_indexes=[session_index], sign=False
    )
    info = sp.apply_binding(
        BINDING_HTTP_REDIRECT, str(request), destination, relay_state="keluar", sign=True, sigalg=SIG_RSA_SHA256
    )
    print(request_id)
    print(dict(info["headers"])["Location"])


def redirected(sp):
    """The query of the URL on stdin, its signature checked with the IdP's certificate."""
    query = {k: v[0] for k, v in parse_qs(urlparse(sys.stdin.read().strip()).query).items()}
    idp = next(iter(sp.metadata.identity_providers()))
    certs = [c[1] if isinstance(c, tuple) else c for c in sp.metadata.certs(idp, "idpsso", "signing")]
    if not any(verify_redirect_signature(query, sp.sec.sec_backend, cert) for cert in certs):
        print("refused the query signature does not verify")
        sys.exit(3)
    return query


def logout_response(metadata_path, key, cert, entity_id, acs):
    sp = client(metadata_path, key, cert, entity_id, acs)
    query = redirected(sp)
    try:
        parsed = sp.parse_logout_request_response(query["SAMLResponse"], BINDING_HTTP_REDIRECT)
    except Exception as e:
        print(f"refused {type(e).__name__}: {e}")
        sys.exit(3)
    print("status", parsed.response.status.status_code.value)
    print("relay_state", query.get("RelayState", ""))


def logout_request(metadata_path, key, cert, entity_id, acs):
    sp = client(metadata_path, key, cert, entity_id, acs)
    query = redirected(sp)
    read_logout_request(lambda: sp.parse_logout_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT))


def read_logout_request(parse):
    """Parses a LogoutRequest with `parse` and prints whom and which session it names (or
    `refused …` and exit 3); the parsed request."""
    try:
        parsed = parse()
        if parsed is None:
            raise ValueError("no request")
    except Exception as e:
        print(f"refused {type(e).__name__}: {e}")
        sys.exit(3)
    print("name_id", parsed.message.name_id.format, parsed.message.name_id.text)
    for index in parsed.message.session_index:
        print("session", index.text)
    return parsed


def logout_soap(metadata_path, key, cert, entity_id, acs, soap_url):
    # pysaml2 takes the message out of the SOAP Body by re-serialising it with ElementTree,
    # which renames unregistered namespace prefixes (ns0, ns1, ...) and so breaks any XML
    # signature made over the message as sent. Registering the prefixes Pintu writes keeps the
    # message as it was signed; the signature is still checked by xmlsec1 as always.
    from xml.etree import ElementTree
    for prefix, uri in [
        ("samlp", "urn:oasis:names:tc:SAML:2.0:protocol"),
        ("saml", "urn:oasis:names:tc:SAML:2.0:assertion"),
        ("ds", "http://www.w3.org/2000/09/xmldsig#"),
    ]:
        ElementTree.register_namespace(prefix, uri)
    sp = Saml2Client(config=config_of(metadata_path, key, cert, entity_id, acs, soap_slo=soap_url))
    def signed():
        parsed = sp.parse_logout_request(sys.stdin.read(), BINDING_SOAP)
        if parsed is not None and parsed.message.signature is None:
            raise ValueError("the LogoutRequest is not signed")
        return parsed

    parsed = read_logout_request(signed)
    response = sp.create_logout_response(
        parsed.message, [BINDING_HTTP_REDIRECT], sign=True, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
    )
    print("envelope")
    print(make_soap_enveloped_saml_thingy(response))
    print("end-envelope")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    commands = {
        "request": request,
        "response": response,
        "metadata": metadata,
        "logout": logout,
        "logout-response": logout_response,
        "logout-request": logout_request,
        "logout-soap": logout_soap,
    }
    commands[command](*args)
