// eidlink demo service: the page script (an ES module; the pages have no inline script, see the CSP).
//
// It drives the Web eID calls through the page module /eidlink.js (web-eid.js's API) and the server's
// /api endpoints, and writes every outcome into stable DOM hooks that browser tests read:
//   #status[data-state="idle|working|ok|error"][data-code][data-reason]
//   #holder, #national-number, #signed-by, #download (href), buttons #login, #sign, #logout.

const lang = document.documentElement.lang === 'en' ? 'en' : 'fr';

const MESSAGES = {
  fr: {
    working: {
      login: "Connexion en cours… Suivez les instructions de la fenêtre eidlink (code PIN).",
      verifying: "Vérification de votre identité par le service…",
      certificate: "Lecture de votre certificat de signature… Autorisez-la dans la fenêtre eidlink.",
      signing: "Signature en cours… Vérifiez l'empreinte du document et tapez votre code PIN de signature.",
      verifyingSignature: "Vérification de la signature par le service…",
    },
    ok: {
      login: (name) => `Vous êtes connecté(e) : ${name}.`,
      signed: "Votre contrat est signé. La signature a été vérifiée par le service.",
    },
    reasons: {
      USER_CANCELLED: "Vous avez annulé l'opération. Vous pouvez réessayer quand vous voulez.",
      NO_READER: "Aucun lecteur de cartes n'est branché. Branchez votre lecteur, puis réessayez.",
      NO_CARD: "Aucune carte dans le lecteur. Insérez votre carte d'identité, puis réessayez.",
      NO_PCSC_SERVICE: "Le service de cartes à puce de votre ordinateur ne fonctionne pas (PC/SC). Redémarrez-le ou votre ordinateur, puis réessayez.",
      CARD_REMOVED: "La carte a été retirée pendant l'opération. Réinsérez-la, puis réessayez.",
      UNSUPPORTED_CARD: "Cette carte n'est pas reconnue par eidlink.",
      WRONG_CERTIFICATE: "Ce n'est pas la bonne carte. Insérez la carte avec laquelle vous vous êtes connecté(e).",
      PIN_BLOCKED: "Votre code PIN est bloqué après trop d'essais erronés. Débloquez-le avec votre code PUK auprès de votre administration communale.",
      PIN_ENTRY_TIMEOUT: "Le délai pour taper le code PIN est dépassé. Réessayez.",
      CARD_ERROR: "La carte a répondu par une erreur. Retirez-la, réinsérez-la, puis réessayez.",
      ORIGIN_REJECTED: "eidlink refuse ce site (adresse non sécurisée).",
      PAGE_MODULE_MISSING: "Le module eidlink.js n'est pas disponible sur ce site : la connexion par carte est impossible pour l'instant.",
    },
    codes: {
      ERR_WEBEID_USER_CANCELLED: "Vous avez annulé l'opération. Vous pouvez réessayer quand vous voulez.",
      ERR_WEBEID_EXTENSION_UNAVAILABLE: "L'extension eidlink n'est pas installée ou pas activée dans ce navigateur. Installez-la, puis rechargez la page.",
      ERR_WEBEID_NATIVE_UNAVAILABLE: "Le logiciel eidlink n'est pas installé sur cet ordinateur (l'extension ne le trouve pas). Installez-le, puis réessayez.",
      ERR_WEBEID_USER_TIMEOUT: "Le délai est dépassé : vous n'avez pas terminé l'opération à temps. Réessayez.",
      ERR_WEBEID_ACTION_TIMEOUT: "eidlink n'a pas répondu à temps. Réessayez.",
      ERR_WEBEID_VERSION_MISMATCH: "Les versions d'eidlink et de son extension ne correspondent pas. Mettez eidlink à jour.",
      ERR_WEBEID_VERSION_INVALID: "La version d'eidlink n'est pas valide. Réinstallez eidlink.",
      ERR_WEBEID_CONTEXT_INSECURE: "Cette page n'est pas sécurisée (HTTPS requis).",
      ERR_WEBEID_ACTION_PENDING: "Une opération est déjà en cours. Terminez-la d'abord.",
      ERR_WEBEID_NATIVE_INVALID_ARGUMENT: "eidlink a refusé la demande du site (paramètre non valide).",
      ERR_WEBEID_MISSING_PARAMETER: "eidlink a refusé la demande du site (paramètre manquant).",
      ERR_WEBEID_NATIVE_FATAL: "eidlink a rencontré une erreur. Consultez l'outil « eidlink diagnose ».",
      ERR_WEBEID_UNKNOWN_ERROR: "Une erreur inconnue est survenue dans eidlink.",
      NONCE_REJECTED: "La demande de connexion a expiré ou a déjà servi. Réessayez.",
      TOKEN_REJECTED: "Le service n'a pas pu vérifier votre identité avec cette carte. La connexion est refusée.",
      NOT_LOGGED_IN: "Vous n'êtes pas connecté(e), ou votre session a expiré. Reconnectez-vous.",
      CERTIFICATE_REJECTED: "Le service n'a pas pu vérifier votre certificat de signature.",
      CERTIFICATE_NOT_HOLDER: "Ce certificat de signature n'est pas celui de la personne connectée. Utilisez votre propre carte.",
      UNSUPPORTED_ALGORITHM: "Votre carte ne propose pas d'algorithme de signature accepté par le service.",
      NO_PENDING_SIGNATURE: "Aucune signature n'était en préparation (ou elle a expiré). Recommencez la signature.",
      SIGNATURE_REJECTED: "Le service n'a pas pu vérifier la signature. Le contrat n'est pas signé.",
      BAD_ORIGIN: "Demande refusée : elle ne vient pas de ce site.",
      BAD_REQUEST: "Le service a refusé une demande mal formée.",
      NETWORK: "Le service ne répond pas. Vérifiez votre connexion, puis réessayez.",
    },
    unknown: "Une erreur inattendue est survenue.",
    detail: "Détail",
    colon: " : ",
  },
  en: {
    working: {
      login: "Logging in… Follow the instructions of the eidlink window (PIN).",
      verifying: "The service is verifying your identity…",
      certificate: "Reading your signing certificate… Allow it in the eidlink window.",
      signing: "Signing… Check the document fingerprint and type your signature PIN.",
      verifyingSignature: "The service is verifying the signature…",
    },
    ok: {
      login: (name) => `You are logged in: ${name}.`,
      signed: "Your contract is signed. The service verified the signature.",
    },
    reasons: {
      USER_CANCELLED: "You cancelled. You can try again whenever you want.",
      NO_READER: "No card reader is connected. Plug in your reader, then try again.",
      NO_CARD: "There is no card in the reader. Insert your identity card, then try again.",
      NO_PCSC_SERVICE: "Your computer's smart card service (PC/SC) is not running. Restart it or your computer, then try again.",
      CARD_REMOVED: "The card was removed during the operation. Insert it again, then try again.",
      UNSUPPORTED_CARD: "eidlink does not recognise this card.",
      WRONG_CERTIFICATE: "This is not the right card. Insert the card you logged in with.",
      PIN_BLOCKED: "Your PIN is blocked after too many wrong attempts. Unblock it with your PUK code at your municipality.",
      PIN_ENTRY_TIMEOUT: "The time to type the PIN ran out. Try again.",
      CARD_ERROR: "The card answered with an error. Remove it, insert it again, then try again.",
      ORIGIN_REJECTED: "eidlink refuses this site (insecure address).",
      PAGE_MODULE_MISSING: "The eidlink.js module is not available on this site: card login is not possible for now.",
    },
    codes: {
      ERR_WEBEID_USER_CANCELLED: "You cancelled. You can try again whenever you want.",
      ERR_WEBEID_EXTENSION_UNAVAILABLE: "The eidlink extension is not installed or not enabled in this browser. Install it, then reload the page.",
      ERR_WEBEID_NATIVE_UNAVAILABLE: "The eidlink application is not installed on this computer (the extension cannot find it). Install it, then try again.",
      ERR_WEBEID_USER_TIMEOUT: "Time ran out: the operation was not completed in time. Try again.",
      ERR_WEBEID_ACTION_TIMEOUT: "eidlink did not answer in time. Try again.",
      ERR_WEBEID_VERSION_MISMATCH: "The versions of eidlink and its extension do not match. Update eidlink.",
      ERR_WEBEID_VERSION_INVALID: "eidlink reported an invalid version. Reinstall eidlink.",
      ERR_WEBEID_CONTEXT_INSECURE: "This page is not secure (HTTPS required).",
      ERR_WEBEID_ACTION_PENDING: "An operation is already in progress. Finish it first.",
      ERR_WEBEID_NATIVE_INVALID_ARGUMENT: "eidlink refused the site's request (invalid parameter).",
      ERR_WEBEID_MISSING_PARAMETER: "eidlink refused the site's request (missing parameter).",
      ERR_WEBEID_NATIVE_FATAL: "eidlink ran into an error. See the \"eidlink diagnose\" tool.",
      ERR_WEBEID_UNKNOWN_ERROR: "An unknown error happened in eidlink.",
      NONCE_REJECTED: "The login request expired or was already used. Try again.",
      TOKEN_REJECTED: "The service could not verify your identity with this card. Login refused.",
      NOT_LOGGED_IN: "You are not logged in, or your session expired. Log in again.",
      CERTIFICATE_REJECTED: "The service could not verify your signing certificate.",
      CERTIFICATE_NOT_HOLDER: "This signing certificate is not the logged-in person's. Use your own card.",
      UNSUPPORTED_ALGORITHM: "Your card offers no signature algorithm the service accepts.",
      NO_PENDING_SIGNATURE: "No signature was being prepared (or it expired). Start the signature again.",
      SIGNATURE_REJECTED: "The service could not verify the signature. The contract is not signed.",
      BAD_ORIGIN: "Request refused: it does not come from this site.",
      BAD_REQUEST: "The service refused a malformed request.",
      NETWORK: "The service does not answer. Check your connection, then try again.",
    },
    unknown: "An unexpected error happened.",
    detail: "Detail",
    colon: ": ",
  },
};

