// Security keys (WebAuthn): registration on the second-factor page, assertion at sign-in.
// The server sends the options as JSON (binary fields in base64url) and checks the answer.
(function () {
  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(box, url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": box.getAttribute("data-csrf")},
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok || data.error) {
          var err = new Error(data.error || box.getAttribute("data-msg-failed"));
          err.redirect = data.redirect;
          throw err;
        }
        return data;
      });
    });
  }
  function ids(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, {id: toBytes(c.id)}); });
  }
  function register(box, options) {
    var pk = Object.assign({}, options, {
      challenge: toBytes(options.challenge),
      user: Object.assign({}, options.user, {id: toBytes(options.user.id)}),
      excludeCredentials: ids(options.excludeCredentials)
    });
    return navigator.credentials.create({publicKey: pk}).then(function (cred) {
      var name = box.querySelector("[data-webauthn-name]");
      return {name: name ? name.value : "", credential: {
        id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
        response: {clientDataJSON: toB64url(cred.response.clientDataJSON),
                   attestationObject: toB64url(cred.response.attestationObject),
                   transports: cred.response.getTransports ? cred.response.getTransports() : []}
      }};
    });
  }
  function signIn(box, options) {
    var pk = Object.assign({}, options, {
      challenge: toBytes(options.challenge), allowCredentials: ids(options.allowCredentials)
    });
    return navigator.credentials.get({publicKey: pk}).then(function (cred) {
      var r = cred.response;
      return {
        id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
        response: {clientDataJSON: toB64url(r.clientDataJSON), authenticatorData: toB64url(r.authenticatorData),
                   signature: toB64url(r.signature), userHandle: r.userHandle ? toB64url(r.userHandle) : null}
      };
    });
  }
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-webauthn-start]");
    if (!button) return;
    var box = button.closest("[data-webauthn]");
    var error = box.querySelector("[data-webauthn-error]");
    function fail(message) { error.textContent = message; error.hidden = false; button.disabled = false; }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      fail(box.getAttribute("data-msg-unsupported"));
      return;
    }
    error.hidden = true;
    button.disabled = true;
    var ceremony = box.getAttribute("data-webauthn") === "register" ? register : signIn;
    post(box, box.getAttribute("data-options-url"))
      .then(function (options) {
        if (options.redirect) return options;
        return ceremony(box, options).then(function (answer) {
          return post(box, box.getAttribute("data-verify-url"), answer);
        });
      })
      .then(function (done) { window.location.assign(done.redirect || "/"); })
      .catch(function (err) {
        if (err && err.redirect) { window.location.assign(err.redirect); return; }
        fail(err && err.name === "NotAllowedError" ? box.getAttribute("data-msg-failed")
             : (err && err.message) || box.getAttribute("data-msg-failed"));
      });
  });
})();
