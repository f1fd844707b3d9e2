"""Reads Pintu's IdP metadata as a service provider built on pysaml2 would, for the tests.

Standard input: the metadata. Standard output, a line each: `valid` once the document passed
the SAML metadata schema (pysaml2's XSDs), then what pysaml2's metadata store found: the
single sign-on and logout endpoints by binding, the signing certificates, the NameID formats.
A schema or parsing error exits non-zero with the reason. For development and tests only.
"""
import sys

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.attribute_converter import ac_factory
from saml2.config import Config
from saml2.mdstore import MetadataStore
from saml2.xml.schema import validate

xml = sys.stdin.read()
entity_id = sys.argv[1]
validate(xml)
print("valid")
store = MetadataStore(ac_factory(), Config(), check_validity=False)
store.load("inline", xml)
for name, binding in (("redirect", BINDING_HTTP_REDIRECT), ("post", BINDING_HTTP_POST)):
    for endpoint in store.single_sign_on_service(entity_id, binding):
        print("sso", name, endpoint["location"])
    for endpoint in store.single_logout_service(entity_id, binding, "idpsso"):
        print("slo", name, endpoint["location"])
for cert in store.certs(entity_id, "idpsso", "signing"):
    print("certificate", "".join((cert[1] if isinstance(cert, tuple) else cert).split()))
for idp in store[entity_id]["idpsso_descriptor"]:
    for fmt in idp.get("name_id_format", []):
        print("format", fmt["text"])