const m = MESSAGES[lang];
const $ = (id) => document.getElementById(id);

function setStatus(state, text, code = '', reason = '') {
  const el = $('status');
  if (!el) return;
  el.dataset.state = state;
  el.dataset.code = code;
  el.dataset.reason = reason;
  el.className = `status ${state}`;
  el.textContent = text;
}

function fail(code, reason, message, server) {
  const err = new Error(message || code);
  err.code = code;
  err.reason = reason || '';
  err.server = server;
  return err;
}

function describe(err) {
  const code = (err && err.code) || 'UNKNOWN';
  const reason = (err && err.reason) || '';
  if (err && err.server) {
    const text = m.codes[code] || m.unknown;
    return reason ? `${text} (${m.detail}${m.colon}${reason})` : text;
  }
  return m.reasons[reason] || m.codes[code] || `${m.unknown} (${code})`;
}

function showError(err) {
  console.warn('eidlink demo:', err);
  const code = (err && err.code) || 'UNKNOWN';
  setStatus('error', describe(err), String(code), String((err && err.reason) || ''));
}

let pageModule = null;
async function eid() {
  if (!pageModule) {
    try {
      pageModule = await import('/eidlink.js');
    } catch (e) {
      throw fail('PAGE_MODULE_MISSING', 'PAGE_MODULE_MISSING', String(e), false);
    }
  }
  return pageModule;
}

