// Pintu passkeys: the page's WebAuthn ceremony. The server keeps the challenge; this script
// only fetches the options, asks the browser's authenticator, and posts the answer in the
// page's form (field "credential"). Messages come from the page (data-msg-*), so they are
// translated with the rest of it.
(function () {
  "use strict";
  var box = document.getElementById("passkey");
  if (!box) { return; }
  var form = document.getElementById("passkey-form");
  var button = document.getElementById("passkey-button");
  var status = document.getElementById("passkey-status");
  var mode = box.getAttribute("data-mode");

  function say(text) { status.textContent = text || ""; }

  if (!window.PublicKeyCredential || !navigator.credentials) {
    say(box.getAttribute("data-msg-unsupported"));
    return;
  }

  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    (list || []).forEach(function (c) { c.id = toBytes(c.id); });
  }

  function fetchOptions() {
    var body = new URLSearchParams();
    body.set("csrf_token", form.elements.csrf_token.value);
    return fetch(box.getAttribute("data-options"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      // A refusal from Pintu carries a translated message; anything else (an HTML error
      // page, a broken connection) gets the page's own.
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) {
          var refused = new Error(json.message || "");
          refused.fromPintu = true;
          throw refused;
        }
        return json;
      });
    });
  }

  function post(credential) {
    form.elements.credential.value = JSON.stringify(credential);
    form.submit();
  }

  // The shape webauthn-rs reads: binary fields as unpadded base64url.
  function encoded(c, response) {
    return { id: c.id, rawId: toText(c.rawId), type: c.type, extensions: {}, response: response };
  }

  function assertion(c) {
    var r = c.response;
    return encoded(c, {
      authenticatorData: toText(r.authenticatorData),
      clientDataJSON: toText(r.clientDataJSON),
      signature: toText(r.signature),
      userHandle: r.userHandle ? toText(r.userHandle) : null
    });
  }

  function attestation(c) {
    var r = c.response;
    return encoded(c, {
      attestationObject: toText(r.attestationObject),
      clientDataJSON: toText(r.clientDataJSON),
      transports: r.getTransports ? r.getTransports() : undefined
    });
  }

  var pending = null;

  function authenticate(conditional) {
    return fetchOptions().then(function (options) {
      var pk = options.publicKey;
      pk.challenge = toBytes(pk.challenge);
      descriptors(pk.allowCredentials);
      if (pending) { pending.abort(); }
      pending = new AbortController();
      var request = { publicKey: pk, signal: pending.signal };
      if (conditional) { request.mediation = "conditional"; }
      return navigator.credentials.get(request);
    }).then(function (c) { if (c) { post(assertion(c)); } });
  }

  function register() {
    var name = form.elements.name;
    if (!name.value.trim()) { name.reportValidity(); return Promise.resolve(); }
    return fetchOptions().then(function (options) {
      var pk = options.publicKey;
      pk.challenge = toBytes(pk.challenge);
      pk.user.id = toBytes(pk.user.id);
      descriptors(pk.excludeCredentials);
      return navigator.credentials.create({ publicKey: pk });
    }).then(function (c) { if (c) { post(attestation(c)); } });
  }

  // Pintu's refusals carry a translated message; the browser's (a cancelled prompt, no
  // matching key) and network failures get the page's generic one.
  function failed(error) {
    if (error && error.name === "AbortError") { return; }
    say((error && error.fromPintu && error.message) || box.getAttribute("data-msg-failed"));
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    say("");
    (mode === "register" ? register() : authenticate(false)).catch(failed);
  });

  // On the login page, offer passkeys in the name field's autofill where the browser can.
  if (mode === "login" && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (yes) {
      if (yes) { authenticate(true).catch(failed); }
    });
  }
}());
