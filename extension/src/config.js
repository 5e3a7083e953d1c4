// Constants shared by the background code, the build script and the tests. Plain ES module with no
// browser globals (unit-tested in node).

/** Native-messaging host name (protocol.md §2). */
export const NATIVE_HOST_NAME = "org.eidlink.host";

/**
 * The Web eID protocol version the extension speaks. Web eID's library and the host compare majors
 * (protocol.md §1 "Version check"), so this stays at major 2 on the Web eID channel. The manifest
 * `version` is this string (browsers only take dotted integers there).
 */
export const PROTOCOL_VERSION = "2.0.0";

/** eidlink's own release, the workspace version in ../Cargo.toml (a test keeps them equal). */
export const EIDLINK_VERSION = "0.1.0";

/**
 * The version the extension reports to pages (`status`, `requiresUpdate` errors): strict semver,
 * eidlink's release as build metadata, the same shape as the host's `{"version"}`
 * ("2.0.0+eidlink-0.1.0", host/app/src/host.rs).
 */
export const EXTENSION_VERSION = `${PROTOCOL_VERSION}+eidlink-${EIDLINK_VERSION}`;

/** The host must send `{"version"}` within this time (protocol.md §1 timing defaults). */
export const NATIVE_HANDSHAKE_TIMEOUT_MS = 5000;

/** Default `options.userInteractionTimeout` (protocol.md §1 timing defaults). */
export const DEFAULT_USER_INTERACTION_TIMEOUT_MS = 120000;

/** setTimeout fires at once for delays above 2^31-1 ms, so longer timeouts are clamped to it. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Browser → host messages are limited to this many UTF-8 bytes (protocol.md §2, Web eID's limit). */
export const NATIVE_MESSAGE_MAX_BYTES = 8192;

/** After `status`'s handshake the host is asked to quit; we stop waiting for its `{}` after this. */
export const QUIT_GRACE_MS = 1000;

/**
 * At most this many hosts run at once, all tabs together (each is a process with the card open; a
 * page cannot start more by opening frames or tabs). One tab has at most one request running.
 */
export const MAX_CONCURRENT_HOSTS = 4;

/**
 * The name of the runtime port a content script opens for one page request (content.js has the
 * same string; a test keeps them equal). A port, not runtime.sendMessage: it closes when the frame
 * navigates or its tab closes, which tells the background to stop the host and free the tab.
 */
export const REQUEST_PORT_NAME = "web-eid-request";