async function api(path, body) {
  let res;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body ?? {}),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw fail('NETWORK', '', String(e), true);
  }
  let data = null;
  try {
    data = await res.json();
  } catch (_) {
    data = null;
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw fail(e.code || `HTTP_${res.status}`, e.reason || '', e.message || res.statusText, true);
  }
  return data;
}

function busy(button, on) {
  if (!button) return;
  button.disabled = on;
  button.setAttribute('aria-busy', on ? 'true' : 'false');
}

async function login() {
  const button = $('login');
  busy(button, true);
  setStatus('working', m.working.login);
  try {
    const lib = await eid();
    const { nonce } = await api('/api/auth/challenge');
    const token = await lib.authenticate(nonce, { lang });
    setStatus('working', m.working.verifying);
    const who = await api('/api/auth/login', { token });
    $('holder').textContent = who.holder;
    $('national-number').textContent = who.nationalNumber;
    $('login-section').hidden = true;
    $('welcome').hidden = false;
    setStatus('ok', m.ok.login(who.holder));
  } catch (e) {
    showError(e);
  } finally {
    busy(button, false);
  }
}

async function sign() {
  const button = $('sign');
  busy(button, true);
  setStatus('working', m.working.certificate);
  try {
    const lib = await eid();
    const cert = await lib.getSigningCertificate({ lang });
    const prepared = await api(`/api/sign/prepare?lang=${lang}`, {
      certificate: cert.certificate,
      supportedSignatureAlgorithms: cert.supportedSignatureAlgorithms,
    });
    setStatus('working', m.working.signing);
    const result = await lib.sign(cert.certificate, prepared.hash, prepared.hashFunction, { lang });
    setStatus('working', m.working.verifyingSignature);
    const done = await api('/api/sign/finish', {
      signature: result.signature,
      signatureAlgorithm: result.signatureAlgorithm,
    });
    $('signed-by').textContent = done.signedByText;
    $('download').setAttribute('href', done.download);
    $('signed').hidden = false;
    setStatus('ok', m.ok.signed);
  } catch (e) {
    showError(e);
  } finally {
    busy(button, false);
  }
}

async function logout() {
  try {
    await api('/api/auth/logout');
  } catch (e) {
    showError(e);
    return;
  }
  window.location.assign(`/?lang=${lang}`);
}

$('login')?.addEventListener('click', login);
$('sign')?.addEventListener('click', sign);
$('logout')?.addEventListener('click', logout);
